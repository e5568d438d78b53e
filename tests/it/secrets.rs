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
