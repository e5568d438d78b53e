//! Test helpers: the real `onboard` binary, a real `onboard sim` process, raw HTTP to it.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value as Json;
use tempfile::TempDir;

/// A folder for this test process's state (journals of commands run outside a `Sim`).
fn state_dir() -> &'static Path {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// The onboard binary, with a clean environment: no user config, no profile from the shell,
/// the journal in a temporary folder.
pub fn onboard() -> Command {
    let mut cmd = Command::from_std(onboard_std());
    cmd.timeout(Duration::from_secs(60));
    cmd
}

/// The same, as a plain `std::process::Command` (for a pseudo-terminal).
pub fn onboard_std() -> StdCommand {
    let mut cmd = StdCommand::new(assert_cmd::cargo::cargo_bin("onboard"));
    cmd.env_remove("ONBOARD_CONFIG")
        .env_remove("ONBOARD_PROFILE")
        .env_remove("ONBOARD_JOURNAL")
        .env("XDG_CONFIG_HOME", state_dir().join("config"))
        .env("XDG_STATE_HOME", state_dir().join("state"))
        .env("HOME", state_dir().join("home"));
    cmd
}

/// What a finished command printed.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// The simulator's fixed credentials, which `--sim` runs use too: every secret setting of every
/// registered vendor's simulator profile, so a new vendor is in the scan by being registered.
pub fn sim_secrets() -> Vec<String> {
    let secrets = onboard::sim::fixed_secrets();
    assert!(
        secrets.len() >= onboard::vendors::ALL.len(),
        "every vendor has a credential"
    );
    secrets
}

/// Run a command and collect what it printed. Part of the suite-wide secret scan: no command
/// may print the simulator's credentials.
pub fn output(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("onboard runs");
    let out = Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for secret in sim_secrets() {
        assert!(
            !out.all().contains(&secret),
            "a credential leaked:\n{}",
            out.all()
        );
    }
    out
}

/// A running `onboard sim`, stopped when dropped.
pub struct Sim {
    child: Child,
    pub url: String,
    pub port: u16,
    pub ca: Option<PathBuf>,
    /// The profile the simulator printed.
    pub profile: String,
    pub dir: TempDir,
}

impl Sim {
    pub fn start() -> Sim {
        Sim::with(&[])
    }

