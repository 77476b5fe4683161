//! Distinct counts over sliding windows, bounded in memory.
//!
//! [`DistinctSet`] counts distinct keys (payers, callees, SMS receivers) per window on top of
//! a [`Windowed`] slot: it remembers each key's last-seen time and keeps, in the slot, one
//! unit at the bucket of every key's last sighting. A window's slot total is then the number
//! of keys last seen inside it — exact, to the window precision, and O(1) per sighting.
//!
//! To stay bounded when an entity meets very many keys (a merchant's payers, a SIM box's
//! callees), it switches to *distinct sampling* (Gibbons, "Distinct sampling for
//! highly-accurate answers to distinct values queries", VLDB 2001): only keys whose hash has
//! its low `level` bits zero are kept, and counts are scaled by `2^level`. Each time the set
//! outgrows [`DistinctSet::CAP`], keys older than 30 days are dropped and, if that is not
//! enough, the level goes up and half the keys go. The relative standard error is about
//! `1/sqrt(kept keys)`, so a few percent once sampling starts; below `CAP` keys the count is
//! exact. Small sets live inline, with no allocation.
//!
//! [`RecentSet`] is a small set of (key, last seen) pairs for the "how many X shared with Y"
//! features, where the sets are tiny by nature and any count above its cap is already
//! alarming, so it saturates instead of sampling.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::window::{Windowed, DAY};

/// A 32-bit mixer (the finaliser of MurmurHash3) so that sampling does not depend on how
/// interned keys happen to be numbered.
fn mix(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Seen {
    Inline(SmallVec<[(u32, i64); 4]>),
    Map(FxHashMap<u32, i64>),
}

/// Distinct keys per window, counted in one slot of a [`Windowed`]. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistinctSet {
    level: u8,
    seen: Seen,
}

impl Default for DistinctSet {
    fn default() -> Self {
        Self {
            level: 0,
            seen: Seen::Inline(SmallVec::new()),
        }
    }
}

/// Inline sets above this size move to a hash map.
const INLINE_MAX: usize = 16;

impl DistinctSet {
    /// Keys kept before older keys are dropped and sampling starts.
    pub const CAP: usize = 2048;

    /// The factor window totals of the slot are multiplied by.
    pub fn scale(&self) -> i64 {
        1 << self.level
    }

