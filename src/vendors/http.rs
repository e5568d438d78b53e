//! The HTTP layer every vendor client shares: TLS, timeouts, size caps, and failures turned into `VendorError`s.

use std::sync::Mutex;
use std::thread::{self, ThreadId};
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Url};

use super::error::{ErrorKind, VendorError};
use super::pace::Pace;
use crate::vendors::settings::VendorSettings;

/// The largest answer read from a vendor; anything bigger is a `protocol` error.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// One vendor's connection pools and what it needs to report failures well.
pub struct Http {
    vendor: &'static str,
    /// A client per thread that sends: each thread drives its calls on a runtime of its own
    /// (`runtime::io::drive`), and a pooled connection can only be used on the runtime that
    /// opened it. Few threads send (the jobs of a run), so a short list does.
    clients: Mutex<Vec<(ThreadId, reqwest::Client)>>,
    /// The client built with the settings, for a thread whose own cannot be built.
    first: reqwest::Client,
    config: ClientConfig,
    base: Url,
    /// `max_concurrent`: a permit per request in flight.
    in_flight: Option<tokio::sync::Semaphore>,
    /// `max_per_minute`, and the pace learned from the vendor's 429s.
    pace: Pace,
}

/// A vendor's answer, fully read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<u64>,
    pub body: String,
}

/// What a client is built from, kept to build one per thread.
#[derive(Clone)]
struct ClientConfig {
    vendor: &'static str,
    timeout: Duration,
    connect_timeout: Duration,
    plain_http: bool,
    ca_pem: Option<Vec<u8>>,
    insecure: bool,
}

impl ClientConfig {
    fn build(&self) -> Result<reqwest::Client, VendorError> {
        let vendor = self.vendor;
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("onboard/", env!("CARGO_PKG_VERSION")))
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .pool_max_idle_per_host(64)
            // An API that redirects is misconfigured, and following it could carry a token
            // (PAM360's AUTHTOKEN is not a header reqwest strips) to another host.
            .redirect(reqwest::redirect::Policy::none());
        if self.plain_http {
            // No certificate is ever checked over plain HTTP: skip loading the system's CA
            // store (a few milliseconds per client).
            builder = builder.tls_certs_only(Vec::new());
        }
        if let Some(pem) = &self.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                VendorError::new(vendor, ErrorKind::Transport, format!("ca_cert: {e}"))
            })?;
            builder = builder.tls_certs_merge(certs);
        }
        if self.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        builder.build().map_err(|e| {
            VendorError::new(
                vendor,
                ErrorKind::Transport,
                format!("cannot set up HTTPS: {}", chain(&e)),
            )
        })
    }
}

impl Http {
    pub fn new(settings: &VendorSettings) -> Result<Http, VendorError> {
        let config = ClientConfig {
            vendor: settings.vendor,
            timeout: settings.timeout,
            connect_timeout: settings.connect_timeout,
            plain_http: settings.url.scheme() == "http",
            ca_pem: settings.ca_pem.clone(),
            insecure: settings.insecure,
        };
        // Built once here so that a bad `ca_cert` fails the setup, not the first call.
        let client = config.build()?;
        Ok(Http {
            vendor: settings.vendor,
            clients: Mutex::new(vec![(thread::current().id(), client.clone())]),
            first: client,
            config,
            base: settings.url.clone(),
            in_flight: settings.max_concurrent.map(tokio::sync::Semaphore::new),
            pace: Pace::new(settings.max_per_minute),
        })
    }

    /// This thread's client, made on its first request.
    fn client(&self) -> reqwest::Client {
        let me = thread::current().id();
        // Only a panic while the list was held poisons it; the list itself is still whole.
        let mut clients = match self.clients.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((_, c)) = clients.iter().find(|(t, _)| *t == me) {
            return c.clone();
        }
        // The same settings built a client in `new`; should a second fail, the first still
        // works (its connections are just not this thread's).
        let made = self.config.build().unwrap_or_else(|_| self.first.clone());
        clients.push((me, made.clone()));
        made
    }

