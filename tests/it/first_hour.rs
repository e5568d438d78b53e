//! The first hour on real systems: `init`, `doctor`, completions, the man page, and a bulk
//! run's failed rows written as a file to fix and run again.

use std::path::{Path, PathBuf};

use crate::common::{Output, Sim, onboard, output};

/// `onboard init` in the simulator's folder, made to point at it as a newcomer would: each
/// url set, the names filled in; the secrets stay `{ env = … }` placeholders.
fn init_for(sim: &Sim) -> PathBuf {
    let path = sim.dir.path().join("onboard.toml");
    let out = output(
        onboard()
            .args(["init", "--profile", "lab", "--path"])
            .arg(&path),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace("https://cyberark.example.com", &sim.url)
        .replace("https://pam360.example.com", &sim.url)
        .replace("https://appmanager.example.com", &sim.url)
        .replace("https://identity.example.com", &sim.url)
        .replace("username = \"CHANGE-ME\"", "username = \"onboard-sim\"")
        .replace(
            "\nclient_id = \"CHANGE-ME\"",
            "\nclient_id = \"onboard-sim@cyberark.cloud.1234\"",
        );
    let ca = sim
        .ca
        .as_ref()
        .map(|ca| format!("ca_cert = \"{}\"\n", ca.display()));
    let text = match ca {
        Some(line) => text.replace("# ca_cert = \"ca.pem\"\n", &line),
        None => text,
    };
    std::fs::write(&path, text).unwrap();
    path
}

/// The simulator's credentials, as the banner prints them, in the variables init named.
const ENV: &[(&str, &str)] = &[
    ("ONBOARD_CYBERARK_PASSWORD", "Sim-Vault-Passw0rd"),
    (
        "ONBOARD_PAM360_AUTHTOKEN",
        "5F0A8B2C-51A0-4E1D-9C3A-0B0A2D5E7C11",
    ),
    (
        "ONBOARD_APPMANAGER_APIKEY",
        "d1b6c9a0e3f54a7e8c2b9f10a4d6e8c3",
    ),
    ("ONBOARD_IDENTITY_CLIENT_SECRET", "Sim-Identity-Secret-1"),
];

fn doctor(config: &Path, change: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut cmd = onboard();
    cmd.arg("--config").arg(config).arg("doctor").args(extra);
    for (k, v) in ENV {
        let v = change
            .iter()
            .find(|(ck, _)| ck == k)
            .map_or(*v, |(_, cv)| *cv);
        cmd.env(k, v);
    }
    output(&mut cmd)
}

/// The line of the table for a vendor's check, and the fix line after it.
fn line<'a>(out: &'a Output, vendor: &str, check: &str) -> (&'a str, &'a str) {
    let lines: Vec<&str> = out.stdout.lines().collect();
    let i = lines
        .iter()
        .position(|l| {
            l.split_whitespace().nth(1) == Some(vendor)
                && l.split_whitespace().nth(2) == Some(check)
        })
        .unwrap_or_else(|| panic!("no {vendor} {check} line:\n{}", out.all()));
    (lines[i], lines.get(i + 1).copied().unwrap_or_default())
}

