//! How the CyberArk client is let in: the vault's Logon (one session per run, one re-logon when
//! it expires), or on Privilege Cloud a platform token from CyberArk Identity (shared with the
//! identity vendor of the same tenant, renewed before it runs out and once after a 401).

use reqwest::Method;
use serde_json::{Value as Json, json};

use super::{CyberArk, NAME, SESSION_EXPIRED};
use crate::util::lenient::field;
use crate::util::secret::Secret;
use crate::vendors::error::{ErrorKind, VendorError};
use crate::vendors::http::Reply;
use crate::vendors::platform::Platform;
use crate::vendors::settings::VendorSettings;

pub(super) enum Logon {
    Vault {
        auth_method: String,
        username: String,
        password: Secret,
    },
    // Boxed: a platform holds its own HTTP client, many times the size of a vault logon.
    Platform(Box<Platform>),
}

impl Logon {
    pub(super) fn of(settings: &VendorSettings) -> Result<Logon, VendorError> {
        let missing = |key: &str, method: &str| {
            VendorError::new(NAME, ErrorKind::Auth, format!("the profile's cyberark section has no `{key}`, which auth_method {method} needs"))
        };
        let method = settings.text("auth_method").unwrap_or("CyberArk");
        if method.eq_ignore_ascii_case("Identity") {
            let text = |k: &str| settings.text(k).ok_or_else(|| missing(k, method));
            let identity_url = text("identity_url")?;
            let url = reqwest::Url::parse(identity_url).map_err(|e| {
                VendorError::new(NAME, ErrorKind::Validation, format!("identity_url \"{identity_url}\" is not a URL: {e}"))
            })?;
            let secret = settings.secret("client_secret").cloned().ok_or_else(|| missing("client_secret", method))?;
            return Ok(Logon::Platform(Box::new(Platform::new(settings, url, text("client_id")?, secret)?)));
        }
        Ok(Logon::Vault {
            auth_method: method.to_string(),
            username: settings.text("username").ok_or_else(|| missing("username", method))?.to_string(),
            password: settings.secret("password").cloned().ok_or_else(|| missing("password", method))?,
        })
    }
}

impl CyberArk {
    async fn logon(&self, auth_method: &str, username: &str, password: &Secret) -> Result<Secret, VendorError> {
        let url = self.http.url(&format!("/PasswordVault/API/auth/{auth_method}/Logon"), &[]);
        let body = json!({
            "username": username,
            "password": password.reveal(),
            // Bulk runs share one session across workers, and a person may be logged on elsewhere.
            "concurrentSession": true,
        });
        let reply = self.http.send(self.http.request(Method::POST, url).json(&body)).await?;
        let doing = format!("logon as {username} ({auth_method})");
        if reply.status != 200 {
            return Err(self.error(&reply, &doing));
        }
        // The token is a bare JSON string; some proxies strip the quotes, Gen1 wraps it.
        let token = match serde_json::from_str::<Json>(&reply.body) {
            Ok(Json::String(t)) => t,
            Ok(obj @ Json::Object(_)) => field(&obj, "CyberArkLogonResult").and_then(Json::as_str).unwrap_or_default().to_string(),
            _ => reply.body.trim().trim_matches('"').to_string(),
        };
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(self.http.error(
                ErrorKind::Protocol,
                format!("{doing}: expected a session token, got {}", self.http.excerpt(&reply.body)),
            ));
        }
        Ok(Secret::new(token))
    }

    /// What goes in `Authorization` (the bare session token, or `Bearer …` on the platform),
    /// and which logon or token it is.
    pub(super) async fn token(&self) -> Result<(Secret, u64), VendorError> {
        let (auth_method, username, password) = match &self.logon {
            Logon::Platform(p) => {
                let bearer = p.bearer().await?;
                return Ok((Secret::new(bearer.header), bearer.generation));
            }
            Logon::Vault { auth_method, username, password } => (auth_method, username, password),
        };
        let mut session = self.session.lock().await;
        if let Some(s) = session.as_ref() {
            return Ok(s.clone());
        }
        let token = self.logon(auth_method, username, password).await?;
        *session = Some((token.clone(), 1));
        Ok((token, 1))
    }

    /// Log on again (or ask for a new platform token), unless another caller already did
    /// since `seen`.
    async fn relogon(&self, seen: u64) -> Result<Secret, VendorError> {
        let (auth_method, username, password) = match &self.logon {
            Logon::Platform(p) => {
                p.refused(seen).await;
                return Ok(Secret::new(p.bearer().await?.header));
            }
            Logon::Vault { auth_method, username, password } => (auth_method, username, password),
        };
        let mut session = self.session.lock().await;
        if let Some((token, generation)) = session.as_ref()
            && *generation != seen
        {
            return Ok(token.clone());
        }
        let token = self.logon(auth_method, username, password).await?;
        *session = Some((token.clone(), seen + 1));
        Ok(token)
    }

    /// A call with the session token; one re-logon (or new platform token) and retry when
    /// the server says it expired.
    pub(super) async fn call(&self, method: Method, url: reqwest::Url, body: Option<&Json>) -> Result<Reply, VendorError> {
        let (token, generation) = self.token().await?;
        let reply = self.send(&token, method.clone(), url.clone(), body).await?;
        let platform = matches!(self.logon, Logon::Platform(_));
        let expired = reply.status == 401 && (platform || Self::code_of(&reply).is_none_or(|c| c == SESSION_EXPIRED));
        if !expired {
            return Ok(reply);
        }
        let token = self.relogon(generation).await?;
        self.send(&token, method, url, body).await
    }

    pub(super) async fn send(&self, token: &Secret, method: Method, url: reqwest::Url, body: Option<&Json>) -> Result<Reply, VendorError> {
        let mut req = self.http.request(method, url).header("Authorization", token.reveal());
        if let Some(b) = body {
            req = req.json(b);
        }
        self.http.send(req).await
    }
}
