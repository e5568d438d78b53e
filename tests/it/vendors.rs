//! Each vendor through the real binary: create, read, exist, delete, ensure, duplicates, bad credentials.

use crate::common::{Sim, requests_to};

/// create → get → exists → delete → exists false, then ensure_user twice and a caught duplicate.
fn lifecycle(vendor: &str, request: &str) -> String {
    format!(
        r#"
let req = {request};
let u = {vendor}::create_user(req);
if !u.created || u.vendor != "{vendor}" || u.id <= 0 {{ throw "bad create result: " + u; }}
let g = {vendor}::get_user(req.username);
if g == () || g.id != u.id || g.username != req.username || g.created {{ throw "bad get_user: " + g; }}
if !{vendor}::user_exists(req.username) {{ throw "should exist"; }}
if {vendor}::get_user("nobody-here") != () {{ throw "a missing user must be ()"; }}

let caught = "";
try {{ {vendor}::create_user(req); }} catch (e) {{ caught = e.kind; }}
if caught != "already_exists" {{ throw "expected already_exists, got " + caught; }}

{vendor}::delete_user(req.username);
if {vendor}::user_exists(req.username) {{ throw "should be gone"; }}
let gone = "";
try {{ {vendor}::delete_user(req.username); }} catch (e) {{ gone = e.kind; }}
if gone != "not_found" {{ throw "expected not_found, got " + gone; }}

let first = {vendor}::ensure_user(req);
let second = {vendor}::ensure_user(req);
if !first.created || second.created || first.id != second.id {{ throw "ensure_user: " + first + " / " + second; }}
{vendor}::delete_user(second);
print("lifecycle ok");
"#
    )
}

const CYBERARK_REQ: &str = r#"#{ username: "jdoe", initial_password: random_password(20),
    first_name: "Jane", last_name: "Doe", email: "jane.doe@example.com" }"#;
const PAM360_REQ: &str = r#"#{ username: "jdoe", first_name: "Jane", last_name: "Doe",
    email: "jane.doe@example.com", is_api_user: true }"#;
const APPMANAGER_REQ: &str = r#"#{ username: "jdoe", role: "operator",
    password: random_password(16), email: "jane.doe@example.com" }"#;

#[test]
fn cyberark_lifecycle() {
    let sim = Sim::start();
    let out = sim.run(&lifecycle("cyberark", CYBERARK_REQ), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("lifecycle ok"));
    assert!(!sim.has_user("cyberark", "jdoe"));
    // One logon for the whole run, and a logoff at the end.
    let log = sim.log();
    let logons = log
        .iter()
        .filter(|e| e["path"].as_str().unwrap_or("").ends_with("/Logon"))
        .count();
    assert_eq!(logons, 1, "{log:?}");
    assert!(
        log.last().unwrap()["path"]
            .as_str()
            .unwrap()
            .ends_with("/Auth/Logoff")
    );
}

#[test]
fn pam360_lifecycle() {
    let sim = Sim::start();
    let out = sim.run(&lifecycle("pam360", PAM360_REQ), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!sim.has_user("pam360", "jdoe"));
}

