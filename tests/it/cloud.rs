//! CyberArk's Identity Security Platform: the platform token (asked once, shared by workers,
//! renewed before it runs out and after a revocation), a bad client secret, and the Privilege
//! Cloud flow (an Identity user, roles, safe access by login) undone to where it began.

use std::time::Instant;

use crate::common::{Sim, output};

/// The simulator's profile with CyberArk logging on with a platform token from the simulated
/// Identity tenant instead of the vault's Logon.
fn platform_profile(sim: &Sim, secret: &str) -> std::path::PathBuf {
    let url = sim.url.clone();
    let secret = secret.to_string();
    sim.config_with(move |text| {
        let cyberark = format!(
            "[profiles.sim.cyberark]\nurl = \"{url}\"\nauth_method = \"Identity\"\nidentity_url = \"{url}\"\n\
             client_id = \"onboard-sim@cyberark.cloud.1234\"\nclient_secret = \"{secret}\"\nplatform = \"privilege_cloud\"\n"
        );
        let start = text.find("[profiles.sim.cyberark]").unwrap_or(0);
        let end = text[start + 1..].find("\n[").map_or(text.len(), |i| start + 1 + i + 1);
        let mut out = text.clone();
        out.replace_range(start..end, &cyberark);
        out.replace("client_secret = \"Sim-Identity-Secret-1\"", &format!("client_secret = \"{secret}\""))
    })
}

fn token_requests(sim: &Sim) -> usize {
    sim.log()
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.eq_ignore_ascii_case("/oauth2/platformtoken"))
        })
        .count()
}

const CLOUD_HIRE: &str = r#"
import "std/onboarding" as onboarding;
let h = onboarding::cloud_hire(#{ first_name: "Ada", last_name: "Byron", email: "ada@example.com" },
    #{ roles: ["NOC Engineers"], safes: #{ "NOC-Shared": "use", "Linux-Root": #{ preset: "list", member_type: "User" } } });
print(h.username);
print(h.roles.map(|g| g.changed));
print(h.safes.map(|g| g.target));
"#;

#[test]
fn the_privilege_cloud_flow_on_a_platform_token_is_undone_to_where_it_began() {
    let sim = Sim::with(&["--cyberark-privilege-cloud"]);
    let config = platform_profile(&sim, "Sim-Identity-Secret-1");
    let before = sim.state();
    let out = sim.run_with_config(&config, CLOUD_HIRE, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "ada.byron@cyberark.cloud.1234\n[true]\n[\"safe \\\"Linux-Root\\\" (list)\", \"safe \\\"NOC-Shared\\\" (use)\"]\n",
        "{}",
        out.all()
    );
    let log = sim.log();
    assert!(
        !log.iter()
            .any(|r| r["path"].as_str().is_some_and(|p| p.contains("Logon"))),
        "no vault logon: {log:#?}"
    );
    // One token for the run, shared by the cyberark and identity clients.
    assert_eq!(token_requests(&sim), 1, "{log:#?}");
    let safes = &sim.state()["cyberark"]["state"]["safes"];
    assert!(
        safes[0]["members"]
            .get("ada.byron@cyberark.cloud.1234")
            .is_some(),
        "{safes}"
    );
    let undo = sim.undo_with_config(&config, "last");
    assert_eq!(undo.code, 0, "{}", undo.all());
    let mut after = sim.state();
    let mut was = before.clone();
    // Logon dates move; nothing else may.
    for s in [&mut after, &mut was] {
        for u in s["cyberark"]["users"].as_array_mut().into_iter().flatten() {
            u["lastSuccessfulLoginDate"] = serde_json::Value::Null;
        }
    }
    assert_eq!(after, was, "{}", undo.all());
}

#[test]
fn privilege_cloud_refuses_a_safe_member_without_member_type_and_onboard_always_sends_it() {
    let sim = Sim::with(&["--cyberark-privilege-cloud"]);
    let token = sim.cyberark_token();
    let (status, body) = sim.send(
        "POST",
        "/PasswordVault/API/Safes/NOC-Shared/Members/",
        &[
            ("Authorization", token.as_str()),
            ("Content-Type", "application/json"),
        ],
        r#"{"memberName":"Auditor","permissions":{"listAccounts":true}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("PASWS179E") && body.contains("memberType"),
        "{body}"
    );
    let out = sim.run(
        r#"print(cyberark::add_safe_member("NOC-Shared", "Auditor", "list").changed);"#,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "true\n");
}

#[test]
fn the_token_is_renewed_as_it_runs_out_once_for_all_workers() {
    let sim = Sim::with(&["--identity-token-lifetime", "1"]);
    let people = sim.people("tok", 200);
    let started = Instant::now();
    let out = sim.run(
        r#"identity::create_user(#{ username: row.username, mail: row.email, password: random_password(16) });"#,
        &["--each", people.to_str().unwrap_or_default(), "--jobs", "8"],
    );
    let took = started.elapsed().as_secs_f64();
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(sim.users("identity").len(), 2 + 200, "no row failed");
    let asked = token_requests(&sim);
    // A renewal at 80% of each second's token: never one per worker or per row.
    let most = (took / 0.8).ceil() as usize + 2;
    assert!(
        asked >= 1 && asked <= most,
        "{asked} token requests in {took:.2}s (at most {most})"
    );
}

#[test]
fn a_token_revoked_mid_run_is_renewed_once() {
    let sim = Sim::start();
    let people = sim.people("rev", 300);
    let mut cmd = sim.run_command(
        &sim.script(r#"identity::create_user(#{ username: row.username, mail: row.email });"#),
    );
    cmd.args(["--each", people.to_str().unwrap_or_default(), "--jobs", "2"]);
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Revoke once some rows are done.
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    while sim.users("identity").len() < 30 && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let (status, _) = sim.send("POST", "/__sim/expire-sessions", &[], "");
    assert_eq!(status, 200);
    let done = child.wait_with_output().expect("run");
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{err}");
    assert_eq!(sim.users("identity").len(), 2 + 300, "no row failed: {err}");
    assert_eq!(token_requests(&sim), 2, "the first token and one renewal");
}

#[test]
fn a_bad_client_secret_is_an_auth_error_and_the_secret_is_in_no_output() {
    let sim = Sim::start();
    let config = platform_profile(&sim, "Not-The-Secret-42");
    let out = sim.run_with_config(
        &config,
        r#"try { identity::get_user("x") } catch (e) { print(e.kind) } cyberark::get_user("Auditor");"#,
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(out.stdout, "auth\n", "{}", out.all());
    assert!(
        out.stderr.contains("The client credentials are invalid"),
        "{}",
        out.all()
    );
    assert!(!out.all().contains("Not-The-Secret-42"), "{}", out.all());
    let journal = std::fs::read_to_string(sim.journal()).unwrap_or_default();
    assert!(!journal.contains("Not-The-Secret-42"));
}

#[test]
fn the_cloud_example_runs_on_the_simulator_and_plans_with_logins() {
    let script = format!("{}/scripts/new_hire_cloud.rhai", env!("CARGO_MANIFEST_DIR"));
    let out = output(
        crate::common::onboard()
            .arg("run")
            .arg(&script)
            .args(["--sim", "--dry-run"]),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr
            .contains("add_safe_member cyberark   jane.doe@cyberark.cloud.1234: NOC-Shared (use)"),
        "{}",
        out.all()
    );
    let out = output(
        crate::common::onboard()
            .arg("run")
            .arg(&script)
            .arg("--sim"),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("Privilege Cloud: jane.doe@cyberark.cloud.1234 on safe \"NOC-Shared\" (use)"),
        "{}",
        out.stdout
    );
}
