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

/// `onboard sim --tls` with `extra`, stopped once it said where its CA is; that path.
fn ca_written(extra: &[&str]) -> std::path::PathBuf {
    use std::io::BufRead;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("onboard"))
        .args(["sim", "--tls", "--port", "0"])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let path = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("CA certificate written to ")
                .map(|p| p.trim().to_string())
        });
    let _ = child.kill();
    let _ = child.wait();
    std::path::PathBuf::from(path.expect("the simulator says where its CA is"))
}

#[test]
fn the_ca_goes_to_a_private_new_folder_by_default() {
    let ca = ca_written(&[]);
    assert!(
        std::fs::read_to_string(&ca)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    let dir = ca.parent().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", dir.display());
    }
    // Another simulator gets a folder of its own: nothing to guess or to plant a link in.
    let other = ca_written(&[]);
    assert_ne!(other.parent(), ca.parent());
    // (Killed, the simulators could not remove their folders as they do when they stop.)
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(other.parent().unwrap());
}

#[cfg(unix)]
#[test]
fn a_link_at_the_ca_path_is_replaced_never_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let link = dir.path().join("ca.pem");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let ca = ca_written(&["--ca-out", link.to_str().unwrap()]);
    assert_eq!(ca, link);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(meta.file_type().is_file(), "the link was followed");
    assert!(
        std::fs::read_to_string(&link)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
}