    pub fn vendor(&self) -> &'static str {
        self.vendor
    }

    /// The base URL plus a product path (`/PasswordVault/API/Users`) and escaped segments
    /// (user names, ids). A path in the configured URL stays as a prefix.
    pub fn url(&self, path: &str, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut p) = url.path_segments_mut() {
            p.pop_if_empty();
            for s in path.split('/').filter(|s| !s.is_empty()) {
                p.push(s);
            }
            for s in segments {
                p.push(s);
            }
        }
        url
    }

    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.client().request(method, url)
    }

    /// Send and read the whole answer, whatever its status, within the vendor's caps.
    pub async fn send(&self, request: RequestBuilder) -> Result<Reply, VendorError> {
        let _permit = match &self.in_flight {
            Some(s) => s.acquire().await.ok(),
            None => None,
        };
        let started = self.pace.start().await;
        let mut response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type").unwrap_or_default();
        if (300..400).contains(&status) {
            let to = header("location").unwrap_or_else(|| "nowhere".into());
            return Err(self
                .error(
                    ErrorKind::Protocol,
                    format!("the vendor answered with a redirect (HTTP {status}) to {to}; set `url` to where the API really is"),
                )
                .status(status));
        }
        let retry_after = header("retry-after").and_then(|v| v.trim().parse().ok());
        self.pace
            .answered(started, status, retry_after.map(Duration::from_secs));
        let mut body = Vec::new();
        // A failure while reading the answer means the vendor got the request.
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport(e).maybe_applied())?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(self
                    .error(
                        ErrorKind::Protocol,
                        format!("the answer is larger than {} MiB", MAX_BODY >> 20),
                    )
                    .status(status));
            }
            body.extend_from_slice(&chunk);
        }
        let body = String::from_utf8(body).map_err(|e| {
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            self.error(
                ErrorKind::Protocol,
                format!("the answer is not UTF-8 text: {}", self.excerpt(&lossy)),
            )
            .status(status)
        })?;
        Ok(Reply {
            status,
            content_type,
            retry_after,
            body,
        })
    }

    /// An error of this vendor; `VendorError::new` scrubs every secret from the message.
    pub fn error(&self, kind: ErrorKind, message: impl AsRef<str>) -> VendorError {
        VendorError::new(self.vendor, kind, message.as_ref())
    }

    /// A short, single-line piece of an answer for an error message: the values of fields
    /// named like secrets masked (also in an answer cut short in the middle of one), and every
    /// secret the process knows scrubbed, before it is cut to length.
    pub fn excerpt(&self, body: &str) -> String {
        let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let masked = crate::util::secret::mask_fields(&flat);
        let clean = crate::util::secret::scrub(&masked);
        let mut short: String = clean.chars().take(200).collect();
        if clean.chars().count() > 200 {
            short.push('…');
        }
        if short.is_empty() {
            short = "(empty)".into();
        }
        format!("`{short}`")
    }

    /// A failure before an answer arrived.
    fn transport(&self, e: reqwest::Error) -> VendorError {
        let e = e.without_url();
        let detail = chain(&e);
        let host = self.base.as_str().trim_end_matches('/');
        if e.is_timeout() {
            let err = self.error(
                ErrorKind::Timeout,
                format!("no answer from {host} in time ({detail})"),
            );
            // A connection that never opened carried no request; any other timeout may have.
            return if e.is_connect() {
                err
            } else {
                err.maybe_applied()
            };
        }
        if detail.contains("certificate") || detail.contains("UnknownIssuer") {
            return self.error(
                ErrorKind::Transport,
                format!(
                    "the TLS certificate of {host} is not trusted ({detail}); add its CA with \
                     `ca_cert = \"ca.pem\"` in the profile, or set `insecure = true` for a test system"
                ),
            );
        }
        if e.is_connect() {
            return self.error(
                ErrorKind::Transport,
                format!("cannot connect to {host}: {detail}"),
            );
        }
        // Not a refused connection: the request may have gone out before the connection broke.
        self.error(
            ErrorKind::Transport,
            format!("the connection to {host} failed: {detail}"),
        )
        .maybe_applied()
    }
}

impl Reply {
    /// The answer as JSON, or a `protocol` error quoting it.
    pub fn json<T: serde::de::DeserializeOwned>(
        &self,
        http: &Http,
        what: &str,
    ) -> Result<T, VendorError> {
        serde_json::from_str(&self.body).map_err(|e| {
            http.error(
                ErrorKind::Protocol,
                format!(
                    "expected {what} as JSON, got {} ({e})",
                    http.excerpt(&self.body)
                ),
            )
            .status(self.status)
        })
    }

    pub fn is_html(&self) -> bool {
        self.content_type.contains("html")
            || self.body.trim_start().starts_with('<')
                && self.body.to_ascii_lowercase().contains("<html")
    }
}

/// An error and its causes on one line: `error sending request: connection refused`.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = c.source();
    }
    parts.join(": ")
}

/// The kind a bare HTTP status stands for, when the body says nothing more useful.
pub fn kind_of_status(status: u16) -> ErrorKind {
    match status {
        400 | 422 => ErrorKind::Validation,
        401 => ErrorKind::Auth,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::AlreadyExists,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::Protocol,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(url: &str) -> Http {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let settings = VendorSettings {
            vendor: "cyberark",
            profile: "t".into(),
            at: crate::vendors::settings::Loc {
                file: "t.toml".into(),
                line: 1,
                col: 1,
            },
            url: reqwest::Url::parse(url).expect("url"),
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            ca_pem: None,
            insecure: false,
            max_concurrent: None,
            max_per_minute: None,
            values: Default::default(),
        };
        Http::new(&settings).expect("client")
    }

    /// The configured URL's path stays a prefix; names and ids are escaped as one segment each,
    /// an empty last one making the trailing slash some endpoints want.
    #[test]
    fn a_url_is_the_base_its_product_path_and_escaped_segments() {
        let h = http("https://pvwa.example/pvwa/");
        let url = h.url("/PasswordVault/API/Users", &["a b/c?", ""]);
        assert_eq!(
            url.as_str(),
            "https://pvwa.example/pvwa/PasswordVault/API/Users/a%20b%2Fc%3F/"
        );
        let bare = http("http://127.0.0.1:9");
        assert_eq!(
            bare.url("/restapi/json/v1/user", &[]).as_str(),
            "http://127.0.0.1:9/restapi/json/v1/user"
        );
        assert_eq!(
            bare.url("/PasswordVault/API/Users", &["7", "Activate"])
                .as_str(),
            "http://127.0.0.1:9/PasswordVault/API/Users/7/Activate"
        );
    }
}
