//! Failed-login limits: after too many failures for one username, or from one client
//! address, within a window, further attempts are refused until the window ends — before the
//! password is even checked, so guessing costs the guesser time and the server no argon2.
//!
//! In memory, per server process: enough for the embedded deployment. Several servers behind
//! a load balancer would each count separately (a multiple of the limit overall); moving the
//! counts into the store is the fix when that deployment arrives.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per username in a window.
pub const MAX_FAILURES_PER_USER: u32 = 5;
/// Failures allowed per client address in a window: higher, since an office may share one
/// address.
pub const MAX_FAILURES_PER_ADDRESS: u32 = 30;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Keys tracked at most; past it, expired windows are dropped first, and if the map is
/// still full the oldest windows go, so a flood of invented usernames cannot exhaust memory.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// Counts failures per key in fixed windows that start at a key's first failure.
pub struct LoginLimiter {
    windows: Mutex<HashMap<String, Window>>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            windows: Mutex::new(HashMap::new()),
        }
    }
}

impl LoginLimiter {
    /// How long `key` must wait, if it has used up `max` failures in its current window.
    pub fn blocked(&self, key: &str, max: u32, now: Instant) -> Option<Duration> {
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let w = windows.get(key)?;
        let elapsed = now.saturating_duration_since(w.started);
        (w.failures >= max && elapsed < WINDOW).then(|| WINDOW - elapsed)
    }

    pub fn failed(&self, key: &str, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_KEYS && !windows.contains_key(key) {
            windows.retain(|_, w| now.saturating_duration_since(w.started) < WINDOW);
            if windows.len() >= MAX_KEYS {
                let mut starts: Vec<Instant> = windows.values().map(|w| w.started).collect();
                starts.sort_unstable();
                let cut = starts[starts.len() / 2];
                windows.retain(|_, w| w.started > cut);
            }
        }
        let w = windows.entry(key.to_owned()).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.saturating_duration_since(w.started) >= WINDOW {
            *w = Window {
                started: now,
                failures: 0,
            };
        }
        w.failures += 1;
    }

    /// A successful login clears the key's failures.
    pub fn succeeded(&self, key: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        windows.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_until_the_window_ends() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(l.blocked("u", 3, t0), None, "after {i} failures");
            l.failed("u", t0 + Duration::from_secs(i));
        }
        let wait = l.blocked("u", 3, t0 + Duration::from_secs(60)).unwrap();
        assert_eq!(wait, WINDOW - Duration::from_secs(60));
        assert_eq!(l.blocked("other", 3, t0), None, "keys are separate");
        assert_eq!(l.blocked("u", 3, t0 + WINDOW), None, "the window ended");
        // A failure after the window starts a new one.
        l.failed("u", t0 + WINDOW);
        assert_eq!(l.blocked("u", 3, t0 + WINDOW), None);
    }

    #[test]
    fn success_clears_the_count() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        l.failed("u", t0);
        l.failed("u", t0);
        l.succeeded("u");
        l.failed("u", t0);
        assert_eq!(l.blocked("u", 2, t0), None);
    }

    #[test]
    fn memory_stays_bounded() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for i in 0..(MAX_KEYS as u64 + 10) {
            l.failed(&format!("k{i}"), t0 + Duration::from_nanos(i));
        }
        let n = l.windows.lock().unwrap().len();
        assert!(n <= MAX_KEYS, "{n}");
    }
}