#[test]
fn pam360_accepts_the_documents_success_spelling() {
    let sim = Sim::with(&["--pam360-status", "true"]);
    let out = sim.run(&lifecycle("pam360", PAM360_REQ), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn pam360_failures_with_http_statuses_keep_their_kinds() {
    let sim = Sim::with(&["--pam360-http-errors"]);
    let out = sim.run(&lifecycle("pam360", PAM360_REQ), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn appmanager_lifecycle_json() {
    let sim = Sim::start();
    let out = sim.run(&lifecycle("appmanager", APPMANAGER_REQ), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        sim.log()
            .iter()
            .all(|e| !e["path"].as_str().unwrap().contains("/xml/"))
    );
}

#[test]
fn appmanager_lifecycle_xml() {
    let sim = Sim::start();
    let config = sim.config_with(|t| t.replace("format = \"json\"", "format = \"xml\""));
    let out = sim.run_with_config(&config, &lifecycle("appmanager", APPMANAGER_REQ), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let log = sim.log();
    assert!(requests_to(&log, "appmanager") > 0);
    assert!(
        log.iter()
            .filter(|e| e["vendor"] == "appmanager")
            .all(|e| e["path"].as_str().unwrap().contains("/xml/"))
    );
}

#[test]
fn appmanager_results_are_the_same_in_json_and_xml() {
    let script = r#"
let u = appmanager::create_user(#{ username: "ops1", role: "MANAGER", password: random_password(16),
                                   email: "ops1@example.com", group_ids: [10000037] });
print(`${u.id}|${u.role}|${u.email}|${u.description}|${u.groups}`);
"#;
    let sim_json = Sim::start();
    let json = sim_json.run(script, &[]);
    let sim_xml = Sim::start();
    let config = sim_xml.config_with(|t| t.replace("format = \"json\"", "format = \"xml\""));
    let xml = sim_xml.run_with_config(&config, script, &[]);
    assert_eq!(json.code, 0, "{}", json.all());
    assert_eq!(xml.code, 0, "{}", xml.all());
    assert_eq!(json.stdout, xml.stdout);
    assert!(
        json.stdout.contains("6|MANAGER|ops1@example.com|manager|"),
        "{}",
        json.stdout
    );
    assert!(json.stdout.contains("mg1"), "{}", json.stdout);
}

fn bad_credentials(vendor: &str, edit: fn(String) -> String, call: &str) {
    let sim = Sim::start();
    let config = sim.config_with(edit);
    let script = format!(
        r#"try {{ {call}; throw "no error"; }} catch (e) {{ print(`${{e.vendor}}|${{e.kind}}|${{e.message}}`); }}"#
    );
    let out = sim.run_with_config(&config, &script, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.starts_with(&format!("{vendor}|auth|")),
        "{}",
        out.stdout
    );
}

#[test]
fn cyberark_bad_password_is_auth() {
    bad_credentials(
        "cyberark",
        |t| t.replace("Sim-Vault-Passw0rd", "wrong-password"),
        r#"cyberark::user_exists("jdoe")"#,
    );
}

#[test]
fn pam360_bad_token_is_auth() {
    bad_credentials(
        "pam360",
        |t| {
            t.replace(
                "5F0A8B2C-51A0-4E1D-9C3A-0B0A2D5E7C11",
                "00000000-0000-0000-0000-000000000000",
            )
        },
        r#"pam360::user_exists("jdoe")"#,
    );
}

#[test]
fn appmanager_bad_apikey_is_auth_and_the_key_is_scrubbed() {
    let sim = Sim::start();
    let bad_key = "not-the-key-1234567890";
    let config = sim.config_with(|t| t.replace("d1b6c9a0e3f54a7e8c2b9f10a4d6e8c3", bad_key));
    let out = sim.run_with_config(&config, r#"appmanager::user_exists("jdoe");"#, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("appmanager::user_exists failed (auth"),
        "{}",
        out.stderr
    );
    // The server echoes the key it got; onboard must not.
    assert!(out.stderr.contains("apikey [ ******** ]"), "{}", out.stderr);
    assert!(!out.all().contains(bad_key));
}

#[test]
fn cyberark_logs_on_again_when_the_session_expires() {
    let sim = Sim::with(&["--cyberark-session-requests", "2"]);
    let script = r#"
for name in ["a1", "a2", "a3", "a4", "a5"] {
    cyberark::create_user(#{ username: name, initial_password: random_password(20) });
}
"#;
    let out = sim.run(script, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    for name in ["a1", "a2", "a3", "a4", "a5"] {
        assert!(sim.has_user("cyberark", name));
    }
    let log = sim.log();
    let logons = log
        .iter()
        .filter(|e| e["path"].as_str().unwrap().ends_with("/Logon"))
        .count();
    assert!(logons >= 2, "expected a re-logon: {log:?}");
    // Every expired call was retried once and succeeded: no create was lost or doubled.
    let created = log
        .iter()
        .filter(|e| e["method"] == "POST" && e["status"] == 201)
        .count();
    assert_eq!(created, 5);
}

#[test]
fn cyberark_logs_off_after_an_uncaught_error() {
    let sim = Sim::start();
    let out = sim.run(r#"cyberark::user_exists("jdoe"); throw "stop here";"#, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("stop here"));
    let log = sim.log();
    assert!(
        log.last().unwrap()["path"]
            .as_str()
            .unwrap()
            .ends_with("/Auth/Logoff"),
        "{log:?}"
    );
}

#[test]
fn cyberark_get_user_is_an_exact_match() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
cyberark::create_user(#{ username: "someoneelse", initial_password: random_password(20) });
print(cyberark::get_user("someone") == ());
print(cyberark::user_exists("someone"));
print(cyberark::get_user("someoneelse").username);
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "true\nfalse\nsomeoneelse\n");
}

#[test]
fn cyberark_result_has_typed_read_only_fields() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
let u = cyberark::create_user(#{ username: "jdoe", initial_password: random_password(20),
    email: "jane@example.com", personal_details: #{ first_name: "Jane", title: "Engineer" },
    vault_authorization: ["auditusers"], expiry_date: "2099-01-01" });
print(u.email); print(u.first_name); print(u.personal_details.title);
print(u.vault_authorization); print(u.expiry_date); print(u.enabled);
let m = u.to_map(); print(m.user_type);
print(type_of(u));
try { u.id = 5; print("assigned"); } catch (e) { print("read-only"); }
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "jane@example.com",
            "Jane",
            "Engineer",
            "[\"AuditUsers\"]",
            "4070908800",
            "true",
            "EPVUser",
            "CyberArkUser",
            "read-only"
        ]
    );
}

#[test]
fn an_unset_expiry_date_reads_as_unit() {
    let sim = Sim::start();
    let out = sim.run(
        r#"let u = cyberark::create_user(#{ username: "x1", initial_password: random_password(20) }); print(u.expiry_date == ());"#,
        &[],
    );
    assert_eq!(out.stdout, "true\n", "{}", out.all());
}
