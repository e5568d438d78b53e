//! Real CyberArk clients against the simulator: aiobastion and CyberArk's Ansible collection run
//! for real (from PyPI, pinned); psPAS needs PowerShell, which this machine cannot install, so its
//! requests are replayed exactly as its source builds them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::common::Sim;

const AIOBASTION: &str = "aiobastion==0.1.9";
const ANSIBLE_CORE: &str = "ansible-core==2.19.14";
/// The `ansible` package bundles the cyberark.pas collection (1.0.30 in this release).
const ANSIBLE_BUNDLE: &str = "ansible==10.7.0";

struct Python {
    bin: PathBuf,
    collections: PathBuf,
}

static SETUP: Mutex<()> = Mutex::new(());

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// A virtualenv with the pinned clients, made once per target directory (needs PyPI).
fn python() -> Python {
    let _guard = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-clients");
    let venv = dir.join("venv");
    let collections = dir.join("collections");
    let ready = dir.join(format!(
        "ready-{AIOBASTION}-{ANSIBLE_CORE}-{ANSIBLE_BUNDLE}"
    ));
    if !ready.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
        let pip = venv.join("bin/pip");
        run(Command::new(&pip).args([
            "install",
            "-q",
            "--disable-pip-version-check",
            AIOBASTION,
            ANSIBLE_CORE,
        ]));
        let wheels = dir.join("wheels");
        run(Command::new(&pip)
            .args([
                "download",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                ANSIBLE_BUNDLE,
                "-d",
            ])
            .arg(&wheels));
        let extract = format!(
            "import glob, zipfile\n\
             z = zipfile.ZipFile(glob.glob({wheels:?} + '/ansible-*.whl')[0])\n\
             z.extractall({collections:?}, [n for n in z.namelist() if n.startswith('ansible_collections/cyberark/pas/')])",
            wheels = wheels.display().to_string(),
            collections = collections.display().to_string(),
        );
        run(Command::new(venv.join("bin/python")).args(["-c", &extract]));
        std::fs::write(&ready, "").unwrap();
    }
    Python {
        bin: venv.join("bin"),
        collections,
    }
}

fn compat(file: &str) -> String {
    format!("{}/tests/compat/{file}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn aiobastion_works_against_the_simulator() {
    let py = python();
    let sim = Sim::with(&["--tls"]);
    let host = sim.url.trim_start_matches("https://");
    let ca = sim.ca.clone().unwrap();
    let out = run(Command::new(py.bin.join("python"))
        .arg(compat("aiobastion_check.py"))
        .arg(host)
        .arg(&ca));
    // The driver checks the user was created, found, listed, put in a vault group and taken out
    // of it, a group made and deleted, the user deleted, and logs off.
    assert!(out.contains("aiobastion ok"), "{out}");
}

#[test]
fn cyberarks_ansible_collection_works_against_the_simulator() {
    let py = python();
    let sim = Sim::start();
    let out = run(Command::new(py.bin.join("ansible-playbook"))
        .env("ANSIBLE_COLLECTIONS_PATH", &py.collections)
        .env("ANSIBLE_PYTHON_INTERPRETER", py.bin.join("python"))
        .env("ANSIBLE_LOCALHOST_WARNING", "false")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_HOME", sim.dir.path())
        .args(["-i", "localhost,", "-c", "local"])
        .arg(compat("ansible_check.yml"))
        .arg("-e")
        .arg(format!("sim_url={}", sim.url)));
    assert!(out.contains("failed=0"), "{out}");
    let paths: Vec<String> = sim
        .log()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["method"].as_str().unwrap(),
                e["path"].as_str().unwrap()
            )
        })
        .collect();
    // The collection's own mix of Gen1 and Gen2 calls.
    assert!(
        paths.contains(
            &"GET /PasswordVault/WebServices/PIMServices.svc/Users/ansible-user".to_string()
        ),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"POST /PasswordVault/api/Users".to_string()),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("DELETE /PasswordVault/api/Users/")),
        "{paths:?}"
    );
    // The group was joined once: 201, then PVWA's 409 PASWS213E, which the collection reads as
    // "already a member".
    let joins: Vec<u64> = sim
        .log()
        .iter()
        .filter(|e| {
            e["method"] == "POST" && e["path"].as_str().is_some_and(|p| p.ends_with("/Members"))
        })
        .filter_map(|e| e["status"].as_u64())
        .collect();
    assert_eq!(joins, [201, 409], "{paths:?}");
}