    /// Keys currently remembered (for memory accounting and tests).
    pub fn len(&self) -> usize {
        match &self.seen {
            Seen::Inline(v) => v.len(),
            Seen::Map(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records a sighting of `key` at `ts` in `slot` of `win`. Returns whether the key had
    /// not been seen before (by this set, within its memory), i.e. is new to the entity.
    pub fn observe(&mut self, win: &mut Windowed, slot: usize, key: u32, ts: i64) -> bool {
        if self.level > 0 && mix(key) & ((1u32 << self.level) - 1) != 0 {
            return false;
        }
        let previous = match &mut self.seen {
            Seen::Inline(v) => match v.iter_mut().find(|(k, _)| *k == key) {
                Some((_, last)) => Some(std::mem::replace(last, (*last).max(ts))),
                None => {
                    v.push((key, ts));
                    None
                }
            },
            Seen::Map(m) => match m.get_mut(&key) {
                Some(last) => Some(std::mem::replace(last, (*last).max(ts))),
                None => {
                    m.insert(key, ts);
                    None
                }
            },
        };
        match previous {
            Some(last) if last >= ts => false,
            Some(last) => {
                win.add(last, slot, -1);
                win.add(ts, slot, 1);
                false
            }
            None => {
                win.add(ts, slot, 1);
                self.shrink(win, slot);
                true
            }
        }
    }

    fn shrink(&mut self, win: &mut Windowed, slot: usize) {
        if let Seen::Inline(v) = &mut self.seen {
            if v.len() > INLINE_MAX {
                self.seen = Seen::Map(v.drain(..).collect());
            }
            return;
        }
        let Seen::Map(m) = &mut self.seen else { return };
        if m.len() <= Self::CAP {
            return;
        }
        // Keys whose last bucket has left every window: their unit is already gone.
        let horizon = win.watermark().unwrap_or(i64::MIN).saturating_sub(31 * DAY);
        m.retain(|_, last| *last > horizon);
        while m.len() > Self::CAP && self.level < 31 {
            self.level += 1;
            let mask = (1u32 << self.level) - 1;
            m.retain(|k, last| {
                let keep = mix(*k) & mask == 0;
                if !keep {
                    win.add(*last, slot, -1);
                }
                keep
            });
        }
    }
}

/// A small set of keys with their last-seen times, saturating at `CAP` keys (then the
/// stalest key is replaced, so the set follows current behaviour).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentSet<const CAP: usize = 64> {
    items: SmallVec<[(u32, i64); 4]>,
}

impl<const CAP: usize> RecentSet<CAP> {
    pub const CAP: usize = CAP;

    /// Records `key` at `ts`; returns whether the set grew (a new key below the cap). A
    /// new key in a full set replaces the stalest and returns `false`: the count is
    /// saturated and did not change.
    pub fn insert(&mut self, key: u32, ts: i64) -> bool {
        if let Some((_, last)) = self.items.iter_mut().find(|(k, _)| *k == key) {
            *last = (*last).max(ts);
            return false;
        }
        if self.items.len() < Self::CAP {
            self.items.push((key, ts));
            return true;
        }
        if let Some(stalest) = self.items.iter_mut().min_by_key(|(_, last)| *last) {
            *stalest = (key, ts);
        }
        false
    }

    /// Keys seen after `since`.
    pub fn count_since(&self, since: i64) -> usize {
        self.items.iter().filter(|(_, last)| *last > since).count()
    }

    /// Keys seen after `since`, excluding `except`.
    pub fn count_since_except(&self, since: i64, except: Option<u32>) -> usize {
        self.items
            .iter()
            .filter(|(k, last)| *last > since && Some(*k) != except)
            .count()
    }

    pub fn keys(&self) -> impl Iterator<Item = u32> + '_ {
        self.items.iter().map(|(k, _)| *k)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::{Window, HOUR};

    const T0: i64 = 1_772_000_000_000_000;

    #[test]
    fn repeat_sightings_count_once_and_move_with_time() {
        let mut w = Windowed::default();
        let mut d = DistinctSet::default();
        assert!(d.observe(&mut w, 0, 7, T0));
        assert!(!d.observe(&mut w, 0, 7, T0 + 10));
        assert!(d.observe(&mut w, 0, 8, T0 + 20));
        assert_eq!(w.totals()[Window::H1.index()][0], 2);
        // Key 7 again two hours later: one key in the last hour, two in 24 h.
        d.observe(&mut w, 0, 7, T0 + 2 * HOUR);
        let t = w.totals();
        assert_eq!((t[0][0], t[1][0]), (1, 2));
    }

    #[test]
    fn large_sets_are_sampled_and_stay_bounded() {
        let mut w = Windowed::default();
        let mut d = DistinctSet::default();
        let n = 20_000u32;
        for k in 0..n {
            d.observe(&mut w, 0, k, T0 + i64::from(k));
        }
        assert!(d.len() <= DistinctSet::CAP);
        let est = w.totals()[Window::D30.index()][0] * d.scale();
        let err = (est - i64::from(n)).abs() as f64 / f64::from(n);
        assert!(d.scale() > 1 && err < 0.15, "estimate {est} for {n}");
    }

    #[test]
    fn recent_set_saturates_and_counts_by_time() {
        let mut s = RecentSet::<64>::default();
        for k in 0..100 {
            s.insert(k, i64::from(k));
        }
        assert_eq!(s.len(), 64);
        assert_eq!(s.count_since(89), 10);
        assert_eq!(s.count_since_except(89, Some(99)), 9);
    }
}
