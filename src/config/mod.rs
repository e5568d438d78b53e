//! `onboard.toml`: where it is found, profiles, vendor settings, and secrets read from the environment or files.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod parse;
mod parse_retry;
pub mod template;

use crate::util::secret::Secret;
use crate::util::suggest;
use crate::vendors::retry::RetryPolicy;
pub use crate::vendors::settings::{Loc, Setting, SettingKind, SettingSpec, VendorSettings, When};

/// The file name looked for in the working directory and the user's config directory.
pub const FILE_NAME: &str = "onboard.toml";

/// A bad config: where (file, line, column) and what.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    pub at: Option<Loc>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl From<ConfigError> for crate::util::error::Error {
    fn from(e: ConfigError) -> Self {
        crate::util::error::Error::input(e.to_string())
    }
}

impl ConfigError {
    fn at(at: &Loc, message: impl Into<String>) -> Self {
        ConfigError {
            at: Some(at.clone()),
            message: message.into(),
        }
    }

    fn plain(message: impl Into<String>) -> Self {
        ConfigError {
            at: None,
            message: message.into(),
        }
    }
}

/// The keys every vendor section has.
pub const COMMON_SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "url",
        kind: SettingKind::Text,
        required: true,
        when: When::Always,
        doc: "scheme, host and port of the server; a path is kept as a prefix (reverse proxies)",
    },
    SettingSpec {
        key: "timeout_secs",
        kind: SettingKind::Int { min: 1, max: 3600 },
        required: false,
        when: When::Always,
        doc: "seconds to wait for a whole answer (default 30)",
    },
    SettingSpec {
        key: "connect_timeout_secs",
        kind: SettingKind::Int { min: 1, max: 600 },
        required: false,
        when: When::Always,
        doc: "seconds to wait for a connection (default 10)",
    },
    SettingSpec {
        key: "ca_cert",
        kind: SettingKind::Path,
        required: false,
        when: When::Always,
        doc: "a PEM file of extra trusted CA certificates (an internal CA)",
    },
    SettingSpec {
        key: "insecure",
        kind: SettingKind::Bool,
        required: false,
        when: When::Always,
        doc: "skip TLS certificate checks (test systems only; warns on every run)",
    },
    SettingSpec {
        key: "max_concurrent",
        kind: SettingKind::Int { min: 1, max: 1000 },
        required: false,
        when: When::Always,
        doc: "requests in flight at once to this vendor, across all workers (default: no cap)",
    },
    SettingSpec {
        key: "max_per_minute",
        kind: SettingKind::Int {
            min: 0,
            max: 1_000_000,
        },
        required: false,
        when: When::Always,
        doc: "requests a minute to this vendor, across all workers (0: no cap; default: the vendor's documented limit)",
    },
];

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed `onboard.toml`.
#[derive(Clone, Debug)]
pub struct Config {
    pub path: PathBuf,
    pub default_profile: Option<(String, Loc)>,
    pub profiles: BTreeMap<String, Profile>,
    /// `[modules] paths`, resolved against the config file's folder.
    pub module_paths: Vec<PathBuf>,
    /// `[limits]`.
    pub limits: LimitSettings,
}

/// `[limits]`: what a script may do before it is stopped (0: no limit).
#[derive(Clone, Copy, Debug, Default)]
pub struct LimitSettings {
    pub max_operations: Option<u64>,
    pub max_memory_mb: Option<u64>,
    pub max_seconds: Option<u64>,
}

/// One named environment: a section per vendor.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: String,
    pub at: Loc,
    base_dir: PathBuf,
    pub vendors: BTreeMap<&'static str, VendorSection>,
    /// `[profiles.NAME.retry]`.
    pub retry: RetryPolicy,
    /// Delete what a run created when it ends in an uncaught error (`--rollback-on-error`).
    pub rollback_on_error: bool,
    /// Rows run at once with `--each`.
    pub jobs: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct VendorSection {
    pub vendor: &'static str,
    pub at: Loc,
    entries: BTreeMap<&'static str, (Loc, Raw)>,
}

#[derive(Clone, Debug)]
enum Raw {
    Text(String),
    Int(i64),
    Bool(bool),
    Secret(SecretSource),
}

#[derive(Clone)]
enum SecretSource {
    Inline(Secret),
    Env(String),
    File(String),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Inline(_) => f.write_str("Inline(********)"),
            SecretSource::Env(v) => write!(f, "Env({v})"),
            SecretSource::File(p) => write!(f, "File({p})"),
        }
    }
}

