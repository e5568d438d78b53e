//! The vendor simulator: every vendor on one loopback port, in memory, with fault injection.
//!
//! Besides the vendors' own APIs it answers a few paths of its own under `/__sim/`:
//! `GET /__sim/log` (the requests it received: method, path without query, vendor, status),
//! `GET /__sim/users` (every vendor's users), `GET /__sim/state` (users and what a run can
//! change besides them: memberships, safes, shares), `GET /__sim/secrets` (every secret it holds, for
//! tests' leak scans), `POST /__sim/reset` and
//! `POST /__sim/expire-sessions` (ends CyberArk sessions, to exercise re-logon).

mod directory;
mod faults;
mod http;
mod options;
pub(crate) mod platform;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use serde::Serialize;
use serde_json::{Value as Json, json};
use tokio::sync::oneshot;

pub use http::{SimRequest, SimResponse};
pub use options::{Botch, Garbage, Options};

use faults::{botch, echo, garbage, rate_limited};
use options::describe_faults;

use crate::config::{Config, ConfigError, Profile};
use crate::util::error::Error;

/// One vendor's simulated server.
pub trait SimVendor: Send {
    /// Whether this path belongs to this vendor's API.
    fn owns(&self, path: &str) -> bool;
    /// The answer to a request for this vendor.
    fn handle(&mut self, req: &SimRequest) -> SimResponse;
    /// What the vendor's server shows when it fails internally (for `--fail-every`).
    fn server_error(&self) -> SimResponse;
    /// Every user, as JSON, for `/__sim/users`.
    fn users(&self) -> Json;
    /// Every secret the vendor holds (passwords it was sent, tokens it handed out), for
    /// `/__sim/secrets`: what a test's leak scan looks for.
    fn secrets(&self) -> Vec<String>;
    /// End every logon session (vendors without sessions ignore it).
    fn expire_sessions(&mut self) {}
    /// How many changes the vendor's state has seen: a request that moves it changed something.
    fn changes(&self) -> u64;
    /// What the simulator starts with beyond users (groups, resources), for its banner.
    fn seeded(&self) -> Option<String> {
        None
    }
    /// Everything besides users that a run can change (memberships, safes, shares), for
    /// `/__sim/state`: what a test compares before a run and after its undo.
    fn state(&self) -> Json {
        Json::Null
    }
}

/// A person every vendor's simulator starts with, with some access: someone to offboard
/// (`scripts/leaver.rhai`). The banner names them.
pub const LEAVER: &str = "alex.leaver";

/// How to make one vendor's simulator, and the profile section that points at it.
pub struct SimSpec {
    pub name: &'static str,
    /// The key of a user's name in the vendor's entries of `/__sim/users`.
    pub user_name_key: &'static str,
    pub new: fn(&Options) -> Box<dyn SimVendor>,
    /// The keys of `[profiles.sim.NAME]` for a simulator at `url` (credentials included),
    /// with their values written as TOML.
    pub profile: fn(url: &str) -> Vec<(&'static str, String)>,
}

macro_rules! declare_sims {
    ($($name:ident),*) => {
        $(pub(crate) mod $name;)*
        /// Every vendor's simulator, in the same order as the clients.
        pub static ALL: &[&SimSpec] = &[$(&$name::SIM),*];

        // Every vendor's own simulator knobs, each declared in its simulator file (no doc
        // comment, as the vendors' own: see appmanager.rs).
        #[derive(clap::Args, Debug, Clone, Default)]
        #[group(skip)]
        pub struct Knobs {
            $(
                #[command(flatten)]
                pub $name: $name::Knobs,
            )*
        }
    };
}
crate::with_vendors!(declare_sims);

/// A request the simulator received, for `/__sim/log`.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    pub seq: u64,
    pub vendor: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// The fault injected into this request, if any: `rate_limit`, `fail`, `garbage`,
    /// `botch`, `stall` or `drop`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<&'static str>,
    /// Whether the request changed the vendor's state (a read never does, whatever its method:
    /// Identity reads with POST).
    pub changed: bool,
}

