//! onboard.toml mistakes: each a clear message naming the file, line and key, exit 2, nothing sent.

use crate::common::{Sim, onboard, output};

const CALL: &str = r#"cyberark::user_exists("jdoe");"#;

#[test]
fn a_missing_secret_env_var_names_it_and_where_it_is_read() {
    let sim = Sim::start();
    let config = sim.config_with(|t| {
        t.replace(
            "password = \"Sim-Vault-Passw0rd\"",
            "password = { env = \"ONBOARD_TEST_UNSET_PASSWORD\" }",
        )
    });
    let out = sim.run_with_config(&config, CALL, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("ONBOARD_TEST_UNSET_PASSWORD, which is not set"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("[profiles.sim.cyberark]"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("{}:", config.display())),
        "{}",
        out.stderr
    );
    assert!(sim.log().is_empty());
}

#[test]
fn a_secret_from_env_and_from_file_work() {
    let sim = Sim::start();
    let secret_file = sim.dir.path().join("apikey.txt");
    std::fs::write(&secret_file, "d1b6c9a0e3f54a7e8c2b9f10a4d6e8c3\n").unwrap();
    let config = sim.config_with(|t| {
        t.replace(
            "password = \"Sim-Vault-Passw0rd\"",
            "password = { env = \"ONBOARD_TEST_PW\" }",
        )
        .replace(
            "apikey = \"d1b6c9a0e3f54a7e8c2b9f10a4d6e8c3\"",
            "apikey = { file = \"apikey.txt\" }",
        )
    });
    let script = sim
        .script(r#"print(cyberark::user_exists("jdoe")); print(appmanager::user_exists("jdoe"));"#);
    let out = output(
        onboard()
            .env("ONBOARD_TEST_PW", "Sim-Vault-Passw0rd")
            .arg("--config")
            .arg(&config)
            .arg("run")
            .arg(&script),
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "false\nfalse\n");
}

#[test]
fn a_secret_only_needed_by_an_unused_vendor_does_not_block() {
    let sim = Sim::start();
    let config = sim.config_with(|t| {
        t.replace(
            "authtoken = \"5F0A8B2C-51A0-4E1D-9C3A-0B0A2D5E7C11\"",
            "authtoken = { env = \"ONBOARD_TEST_UNSET_TOKEN\" }",
        )
    });
    let out = sim.run_with_config(&config, CALL, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn malformed_toml_gives_the_line() {
    let sim = Sim::start();
    let config =
        sim.config_with(|t| t.replace("auth_method = \"CyberArk\"", "auth_method = \"CyberArk"));
    let out = sim.run_with_config(&config, CALL, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("is not valid TOML"), "{}", out.stderr);
    let text = std::fs::read_to_string(&config).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("auth_method"))
        .unwrap()
        + 1;
    assert!(
        out.stderr
            .contains(&format!("{}:{line}:", config.display())),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unknown_key_is_named_with_a_suggestion() {
    let sim = Sim::start();
    let config = sim.config_with(|t| t.replace("auth_method =", "auth_metod ="));
    let out = sim.run_with_config(&config, CALL, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(
            "unknown key `auth_metod` in [profiles.sim.cyberark]; did you mean `auth_method`?"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unknown_profile_is_named() {
    let sim = Sim::start();
    let config = sim.config();
    let script = sim.script(CALL);
    let out = output(
        onboard()
            .arg("--config")
            .arg(&config)
            .args(["run", "--profile", "prod"])
            .arg(&script),
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("no profile `prod` (from --profile)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("profiles: sim"), "{}", out.stderr);
}

#[test]
fn onboard_profile_env_picks_the_profile() {
    let sim = Sim::start();
    let config =
        sim.config_with(|t| t.replace("default_profile = \"sim\"", "default_profile = \"nope\""));
    let script = sim.script(CALL);
    let out = output(
        onboard()
            .env("ONBOARD_PROFILE", "sim")
            .arg("--config")
            .arg(&config)
            .arg("run")
            .arg(&script),
    );
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_bad_enum_and_a_bad_url_are_refused_with_their_line() {
    let sim = Sim::start();
    let config =
        sim.config_with(|t| t.replace("auth_method = \"CyberArk\"", "auth_method = \"Kerberos\""));
    let out = sim.run_with_config(&config, CALL, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("`auth_method` in [profiles.sim.cyberark] must be one of CyberArk, LDAP, RADIUS, Windows"), "{}", out.stderr);

    let config = sim.config_with(|t| {
        t.replacen(
            &format!("url = \"{}\"", sim.url),
            "url = \"pvwa.example.com\"",
            1,
        )
    });
    let out = sim.run_with_config(&config, CALL, &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("`url` in [profiles.sim.cyberark] is not a URL"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_config_says_where_it_looked_and_suggests_sim() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.rhai");
    std::fs::write(&script, CALL).unwrap();
    let out = output(onboard().current_dir(dir.path()).arg("run").arg(&script));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("the script calls cyberark:: but no onboard.toml was found"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--sim"), "{}", out.stderr);
}

#[test]
fn a_script_without_vendor_calls_needs_no_config() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.rhai");
    std::fs::write(&script, "print(40 + 2);").unwrap();
    let out = output(onboard().current_dir(dir.path()).arg("run").arg(&script));
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "42\n");
}

#[test]
fn a_profile_without_the_vendor_is_refused_before_running() {
    let sim = Sim::start();
    let config = sim.config_with(|t| {
        let start = t.find("[profiles.sim.pam360]").unwrap();
        let end = t.find("[profiles.sim.appmanager]").unwrap();
        format!("{}{}", &t[..start], &t[end..])
    });
    let out = sim.run_with_config(
        &config,
        "cyberark::user_exists(\"a\");\npam360::user_exists(\"a\");",
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("profile `sim` has no [profiles.sim.pam360] section"),
        "{}",
        out.stderr
    );
    assert!(sim.log().is_empty());
}