/// Where the config is: `--config`, then `$ONBOARD_CONFIG`, then `./onboard.toml`, then the
/// user's config directory. `Ok(None)` when there is none (fine for `--sim` and vendor-free scripts).
pub fn locate(explicit: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(Some(p.to_path_buf()))
        } else {
            Err(ConfigError::plain(format!(
                "config file {} (from --config) does not exist",
                p.display()
            )))
        };
    }
    if let Some(p) = std::env::var_os("ONBOARD_CONFIG").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(Some(p))
        } else {
            Err(ConfigError::plain(format!(
                "config file {} (from $ONBOARD_CONFIG) does not exist",
                p.display()
            )))
        };
    }
    let here = PathBuf::from(FILE_NAME);
    if here.is_file() {
        return Ok(Some(here));
    }
    Ok(user_config_path().filter(|p| p.is_file()))
}

/// `~/.config/onboard/onboard.toml` (or the platform's equivalent).
pub fn user_config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("onboard").join(FILE_NAME))
}

/// The places `locate` looks, for "no config found" messages.
pub fn searched_places() -> String {
    let mut places = vec![
        "--config".to_string(),
        "$ONBOARD_CONFIG".to_string(),
        format!("./{FILE_NAME}"),
    ];
    if let Some(p) = user_config_path() {
        places.push(p.display().to_string());
    }
    places.join(", ")
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::plain(format!("cannot read config file {}: {e}", path.display()))
        })?;
        Config::parse(&text, path)
    }

    /// Parse config text; `path` names it in messages and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        parse::parse(text, path)
    }

    /// The profile to use: `--profile`, else `$ONBOARD_PROFILE`, else `default_profile`, else
    /// the only profile there is.
    pub fn select(&self, name: Option<&str>) -> Result<&Profile, ConfigError> {
        let names: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
        let list = if names.is_empty() {
            "it has none".to_string()
        } else {
            format!("profiles: {}", names.join(", "))
        };
        let from_env = std::env::var("ONBOARD_PROFILE")
            .ok()
            .filter(|s| !s.is_empty());
        let (wanted, at, origin) = match (name, from_env, &self.default_profile) {
            (Some(n), _, _) => (n.to_string(), None, "--profile"),
            (None, Some(n), _) => (n, None, "$ONBOARD_PROFILE"),
            (None, None, Some((n, at))) => (n.clone(), Some(at), "default_profile"),
            (None, None, None) => {
                return match self.profiles.values().next() {
                    Some(p) if self.profiles.len() == 1 => Ok(p),
                    _ => Err(ConfigError::plain(format!(
                        "{} has no default_profile; choose one with --profile ({list})",
                        self.path.display()
                    ))),
                };
            }
        };
        self.profiles.get(&wanted).ok_or_else(|| {
            let hint = suggest::did_you_mean(&wanted, names.iter().copied());
            let message = format!(
                "no profile `{wanted}` (from {origin}) in {}{hint} ({list})",
                self.path.display()
            );
            match at {
                Some(at) => ConfigError::at(at, message),
                None => ConfigError::plain(message),
            }
        })
    }
}

impl Profile {
    pub fn has(&self, vendor: &str) -> bool {
        self.vendors.contains_key(vendor)
    }

    /// The vendor's settings with every secret read and the CA file loaded.
    pub fn resolve(&self, vendor: &str) -> Result<VendorSettings, ConfigError> {
        let section = self.vendors.get(vendor).ok_or_else(|| {
            ConfigError::at(
                &self.at,
                format!(
                    "profile `{}` has no [profiles.{}.{vendor}] section",
                    self.name, self.name
                ),
            )
        })?;
        let where_ = format!("[profiles.{}.{vendor}]", self.name);
        let mut values = BTreeMap::new();
        let mut url = None;
        let mut timeout = DEFAULT_TIMEOUT;
        let mut connect_timeout = DEFAULT_CONNECT_TIMEOUT;
        let mut ca_pem = None;
        let mut insecure = false;
        let mut max_concurrent = None;
        let mut max_per_minute = crate::vendors::find(vendor).and_then(|v| v.per_minute);
        for (key, (at, raw)) in &section.entries {
            match (*key, raw) {
                ("url", Raw::Text(t)) => url = Some(parse_url(t, at, &where_)?),
                ("timeout_secs", Raw::Int(i)) => timeout = Duration::from_secs(*i as u64),
                ("connect_timeout_secs", Raw::Int(i)) => {
                    connect_timeout = Duration::from_secs(*i as u64)
                }
                ("insecure", Raw::Bool(b)) => insecure = *b,
                ("max_concurrent", Raw::Int(i)) => max_concurrent = Some(*i as usize),
                ("max_per_minute", Raw::Int(i)) => {
                    max_per_minute = (*i > 0).then_some(*i as u32);
                }
                ("ca_cert", Raw::Text(p)) => {
                    ca_pem = Some(read_ca(&resolve_path(&self.base_dir, p), at, &where_)?)
                }
                (_, Raw::Secret(src)) => {
                    let s = read_secret(src, &self.base_dir, at, key, &where_)?;
                    values.insert(*key, Setting::Secret(s));
                }
                (_, Raw::Text(t)) => {
                    values.insert(*key, Setting::Text(t.clone()));
                }
                (_, Raw::Int(i)) => {
                    values.insert(*key, Setting::Int(*i));
                }
                (_, Raw::Bool(b)) => {
                    values.insert(*key, Setting::Bool(*b));
                }
            }
        }
        let url =
            url.ok_or_else(|| ConfigError::at(&section.at, format!("{where_} has no `url`")))?;
        Ok(VendorSettings {
            vendor: section.vendor,
            profile: self.name.clone(),
            at: section.at.clone(),
            url,
            timeout,
            connect_timeout,
            ca_pem,
            insecure,
            max_concurrent,
            max_per_minute,
            values,
        })
    }
}