/// The requests psPAS 6 makes for New-PASSession, New-PASUser, Get-PASUser, Remove-PASUser and
/// Close-PASSession, with the bodies its source builds (PowerShell names, string dates).
#[test]
fn pspas_requests_replayed_get_the_answers_pspas_expects() {
    let sim = Sim::start();
    let json = ("Content-Type", "application/json");
    let (status, body) = sim.send(
        "POST",
        "/PasswordVault/api/Auth/CyberArk/Logon",
        &[json],
        r#"{"username":"onboard-sim","password":"Sim-Vault-Passw0rd","concurrentSession":true}"#,
    );
    assert_eq!(status, 200);
    let token: String = serde_json::from_str(&body).unwrap();
    assert!(
        token.len() >= 180,
        "psPAS takes a shorter string for a classic token"
    );
    let auth = ("Authorization", token.as_str());
    let (status, body) = sim.send(
        "GET",
        "/PasswordVault/WebServices/PIMServices.svc/Server",
        &[auth],
        "",
    );
    assert_eq!(status, 200);
    let version: serde_json::Value = serde_json::from_str(&body).unwrap();
    let v = version["ExternalVersion"].as_str().unwrap();
    assert!(
        v.split('.').next().unwrap().parse::<u32>().unwrap() >= 11,
        "New-PASUser needs 10.9+: {v}"
    );

    // New-PASUser (10.9 parameter set): bound parameter names, ExpiryDate as a string of seconds,
    // nested hashtables keyed by parameter name (FirstName, LastName).
    let new_user = r#"{
        "UserName": "pspas-user", "InitialPassword": "Passw0rd-Ps1", "ExpiryDate": "4102444800",
        "enableUser": true, "ChangePassOnNextLogon": true, "vaultAuthorization": ["AuditUsers"],
        "businessAddress": {}, "internet": {"businessEmail": "ps@example.com"}, "phones": {},
        "personalDetails": {"FirstName": "Pete", "LastName": "Shell"}
    }"#;
    let (status, body) = sim.send("POST", "/PasswordVault/api/Users", &[json, auth], new_user);
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(created["personalDetails"]["firstName"], "Pete");
    assert_eq!(created["expiryDate"], 4_102_444_800i64);
    let id = created["id"].as_i64().unwrap();

    // Get-PASUser -Search, then by id.
    let (status, body) = sim.send("GET", "/PasswordVault/api/Users?Search=pspas", &[auth], "");
    assert_eq!(status, 200);
    assert!(body.contains("\"pspas-user\""), "{body}");
    let (status, _) = sim.send(
        "GET",
        &format!("/PasswordVault/api/Users/{id}"),
        &[auth],
        "",
    );
    assert_eq!(status, 200);

    // New-PASUser -UseClassicAPI: the Gen1 route with an MM/dd/yyyy date.
    let (status, body) = sim.send(
        "POST",
        "/PasswordVault/WebServices/PIMServices.svc/Users",
        &[json, auth],
        r#"{"UserName":"pspas-classic","InitialPassword":"Passw0rd-Ps2","Email":"c@example.com","ExpiryDate":"12/31/2099","UserTypeName":"EPVUser"}"#,
    );
    assert_eq!(status, 201, "{body}");
    assert!(body.contains("\"ExpiryDate\":\"12/31/2099\""), "{body}");

    // Remove-PASUser, then Close-PASSession.
    let (status, _) = sim.send(
        "DELETE",
        &format!("/PasswordVault/api/Users/{id}"),
        &[auth],
        "",
    );
    assert_eq!(status, 204);
    let (status, _) = sim.send("POST", "/PasswordVault/api/Auth/Logoff", &[json, auth], "");
    assert_eq!(status, 200);
    let (status, _) = sim.send("GET", "/PasswordVault/api/Users", &[auth], "");
    assert_eq!(status, 401, "the token ends with the session");
}
