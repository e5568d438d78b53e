//! How fast one vendor is sent requests: its configured cap, and the pace learned from its 429s.
//!
//! Without a cap onboard sends as fast as its jobs allow. The first 429 tells it the vendor has
//! a limit: nothing more starts until the vendor's `Retry-After` has passed, and from then on
//! requests start at 99% of the rate the vendor accepted in the second before it refused,
//! climbing 1% a second back towards that rate. A 429 of a request sent at the learned pace
//! sets it again from the rate accepted then. 429s of requests already in flight when the pace
//! was set are not news and change nothing. Only a vendor's own answers teach it: PVWA and
//! PAM360 on different hosts have different limits.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The longest pause a `Retry-After` imposes on every request to the vendor.
const LONGEST_PAUSE: Duration = Duration::from_secs(60);
/// The pause after a 429 that named none.
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

pub struct Pace {
    /// `max_per_minute` as the gap between two starts.
    cap: Option<Duration>,
    /// Answers other than 429, counted by second: the rate the vendor takes.
    accepted: PerSecond,
    /// Set by the first 429: from then on every start goes through `state`.
    learning: AtomicBool,
    state: Mutex<State>,
}

struct State {
    /// The earliest time the next request may start.
    next: Instant,
    /// Requests a second to send at, learned from the vendor's 429s.
    rate: Option<f64>,
    /// The rate the vendor took when it last refused: `rate` climbs back towards it, not past.
    ceiling: f64,
    /// When the pace was last cut: a 429 of a request started before says nothing new.
    cut_at: Instant,
    raised_at: Instant,
}

/// How often the learned rate climbs, by how much, and how long without a 429 before the
/// ceiling itself is raised (a limit can be lifted while onboard runs).
const CLIMB_EVERY: Duration = Duration::from_secs(1);
const CLIMB: f64 = 1.01;
const CEILING_AFTER: Duration = Duration::from_secs(10);

impl Pace {
    pub fn new(max_per_minute: Option<u32>) -> Pace {
        let now = Instant::now();
        Pace {
            cap: max_per_minute.map(|n| Duration::from_secs(60) / n.max(1)),
            accepted: PerSecond::new(now),
            learning: AtomicBool::new(false),
            state: Mutex::new(State {
                next: now,
                rate: None,
                ceiling: 0.0,
                cut_at: now,
                raised_at: now,
            }),
        }
    }

    /// Wait for this request's turn; returns when it started.
    pub async fn start(&self) -> Instant {
        if self.cap.is_none() && !self.learning.load(Ordering::Relaxed) {
            return Instant::now();
        }
        let (start, wait) = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let gap = self.gap(&mut state, now);
            let start = state.next.max(now);
            state.next = start + gap;
            (start, start - now)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        start
    }

    /// The vendor answered a request started at `started`.
    pub fn answered(&self, started: Instant, status: u16, retry_after: Option<Duration>) {
        if status == 429 {
            self.throttled(started, retry_after);
        } else {
            self.accepted.count();
        }
    }

    /// A 429. The first one pauses every start for the vendor's `Retry-After` (the vendor's
    /// window is spent) and sets the pace just under the rate it took; a later one, of a
    /// request sent at the learned pace, means the pace reached the limit: it is cut, and only
    /// the refused request waits.
    fn throttled(&self, started: Instant, retry_after: Option<Duration>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let first = state.rate.is_none();
        if !first && started < state.cut_at {
            return;
        }
        let mut took = self.accepted.rate(now).max(1.0);
        if first {
            let pause = retry_after.unwrap_or(DEFAULT_PAUSE).min(LONGEST_PAUSE);
            state.next = state.next.max(now + pause);
            state.raised_at = now + pause;
        } else {
            took = took.min(state.rate.unwrap_or(took));
            state.raised_at = now;
        }
        state.ceiling = took;
        state.rate = Some(took * 0.99);
        state.cut_at = now;
        self.learning.store(true, Ordering::Relaxed);
    }

