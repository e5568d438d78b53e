//! What a vendor declares it needs in a profile, and the settings a client is built from.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::util::secret::Secret;

/// A place in a config file.
#[derive(Debug, Clone)]
pub struct Loc {
    pub file: Arc<str>,
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// The type of a vendor setting.
pub enum SettingKind {
    Text,
    /// A string, `{ env = "VAR" }` or `{ file = "path" }`; never shown.
    Secret,
    OneOf(&'static [&'static str]),
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    /// A file path, relative to the config file.
    Path,
}

/// One key of a vendor's section in a profile.
pub struct SettingSpec {
    pub key: &'static str,
    pub kind: SettingKind,
    pub required: bool,
    /// When a `required` setting is needed: always, or only as another setting says.
    pub when: When,
    pub doc: &'static str,
}

/// When a required setting is needed.
#[derive(Clone, Copy, Debug)]
pub enum When {
    Always,
    /// While setting `.0` is `.1` (compared ignoring case).
    Is(&'static str, &'static str),
    /// Unless setting `.0` is `.1`: missing counts as any other value.
    IsNot(&'static str, &'static str),
}

impl When {
    /// Whether the setting is needed, given the text of another setting.
    pub fn needed(self, text: impl Fn(&str) -> Option<String>) -> bool {
        match self {
            When::Always => true,
            When::Is(key, value) => text(key).is_some_and(|t| t.eq_ignore_ascii_case(value)),
            When::IsNot(key, value) => !text(key).is_some_and(|t| t.eq_ignore_ascii_case(value)),
        }
    }

    /// The condition in words, for messages (`when auth_method is Identity`).
    pub fn words(self) -> String {
        match self {
            When::Always => String::new(),
            When::Is(key, value) => format!(", needed when {key} is {value}"),
            When::IsNot(key, value) => format!(", needed unless {key} is {value}"),
        }
    }
}

/// A vendor's settings with secrets read: what a client is built from.
#[derive(Clone, Debug)]
pub struct VendorSettings {
    pub vendor: &'static str,
    pub profile: String,
    pub at: Loc,
    pub url: reqwest::Url,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// PEM text of extra trusted certificates.
    pub ca_pem: Option<Vec<u8>>,
    pub insecure: bool,
    /// Requests in flight at once, across all workers.
    pub max_concurrent: Option<usize>,
    /// Requests a minute, across all workers.
    pub max_per_minute: Option<u32>,
    pub(crate) values: BTreeMap<&'static str, Setting>,
}

#[derive(Clone, Debug)]
#[expect(
    dead_code,
    reason = "a vendor that declares an Int or Bool setting reads it; none of the three does yet"
)]
pub enum Setting {
    Text(String),
    Int(i64),
    Bool(bool),
    Secret(Secret),
}

impl VendorSettings {
    pub fn text(&self, key: &str) -> Option<&str> {
        match self.values.get(key)? {
            Setting::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn secret(&self, key: &str) -> Option<&Secret> {
        match self.values.get(key)? {
            Setting::Secret(s) => Some(s),
            _ => None,
        }
    }
}
