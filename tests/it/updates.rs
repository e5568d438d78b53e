//! Updates that converge: `update_user` and `ensure_user` write only what differs, keep every
//! other field (PVWA's PUT replaces the whole user), and are undone by writing the old values back.

use serde_json::Value as Json;

use crate::common::Sim;

/// The `PUT`s the simulator received.
fn puts(sim: &Sim) -> usize {
    sim.log().iter().filter(|r| r["method"] == "PUT").count()
}

/// A vault user as the simulator holds it.
fn vault_user(sim: &Sim, name: &str) -> Json {
    sim.users("cyberark")
        .into_iter()
        .find(|u| u["username"] == name)
        .unwrap_or(Json::Null)
}

const CREATE: &str = r#"
let u = cyberark::create_user(#{ username: "uma", initial_password: random_password(20),
    email: "uma@example.com", first_name: "Una", last_name: "Ortiz", department: "Sales" });
"#;

#[test]
fn an_update_writes_only_what_differs_and_keeps_every_other_field() {
    let sim = Sim::start();
    let out = sim.run(
        &format!(
            "{CREATE}
let v = cyberark::update_user(u, #{{ first_name: \"Uma\", department: \"NOC\" }});
print(`${{v.changed}}|${{v.changes.map(|c| `${{c.field}}:${{c.before}}>${{c.after}}`)}}`);
let w = cyberark::update_user(\"uma\", #{{ first_name: \"Uma\" }});
print(`${{w.changed}}|${{w.changes}}`);"
        ),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "true|[\"personal_details.department:Sales>NOC\", \"personal_details.first_name:Una>Uma\"]\nfalse|[]\n",
        "{}",
        out.all()
    );
    assert_eq!(puts(&sim), 1, "the second update wrote nothing");
    let user = vault_user(&sim, "uma");
    assert_eq!(user["personalDetails"]["firstName"], "Uma");
    // What the update did not name is still there (the simulator clears what a PUT leaves out).
    assert_eq!(
        user["internet"]["businessEmail"], "uma@example.com",
        "{user}"
    );
    assert_eq!(user["personalDetails"]["lastName"], "Ortiz");
    let update = sim
        .journal_records()
        .into_iter()
        .find(|r| r["type"] == "intent" && r["operation"] == "update_user")
        .expect("journaled before it was sent");
    assert_eq!(update["update"]["undo"], "update_user");
    assert_eq!(update["update"]["fields"][0]["before"], "Sales", "{update}");
}

#[test]
fn ensure_user_converges_and_a_second_identical_run_writes_nothing() {
    let sim = Sim::start();
    let script = r#"
let r = cyberark::ensure_user(#{ username: "eve", initial_password: random_password(20),
    email: "eve@example.com", first_name: var_or("first", "Eve") });
print(`${r.created}|${r.changed}|${r.changes.map(|c| c.field)}`);
"#;
    let first = sim.run(script, &[]);
    assert_eq!(first.stdout, "true|true|[]\n", "{}", first.all());
    let changed = sim.run(script, &["--var", "first=Eva"]);
    assert_eq!(
        changed.stdout,
        "false|true|[\"personal_details.first_name\"]\n",
        "{}",
        changed.all()
    );
    let writes = puts(&sim);
    let again = sim.run(script, &["--var", "first=Eva"]);
    assert_eq!(again.stdout, "false|false|[]\n", "{}", again.all());
    assert_eq!(puts(&sim), writes, "converged: no write");
}

#[test]
fn undo_and_rollback_write_the_old_values_back() {
    let sim = Sim::start();
    let out = sim.run(
        r#"cyberark::update_user("Auditor", #{ department: "Audit", email: "audit@example.com" });"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        vault_user(&sim, "Auditor")["personalDetails"]["department"],
        "Audit"
    );
    let undo = sim.undo("last", &[]);
    assert_eq!(undo.code, 0, "{}", undo.all());
    assert!(
        undo.stdout.contains("1 changes to users reversed"),
        "{}",
        undo.all()
    );
    let user = vault_user(&sim, "Auditor");
    assert_eq!(user["personalDetails"]["department"], "", "{user}");
    assert_eq!(user["internet"]["businessEmail"], "");
    let again = sim.undo("last", &[]);
    assert!(again.stdout.contains("nothing to undo"), "{}", again.all());

    let failed = sim.run(
        r#"cyberark::update_user("Auditor", #{ department: "Audit" }); throw "boom";"#,
        &["--rollback-on-error"],
    );
    assert_eq!(failed.code, 1, "{}", failed.all());
    assert_eq!(
        vault_user(&sim, "Auditor")["personalDetails"]["department"],
        ""
    );
}

#[test]
fn a_dry_run_plans_the_field_diff_and_writes_nothing() {
    let sim = Sim::start();
    let out = sim.run(
        r#"let v = cyberark::update_user("Auditor", #{ department: "Audit" });
print(`${v.changed}|${v.dry_run}|${v.changes.map(|c| c.field)}`);"#,
        &["--dry-run"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "true|true|[\"personal_details.department\"]\n",
        "{}",
        out.all()
    );
    assert!(
        out.stderr
            .contains("update_user cyberark   Auditor: personal_details.department"),
        "{}",
        out.all()
    );
    assert_eq!(puts(&sim), 0);
}

#[test]
fn the_name_and_the_initial_password_cannot_be_updated_and_typos_are_caught() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
try { cyberark::update_user("Auditor", #{ initial_password: "Passw0rd-Xy" }); } catch (e) { print(e.message); }
try { cyberark::update_user("Auditor", #{ username: "other" }); } catch (e) { print(e.message); }
try { cyberark::update_user("Auditor", #{ frist_name: "A" }); } catch (e) { print(e.message); }
try { cyberark::update_user("nobody", #{ first_name: "A" }); } catch (e) { print(e.kind); }
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "`initial_password` cannot be changed by cyberark::update_user\n\
         `username` cannot be changed by cyberark::update_user\n\
         unknown field `frist_name` for cyberark::update_user; did you mean `first_name`?\n\
         not_found\n",
        "{}",
        out.all()
    );
    assert_eq!(puts(&sim), 0);
}

#[test]
fn a_password_reset_is_journaled_as_not_undoable_and_its_secret_never_written() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
let g = cyberark::reset_password("Auditor", secret("Brand-New-Passw0rd"));
print(`${g.changed}|${g.target}`);
print(cyberark::activate_user("Auditor").changed);
try { cyberark::reset_password("Auditor", "weak"); } catch (e) { print(e.kind); }
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "true|password reset\nfalse\nvalidation\n",
        "{}",
        out.all()
    );
    assert!(
        out.stderr.contains("password reset (not undoable)"),
        "{}",
        out.all()
    );
    // The sim run's leak scan has already checked the output and the journal for the password.
    let journal = std::fs::read_to_string(sim.journal()).unwrap_or_default();
    assert!(!journal.contains("Brand-New-Passw0rd"));
    assert!(
        journal.contains("\"irreversible\":\"password reset\""),
        "{journal}"
    );
    let undo = sim.undo("last", &[]);
    assert_eq!(undo.code, 0, "{}", undo.all());
    assert!(
        undo.stdout
            .contains("not undoable: cyberark Auditor password reset"),
        "{}",
        undo.all()
    );
}

#[test]
fn a_dry_run_plans_a_reset_and_sends_nothing() {
    let sim = Sim::start();
    let out = sim.run(
        r#"print(cyberark::reset_password("Auditor", random_password(20)).dry_run);"#,
        &["--dry-run"],
    );
    assert_eq!(out.stdout, "true\n", "{}", out.all());
    assert!(
        out.stderr
            .contains("reset_password cyberark   Auditor: password reset"),
        "{}",
        out.all()
    );
    let resets = sim
        .log()
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.contains("ResetPassword"))
        })
        .count();
    assert_eq!(resets, 0);
}

#[test]
fn activate_clears_a_suspension_once() {
    let sim = Sim::start();
    let token = sim.cyberark_token();
    let auth = [
        ("Authorization", token.as_str()),
        ("Content-Type", "application/json"),
    ];
    let (status, _) = sim.send(
        "PUT",
        "/PasswordVault/API/Users/3/",
        &auth,
        r#"{"username":"Auditor","suspended":true}"#,
    );
    assert_eq!(status, 200);
    let out = sim.run(
        r#"print(cyberark::activate_user("Auditor").changed);
print(cyberark::activate_user("Auditor").changed);"#,
        &[],
    );
    assert_eq!(out.stdout, "true\nfalse\n", "{}", out.all());
    assert_eq!(vault_user(&sim, "Auditor")["suspended"], false);
}

#[test]
fn applications_manager_updates_name_their_user_and_undo_writes_the_old_values_back() {
    let sim = Sim::start();
    let before = sim.users("appmanager");
    let out = sim.run(
        r#"
let u = appmanager::update_user("apm-operator", #{ email: "ops@example.com", role: "manager" });
print(`${u.changed}|${u.changes.map(|c| c.field)}|${u.role}`);
print(appmanager::update_user("apm-operator", #{ email: "ops@example.com" }).changed);
try { appmanager::update_user("apm-operator", #{ group_ids: [10000035] }); } catch (e) { print(e.kind); }
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "true|[\"email\", \"role\"]|MANAGER\nfalse\nvalidation\n",
        "{}",
        out.all()
    );
    let owner = |users: &[Json]| {
        users
            .iter()
            .find(|u| u["userName"] == "sim-admin")
            .cloned()
            .unwrap_or(Json::Null)
    };
    assert_eq!(
        owner(&sim.users("appmanager")),
        owner(&before),
        "the key's owner untouched"
    );
    let undo = sim.undo("last", &[]);
    assert_eq!(undo.code, 0, "{}", undo.all());
    assert_eq!(sim.users("appmanager"), before, "back as it was");
}