#[test]
fn init_then_doctor_is_green_against_the_simulator_and_changes_nothing() {
    let sim = Sim::start();
    let config = init_for(&sim);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&config).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let fresh = sim.dir.path().join("fresh.toml");
    output(onboard().args(["init", "--path"]).arg(&fresh));
    let unfilled = doctor(&fresh, &[], &[]);
    assert_eq!(unfilled.code, 1, "{}", unfilled.all());
    let (settings, fix) = line(&unfilled, "cyberark", "settings");
    assert!(
        settings.contains("`url` still has the value `onboard init` wrote"),
        "{settings}"
    );
    assert!(fix.contains("[profiles.prod.cyberark]"), "{fix}");
    let again = output(onboard().args(["init", "--path"]).arg(&config));
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("--force"), "{}", again.all());

    let out = doctor(&config, &[], &["--profile", "lab"]);
    assert_eq!(out.code, 0, "{}", out.all());
    for vendor in ["cyberark", "pam360", "appmanager", "identity"] {
        for check in ["settings", "dns", "tcp", "clock", "logon"] {
            assert!(
                line(&out, vendor, check).0.starts_with('✔'),
                "{vendor} {check}\n{}",
                out.all()
            );
        }
    }
    assert!(
        line(&out, "cyberark", "rights")
            .0
            .contains("AddUpdateUsers")
    );
    assert!(line(&out, "cyberark", "version").0.contains("14.2"));
    assert!(line(&out, "appmanager", "rights").0.starts_with('✔'));
    let changed: Vec<_> = sim
        .log()
        .into_iter()
        .filter(|e| e["changed"] == true)
        .collect();
    assert!(changed.is_empty(), "doctor changed something: {changed:?}");
    assert!(
        sim.log()
            .iter()
            .any(|e| e["path"].as_str().is_some_and(|p| p.ends_with("/Logoff")))
    );

    let json = doctor(&config, &[], &["--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["ok"], true, "{}", json.stdout);
    assert_eq!(doc["vendors"].as_array().map(Vec::len), Some(4));
}

#[test]
fn doctor_names_a_wrong_password_a_wrong_key_and_a_missing_secret_with_the_fix() {
    let sim = Sim::start();
    let config = init_for(&sim);
    let out = doctor(
        &config,
        &[
            ("ONBOARD_CYBERARK_PASSWORD", "wrong"),
            ("ONBOARD_APPMANAGER_APIKEY", "0000"),
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let (cyberark, fix) = line(&out, "cyberark", "logon");
    assert!(
        cyberark.starts_with('✘') && cyberark.contains("Authentication failure"),
        "{cyberark}"
    );
    assert!(fix.contains("fix:") && fix.contains("password"), "{fix}");
    let (appmanager, fix) = line(&out, "appmanager", "logon");
    assert!(appmanager.starts_with('✘'), "{appmanager}");
    assert!(fix.contains("apikey"), "{fix}");
    assert!(line(&out, "pam360", "logon").0.starts_with('✔'));
    assert!(
        out.stderr.contains("cyberark logon") && out.stderr.contains("appmanager logon"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("wrong\""), "{}", out.all());

    let mut cmd = onboard();
    cmd.arg("--config").arg(&config).arg("doctor");
    for (k, v) in ENV.iter().filter(|(k, _)| *k != "ONBOARD_PAM360_AUTHTOKEN") {
        cmd.env(k, v);
    }
    let out = output(cmd.env_remove("ONBOARD_PAM360_AUTHTOKEN"));
    let (settings, fix) = line(&out, "pam360", "settings");
    assert!(
        settings.starts_with('✘') && settings.contains("ONBOARD_PAM360_AUTHTOKEN"),
        "{settings}"
    );
    assert!(settings.contains("onboard.toml:"), "says where: {settings}");
    assert!(fix.contains("environment variable"), "{fix}");
}

#[test]
fn doctor_names_an_untrusted_certificate_and_a_user_without_add_update_users() {
    let sim = Sim::with(&["--tls", "--cyberark-authorizations", "AuditUsers"]);
    let config = init_for(&sim);
    let trusted = doctor(&config, &[], &[]);
    let (tls, _) = line(&trusted, "cyberark", "tls");
    assert!(
        tls.starts_with('✔') && tls.contains("verified by the profile's ca_cert"),
        "{tls}"
    );
    assert!(tls.contains("days left"), "{tls}");
    let (rights, fix) = line(&trusted, "cyberark", "rights");
    assert!(
        rights.starts_with('✘') && rights.contains("lacks the vault authorization AddUpdateUsers"),
        "{rights}"
    );
    assert!(fix.contains("Add/Update Users"), "{fix}");
    assert_eq!(trusted.code, 1);

    let text = std::fs::read_to_string(&config).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("ca_cert"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&config, without).unwrap();
    let out = doctor(&config, &[], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let (tls, fix) = line(&out, "pam360", "tls");
    assert!(
        tls.starts_with('✘') && tls.contains("not trusted") && tls.contains("UnknownIssuer"),
        "{tls}"
    );
    assert!(fix.contains("ca_cert"), "{fix}");
    // Nothing is tried past a certificate that is not trusted.
    assert!(
        !out.stdout.lines().any(|l| l.contains(" logon ")),
        "{}",
        out.stdout
    );
}

#[test]
fn doctor_checks_rows_offline_and_estimates_the_run() {
    let sim = Sim::start();
    let config = init_for(&sim);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/new_hires.rhai");
    let rows = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/new_hires.csv");
    let out = doctor(
        &config,
        &[],
        &[
            "--each",
            rows.to_str().unwrap(),
            "--script",
            script.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("check     5 rows, 0 with problems"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("estimate  about "), "{}", out.stdout);

    let bad = sim.dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "username,first_name,last_name,email,department\nx,X,Y,not-an-email,NOC\n",
    )
    .unwrap();
    let out = doctor(
        &config,
        &[],
        &[
            "--each",
            bad.to_str().unwrap(),
            "--script",
            script.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("1 rows, 1 with problems") && out.stdout.contains("not-an-email"),
        "{}",
        out.stdout
    );
    assert!(sim.log().iter().all(|e| e["changed"] == false));
}

#[test]
fn bash_completions_parse_and_the_man_page_renders() {
    let out = output(onboard().args(["completions", "bash"]));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("doctor") && out.stdout.contains("--resume"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("onboard.bash");
    std::fs::write(&file, &out.stdout).unwrap();
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    let out = output(onboard().arg("man").arg(dir.path()));
    assert_eq!(out.code, 0, "{}", out.all());
    for page in ["onboard.1", "onboard-run.1", "onboard-doctor.1"] {
        assert!(dir.path().join(page).is_file(), "{page}");
    }
    let rendered = std::process::Command::new("man")
        .arg("-l")
        .arg(dir.path().join("onboard-doctor.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    assert!(text.contains("--each"), "{text}");
}

#[test]
fn a_bulk_runs_failed_rows_become_a_csv_to_fix_and_run_again() {
    let sim = Sim::start();
    let people = sim.dir.path().join("hires.csv");
    std::fs::write(
        &people,
        "username,first_name,last_name,email,department\n\
         ok1,Ok,One,ok1@example.com,Finance\n\
         bad1,Bad,One,not-an-email,Finance\n\
         ok2,Ok,Two,ok2@example.com,Finance\n\
         bad2,Bad,\"Two, Jr.\",bad two@example.com,Finance\n",
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/new_hires.rhai");
    let report = sim.dir.path().join("report.jsonl");
    let run = |each: &Path, report: &Path, extra: &[&str]| {
        output(
            assert_cmd::Command::from_std(sim.run_command(&script))
                .arg("--each")
                .arg(each)
                .arg("--report")
                .arg(report)
                .args(extra),
        )
    };
    let out = run(&people, &report, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let failed = sim.dir.path().join("report.jsonl.failed.csv");
    assert!(
        out.stderr.contains("report.jsonl.failed.csv (2)"),
        "{}",
        out.stderr
    );
    let text = std::fs::read_to_string(&failed).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "username,first_name,last_name,email,department,error_kind,error_message"
    );
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].starts_with("bad1,Bad,One,not-an-email,Finance,validation,"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("bad2,Bad,\"Two, Jr.\",bad two@example.com,Finance,validation,"),
        "{text}"
    );

    // --resume with the failed file runs exactly those rows of the input again.
    let out = run(
        &people,
        &sim.dir.path().join("r2.jsonl"),
        &["--resume", failed.to_str().unwrap()],
    );
    assert!(out.stderr.contains("2 rows"), "{}", out.all());

    // Fixed, the failed file is the input of the next run.
    let fixed = text
        .replace("not-an-email", "bad1@example.com")
        .replace("bad two@", "bad2@");
    std::fs::write(&failed, fixed).unwrap();
    let fixed_report = sim.dir.path().join("fixed.jsonl");
    let out = run(&failed, &fixed_report, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    for name in ["ok1", "ok2", "bad1", "bad2"] {
        assert!(sim.has_user("cyberark", name), "{name}");
    }
    assert!(!sim.dir.path().join("fixed.jsonl.failed.csv").exists());
}
