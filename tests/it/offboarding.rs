//! Offboarding: `std/offboarding`'s leaver takes back what onboard gave and disables or
//! deletes, sends nothing in a dry run, and is taken back by `onboard undo` like any run.

use crate::common::Sim;

/// Every request that changed something (the simulator says which did).
fn writes(sim: &Sim) -> usize {
    sim.log().iter().filter(|r| r["changed"] == true).count()
}

const HIRE: &str = r#"
import "std/onboarding" as onboarding;
onboarding::new_hire(#{ first_name: "Kim", last_name: "Park", email: "kim.park@example.com", department: "NOC" },
    #{ api_teams: ["NOC"], access: #{
        cyberark: [#{ group: "NOC Operators" }, #{ safe: "NOC-Shared", preset: "use" }],
        pam360: [#{ resource: "db-prod-01", account: "oncall", level: "view" }],
        appmanager: [#{ user_group: "DBA" }] } });
"#;

#[test]
fn a_leaver_loses_what_onboard_gave_and_is_disabled_and_undo_brings_them_back() {
    let sim = Sim::start();
    let hire = sim.run(HIRE, &[]);
    assert_eq!(hire.code, 0, "{}", hire.all());
    let hired = sim.state();
    let before = writes(&sim);
    let dry = sim.run(
        r#"import "std/offboarding" as off; let r = off::leaver("kim.park", #{ names: #{ pam360: "kim.park-api" } });
print(r.vendors.cyberark.revoked.map(|g| g.target));"#,
        &["--dry-run"],
    );
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert_eq!(
        dry.stdout,
        "[\"vault group \\\"NOC Operators\\\"\", \"safe \\\"NOC-Shared\\\"\"]\n",
        "{}",
        dry.all()
    );
    assert!(
        dry.stderr
            .contains("unshare_account pam360     kim.park-api: db-prod-01/oncall"),
        "{}",
        dry.all()
    );
    assert_eq!(writes(&sim), before, "a dry run sends no write");

    let left = sim.run(
        r#"import "std/offboarding" as off; let r = off::leaver("kim.park", #{ names: #{ pam360: "kim.park-api" } });
for v in r.vendors.keys() { if r.vendors[v].found { print(`${v} ${r.vendors[v].revoked.len()} ${r.vendors[v].disabled.changed}`); } }"#,
        &[],
    );
    assert_eq!(left.code, 0, "{}", left.all());
    assert_eq!(
        left.stdout,
        "appmanager 1 true\ncyberark 2 true\npam360 1 true\n",
        "{}",
        left.all()
    );
    let state = sim.state();
    let safe = &state["cyberark"]["state"]["safes"][0];
    assert!(safe["members"].get("kim.park").is_none(), "{safe}");
    // The leaver's own access is gone; what the simulator's leaver has is untouched.
    assert!(safe["members"].get("alex.leaver").is_some(), "{safe}");

    let undo = sim.undo("last", &[]);
    assert_eq!(undo.code, 0, "{}", undo.all());
    assert_eq!(
        sim.state()["cyberark"]["state"],
        hired["cyberark"]["state"],
        "{}",
        undo.all()
    );
    assert_eq!(sim.state()["appmanager"], hired["appmanager"]);
}

#[test]
fn a_leaver_deleted_hands_pam360_accountabilities_over_first() {
    let sim = Sim::start();
    let out = sim.run(
        r#"import "std/offboarding" as off;
let r = off::leaver("alex.leaver", #{ delete: true, transfer_to: #{ pam360: "admin" } });
print(r.vendors.pam360.transferred.target);
print(r.vendors.cyberark.deleted);"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "accountabilities transferred to admin\ntrue\n",
        "{}",
        out.all()
    );
    for vendor in ["cyberark", "pam360", "appmanager"] {
        assert!(!sim.has_user(vendor, "alex.leaver"), "{vendor}");
    }
    assert_eq!(
        sim.state()["pam360"]["state"]["transfers"],
        serde_json::json!([["alex.leaver", "admin"]])
    );
    let undo = sim.undo("last", &[]);
    assert!(
        undo.all().contains("accountabilities transferred to admin"),
        "{}",
        undo.all()
    );
}

#[test]
fn a_bad_leaver_option_is_a_clear_error_and_sends_nothing() {
    let sim = Sim::start();
    let out = sim.run(
        r#"import "std/offboarding" as off; off::leaver("alex.leaver", #{ revoke: "everything" });"#,
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("revoke must be \"onboard\", \"all\" or \"none\""),
        "{}",
        out.all()
    );
    assert_eq!(writes(&sim), 0);
}

#[test]
fn the_leaver_example_dry_run_sends_no_write_to_a_running_simulator() {
    let sim = Sim::start();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/leaver.rhai");
    let mut cmd = sim.run_command(&script);
    cmd.arg("--dry-run");
    let before = sim.state();
    let writes_before = writes(&sim);
    let dry = crate::common::output(&mut assert_cmd::Command::from_std(cmd));
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert!(
        dry.stderr.contains("disable_user pam360     alex.leaver"),
        "{}",
        dry.all()
    );
    assert_eq!(writes(&sim), writes_before, "{}", dry.all());
    assert_eq!(sim.state(), before);
}
