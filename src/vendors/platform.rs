//! CyberArk's Identity Security Platform token (OAuth client credentials, ACCESS-FACTS §2.1):
//! asked once per tenant and service user, shared by every client and worker that uses them,
//! renewed before it runs out and once more when a call is refused with 401.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex, OnceLock};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value as Json;
use tokio::sync::Mutex;

use super::error::{ErrorKind, VendorError};
use super::http::{Http, kind_of_status};
use super::settings::VendorSettings;
use crate::util::lenient::field;
use crate::util::secret::Secret;

/// The lifetime a token is taken to have when the answer gives none (CyberArk's own module).
const DEFAULT_LIFETIME: u64 = 3600;

struct Token {
    value: Secret,
    /// When to ask for the next one: at 80% of its lifetime, so that no call carries a token
    /// about to run out.
    renew_at: Instant,
    generation: u64,
}

/// One tenant and service user's token, shared process-wide.
#[derive(Default)]
struct Slot {
    token: Mutex<Option<Token>>,
    generation: std::sync::atomic::AtomicU64,
}

/// (tenant URL, client id) -> its token.
type Slots = StdMutex<HashMap<(String, String), Arc<Slot>>>;

fn slots() -> &'static Slots {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    SLOTS.get_or_init(StdMutex::default)
}

/// The platform token of one tenant (`https://{tenant}.id.cyberark.cloud`) and service user.
pub struct Platform {
    http: Http,
    client_id: String,
    client_secret: Secret,
    slot: Arc<Slot>,
}

/// A token to send, and which one it is (to renew exactly it after a 401).
pub struct Bearer {
    pub header: String,
    pub generation: u64,
}

impl Platform {
    /// The token source for `identity_url` and `client_id`: the same one for every client of
    /// the process that names them (a cyberark and an identity section of one profile).
    pub fn new(
        settings: &VendorSettings,
        identity_url: reqwest::Url,
        client_id: &str,
        client_secret: Secret,
    ) -> Result<Platform, VendorError> {
        let mut on_tenant = settings.clone();
        on_tenant.url = identity_url.clone();
        let key = (
            identity_url
                .as_str()
                .trim_end_matches('/')
                .to_ascii_lowercase(),
            client_id.to_string(),
        );
        let slot = slots()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        Ok(Platform {
            http: Http::new(&on_tenant)?,
            client_id: client_id.to_string(),
            client_secret,
            slot,
        })
    }

    /// `Bearer …` for the next call: the shared token, asked for when there is none or it is
    /// due for renewal (one request however many workers are waiting).
    pub async fn bearer(&self) -> Result<Bearer, VendorError> {
        let mut token = self.slot.token.lock().await;
        if let Some(t) = token.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(Bearer {
                header: format!("Bearer {}", t.value.reveal()),
                generation: t.generation,
            });
        }
        let fresh = self.ask().await?;
        let bearer = Bearer {
            header: format!("Bearer {}", fresh.value.reveal()),
            generation: fresh.generation,
        };
        *token = Some(fresh);
        Ok(bearer)
    }

    /// A call with the token of `generation` was refused: the next `bearer` asks again (once,
    /// however many workers saw the refusal).
    pub async fn refused(&self, generation: u64) {
        let mut token = self.slot.token.lock().await;
        if token.as_ref().is_some_and(|t| t.generation == generation) {
            *token = None;
        }
    }

    /// `POST oauth2/platformtoken` with the client credentials.
    async fn ask(&self) -> Result<Token, VendorError> {
        let url = self.http.url("/oauth2/platformtoken", &[]);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.reveal()),
        ];
        let reply = self
            .http
            .send(self.http.request(Method::POST, url).form(&form))
            .await?;
        let body: Option<Json> = serde_json::from_str(&reply.body).ok();
        let text = |k: &str| {
            body.as_ref()
                .and_then(|b| field(b, k))
                .and_then(Json::as_str)
                .map(str::to_string)
        };
        if reply.status != 200 {
            let why = text("error_description")
                .or_else(|| text("Message"))
                .or_else(|| text("error"))
                .unwrap_or_else(|| self.http.excerpt(&reply.body));
            let kind = match reply.status {
                400 | 401 | 403 => ErrorKind::Auth,
                s => kind_of_status(s),
            };
            return Err(self
                .http
                .error(
                    kind,
                    format!("getting a platform token for {}: {why}", self.client_id),
                )
                .reply(&reply));
        }
        let Some(value) = text("access_token").filter(|t| !t.is_empty()) else {
            return Err(self.http.error(
                ErrorKind::Protocol,
                "the platform token answer has no access_token",
            ));
        };
        let lifetime = body
            .as_ref()
            .and_then(|b| field(b, "expires_in"))
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(DEFAULT_LIFETIME);
        let generation = self
            .slot
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        Ok(Token {
            value: Secret::new(value),
            renew_at: Instant::now() + Duration::from_millis(lifetime.saturating_mul(800)),
            generation,
        })
    }
}
