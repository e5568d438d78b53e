//! A whole lifecycle across the vendors: a run that creates, grants, updates and disables is
//! taken back by `onboard undo` to exactly where the simulator was, and a second undo sends
//! nothing; Applications Manager's user groups and V3 status read first.

use crate::common::Sim;

/// A run that changes existing users of every vendor and creates new ones.
const EVERYTHING: &str = r#"
let c = cyberark::create_user(#{ username: "lee.cycle", initial_password: random_password(20) });
cyberark::add_to_group(c, "NOC Operators");
cyberark::add_safe_member("NOC-Shared", c, "use");
cyberark::update_safe_member("Linux-Root", "Vault Admins", "retrieve");
cyberark::update_user("Auditor", #{ email: "audit@example.com" });
cyberark::disable_user("Auditor");
cyberark::remove_from_group("Administrator", "Vault Admins");
let p = pam360::create_user(#{ username: "lee", first_name: "Lee", last_name: "Cycle", email: "lee@example.com" });
pam360::share_account("db-prod-01", "oncall", p, "view");
pam360::update_user("onboard-sim-user", #{ last_name: "Changed" });
pam360::add_to_user_group("onboard-sim-user", "Auditors");
pam360::disable_user("onboard-sim-user");
let a = appmanager::create_user(#{ username: "lee", role: "OPERATOR", password: random_password(16), email: "lee@example.com", group_ids: [10000035] });
appmanager::add_to_user_group("apm-operator", "NOC Team");
appmanager::remove_from_monitor_group("apm-user", "mg2");
appmanager::update_user("apm-manager", #{ description: "moved to NOC" });
appmanager::disable_user("apm-operator");
"#;

/// Every vendor's users and memberships, less what time moves (logon dates).
fn snapshot(sim: &Sim) -> serde_json::Value {
    let mut state = sim.state();
    if let Some(users) = state["cyberark"]["users"].as_array_mut() {
        for u in users {
            u["lastSuccessfulLoginDate"] = serde_json::Value::Null;
        }
    }
    state
}

#[test]
fn undo_takes_a_whole_lifecycle_run_back_and_a_second_undo_sends_nothing() {
    let sim = Sim::start();
    // PAM360 can only lock a user it has: one made before the run.
    let setup = sim.run(
        r#"pam360::create_user(#{ username: "onboard-sim-user", first_name: "S", last_name: "U", email: "s@example.com" });"#,
        &[],
    );
    assert_eq!(setup.code, 0, "{}", setup.all());
    let before = snapshot(&sim);
    let out = sim.run(EVERYTHING, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_ne!(snapshot(&sim), before);
    let undo = sim.undo("last", &[]);
    assert_eq!(undo.code, 0, "{}", undo.all());
    assert_eq!(snapshot(&sim), before, "{}", undo.all());
    let requests = sim.log().len();
    let again = sim.undo("last", &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    let writes = sim.log()[requests..]
        .iter()
        .filter(|r| r["method"] != "GET" && !r["path"].as_str().unwrap_or("").contains("Logo"))
        .count();
    assert_eq!(writes, 0, "a second undo changes nothing: {}", again.all());
}

#[test]
fn appmanager_user_groups_and_status_are_read_first_and_planned_by_a_dry_run() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
print(appmanager::add_to_user_group("apm-user", "Helpdesk").changed);
print(appmanager::add_to_user_group("apm-user", "Helpdesk").changed);
print(appmanager::user_groups("apm-user").map(|g| g.name));
print(appmanager::disable_user("apm-user").changed);
print(appmanager::disable_user("apm-user").changed);
try { appmanager::add_to_user_group("apm-user", "helpdesk") } catch (e) { print(e.kind) }
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "true\nfalse\n[\"Helpdesk\"]\ntrue\nfalse\nnot_found\n",
        "{}",
        out.all()
    );
    let updates = sim
        .log()
        .iter()
        .filter(|r| r["method"] != "GET" && r["vendor"] == "appmanager")
        .count();
    // One join, one status change, and the misspelt group the server refused.
    assert_eq!(updates, 3, "{:#?}", sim.log());
    let dry = sim.run(
        r#"
print(appmanager::remove_from_user_group("apm-user", "Helpdesk").changed);
print(appmanager::enable_user("apm-user").changed);
try { appmanager::add_to_user_group("apm-user", "Helpdsk") } catch (e) { print(e.message) }
"#,
        &["--dry-run"],
    );
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert_eq!(
        dry.stdout,
        "true\ntrue\nthere is no user group named \"Helpdsk\"; did you mean `Helpdesk`?\n",
        "{}",
        dry.all()
    );
    assert!(
        dry.stderr
            .contains("remove_from_user_group appmanager apm-user: Helpdesk"),
        "{}",
        dry.all()
    );
    assert!(
        dry.stderr.contains("enable_user appmanager apm-user"),
        "{}",
        dry.all()
    );
}
