//! The error every vendor call can end in, with the kinds scripts branch on.

use std::fmt;

use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext, Position};

/// What went wrong, in the words scripts use (`err.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Validation,
    Auth,
    Forbidden,
    AlreadyExists,
    NotFound,
    RateLimited,
    Server,
    Transport,
    Timeout,
    Protocol,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Validation,
        ErrorKind::Auth,
        ErrorKind::Forbidden,
        ErrorKind::AlreadyExists,
        ErrorKind::NotFound,
        ErrorKind::RateLimited,
        ErrorKind::Server,
        ErrorKind::Transport,
        ErrorKind::Timeout,
        ErrorKind::Protocol,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Validation => "validation",
            ErrorKind::Auth => "auth",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Server => "server",
            ErrorKind::Transport => "transport",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Protocol => "protocol",
        }
    }

    /// One line for `onboard docs` and `:help`.
    pub fn doc(self) -> &'static str {
        match self {
            ErrorKind::Validation => {
                "the request is wrong; raised before anything is sent (or a 400 from the vendor)"
            }
            ErrorKind::Auth => "bad credentials, or a bad or expired token or API key",
            ErrorKind::Forbidden => "authenticated, but not allowed to do this",
            ErrorKind::AlreadyExists => "the user already exists",
            ErrorKind::NotFound => "the user does not exist",
            ErrorKind::RateLimited => "the vendor asks to slow down (HTTP 429)",
            ErrorKind::Server => "the vendor failed (5xx, or a failure it did not explain)",
            ErrorKind::Transport => "no connection: refused, reset, DNS or TLS certificate failure",
            ErrorKind::Timeout => "no answer in time",
            ErrorKind::Protocol => "an answer that cannot be understood",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed vendor call: raised by validation, by the HTTP layer or by a vendor's answer.
#[derive(Clone, Debug)]
pub struct VendorError {
    pub vendor: &'static str,
    /// The script-facing function (`create_user`); filled in by the Rhai bridge.
    pub operation: &'static str,
    pub kind: ErrorKind,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
    /// The request may have reached the vendor and been acted on (a timeout, a connection cut
    /// after sending, a gateway error): a create must be looked up before it is sent again.
    pub maybe_applied: bool,
    /// How long the vendor asked us to wait (`Retry-After`).
    pub retry_after: Option<std::time::Duration>,
}

impl VendorError {
    /// An error; its message is scrubbed of every secret the process knows (vendors and proxies
    /// quote requests back, passwords and keys included).
    pub fn new(vendor: &'static str, kind: ErrorKind, message: impl Into<String>) -> Self {
        let message: String = message.into();
        let message = match crate::util::secret::scrub(&message) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(clean) => clean,
        };
        VendorError {
            vendor,
            operation: "",
            kind,
            status: None,
            code: None,
            message,
            maybe_applied: false,
            retry_after: None,
        }
    }

    pub fn maybe_applied(mut self) -> Self {
        self.maybe_applied = true;
        self
    }

    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        // A server that failed, or a gateway in front of one, may have done the work first.
        if status >= 500 {
            self.maybe_applied = true;
        }
        self
    }

    /// Whether the vendor may have carried the request out although this is not a success: the
    /// answer was lost or cut, unreadable (an HTML page, an empty or truncated body), or a 5xx.
    /// Only a clear refusal in the vendor's own words (a 4xx, an error code, PAM360's "Failed")
    /// says that nothing was done.
    pub fn may_have_applied(&self) -> bool {
        self.maybe_applied || self.kind == ErrorKind::Protocol
    }

    /// The status of a vendor's answer, and how long it asked us to wait.
    pub fn reply(self, reply: &super::http::Reply) -> Self {
        let mut e = self.status(reply.status);
        e.retry_after = reply.retry_after.map(std::time::Duration::from_secs);
        e
    }

    pub fn code(mut self, code: impl Into<String>) -> Self {
        let code = code.into();
        if !code.is_empty() {
            self.code = Some(code);
        }
        self
    }

    pub fn during(mut self, operation: &'static str) -> Self {
        if self.operation.is_empty() {
            self.operation = operation;
        }
        self
    }

    /// Whether trying again later may succeed: throttling, server errors, lost connections.
    /// (A create is tried again only once a lookup has shown that the first try made nothing.)
    pub fn retryable(&self) -> bool {
        match self.kind {
            ErrorKind::RateLimited | ErrorKind::Transport | ErrorKind::Timeout => true,
            ErrorKind::Server => matches!(self.status, Some(500..=599)),
            _ => false,
        }
    }

    /// The object map scripts catch: `#{ vendor, operation, kind, status, code, message, retryable }`.
    pub fn to_map(&self) -> Map {
        let mut m = Map::new();
        m.insert("vendor".into(), self.vendor.into());
        m.insert("operation".into(), self.operation.into());
        m.insert("kind".into(), self.kind.as_str().into());
        m.insert(
            "status".into(),
            self.status
                .map_or(Dynamic::UNIT, |s| Dynamic::from_int(s as i64)),
        );
        m.insert(
            "code".into(),
            self.code.clone().map_or(Dynamic::UNIT, Dynamic::from),
        );
        m.insert("message".into(), self.message.clone().into());
        m.insert("retryable".into(), self.retryable().into());
        m
    }

    pub fn into_rhai(self) -> Box<EvalAltResult> {
        EvalAltResult::ErrorRuntime(self.to_map().into(), Position::NONE).into()
    }

    /// Recognise a thrown value as one of ours, to print it well when nobody caught it.
    pub fn describe_thrown(value: &Dynamic) -> Option<String> {
        let map = value.read_lock::<Map>()?;
        let text = |k: &str| map.get(k).filter(|v| !v.is_unit()).map(|v| v.to_string());
        let (vendor, operation, kind) = (text("vendor")?, text("operation")?, text("kind")?);
        let message = text("message").unwrap_or_default();
        let mut detail = vec![kind];
        if let Some(s) = text("status") {
            detail.push(format!("HTTP {s}"));
        }
        if let Some(c) = text("code") {
            detail.push(c);
        }
        Some(format!(
            "{vendor}::{operation} failed ({}): {message}",
            detail.join(", ")
        ))
    }
}

impl fmt::Display for VendorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = if self.operation.is_empty() {
            "call"
        } else {
            self.operation
        };
        write!(f, "{}::{op} failed ({}", self.vendor, self.kind)?;
        if let Some(s) = self.status {
            write!(f, ", HTTP {s}")?;
        }
        if let Some(c) = &self.code {
            write!(f, ", {c}")?;
        }
        write!(f, "): {}", self.message)
    }
}

impl std::error::Error for VendorError {}

/// Point an error raised in a host function at the script's call (Rhai leaves it unset).
pub fn located(ctx: &NativeCallContext, mut err: Box<EvalAltResult>) -> Box<EvalAltResult> {
    if err.position().is_none() {
        err.set_position(ctx.call_position());
    }
    err
}
