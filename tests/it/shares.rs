//! PAM360: accounts shared and unshared at a level, users locked and unlocked with the state
//! read first, all journaled and undone.

use serde_json::Value as Json;

use crate::common::Sim;

/// Who each account is shared with, as the simulator has it.
fn shares(sim: &Sim) -> Json {
    sim.state()["pam360"]["state"]["shares"].clone()
}

fn shared_with(sim: &Sim, account: &str) -> Vec<String> {
    shares(sim)
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["account"] == account)
        .flat_map(|a| a["shared_with"].as_array().cloned().unwrap_or_default())
        .map(|s| {
            format!(
                "{}:{}",
                s["user"].as_str().unwrap_or(""),
                s["level"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn writes_to(sim: &Sim, part: &str) -> usize {
    sim.log()
        .iter()
        .filter(|r| r["method"] == "PUT" && r["path"].as_str().is_some_and(|p| p.contains(part)))
        .count()
}

const PIA: &str = r#"
let u = pam360::create_user(#{ username: "pia", first_name: "Pia", last_name: "Lund", email: "pia@example.com" });
"#;

#[test]
fn a_share_is_given_changed_and_revoked_and_a_lock_is_read_first() {
    let sim = Sim::start();
    let out = sim.run(
        &format!(
            r#"{PIA}
print(pam360::share_account("core-router-01", "netops", u, "view").target);
print(pam360::grant(u, #{{ resource: "core-router-01", account: "netops", level: "modify" }}).changed);
print(pam360::disable_user(u).changed);
print(pam360::disable_user("pia").changed);
print(pam360::enable_user(u).changed);
"#
        ),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "account \"core-router-01/netops\" (view)\ntrue\ntrue\nfalse\ntrue\n",
        "{}",
        out.all()
    );
    // The leaver the simulator starts with shares it too.
    assert_eq!(
        shared_with(&sim, "netops"),
        ["alex.leaver:view", "pia:modify"]
    );
    assert_eq!(
        writes_to(&sim, "/user/lock"),
        1,
        "the second disable sent nothing"
    );
    let out = sim.run(
        r#"print(pam360::unshare_account("core-router-01", "netops", "pia").changed);"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(shared_with(&sim, "netops"), ["alex.leaver:view"]);
}

#[test]
fn undo_takes_back_shares_and_locks_and_says_an_unshare_cannot_be_given_back() {
    let sim = Sim::start();
    let setup = sim.run(
        &format!("{PIA}\npam360::share_account(\"db-prod-01\", \"oncall\", u, \"view\");"),
        &[],
    );
    assert_eq!(setup.code, 0, "{}", setup.all());
    let before = shares(&sim);
    let out = sim.run(
        r#"
pam360::share_account("win-dc-01", "Administrator", "pia", "fullaccess");
pam360::unshare_account("db-prod-01", "oncall", "pia");
pam360::disable_user("pia");
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let undo = sim.undo("last", &[]);
    assert!(
        undo.all().contains("has no call that reads it"),
        "{}",
        undo.all()
    );
    // The share the run gave is gone and the user unlocked; the unshare stays.
    assert!(
        shared_with(&sim, "Administrator").is_empty(),
        "{}",
        undo.all()
    );
    assert!(shared_with(&sim, "oncall").is_empty());
    assert_ne!(shares(&sim), before);
    let pia = sim
        .users("pam360")
        .into_iter()
        .find(|u| u["USERNAME"] == "pia")
        .expect("pia");
    assert_eq!(pia["LOCKED"], false, "{}", undo.all());
}

#[test]
fn a_bad_share_level_or_account_is_a_clear_error() {
    let sim = Sim::start();
    let out = sim.run(
        &format!(
            r#"{PIA}
try {{ pam360::share_account("core-router-01", "netops", u, "veiw") }} catch (e) {{ print(e.message) }}
try {{ pam360::share_account("core-router-01", "netop", u, "view") }} catch (e) {{ print(`${{e.kind}}: ${{e.message}}`) }}
"#
        ),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "unknown share level \"veiw\"; did you mean `view`? (levels: view, modify, fullaccess)\n\
         not_found: there is no account \"netop\" on a resource named \"core-router-01\"\n",
        "{}",
        out.all()
    );
    assert_eq!(writes_to(&sim, "/share"), 0);
}

#[test]
fn an_update_goes_over_scim_converges_and_is_undone() {
    let sim = Sim::start();
    let setup = sim.run(PIA, &[]);
    assert_eq!(setup.code, 0, "{}", setup.all());
    let out = sim.run(
        r#"
let e = pam360::ensure_user(#{ username: "pia", first_name: "Pia", last_name: "Lund-Berg", email: "pia@example.com" });
print(`${e.changed}|${e.changes.map(|c| `${c.field}:${c.before}>${c.after}`)}`);
print(pam360::ensure_user(#{ username: "pia", first_name: "Pia", last_name: "Lund-Berg", email: "pia@example.com" }).changed);
print(pam360::add_to_user_group("pia", "DB Admins").changed);
print(pam360::user_groups("pia").map(|g| g.name));
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "true|[\"last_name:Lund>Lund-Berg\"]\nfalse\ntrue\n[\"DB Admins\"]\n",
        "{}",
        out.all()
    );
    let scim_puts = sim
        .log()
        .iter()
        .filter(|r| {
            r["method"] == "PUT" && r["path"].as_str().is_some_and(|p| p.starts_with("/scim/"))
        })
        .count();
    assert_eq!(scim_puts, 1, "the second ensure wrote nothing");
    let pia = || {
        sim.users("pam360")
            .into_iter()
            .find(|u| u["USERNAME"] == "pia")
            .expect("pia")
    };
    // A SCIM PUT replaces: what the update did not name is still there.
    assert_eq!(pia()["EMAIL"], "pia@example.com");
    assert_eq!(pia()["LASTNAME"], "Lund-Berg");
    let undo = sim.undo("last", &[]);
    assert_eq!(undo.code, 0, "{}", undo.all());
    assert_eq!(pia()["LASTNAME"], "Lund", "{}", undo.all());
    let groups = &sim.state()["pam360"]["state"]["groups"];
    assert_eq!(groups[1]["members"], serde_json::json!([]), "{groups}");
}
