//! HTTPS: the simulator's own CA; refused without it, trusted with `ca_cert`, `insecure` works and warns.

use crate::common::Sim;

const CALL: &str =
    r#"try { print(pam360::user_exists("a")); } catch (e) { print(`${e.kind}|${e.message}`); }"#;

fn without_ca(profile: String) -> String {
    profile
        .lines()
        .filter(|l| !l.starts_with("ca_cert"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn tls_sim_writes_its_ca_and_serves_https() {
    let sim = Sim::with(&["--tls"]);
    assert!(sim.url.starts_with("https://127.0.0.1:"));
    let ca = sim.ca.clone().expect("CA path printed");
    assert!(
        std::fs::read_to_string(&ca)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    assert!(sim.profile.contains("ca_cert = "));
    let out = sim.run(CALL, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "false\n");
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn without_the_ca_the_certificate_is_refused_clearly() {
    let sim = Sim::with(&["--tls"]);
    let config = sim.config_with(without_ca);
    let out = sim.run_with_config(&config, CALL, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .starts_with("transport|the TLS certificate of https://127.0.0.1:"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("ca_cert"), "{}", out.stdout);
}

#[test]
fn insecure_works_and_warns() {
    let sim = Sim::with(&["--tls"]);
    let config = sim.config_with(|t| {
        without_ca(t).replace(
            "[profiles.sim.pam360]",
            "[profiles.sim.pam360]\ninsecure = true",
        )
    });
    let out = sim.run_with_config(&config, CALL, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "false\n");
    assert!(
        out.stderr
            .contains("warning: TLS certificate checks are off for pam360"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_ca_file_that_is_not_pem_is_a_config_error() {
    let sim = Sim::with(&["--tls"]);
    let bogus = sim.dir.path().join("bogus.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    let config = sim.config_with(|t| {
        let ca = sim.ca.as_ref().unwrap().display().to_string();
        t.replace(&ca, &bogus.display().to_string())
    });
    let out = sim.run_with_config(&config, CALL, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("holds no PEM certificate"),
        "{}",
        out.stderr
    );
}
