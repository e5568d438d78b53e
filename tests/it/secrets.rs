//! Secrets never appear in output: not printed, interpolated, logged, converted to JSON or in errors.

use crate::common::Sim;

#[test]
fn tokens_and_passwords_are_masked_everywhere() {
    let sim = Sim::start();
    let out = sim.run(
        r#"
let pw = random_password(20);
let vault = cyberark::create_user(#{ username: "sec1", initial_password: pw });
let api = pam360::create_user(#{ username: "sec1-api", first_name: "S", last_name: "C",
                                 email: "s@example.com", is_api_user: true });
appmanager::create_user(#{ username: "sec1", role: "USER", password: pw, email: "s@example.com" });
print(api);
print(api.auth_token);
print(`token ${api.auth_token} password ${pw}`);
print("concat " + pw + " " + api.auth_token);
print(#{ token: api.auth_token, pw: pw });
print([pw]);
print(api.to_json());
print(api.to_map().to_json());
print(#{ pw: pw }.to_json());
debug(pw);
log("warn", pw);
log(#{ token: api.auth_token });
print(pw.len());
print(api.auth_token.len() > 30);
throw `failing with ${pw}`;
"#,
        &["--json"],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let token = sim
        .users("pam360")
        .iter()
        .find(|u| u["USERNAME"] == "sec1-api")
        .unwrap()["AUTHTOKEN"]
        .as_str()
        .unwrap()
        .to_string();
    let password = sim
        .users("cyberark")
        .iter()
        .find(|u| u["username"] == "sec1")
        .unwrap()["initialPassword"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(password.len(), 20);
    let apm_password = sim
        .users("appmanager")
        .iter()
        .find(|u| u["userName"] == "sec1")
        .unwrap()["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(apm_password, password, "the same Secret was sent to both");
    let all = out.all();
    assert!(!all.contains(&token), "token leaked:\n{all}");
    assert!(!all.contains(&password), "password leaked:\n{all}");
    assert!(all.contains("auth_token: ********"), "{all}");
    assert!(all.contains("token ******** password ********"), "{all}");
    assert!(all.contains("failing with ********"), "{all}");
    assert!(out.stderr.contains("\n20\n"), "{}", out.stderr);
}

#[test]
fn reveal_gives_the_text_for_passing_on() {
    let sim = Sim::start();
    let out = sim.run(
        r#"let s = secret("hunter2"); print(s); print(s.reveal()); print(s == secret("hunter2"));"#,
        &[],
    );
    assert_eq!(out.stdout, "********\nhunter2\ntrue\n", "{}", out.all());
}

#[test]
fn the_secret_scan_catches_a_leak() {
    // Every simulator-backed test scans its output; this proves the scan can fail.
    let sim = Sim::start();
    let script = sim.script(
        r#"let pw = random_password(20);
           appmanager::create_user(#{ username: "leak", role: "USER", password: pw, email: "l@example.com" });
           print(pw.reveal());"#,
    );
    let out = crate::common::output(
        crate::common::onboard()
            .env("ONBOARD_JOURNAL", sim.journal())
            .arg("--config")
            .arg(sim.config())
            .arg("run")
            .arg(&script),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sim.assert_no_secrets(&out)));
    assert!(caught.is_err(), "the scan missed a printed password");
}

/// A profile that never retries, so the first failure is the one reported.
fn no_retries(profile: String) -> String {
    format!("{profile}\n[profiles.sim.retry]\nattempts = 1\n")
}

const FIXED: &str = "Zq8#Fixed-Secret-Value-77";

#[test]
fn a_vendor_that_echoes_the_request_in_its_errors_leaks_no_password() {
    let sim = Sim::with(&["--garbage-every", "1", "--garbage", "echo"]);
    let csv = sim.dir.path().join("people.csv");
    std::fs::write(&csv, "username\nl1\nl2\n").unwrap();
    let report = sim.dir.path().join("report.jsonl");
    let config = sim.config_with(no_retries);
    let script = r#"
appmanager::create_user(#{ username: row.username, role: "USER", password: random_password(24), email: "l@example.com" });
"#;
    let bulk = sim.run_with_config(
        &config,
        script,
        &[
            "--each",
            csv.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(bulk.code, 1, "{}", bulk.all());
    let single = sim.run_with_config(
        &config,
        &format!(
            r#"try {{ pam360::create_user(#{{ username: "l3", first_name: "L", last_name: "L", email: "l@example.com", password: "{FIXED}" }}); }}
               catch (e) {{ print(e.message); }}
               appmanager::create_user(#{{ username: "l4", role: "USER", password: "{FIXED}", email: "l@example.com" }});"#
        ),
        &[],
    );
    assert_eq!(single.code, 1, "{}", single.all());
    let journal = std::fs::read_to_string(sim.journal()).unwrap();
    let report = std::fs::read_to_string(&report).unwrap();
    let everything = format!("{}\n{}\n{journal}\n{report}", bulk.all(), single.all());
    // The vendor's message is there, quoting the request, with the password masked.
    assert!(
        everything.contains("Internal error while processing"),
        "{everything}"
    );
    assert!(everything.contains("password=********"), "{everything}");
    let encoded: String = form_urlencoded::byte_serialize(FIXED.as_bytes()).collect();
    for leaked in [FIXED, encoded.as_str()] {
        assert!(
            !everything.contains(leaked),
            "{leaked} leaked:\n{everything}"
        );
    }
    // Whatever follows `password=` is the mask, in every line that quotes the request.
    for (i, _) in everything.match_indices("password=") {
        assert!(
            everything[i..].starts_with("password=********"),
            "{}",
            &everything[i..]
        );
    }
}

#[test]
fn a_wrongly_typed_password_is_not_shown_in_the_error() {
    let sim = Sim::start();
    let out = sim.run(
        r#"appmanager::create_user(#{ username: "w", role: "USER", password: 12345678913, email: "w@example.com" });"#,
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    let message = out.stderr.lines().next().unwrap_or_default();
    assert!(
        message.contains("must be a string or Secret, not an integer"),
        "{}",
        out.stderr
    );
    assert!(!message.contains("12345678913"), "{}", out.stderr);
}

#[test]
fn a_token_in_an_answer_cut_short_is_masked_in_the_excerpt() {
    // The create is carried out and its answer cut in the middle of the new AUTHTOKEN; the
    // lookup that would settle it fails, so the excerpt is what the run reports.
    let sim = Sim::with(&[
        "--botch-every",
        "1",
        "--botch",
        "truncated",
        "--fail-every",
        "2",
    ]);
    let config = sim.config_with(no_retries);
    let out = sim.run_with_config(
        &config,
        r#"pam360::create_user(#{ username: "cut-api", first_name: "C", last_name: "T", email: "c@example.com", is_api_user: true });"#,
        &["--json"],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("AUTHTOKEN\\\":\\\"********"),
        "{}",
        out.stdout
    );
    let token = sim
        .users("pam360")
        .iter()
        .find(|u| u["USERNAME"] == "cut-api")
        .unwrap()["AUTHTOKEN"]
        .as_str()
        .unwrap()
        .to_string();
    let half = &token[..8];
    let journal = std::fs::read_to_string(sim.journal()).unwrap();
    assert!(
        !out.all().contains(half) && !journal.contains(half),
        "{}\n{journal}",
        out.all()
    );
}