struct Shared {
    args: Options,
    vendors: Vec<(&'static str, Mutex<Box<dyn SimVendor>>)>,
    log: Mutex<Vec<LogEntry>>,
    requests: AtomicU64,
    /// Requests that changed something, for `--botch-every`.
    changes: AtomicU64,
    /// Start of the current one-second window and the requests seen in it.
    window: Mutex<(Instant, u32)>,
}

impl Shared {
    fn new(args: &Options) -> Self {
        Shared {
            args: args.clone(),
            vendors: ALL
                .iter()
                .map(|s| (s.name, Mutex::new((s.new)(args))))
                .collect(),
            log: Mutex::default(),
            requests: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            window: Mutex::new((Instant::now(), 0)),
        }
    }
}

/// A running simulator; dropping it stops it.
pub struct Simulator {
    pub url: String,
    pub addr: SocketAddr,
    pub ca_path: Option<PathBuf>,
    /// The private folder made for the CA, removed when the simulator stops.
    ca_dir: Option<PathBuf>,
    shutdown: Option<oneshot::Sender<()>>,
    /// What each vendor starts with beyond users, for the banner.
    pub seeded: Vec<(&'static str, String)>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(dir) = self.ca_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Simulator {
    /// A ready-to-paste `onboard.toml` profile named `sim` that points at this simulator.
    pub fn profile_toml(&self) -> String {
        let mut out = String::new();
        for spec in ALL {
            out.push_str(&format!("[profiles.sim.{}]\n", spec.name));
            for (key, value) in (spec.profile)(&self.url) {
                out.push_str(&format!("{key} = {value}\n"));
            }
            if let Some(ca) = &self.ca_path {
                out.push_str(&format!(
                    "ca_cert = {}\n",
                    toml_string(&ca.display().to_string())
                ));
            }
            out.push('\n');
        }
        out
    }

    /// The same profile, parsed the way a config file is.
    pub fn profile(&self) -> Result<Profile, ConfigError> {
        let text = format!("default_profile = \"sim\"\n\n{}", self.profile_toml());
        let config = Config::parse(&text, std::path::Path::new("<simulator>"))?;
        config.select(Some("sim")).cloned()
    }
}

/// The simulator's fixed credentials: every value of a profile key its vendor declares secret.
pub fn fixed_secrets() -> Vec<String> {
    let mut out = Vec::new();
    for spec in ALL {
        let Some(vendor) = crate::vendors::find(spec.name) else {
            continue;
        };
        for (key, value) in (spec.profile)("http://127.0.0.1") {
            let secret = vendor.settings.iter().any(|s| {
                s.key == key && matches!(s.kind, crate::vendors::settings::SettingKind::Secret)
            });
            if secret && let Ok(toml::Value::String(v)) = value.parse::<toml::Value>() {
                out.push(v);
            }
        }
    }
    out
}

/// A TOML string literal.
pub fn toml_string(s: &str) -> String {
    let escaped: String = s
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

/// Start a simulator on 127.0.0.1 (within a tokio runtime).
pub async fn start(args: &Options) -> Result<Simulator, String> {
    let shared = Arc::new(Shared::new(args));
    let seeded = shared
        .vendors
        .iter()
        .filter_map(|(name, v)| Some((*name, v.lock().ok()?.seeded()?)))
        .collect();
    let app = Router::new().fallback(dispatch).with_state(shared);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let (tx, rx) = oneshot::channel::<()>();
    let stop = async move {
        let _ = rx.await;
    };
    let mut ca_dir = None;
    let (url, ca_path) = if args.tls {
        let ca_out = match args.ca_out.clone() {
            Some(path) => path,
            None => {
                let dir = tls::private_dir()?;
                ca_dir = Some(dir.clone());
                dir.join("ca.pem")
            }
        };
        let listener = tls::TlsListener::new(listener, &ca_out)?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await;
        });
        (format!("https://127.0.0.1:{}", addr.port()), Some(ca_out))
    } else {
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await;
        });
        (format!("http://127.0.0.1:{}", addr.port()), None)
    };
    Ok(Simulator {
        url,
        addr,
        ca_path,
        ca_dir,
        shutdown: Some(tx),
        seeded,
    })
}

/// `onboard sim`: serve until Ctrl-C, after printing where and a profile to paste.
pub fn serve_forever(args: &Options) -> Result<(), Error> {
    let runtime = crate::runtime::io::runtime().map_err(Error::runtime)?;
    runtime.block_on(async {
        let sim = start(args).await.map_err(Error::input)?;
        crate::outln!("onboard sim listening on {}", sim.url);
        if let Some(ca) = &sim.ca_path {
            crate::outln!("CA certificate written to {}", ca.display());
        }
        crate::outln!(
            "# A profile for onboard.toml. The credentials are the simulator's fixed test ones; they guard nothing.\n"
        );
        crate::out!("{}", sim.profile_toml());
        for (vendor, what) in &sim.seeded {
            crate::outln!("# {vendor} starts with {what}.");
        }
        let faults = describe_faults(args);
        if !faults.is_empty() {
            crate::outln!("# Fault injection: {faults}");
        }
        crate::outln!("# Ctrl-C stops the simulator.");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let _ = tokio::signal::ctrl_c().await;
        drop(sim);
        Ok(())
    })
}

