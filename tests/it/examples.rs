//! Every example in scripts/ runs on the simulator and passes `onboard check`.

use crate::common::{onboard, output};

fn run_example(name: &str) -> crate::common::Output {
    let script = format!("{}/scripts/{name}", env!("CARGO_MANIFEST_DIR"));
    let check = output(onboard().arg("check").arg(&script));
    assert_eq!(check.code, 0, "check {name}: {}", check.all());
    let out = output(onboard().arg("run").arg(&script).arg("--sim"));
    assert_eq!(out.code, 0, "{name}: {}", out.all());
    out
}

#[test]
fn new_hire() {
    let out = run_example("new_hire.rhai");
    assert!(
        out.stdout.contains("CyberArk: created jdoe"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("CyberArk: jdoe is in NOC Operators\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("PAM360: created jdoe-api"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("token ********"), "{}", out.stdout);
    assert!(
        out.stdout.contains("Applications Manager: created jdoe"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr.matches("created").count(), 3, "{}", out.stderr);
    // The team's access: a safe, a shared account, a monitor group.
    for line in [
        "CyberArk: jdoe may use the accounts of safe NOC-Shared",
        "PAM360: core-router-01/netops shared with jdoe-api to view",
        "Applications Manager: jdoe watches monitor group mg1",
    ] {
        assert!(out.stdout.contains(line), "{line}\n{}", out.stdout);
    }
    assert_eq!(out.stderr.matches("granted").count(), 4, "{}", out.stderr);
}

#[test]
fn leaver_dry_run_shows_what_leaving_would_do() {
    let script = format!("{}/scripts/leaver.rhai", env!("CARGO_MANIFEST_DIR"));
    let check = output(onboard().arg("check").arg(&script));
    assert_eq!(check.code, 0, "check: {}", check.all());
    let out = output(
        onboard()
            .arg("run")
            .arg(&script)
            .args(["--sim", "--dry-run"]),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    for line in [
        "remove_from_group cyberark   alex.leaver: Service Desk",
        "disable_user cyberark   alex.leaver",
        "disable_user pam360     alex.leaver",
        "remove_from_monitor_group appmanager alex.leaver: mg1",
        "remove_from_user_group appmanager alex.leaver: NOC Team",
        "disable_user appmanager alex.leaver",
    ] {
        assert!(out.stderr.contains(line), "{line}\n{}", out.all());
    }
    assert!(
        out.stdout.contains("cyberark: alex.leaver disabled"),
        "{}",
        out.stdout
    );
}

#[test]
fn new_hire_with_vars_outside_the_api_teams() {
    let script = format!("{}/scripts/new_hire.rhai", env!("CARGO_MANIFEST_DIR"));
    let out = output(onboard().arg("run").arg(&script).arg("--sim").args([
        "--var",
        "username=asmith",
        "--var",
        "first_name=Alice",
        "--var",
        "last_name=Smith",
        "--var",
        "email=alice@example.com",
        "--var",
        "department=Finance",
    ]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("CyberArk: created asmith"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("PAM360"), "{}", out.stdout);
}

#[test]
fn api_user() {
    let out = run_example("api_user.rhai");
    assert!(
        out.stdout.contains("created API user ci-deploy"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("token ********, 36 characters"),
        "{}",
        out.stdout
    );
}

#[test]
fn cyberark_user() {
    let out = run_example("cyberark_user.rhai");
    assert!(
        out.stdout
            .contains("CyberArkUser { id: 100, username: \"asmith\""),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("found again: true"), "{}", out.stdout);
}

#[test]
fn pam360_user() {
    let out = run_example("pam360_user.rhai");
    assert!(out.stdout.contains("created bwayne"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("second ensure_user created something: false"),
        "{}",
        out.stdout
    );
}

#[test]
fn appmanager_user() {
    let out = run_example("appmanager_user.rhai");
    assert!(
        out.stdout
            .contains("created noc-ops1 (id 6) in [\"mg1\", \"mg2\"]"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("noc-ops1 already has an account"),
        "{}",
        out.stdout
    );
}

#[test]
fn new_hires_over_a_csv() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let script = format!("{dir}/scripts/new_hires.rhai");
    let csv = format!("{dir}/scripts/new_hires.csv");
    let check = output(onboard().args(["check", &script, "--each", &csv]));
    assert_eq!(check.code, 0, "{}", check.all());
    let tmp = tempfile::tempdir().expect("temp dir");
    let report = tmp.path().join("report.jsonl");
    let out = output(
        onboard()
            .args(["run", &script, "--sim", "--each", &csv, "--report"])
            .arg(&report),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stderr.contains("5 ok, 0 failed"), "{}", out.stderr);
    // NOC and SRE people get a PAM360 API user: three of the five.
    let pam360 = out
        .stderr
        .lines()
        .find(|l| l.trim_start().starts_with("pam360"))
        .unwrap_or_default();
    assert_eq!(
        pam360.split_whitespace().nth(1),
        Some("3"),
        "{}",
        out.stderr
    );
    let text = std::fs::read_to_string(&report).expect("report");
    assert!(text.contains("\"username\":\"bmüller\""), "{text}");
    assert_eq!(text.matches("\"ok\":true").count(), 5, "{text}");
}
