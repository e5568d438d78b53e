//! Access grants: `cyberark::add_to_group` and friends, journaled with what undoes them,
//! reversed by rollback and `onboard undo`, planned by a dry run.

use serde_json::Value as Json;

use crate::common::{Sim, onboard, output};

/// Every vault group's members, as the simulator has them.
fn memberships(sim: &Sim) -> Vec<(String, Vec<String>)> {
    let token = sim.cyberark_token();
    let (status, body) = sim.send(
        "GET",
        "/PasswordVault/API/UserGroups?includeMembers=true",
        &[("Authorization", token.as_str())],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let list: Json = serde_json::from_str(&body).expect("JSON");
    list["value"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            let members = g["members"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .filter_map(|u| u["UserName"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            (g["groupName"].as_str().unwrap_or("").to_string(), members)
        })
        .collect()
}

/// Requests that would change a group's members.
fn member_writes(sim: &Sim) -> usize {
    sim.log()
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("/Members")))
        .filter(|r| r["method"] == "POST" || r["method"] == "DELETE")
        .count()
}

const GRANTS: &str = r#"
let u = cyberark::create_user(#{ username: "gina", initial_password: random_password(20) });
let g = cyberark::add_to_group(u, "NOC Operators");
print(`${g.changed}|${g.operation}|${g.target}`);
print(cyberark::add_to_group("gina", "NOC Operators").changed);
print(cyberark::groups(u).map(|g| g.name));
cyberark::grant("Auditor", #{ group: "Service Desk" });
cyberark::remove_from_group("Administrator", "Vault Admins");
"#;

#[test]
fn a_grant_shows_is_not_repeated_and_its_revoke_takes_it_away() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
let u = cyberark::create_user(#{ username: "gina", initial_password: random_password(20) });
print(cyberark::add_to_group(u, "NOC Operators").changed);
print(cyberark::groups("gina").map(|g| `${g.name}/${g.type}`));
print(cyberark::add_to_group(u, "NOC Operators").changed);
print(cyberark::revoke(u, #{ group: "NOC Operators" }).changed);
print(cyberark::groups(u));
print(cyberark::remove_from_group(u, "NOC Operators").changed);
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "true\n[\"NOC Operators/Vault\"]\nfalse\ntrue\n[]\nfalse\n",
        "{}",
        out.all()
    );
    let outcomes: Vec<String> = sim
        .journal_records()
        .iter()
        .filter(|r| r["type"] == "outcome" && r["access"].is_object())
        .map(|r| r["outcome"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        outcomes,
        ["granted", "unchanged", "revoked", "unchanged"],
        "every grant and revoke is journaled"
    );
    let intent = sim
        .journal_records()
        .into_iter()
        .find(|r| r["type"] == "intent" && r["operation"] == "add_to_group")
        .expect("an intent before the grant");
    assert_eq!(intent["access"]["undo"], "remove_from_group", "{intent}");
    assert_eq!(intent["access"]["target"], "NOC Operators");
}

#[test]
fn undo_puts_every_membership_back_and_a_second_undo_changes_nothing() {
    let sim = Sim::start();
    let before = memberships(&sim);
    let out = sim.run(GRANTS, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr
            .contains("reverses what it changed and removes what it created"),
        "{}",
        out.all()
    );
    assert_eq!(
        out.stdout.lines().next(),
        Some("true|add_to_group|vault group \"NOC Operators\"")
    );
    assert_ne!(memberships(&sim), before);
    let undo = sim.undo("last", &[]);
    assert_eq!(undo.code, 0, "{}", undo.all());
    assert!(
        undo.stdout.contains("3 changes to users reversed"),
        "{}",
        undo.all()
    );
    assert!(undo.stdout.contains("1 deleted"), "{}", undo.all());
    assert_eq!(memberships(&sim), before, "the vault is as it was");
    assert!(!sim.has_user("cyberark", "gina"));
    let writes = member_writes(&sim);
    let again = sim.undo("last", &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(again.stdout.contains("nothing to undo"), "{}", again.all());
    assert_eq!(member_writes(&sim), writes, "a second undo sends nothing");
    let shown = output(
        onboard()
            .arg("--journal")
            .arg(sim.journal())
            .args(["journal", "last"]),
    );
    assert!(shown.stdout.contains("undo"), "{}", shown.all());
}

#[test]
fn rollback_on_error_reverses_the_grants_before_deleting_the_accounts() {
    let sim = Sim::start();
    let before = memberships(&sim);
    let script = format!("{GRANTS}\nthrow \"boom\";");
    let out = sim.run(&script, &["--rollback-on-error"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("reversed") || l.contains("deleted  "))
        .collect();
    assert_eq!(lines.len(), 4, "{}", out.all());
    assert!(
        lines[0].contains("Administrator"),
        "newest first: {lines:?}"
    );
    assert!(lines[3].contains("deleted"), "accounts last: {lines:?}");
    assert_eq!(memberships(&sim), before);
}

#[test]
fn a_dry_run_plans_grants_and_sends_no_write() {
    let sim = Sim::start();
    let out = sim.run(GRANTS, &["--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // The planned create holds the planned group; the second add is no change.
    assert_eq!(
        out.stdout,
        "true|add_to_group|vault group \"NOC Operators\"\nfalse\n[\"NOC Operators\"]\n",
        "{}",
        out.all()
    );
    for line in [
        "add_to_group cyberark   gina: NOC Operators",
        "add_to_group cyberark   Auditor: Service Desk",
        "remove_from_group cyberark   Administrator: Vault Admins",
    ] {
        assert!(out.stderr.contains(line), "{line}\n{}", out.all());
    }
    assert_eq!(member_writes(&sim), 0);
}

#[test]
fn a_missing_group_or_a_typo_is_a_clear_error_and_nothing_is_sent() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
try { cyberark::add_to_group("Auditor", "noc operators"); } catch (e) { print(`${e.kind}: ${e.message}`); }
try { cyberark::grant("Auditor", #{ gruop: "NOC Operators" }); } catch (e) { print(`${e.kind}: ${e.message}`); }
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "not_found: there is no vault group named \"noc operators\"; did you mean \"NOC Operators\"? (names are matched exactly)\n\
         validation: unknown kind of access `gruop` for cyberark::grant; did you mean `group`?\n",
        "{}",
        out.all()
    );
    assert_eq!(member_writes(&sim), 0);
    // A call with the wrong number of arguments stops the run before anything is sent.
    let out = sim.run(
        r#"cyberark::create_user(#{ username: "x1", initial_password: random_password(20) });
cyberark::add_to_group("x1");"#,
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("cyberark::add_to_group takes 2 arguments (user, group)"),
        "{}",
        out.all()
    );
    assert!(!sim.has_user("cyberark", "x1"));
}

#[test]
fn the_access_functions_are_in_the_docs() {
    let out = output(onboard().args(["docs", "cyberark"]));
    for f in [
        "add_to_group",
        "remove_from_group",
        "groups",
        "grant",
        "revoke",
    ] {
        assert!(
            out.stdout.contains(&format!("cyberark::{f}(")),
            "{f}\n{}",
            out.stdout
        );
    }
}

/// Requests that switch a user on or off.
fn switches(sim: &Sim) -> Vec<String> {
    sim.log()
        .iter()
        .filter(|r| r["method"] == "POST")
        .filter_map(|r| r["path"].as_str().map(String::from))
        .filter(|p| p.ends_with("/enable/") || p.ends_with("/disable/"))
        .collect()
}

#[test]
fn disable_reads_first_sends_nothing_when_already_so_and_undo_enables_again() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
let u = cyberark::create_user(#{ username: "dina", initial_password: random_password(20) });
print(cyberark::disable_user(u).changed);
print(cyberark::disable_user("dina").changed);
print(cyberark::get_user("dina").enabled);
print(cyberark::disable_user("Auditor").changed);
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "true\nfalse\nfalse\ntrue\n", "{}", out.all());
    assert_eq!(switches(&sim).len(), 2, "the second disable sent nothing");
    let undo = sim.undo("last", &[]);
    assert_eq!(undo.code, 0, "{}", undo.all());
    assert!(
        undo.stdout.contains("2 changes to users reversed"),
        "{}",
        undo.all()
    );
    let check = sim.run(r#"print(cyberark::get_user("Auditor").enabled);"#, &[]);
    assert_eq!(check.stdout, "true\n", "{}", check.all());
    // Undo switched both back on (dina before deleting her), once each.
    assert_eq!(switches(&sim).len(), 4);
    assert!(!sim.has_user("cyberark", "dina"));
}

#[test]
fn a_dry_run_of_a_switch_plans_it_against_the_state_it_reads() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
let u = cyberark::create_user(#{ username: "dora", initial_password: random_password(20) });
print(cyberark::enable_user(u).changed);
print(cyberark::disable_user(u).changed);
print(cyberark::disable_user(u).changed);
print(cyberark::enable_user("Auditor").changed);
"#,
        &["--dry-run"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    // A new user starts enabled; Auditor is enabled already.
    assert_eq!(out.stdout, "false\ntrue\nfalse\nfalse\n", "{}", out.all());
    assert!(
        out.stderr.contains("disable_user cyberark   dora"),
        "{}",
        out.all()
    );
    assert!(switches(&sim).is_empty());
}

#[test]
fn a_grant_the_logon_user_may_not_give_is_forbidden_and_changes_nothing() {
    let sim = Sim::with(&["--cyberark-authorizations", "AuditUsers"]);
    let before = memberships(&sim);
    let out = sim.run(
        r#"
try { cyberark::add_to_group("Auditor", "NOC Operators"); } catch (e) { print(`${e.kind} ${e.status}`); }
try { cyberark::disable_user("Auditor"); } catch (e) { print(`${e.kind} ${e.status}`); }
print(cyberark::groups("Auditor"));
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "forbidden 403\nforbidden 403\n[]\n",
        "{}",
        out.all()
    );
    assert_eq!(memberships(&sim), before);
    let failed = sim
        .journal_records()
        .iter()
        .filter(|r| r["type"] == "outcome" && r["outcome"] == "failed")
        .count();
    assert_eq!(failed, 2, "both refusals are journaled as failed");
    let undo = sim.undo("last", &[]);
    assert!(undo.stdout.contains("nothing to undo"), "{}", undo.all());
}

#[test]
fn a_name_with_a_dot_gets_the_trailing_slash_iis_needs() {
    let sim = Sim::with(&["--cyberark-iis-dots"]);
    let out = sim.run(
        r#"
let u = cyberark::create_user(#{ username: "jane.doe", initial_password: random_password(20) });
print(cyberark::add_to_group(u, "NOC Operators").changed);
print(cyberark::remove_from_group(u, "NOC Operators").changed);
print(cyberark::disable_user(u).changed);
print(cyberark::update_user(u, #{ department: "NOC" }).changed);
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "true\ntrue\ntrue\ntrue\n", "{}", out.all());
    // Without the slash, IIS answers its own HTML page, not the API's JSON.
    let token = sim.cyberark_token();
    let (status, body) = sim.send(
        "DELETE",
        "/PasswordVault/API/UserGroups/11/Members/jane.doe",
        &[("Authorization", token.as_str())],
        "",
    );
    assert_eq!(status, 404);
    assert!(body.contains("File or directory not found"), "{body}");
}

/// The monitor groups of an Applications Manager user, as the simulator holds them.
fn monitor_groups(sim: &Sim, name: &str) -> Vec<String> {
    sim.users("appmanager")
        .into_iter()
        .find(|u| u["userName"] == name)
        .map(|u| {
            u["AssociatedGroups"]
                .as_array()
                .map(|g| {
                    g.iter()
                        .filter_map(|x| x["groupName"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

#[test]
fn applications_manager_monitor_groups_always_name_the_user_and_undo_puts_them_back() {
    let sim = Sim::start();
    let owner_before = monitor_groups(&sim, "sim-admin");
    let out = sim.run(
        r#"
print(appmanager::remove_from_monitor_group("apm-operator", "mg2").changed);
print(appmanager::add_to_monitor_group("apm-operator", "mg2").changed);
print(appmanager::remove_from_monitor_group("apm-operator", "mg2").changed);
print(appmanager::monitor_groups("apm-operator").map(|g| g.name));
try { appmanager::grant("apm-operator", #{ monitor_group: "nope" }); } catch (e) { print(e.kind); }
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "true\ntrue\ntrue\n[\"Applications Manager\", \"mg1\"]\nnot_found\n",
        "{}",
        out.all()
    );
    // Every update named its user: the API key's owner was never touched.
    assert_eq!(monitor_groups(&sim, "sim-admin"), owner_before);
    let undo = sim.undo("last", &[]);
    assert_eq!(undo.code, 0, "{}", undo.all());
    assert!(
        undo.stdout.contains("3 changes to users reversed"),
        "{}",
        undo.all()
    );
    assert_eq!(
        monitor_groups(&sim, "apm-operator"),
        ["Applications Manager", "mg1", "mg2"],
        "back as it was"
    );
}
