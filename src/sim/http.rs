//! Requests and answers as the simulated vendors see them: decoded paths, parameters and bodies.

use serde_json::Value as Json;

/// The largest body the simulator reads.
const MAX_BODY: usize = 2 * 1024 * 1024;

/// A request, read whole.
pub struct SimRequest {
    pub method: String,
    /// The path as sent, without the query.
    pub path: String,
    /// The path's segments, percent-decoded.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    /// The body's fields when it is `application/x-www-form-urlencoded` (or parses as such).
    pub form: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An answer.
pub struct SimResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Send half the body, then cut the connection (fault injection).
    pub cut: bool,
}

impl SimRequest {
    pub async fn read(request: axum::extract::Request) -> Result<SimRequest, SimResponse> {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| SimResponse::text(413, "request body too large"))?
            .to_vec();
        let path = parts.uri.path().to_string();
        let query = parts
            .uri
            .query()
            .map(|q| pairs(q.as_bytes()))
            .unwrap_or_default();
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // A body that is not JSON is read as a form, whatever it is labelled: pypmp sends its
        // form labelled `text/json`, and a servlet reads parameters from it all the same.
        let form = match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | Some(b'[') | Some(b'<') => Vec::new(),
            _ => pairs(&body),
        };
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        Ok(SimRequest {
            method: parts.method.as_str().to_string(),
            path,
            segments,
            query,
            form,
            headers,
            body,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> String {
        self.header("content-type")
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    /// A parameter from the query string, else from a form body (servlets merge the two).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .chain(self.form.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter, its name matched ignoring case (ASP.NET binds that way).
    pub fn query_ci(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Match the path against a pattern such as `/PasswordVault/API/Users/{}`: literal segments
    /// compared ignoring case when `ignore_case`, `{}` capturing one segment; a trailing slash is fine.
    pub fn route(&self, pattern: &str, ignore_case: bool) -> Option<Vec<String>> {
        let parts: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut captured = Vec::new();
        for (p, s) in parts.iter().zip(&self.segments) {
            if *p == "{}" {
                captured.push(s.clone());
            } else if !(if ignore_case {
                p.eq_ignore_ascii_case(s)
            } else {
                p == s
            }) {
                return None;
            }
        }
        Some(captured)
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl SimResponse {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        SimResponse {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
            cut: false,
        }
    }

    pub fn json(status: u16, value: &Json) -> Self {
        Self::new(
            status,
            "application/json; charset=utf-8",
            serde_json::to_vec(value).unwrap_or_default(),
        )
    }

    pub fn xml(status: u16, text: String) -> Self {
        Self::new(status, "text/xml; charset=UTF-8", text)
    }

    pub fn text(status: u16, text: &str) -> Self {
        Self::new(status, "text/plain; charset=utf-8", text.to_string())
    }

    pub fn empty(status: u16) -> Self {
        Self::new(status, "text/plain", Vec::new())
    }

    /// The error page Apache Tomcat shows (ManageEngine products run on it).
    pub fn tomcat(status: u16, reason: &str) -> Self {
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><title>HTTP Status {status} – {reason}</title></head>\
             <body><h1>HTTP Status {status} – {reason}</h1><hr class=\"line\" /><p><b>Type</b> Status Report</p>\
             <h3>Apache Tomcat</h3></body></html>"
        );
        Self::new(status, "text/html;charset=utf-8", page)
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }
}

fn pairs(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