    /// The gap before the next start: the cap's, or the learned pace's if that is slower.
    fn gap(&self, state: &mut State, now: Instant) -> Duration {
        if let Some(rate) = state.rate
            && now >= state.raised_at + CLIMB_EVERY
        {
            if now >= state.cut_at + CEILING_AFTER {
                state.ceiling *= CLIMB;
            }
            state.rate = Some((rate * CLIMB).min(state.ceiling));
            state.raised_at = now;
        }
        let learned = state
            .rate
            .map(|r| Duration::from_secs_f64(1.0 / r))
            .unwrap_or_default();
        self.cap.unwrap_or_default().max(learned)
    }
}

/// Events counted by whole second since `origin`, without a lock.
struct PerSecond {
    origin: Instant,
    /// (second << 32 | count) for the current second, and the whole previous second's count.
    current: AtomicU64,
    previous: AtomicU64,
}

impl PerSecond {
    fn new(origin: Instant) -> PerSecond {
        PerSecond {
            origin,
            current: AtomicU64::new(0),
            previous: AtomicU64::new(0),
        }
    }

    fn count(&self) {
        let second = self.origin.elapsed().as_secs();
        let seen = self.current.load(Ordering::Relaxed);
        if seen >> 32 == second {
            self.current.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // A new second: the one that ended becomes `previous` (or nothing, after a quiet one).
        // Two counters racing here may lose a count, which a rate estimate can afford.
        if self
            .current
            .compare_exchange(seen, second << 32 | 1, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            let last = if (seen >> 32) + 1 == second {
                seen & 0xffff_ffff
            } else {
                0
            };
            self.previous.store(last, Ordering::Relaxed);
        } else {
            self.current.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events a second over the last second: the current second's count plus the part of the
    /// previous one's that falls within the last second.
    fn rate(&self, now: Instant) -> f64 {
        let since = now.duration_since(self.origin);
        let into = since.subsec_nanos() as f64 / 1e9;
        let current = self.current.load(Ordering::Relaxed);
        let (second, count) = (current >> 32, (current & 0xffff_ffff) as f64);
        if second == since.as_secs() {
            count + self.previous.load(Ordering::Relaxed) as f64 * (1.0 - into)
        } else if second + 1 == since.as_secs() {
            count * (1.0 - into)
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_cap_and_no_429_means_no_wait() {
        let pace = Pace::new(None);
        let before = Instant::now();
        for _ in 0..1000 {
            pace.start().await;
        }
        assert!(before.elapsed() < Duration::from_millis(100));
    }

    fn rate(pace: &Pace) -> Option<f64> {
        pace.state.lock().map(|s| s.rate).ok().flatten()
    }

    #[tokio::test]
    async fn a_429_pauses_every_start_then_paces_below_the_rate_accepted() {
        let pace = Pace::new(None);
        let mut started = Instant::now();
        for _ in 0..200 {
            started = pace.start().await;
            pace.answered(started, 200, None);
        }
        pace.answered(started, 429, Some(Duration::from_millis(300)));
        let learned = rate(&pace);
        assert!(learned.is_some_and(|r| r > 150.0), "{learned:?}");
        let before = Instant::now();
        let first = pace.start().await;
        assert!(first.duration_since(before) >= Duration::from_millis(250));
        // A 429 of a request sent before the pace was set does not set it again.
        pace.answered(started, 429, None);
        assert_eq!(rate(&pace), learned);
        // One sent at the learned pace does, from what was accepted since, and pauses nobody.
        pace.answered(first, 429, None);
        let again = rate(&pace);
        assert!(again.zip(learned).is_some_and(|(a, l)| a < l), "{again:?}");
        let before = Instant::now();
        pace.start().await;
        assert!(before.elapsed() < Duration::from_millis(250));
    }

    #[tokio::test]
    async fn the_cap_spaces_starts() {
        let pace = Pace::new(Some(6000)); // one every 10 ms
        let before = Instant::now();
        for _ in 0..6 {
            pace.start().await;
        }
        assert!(before.elapsed() >= Duration::from_millis(45));
    }
}