async fn dispatch(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let req = match SimRequest::read(request).await {
        Ok(r) => r,
        Err(resp) => return resp.into_response(),
    };
    if req.path.starts_with("/__sim/") {
        return admin(&shared, &req).into_response();
    }
    let Some(index) = shared
        .vendors
        .iter()
        .position(|(_, v)| v.lock().is_ok_and(|v| v.owns(&req.path)))
    else {
        return SimResponse::text(404, "no simulated API at this path").into_response();
    };
    let n = shared.requests.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(ms) = shared.args.latency_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let (name, vendor) = &shared.vendors[index];
    let args = &shared.args;
    let hit = |n_every: Option<u64>| n_every.is_some_and(|e| e > 0 && n % e == 0);
    let (response, fault, changed) = if rate_limited(&shared) {
        (
            SimResponse::text(429, "Too Many Requests").header("Retry-After", "1"),
            Some("rate_limit"),
            false,
        )
    } else if hit(args.fail_every) {
        match vendor.lock() {
            Ok(v) => (v.server_error(), Some("fail"), false),
            Err(_) => (
                SimResponse::text(500, "simulator state poisoned"),
                None,
                false,
            ),
        }
    } else if hit(args.garbage_every) {
        let answer = match args.garbage {
            Garbage::Echo => echo(&req),
            other => garbage(other),
        };
        (answer, Some("garbage"), false)
    } else {
        carry_out(&shared, vendor, &req, hit)
    };
    if let Ok(mut log) = shared.log.lock() {
        log.push(LogEntry {
            seq: n,
            vendor: name.to_string(),
            method: req.method.clone(),
            path: req.path.clone(),
            status: response.status,
            fault,
            changed,
        });
    }
    // Logged first: a client that gives up on the late answer cancels this handler.
    if fault == Some("stall") {
        tokio::time::sleep(Duration::from_millis(args.stall_ms)).await;
    }
    response.into_response()
}

/// The request carried out by its vendor, then perhaps answered badly (`--botch-every`), late
/// (`--stall-every`) or cut (`--drop-every`): the change is made, the answer is lost or bad.
fn carry_out(
    shared: &Shared,
    vendor: &Mutex<Box<dyn SimVendor>>,
    req: &SimRequest,
    hit: impl Fn(Option<u64>) -> bool,
) -> (SimResponse, Option<&'static str>, bool) {
    let args = &shared.args;
    let (mut response, changed) = match vendor.lock() {
        Ok(mut v) => {
            let before = v.changes();
            let response = v.handle(req);
            (response, v.changes() != before)
        }
        Err(_) => (SimResponse::text(500, "simulator state poisoned"), false),
    };
    let botched = changed && {
        let c = shared.changes.fetch_add(1, Ordering::SeqCst) + 1;
        args.botch_every.is_some_and(|e| e > 0 && c % e == 0)
    };
    if botched {
        let server_error = vendor.lock().map(|v| v.server_error()).ok();
        (
            botch(args.botch, response, req, server_error),
            Some("botch"),
            changed,
        )
    } else if hit(args.stall_every) {
        (response, Some("stall"), changed)
    } else if hit(args.drop_every) {
        response.cut = true;
        (response, Some("drop"), changed)
    } else {
        (response, None, changed)
    }
}

fn admin(shared: &Shared, req: &SimRequest) -> SimResponse {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/__sim/log") => {
            let log = shared.log.lock().map(|l| l.clone()).unwrap_or_default();
            SimResponse::json(200, &json!(log))
        }
        ("GET", "/__sim/users") => {
            let mut out = serde_json::Map::new();
            for (name, v) in &shared.vendors {
                if let Ok(v) = v.lock() {
                    out.insert(name.to_string(), v.users());
                }
            }
            SimResponse::json(200, &Json::Object(out))
        }
        ("GET", "/__sim/state") => {
            let mut out = serde_json::Map::new();
            for (name, v) in &shared.vendors {
                if let Ok(v) = v.lock() {
                    out.insert(
                        name.to_string(),
                        json!({ "users": v.users(), "state": v.state() }),
                    );
                }
            }
            SimResponse::json(200, &Json::Object(out))
        }
        ("GET", "/__sim/secrets") => {
            let mut all = fixed_secrets();
            for (_, v) in &shared.vendors {
                if let Ok(v) = v.lock() {
                    all.extend(v.secrets());
                }
            }
            SimResponse::json(200, &json!(all))
        }
        ("POST", "/__sim/reset") => {
            for (spec, (_, v)) in ALL.iter().zip(&shared.vendors) {
                if let Ok(mut v) = v.lock() {
                    *v = (spec.new)(&shared.args);
                }
            }
            if let Ok(mut log) = shared.log.lock() {
                log.clear();
            }
            SimResponse::json(200, &json!({ "reset": true }))
        }
        ("POST", "/__sim/expire-sessions") => {
            for (_, v) in &shared.vendors {
                if let Ok(mut v) = v.lock() {
                    v.expire_sessions();
                }
            }
            SimResponse::json(200, &json!({ "expired": true }))
        }
        _ => SimResponse::text(404, "unknown simulator admin path"),
    }
}

impl SimResponse {
    fn into_response(self) -> axum::response::Response {
        let mut builder = axum::response::Response::builder()
            .status(self.status)
            .header("content-type", self.content_type);
        for (k, v) in &self.headers {
            builder = builder.header(*k, v.as_str());
        }
        let body = if self.cut {
            // Half the answer, then the connection breaks.
            let mut first = self.body;
            first.truncate(first.len() / 2);
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
                Ok(first),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "fault injection: connection cut",
                )),
            ];
            Body::from_stream(futures_util::stream::iter(chunks))
        } else {
            Body::from(self.body)
        };
        builder
            .body(body)
            .unwrap_or_else(|_| axum::response::Response::new(Body::from("bad response")))
    }
}
