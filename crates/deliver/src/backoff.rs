//! When a failed delivery is tried again: exponential backoff with jitter.

use std::time::Duration;

/// `base · 2^(n−1)` after the n-th failure, capped at `cap`, then jittered into its upper
/// half ("equal jitter"): never sooner than half the ceiling, so a struggling receiver gets
/// real relief, and spread over the other half, so the rows of one outage do not all come
/// back in the same instant.
///
/// The jitter is a hash of the delivery's idempotency key and the failure count rather than
/// a random draw: it spreads rows just as well, and a given schedule can be reproduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
}

impl Backoff {
    /// `None` unless `0 < base <= cap`.
    pub fn new(base: Duration, cap: Duration) -> Option<Backoff> {
        (!base.is_zero() && base <= cap).then_some(Backoff { base, cap })
    }

    pub fn base(&self) -> Duration {
        self.base
    }

    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// The un-jittered delay after the `failures`-th failed attempt (1 for the first).
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(63);
        let factor = 1u64 << doublings;
        let nanos = self.base.as_nanos().saturating_mul(u128::from(factor));
        let cap = self.cap.as_nanos();
        Duration::from_nanos(u64::try_from(nanos.min(cap)).unwrap_or(u64::MAX))
    }

    /// The delay after the `failures`-th failed attempt of the delivery keyed `key`: in
    /// `[ceiling / 2, ceiling]`.
    pub fn delay(&self, failures: u32, key: &str) -> Duration {
        let ceiling = self.ceiling(failures);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 {
            0
        } else {
            mix(key, failures) % (spread + 1)
        };
        half + Duration::from_nanos(jitter)
    }
}

/// FNV-1a over the key, finished with SplitMix64 so nearby keys land far apart.
fn mix(key: &str, failures: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes().chain(failures.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn ceiling_doubles_from_base_up_to_cap() {
        let b = Backoff::new(secs(1), secs(60)).unwrap();
        let schedule: Vec<u64> = (1..=9).map(|n| b.ceiling(n).as_secs()).collect();
        assert_eq!(schedule, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(b.ceiling(0), secs(1), "no failure yet reads as the first");
        assert_eq!(b.ceiling(u32::MAX), secs(60), "no overflow far out");
    }

    #[test]
    fn delay_stays_in_the_upper_half_of_the_ceiling() {
        let b = Backoff::new(Duration::from_millis(250), secs(3600)).unwrap();
        for n in 1..=20 {
            for key in ["fzw1-a", "fzw1-b", "fzw1-c", ""] {
                let (d, c) = (b.delay(n, key), b.ceiling(n));
                assert!(
                    d >= c / 2 && d <= c,
                    "failure {n}, key {key:?}: {d:?} of {c:?}"
                );
            }
        }
    }

    #[test]
    fn delay_is_reproducible_and_spread_across_keys() {
        let b = Backoff::new(secs(10), secs(10)).unwrap();
        assert_eq!(b.delay(3, "fzw1-x"), b.delay(3, "fzw1-x"));
        let distinct: std::collections::BTreeSet<Duration> =
            (0..100).map(|i| b.delay(1, &format!("fzw1-{i}"))).collect();
        assert!(
            distinct.len() > 90,
            "only {} distinct delays",
            distinct.len()
        );
    }

    #[test]
    fn refuses_zero_base_and_base_above_cap() {
        assert!(Backoff::new(Duration::ZERO, secs(1)).is_none());
        assert!(Backoff::new(secs(2), secs(1)).is_none());
        assert!(Backoff::new(secs(1), secs(1)).is_some());
    }
}
