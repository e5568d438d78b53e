//! Safe membership: members added at a level, read first so that giving what is held sends
//! nothing, levels changed and given back by undo, refused where the logon user may not.

use serde_json::Value as Json;

use crate::common::Sim;

/// The requests that would change a safe's members.
fn safe_writes(sim: &Sim) -> usize {
    sim.log()
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("/Safes/")))
        .filter(|r| r["method"] != "GET")
        .count()
}

/// Every safe's members and their permissions, as the simulator has them.
fn safes(sim: &Sim) -> Json {
    sim.state()["cyberark"]["state"]["safes"].clone()
}

const SAM: &str = r#"
let u = cyberark::create_user(#{ username: "sam.safe", initial_password: random_password(20) });
"#;

#[test]
fn a_member_is_added_read_kept_changed_and_removed() {
    let sim = Sim::start();
    let out = sim.run(
        &format!(
            r#"{SAM}
let g = cyberark::add_safe_member("NOC-Shared", u, "use");
print(`${{g.changed}}|${{g.target}}`);
print(cyberark::safe_members("NOC-Shared").filter(|m| m.name == "sam.safe").map(|m| m.access));
print(cyberark::grant(u, #{{ safe: "NOC-Shared", preset: "use" }}).changed);
print(cyberark::update_safe_member("NOC-Shared", u, #{{ preset: "use", permissions: #{{ retrieve_accounts: true }} }}).target);
print(cyberark::remove_safe_member("NOC-Shared", u).changed);
print(cyberark::safe_members("NOC-Shared").map(|m| m.name).contains("sam.safe"));
print(cyberark::revoke(u, #{{ safe: "NOC-Shared" }}).changed);
"#
        ),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "true|safe \"NOC-Shared\" (use)\n[\"use\"]\nfalse\n\
         safe \"NOC-Shared\" (list_accounts, retrieve_accounts, use_accounts, view_safe_members)\n\
         true\nfalse\nfalse\n",
        "{}",
        out.all()
    );
    // The add, the update (a PUT), the remove: the repeats sent nothing.
    assert_eq!(safe_writes(&sim), 3, "{:#?}", sim.log());
    let add = sim
        .journal_records()
        .into_iter()
        .find(|r| r["type"] == "intent" && r["operation"] == "add_safe_member")
        .expect("journaled before it was sent");
    assert_eq!(add["access"]["undo"], "remove_safe_member", "{add}");
    assert_eq!(add["access"]["level"]["permissions"]["useAccounts"], true);
    assert_eq!(
        add["access"]["level"]["memberType"], "User",
        "memberType is always sent"
    );
    let update = sim
        .journal_records()
        .into_iter()
        .find(|r| r["type"] == "intent" && r["operation"] == "update_safe_member")
        .expect("the update is journaled");
    assert_eq!(
        update["access"]["undo"], "add_safe_member",
        "a level is given back: {update}"
    );
    assert_eq!(
        update["access"]["before"]["permissions"]["retrieveAccounts"],
        false
    );
}

#[test]
fn undo_gives_back_the_permissions_a_run_replaced_and_the_members_it_removed() {
    let sim = Sim::start();
    let before = safes(&sim);
    let out = sim.run(
        &format!(
            r#"{SAM}
cyberark::add_safe_member("NOC-Shared", u, "retrieve");
cyberark::add_safe_member("Linux-Root", "Vault Admins", #{{ preset: "use", member_type: "Group" }});
cyberark::remove_safe_member("Windows-Admins", "Vault Admins");
"#
        ),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr.contains("safe Linux-Root (use)"),
        "{}",
        out.all()
    );
    assert_ne!(safes(&sim), before);
    let undo = sim.undo("last", &[]);
    assert_eq!(undo.code, 0, "{}", undo.all());
    assert_eq!(
        safes(&sim),
        before,
        "every safe is as it was: {}",
        undo.all()
    );
    let writes = safe_writes(&sim);
    let again = sim.undo("last", &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(
        safe_writes(&sim),
        writes,
        "a second undo sends nothing: {}",
        again.all()
    );
}

#[test]
fn a_safe_the_logon_user_may_not_manage_is_forbidden_and_nothing_is_half_done() {
    let sim = Sim::start();
    let before = safes(&sim);
    let out = sim.run(
        &format!(
            r#"{SAM}
try {{ cyberark::add_safe_member("Audit-Archive", u, "use") }} catch (e) {{ print(e.kind) }}
"#
        ),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "forbidden\n", "{}", out.all());
    assert_eq!(safes(&sim), before);
    assert!(
        out.stderr
            .contains("FAILED  cyberark   sam.safe                 safe Audit-Archive"),
        "{}",
        out.all()
    );
}

#[test]
fn a_typo_in_the_access_is_caught_before_anything_is_sent() {
    let sim = Sim::start();
    for (access, expected) in [
        (
            r#"#{ preset: "use", permissions: #{ use_acounts: true } }"#,
            "did you mean `use_accounts`",
        ),
        (r#""retreive""#, "did you mean `retrieve`"),
        (r#"#{ presets: "use" }"#, "did you mean `preset`"),
        (
            r#"#{ permissions: #{ requests_authorization_level1: true, requests_authorization_level2: true } }"#,
            "exclude each other",
        ),
    ] {
        let out = sim.run(
            &format!(r#"cyberark::add_safe_member("NOC-Shared", "Auditor", {access});"#),
            &[],
        );
        assert_eq!(out.code, 1, "{}", out.all());
        assert!(out.stderr.contains(expected), "{access}: {}", out.all());
        assert!(out.stderr.contains(".rhai:1:"), "where: {}", out.all());
    }
    assert_eq!(safe_writes(&sim), 0);
    let reads = sim
        .log()
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("/Safes/")))
        .count();
    assert_eq!(reads, 0, "nothing was even read");
}

#[test]
fn a_dry_run_plans_safe_access_with_its_level_and_sends_no_write() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
print(cyberark::add_safe_member("NOC-Shared", "Auditor", "retrieve").changed);
print(cyberark::add_safe_member("NOC-Shared", "Auditor", "retrieve").changed);
print(cyberark::add_safe_member("NOC-Shared", "onboard-sim", "full").changed);
print(cyberark::remove_safe_member("Linux-Root", "Auditor").changed);
"#,
        &["--dry-run"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "true\nfalse\nfalse\nfalse\n", "{}", out.all());
    assert!(
        out.stderr
            .contains("add_safe_member cyberark   Auditor: NOC-Shared (retrieve)"),
        "{}",
        out.all()
    );
    assert_eq!(safe_writes(&sim), 0);
}
