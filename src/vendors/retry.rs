//! When a failed vendor call is tried again, and how long to wait first.
//!
//! Retried: `rate_limited` (after the vendor's `Retry-After`), `server` errors with a status of
//! `statuses` (500, 502, 503, 504 unless the profile says otherwise), `transport` and `timeout`.
//! A create or a grant that fails with a 5xx looks first whether it was carried out (PVWA's IIS
//! answers a bare 500 under load), and is tried again only when it was not. Never retried: `validation`, `auth`, `forbidden`, `already_exists`,
//! `not_found`, `protocol`, and `server` failures the vendor explained (PAM360's "Failed"). Waits grow exponentially with jitter, bounded
//! by a number of attempts and a total time.

use std::time::Duration;

use crate::vendors::error::{ErrorKind, VendorError};

#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1: never retry).
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No retry starts once this much time has passed since the first attempt.
    pub max_total: Duration,
    /// The HTTP statuses of a `server` error that are tried again (`retry.statuses`).
    pub statuses: Vec<u16>,
}

/// The statuses retried when the profile names none.
pub const DEFAULT_STATUSES: &[u16] = &[500, 502, 503, 504];

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_total: Duration::from_secs(60),
            statuses: DEFAULT_STATUSES.to_vec(),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before attempt `next` (2, 3, …) after `err`, or `None` to stop.
    pub fn next_delay(&self, err: &VendorError, next: u32, elapsed: Duration) -> Option<Duration> {
        if !self.retries(err) {
            return None;
        }
        self.backoff(err, next, elapsed)
    }

    /// For a call that is safe to repeat (a lookup, a delete): also after an answer that could
    /// not be read, which a second try may well read.
    pub fn next_delay_idempotent(
        &self,
        err: &VendorError,
        next: u32,
        elapsed: Duration,
    ) -> Option<Duration> {
        if !(self.retries(err) || err.may_have_applied() && err.kind != ErrorKind::Server) {
            return None;
        }
        self.backoff(err, next, elapsed)
    }

    /// Whether `err` is one this policy tries again.
    pub fn retries(&self, err: &VendorError) -> bool {
        match err.kind {
            ErrorKind::RateLimited | ErrorKind::Transport | ErrorKind::Timeout => true,
            ErrorKind::Server => err.status.is_some_and(|s| self.statuses.contains(&s)),
            _ => false,
        }
    }

    fn backoff(&self, err: &VendorError, next: u32, elapsed: Duration) -> Option<Duration> {
        if next > self.attempts {
            return None;
        }
        let exponent = next.saturating_sub(2).min(20);
        let backoff = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        // Equal jitter: half the backoff, plus a random part of the other half, so many clients
        // throttled together do not come back together.
        let half = backoff / 2;
        let jittered = half + half.mul_f64(unit_random());
        let wait = match err.retry_after {
            Some(asked) => asked.max(jittered.min(Duration::from_millis(200))),
            None => jittered,
        };
        (elapsed + wait <= self.max_total).then_some(wait)
    }
}

/// A number in [0, 1) from the system's random generator.
fn unit_random() -> f64 {
    let mut buf = [0u8; 4];
    if getrandom::fill(&mut buf).is_err() {
        return 0.5;
    }
    u32::from_le_bytes(buf) as f64 / (u32::MAX as f64 + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::error::ErrorKind;

    fn err(kind: ErrorKind, status: Option<u16>) -> VendorError {
        let mut e = VendorError::new("pam360", kind, "x");
        e.status = status;
        e
    }

    #[test]
    fn which_errors_are_retried() {
        let p = RetryPolicy::default();
        let z = Duration::ZERO;
        assert!(
            p.next_delay(&err(ErrorKind::Transport, None), 2, z)
                .is_some()
        );
        assert!(p.next_delay(&err(ErrorKind::Timeout, None), 2, z).is_some());
        assert!(
            p.next_delay(&err(ErrorKind::Server, Some(503)), 2, z)
                .is_some()
        );
        assert!(
            p.next_delay(&err(ErrorKind::Server, Some(500)), 2, z)
                .is_some()
        );
        assert!(
            p.next_delay(&err(ErrorKind::Server, Some(200)), 2, z)
                .is_none()
        );
        for k in [
            ErrorKind::Validation,
            ErrorKind::Auth,
            ErrorKind::Forbidden,
            ErrorKind::AlreadyExists,
        ] {
            assert!(p.next_delay(&err(k, Some(400)), 2, z).is_none(), "{k}");
        }
    }

    #[test]
    fn bounded_by_attempts_and_total_time() {
        let p = RetryPolicy::default();
        let e = err(ErrorKind::Transport, None);
        assert!(p.next_delay(&e, 4, Duration::ZERO).is_some());
        assert!(p.next_delay(&e, 5, Duration::ZERO).is_none());
        assert!(p.next_delay(&e, 2, Duration::from_secs(60)).is_none());
    }

    #[test]
    fn backoff_grows_within_jitter_and_honours_retry_after() {
        let p = RetryPolicy::default();
        let e = err(ErrorKind::Transport, None);
        for _ in 0..50 {
            let d2 = p.next_delay(&e, 2, Duration::ZERO).unwrap();
            assert!(
                d2 >= Duration::from_millis(125) && d2 <= Duration::from_millis(250),
                "{d2:?}"
            );
            let d4 = p.next_delay(&e, 4, Duration::ZERO).unwrap();
            assert!(
                d4 >= Duration::from_millis(500) && d4 <= Duration::from_millis(1000),
                "{d4:?}"
            );
        }
        let mut limited = err(ErrorKind::RateLimited, Some(429));
        limited.retry_after = Some(Duration::from_secs(3));
        assert_eq!(
            p.next_delay(&limited, 2, Duration::ZERO),
            Some(Duration::from_secs(3))
        );
    }
}