fn read_secret(
    src: &SecretSource,
    base_dir: &Path,
    at: &Loc,
    key: &str,
    where_: &str,
) -> Result<Secret, ConfigError> {
    match src {
        SecretSource::Inline(s) => Ok(s.clone()),
        SecretSource::Env(var) => match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
            Ok(_) => Err(ConfigError::at(
                at,
                format!("`{key}` in {where_} reads the environment variable {var}, which is empty"),
            )),
            Err(_) => Err(ConfigError::at(
                at,
                format!(
                    "`{key}` in {where_} reads the environment variable {var}, which is not set"
                ),
            )),
        },
        SecretSource::File(p) => {
            let path = resolve_path(base_dir, p);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ConfigError::at(
                    at,
                    format!("`{key}` in {where_} reads the file {}: {e}", path.display()),
                )
            })?;
            let text = text.trim_end_matches(['\r', '\n']);
            if text.is_empty() {
                return Err(ConfigError::at(
                    at,
                    format!(
                        "`{key}` in {where_} reads the file {}, which is empty",
                        path.display()
                    ),
                ));
            }
            Ok(Secret::new(text))
        }
    }
}

fn parse_url(text: &str, at: &Loc, where_: &str) -> Result<reqwest::Url, ConfigError> {
    let url = reqwest::Url::parse(text).map_err(|e| {
        ConfigError::at(
            at,
            format!("`url` in {where_} is not a URL (\"{text}\": {e}); write it like https://pvwa.example.com"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::at(
            at,
            format!("`url` in {where_} must start with https:// or http://"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::at(
            at,
            format!("`url` in {where_} must not hold credentials; use the section's own keys"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::at(
            at,
            format!("`url` in {where_} must not have a query or fragment"),
        ));
    }
    Ok(url)
}

fn read_ca(path: &Path, at: &Loc, where_: &str) -> Result<Vec<u8>, ConfigError> {
    let pem = std::fs::read(path).map_err(|e| {
        ConfigError::at(
            at,
            format!("`ca_cert` in {where_}: cannot read {}: {e}", path.display()),
        )
    })?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(pem),
        _ => Err(ConfigError::at(
            at,
            format!(
                "`ca_cert` in {where_}: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            ),
        )),
    }
}

/// A path from the config: `~/` is the home folder, a relative path is relative to the config file.
pub fn resolve_path(base_dir: &Path, p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    let path = PathBuf::from(p);
    if path.is_absolute() {
        path
    } else {
        base_dir.join(path)
    }
}

/// Which profile the run uses, or why it has none.
pub enum ProfileChoice {
    Ready(Profile),
    /// No config file anywhere: fine unless the script calls a vendor.
    NoConfig,
    /// The config is fine but no profile was chosen (several, no default): an error only if
    /// the script calls a vendor.
    Unchosen(ConfigError),
}

impl ProfileChoice {
    /// The profile, or why a script that calls a vendor cannot run without one.
    pub fn split(self) -> (Option<Profile>, Option<String>) {
        match self {
            ProfileChoice::Ready(p) => (Some(p), None),
            ProfileChoice::NoConfig => (
                None,
                Some(format!(
                    "no onboard.toml was found (looked in {}); run with --sim to try the built-in simulator",
                    searched_places()
                )),
            ),
            ProfileChoice::Unchosen(e) => (None, Some(e.to_string())),
        }
    }
}

/// The profile, and the config's `[limits]`.
pub fn choose_profile(
    config_path: Option<&Path>,
    name: Option<&str>,
) -> Result<(ProfileChoice, LimitSettings), ConfigError> {
    let Some(path) = locate(config_path)? else {
        if let Some(name) = name {
            return Err(ConfigError {
                at: None,
                message: format!(
                    "--profile {name}: no onboard.toml was found (looked in {})",
                    searched_places()
                ),
            });
        }
        return Ok((ProfileChoice::NoConfig, LimitSettings::default()));
    };
    let config = Config::load(&path)?;
    let choice = match config.select(name) {
        Ok(p) => ProfileChoice::Ready(p.clone()),
        Err(e) if name.is_some() => return Err(e),
        Err(e) => ProfileChoice::Unchosen(e),
    };
    Ok((choice, config.limits))
}
