//! Platform tokens the simulator hands out and checks. Each says when it runs out and is signed
//! with a key of this process, so that any vendor's simulator can check one (a Privilege Cloud
//! PVWA takes the token Identity issued) without sharing state; ending every session makes
//! every token issued so far invalid.

use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::util::secret::random_hex;

fn key() -> &'static RandomState {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    KEY.get_or_init(RandomState::new)
}

/// Tokens of an older epoch were revoked (`/__sim/expire-sessions`).
static EPOCH: AtomicU64 = AtomicU64::new(0);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn mac(payload: &str) -> u64 {
    key().hash_one(payload)
}

/// A token valid for `lifetime`.
pub fn issue(lifetime: Duration) -> String {
    let expires = now_ms() + lifetime.as_millis() as u64;
    let payload = format!(
        "{}.{}.{expires}",
        random_hex(12),
        EPOCH.load(Ordering::Relaxed)
    );
    format!("{payload}.{:016x}", mac(&payload))
}

/// Whether `token` is one this process issued, not yet run out nor revoked.
pub fn valid(token: &str) -> bool {
    let Some((payload, signature)) = token.rsplit_once('.') else {
        return false;
    };
    if format!("{:016x}", mac(payload)) != signature {
        return false;
    }
    let mut parts = payload.split('.').skip(1);
    let epoch = parts.next().and_then(|e| e.parse::<u64>().ok());
    let expires = parts.next().and_then(|e| e.parse::<u64>().ok());
    epoch == Some(EPOCH.load(Ordering::Relaxed)) && expires.is_some_and(|e| now_ms() < e)
}

/// The bearer token of a request's `Authorization` header, if it is valid.
pub fn authorized(header: Option<&str>) -> bool {
    header
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .is_some_and(valid)
}

/// Every token issued so far stops working.
pub fn revoke_all() {
    EPOCH.fetch_add(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_holds_until_it_runs_out_or_is_revoked_and_cannot_be_forged() {
        let t = issue(Duration::from_secs(60));
        assert!(valid(&t));
        assert!(authorized(Some(&format!("Bearer {t}"))));
        assert!(!valid(&t.replace('.', "x")));
        assert!(!valid(&format!("{t}0")));
        assert!(!valid(&issue(Duration::ZERO)));
        revoke_all();
        assert!(!valid(&t));
    }
}