    pub fn with(args: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = assert_cmd::cargo::cargo_bin("onboard");
        let mut cmd = StdCommand::new(bin);
        cmd.args(["sim", "--port", "0"]).args(args);
        if args.contains(&"--tls") {
            cmd.arg("--ca-out").arg(dir.path().join("sim-ca.pem"));
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("onboard sim starts");
        let stdout = child.stdout.take().expect("sim stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut url = String::new();
        let mut ca = None;
        let mut profile = String::new();
        for line in lines.by_ref() {
            let line = line.expect("sim output");
            if let Some(u) = line.strip_prefix("onboard sim listening on ") {
                url = u.trim().to_string();
            } else if let Some(p) = line.strip_prefix("CA certificate written to ") {
                ca = Some(PathBuf::from(p.trim()));
            } else if line.starts_with("# Ctrl-C") {
                break;
            } else if !line.starts_with('#') {
                profile.push_str(&line);
                profile.push('\n');
            }
        }
        // Keep draining so the simulator never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the simulator printed its URL");
        Sim {
            child,
            url,
            port,
            ca,
            profile,
            dir,
        }
    }

    /// An onboard.toml with the simulator's profile as default, after `edit`.
    pub fn config_with(&self, edit: impl Fn(String) -> String) -> PathBuf {
        let text = edit(format!("default_profile = \"sim\"\n\n{}", self.profile));
        let path = self.dir.path().join(format!("onboard-{}.toml", unique()));
        std::fs::write(&path, text).expect("write config");
        path
    }

    pub fn config(&self) -> PathBuf {
        self.config_with(|t| t)
    }

    /// `onboard undo RUN` against this simulator's profile and journal.
    pub fn undo(&self, run: &str, extra: &[&str]) -> Output {
        self.undo_with(&self.config(), run, extra)
    }

    /// `onboard undo RUN` with another config (a profile edited for the test).
    pub fn undo_with_config(&self, config: &Path, run: &str) -> Output {
        self.undo_with(config, run, &[])
    }

    fn undo_with(&self, config: &Path, run: &str, extra: &[&str]) -> Output {
        output(
            onboard()
                .arg("--config")
                .arg(config)
                .arg("--journal")
                .arg(self.journal())
                .args(["undo", run])
                .args(extra),
        )
    }

    /// Write `script` to a file and run it against this simulator.
    pub fn run(&self, script: &str, extra: &[&str]) -> Output {
        let config = self.config();
        self.run_with_config(&config, script, extra)
    }

    pub fn run_with_config(&self, config: &Path, script: &str, extra: &[&str]) -> Output {
        let path = self.script(script);
        let out = output(
            onboard()
                .env("ONBOARD_JOURNAL", self.journal())
                .arg("--config")
                .arg(config)
                .arg("run")
                .arg(&path)
                .args(extra),
        );
        self.assert_no_secrets(&out);
        out
    }

    /// `onboard run SCRIPT` against this simulator and its journal, as a plain command (for
    /// running in the background, killing, or racing another).
    pub fn run_command(&self, script: &Path) -> StdCommand {
        let mut cmd = onboard_std();
        cmd.env("ONBOARD_JOURNAL", self.journal())
            .arg("--config")
            .arg(self.config())
            .arg("run")
            .arg(script);
        cmd
    }

    /// Every secret this simulator knows: its own credentials, and every password and token it
    /// received or handed out.
    pub fn secrets(&self) -> Vec<String> {
        // Over TLS the admin endpoints are not reachable with the plain helper.
        if self.ca.is_some() {
            return sim_secrets();
        }
        let (_, body) = self.get("/__sim/secrets");
        let all: Vec<String> = serde_json::from_str(&body).expect("secrets JSON");
        // Short values (a test's "x") would match by chance; no real secret is that short.
        all.into_iter().filter(|v| v.len() >= 6).collect()
    }

    /// The secret scan every simulator-backed run goes through: nothing the simulator holds
    /// as a secret appears in what onboard printed or journalled.
    pub fn assert_no_secrets(&self, out: &Output) {
        let journal = std::fs::read_to_string(self.journal()).unwrap_or_default();
        for secret in self.secrets() {
            assert!(
                !out.all().contains(&secret),
                "a secret leaked into the output:\n{}",
                out.all()
            );
            assert!(
                !journal.contains(&secret),
                "a secret leaked into the journal:\n{journal}"
            );
        }
    }

    /// The journal of the runs made against this simulator.
    pub fn journal(&self) -> PathBuf {
        self.dir.path().join("journal.jsonl")
    }

    /// Every record of that journal.
    pub fn journal_records(&self) -> Vec<Json> {
        std::fs::read_to_string(self.journal())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a journal line is JSON"))
            .collect()
    }

    pub fn script(&self, script: &str) -> PathBuf {
        let path = self.dir.path().join(format!("script-{}.rhai", unique()));
        std::fs::write(&path, script).expect("write script");
        path
    }

    /// Requests the simulator received (admin requests excluded).
    pub fn log(&self) -> Vec<Json> {
        let (_, body) = self.get("/__sim/log");
        serde_json::from_str::<Json>(&body)
            .ok()
            .and_then(|j| j.as_array().cloned())
            .unwrap_or_default()
    }

    /// Every vendor's users.
    /// Every vendor's users and what a run can change besides them (`/__sim/state`).
    pub fn state(&self) -> Json {
        let (status, body) = self.get("/__sim/state");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("state is JSON")
    }

    pub fn users(&self, vendor: &str) -> Vec<Json> {
        let (_, body) = self.get("/__sim/users");
        let all: Json = serde_json::from_str(&body).expect("users JSON");
        all[vendor].as_array().cloned().unwrap_or_default()
    }

    pub fn has_user(&self, vendor: &str, name: &str) -> bool {
        let key = onboard::sim::ALL
            .iter()
            .find(|s| s.name == vendor)
            .map_or("username", |s| s.user_name_key);
        self.users(vendor).iter().any(|u| u[key] == name)
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        self.raw(&format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        ))
    }

    /// Send a raw request (plain HTTP only) and read the status and body.
    pub fn raw(&self, request: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to sim");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        stream.write_all(request.as_bytes()).expect("send");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read");
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        (
            status,
            if chunked {
                dechunk(body)
            } else {
                body.to_string()
            },
        )
    }

    /// A request with a body.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.raw(&req)
    }

    /// A CSV of `n` people, `username,email`, named `{prefix}1` to `{prefix}{n}`.
    pub fn people(&self, prefix: &str, n: usize) -> PathBuf {
        let path = self.dir.path().join(format!("people-{}.csv", unique()));
        let mut text = String::from("username,email\n");
        for i in 1..=n {
            text.push_str(&format!("{prefix}{i},{prefix}{i}@example.com\n"));
        }
        std::fs::write(&path, text).expect("write people");
        path
    }

    /// Log on to the simulated PVWA and return the token.
    pub fn cyberark_token(&self) -> String {
        let (status, body) = self.send(
            "POST",
            "/PasswordVault/API/auth/CyberArk/Logon",
            &[("Content-Type", "application/json")],
            r#"{"username":"onboard-sim","password":"Sim-Vault-Passw0rd"}"#,
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<String>(&body).expect("a JSON string token")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// Requests of one vendor in the simulator's log.
pub fn requests_to(log: &[Json], vendor: &str) -> usize {
    log.iter().filter(|e| e["vendor"] == vendor).count()
}

/// A short client timeout and quick retries, for faults that stall answers.
pub fn fast(profile: String) -> String {
    let mut t = profile;
    for vendor in ["cyberark", "pam360", "appmanager"] {
        t = t.replace(
            &format!("[profiles.sim.{vendor}]\n"),
            &format!("[profiles.sim.{vendor}]\ntimeout_secs = 1\n"),
        );
    }
    format!("{t}\n[profiles.sim.retry]\nattempts = 5\nbase_delay_ms = 50\nmax_delay_ms = 200\n")
}

/// Creates `people` people on every vendor, printing each create that fails.
pub fn many_people_script(people: usize) -> String {
    format!(
        r#"
for i in 0..{people} {{
    let name = `p${{i}}`;
    let email = `${{name}}@example.com`;
    for v in ["cyberark", "pam360", "appmanager"] {{
        try {{
            switch v {{
                "cyberark" => cyberark::create_user(#{{ username: name, initial_password: random_password(20), email: email }}),
                "pam360" => pam360::create_user(#{{ username: name, first_name: "P", last_name: name, email: email }}),
                _ => appmanager::create_user(#{{ username: name, role: "USER", password: random_password(16), email: email }}),
            }};
        }} catch (e) {{
            print(`failed ${{v}} ${{name}} ${{e.kind}}`);
        }}
    }}
}}
"#
    )
}

/// (vendor, user name) of the users the script created, as the simulator has them.
pub fn sim_people(sim: &Sim) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (vendor, key) in [
        ("cyberark", "username"),
        ("pam360", "USERNAME"),
        ("appmanager", "userName"),
    ] {
        let users = sim.users(vendor);
        let names: Vec<&str> = users
            .iter()
            .filter_map(|u| u[key].as_str())
            .filter(|n| n.starts_with('p'))
            .collect();
        let unique: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(
            names.len(),
            unique.len(),
            "duplicates in {vendor}: {names:?}"
        );
        out.extend(
            unique
                .into_iter()
                .map(|n| (vendor.to_string(), n.to_string())),
        );
    }
    out
}

pub fn journal_outcomes(sim: &Sim, outcome: &str) -> BTreeSet<(String, String)> {
    sim.journal_records()
        .into_iter()
        .filter(|r| r["type"] == "outcome" && r["outcome"] == outcome)
        .map(|r| {
            (
                r["vendor"].as_str().unwrap().to_string(),
                r["username"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `onboard run` of `script` against `sim`, in the background.
pub fn spawn_run(sim: &Sim, script: &str) -> std::process::Child {
    let path = sim.script(script);
    sim.run_command(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

pub fn kill(child: &std::process::Child, signal: &str) {
    let status = StdCommand::new("kill")
        .arg(signal)
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Start `onboard run` in the background, interrupt it after `after`, and time the exit.
pub fn interrupt(
    sim: &Sim,
    script: &str,
    signal: &str,
    after: Duration,
) -> (i32, Duration, String) {
    let child = spawn_run(sim, script);
    std::thread::sleep(after);
    let sent = Instant::now();
    kill(&child, signal);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        sent.elapsed(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("make folder");
    }
    std::fs::write(path, text).expect("write file");
}

pub fn script_in(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}
