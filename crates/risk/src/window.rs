//! Sliding-window aggregates over event time for the four windows every feature uses:
//! 1 hour, 24 hours, 7 days and 30 days.
//!
//! Why this shape: a district has hundreds of thousands of accounts and SIMs, most of them
//! quiet and a few very busy, and the engine must absorb ≥ 500,000 events/s. So an entity's
//! aggregates live in three *sparse* tiers of time buckets — minute buckets for the last
//! hour, hour buckets for the last 7 days, day buckets for the last 30 days — and a bucket
//! exists only where events fell. A quiet entity costs one bucket per event; a busy one at
//! most 60 + 168 + 30 buckets. A bucket leaving the 1 h window is merged into its hour
//! bucket, an hour bucket leaving the 7 d window into its day bucket, so every bucket is
//! moved O(1) times and an update is O(1) amortised. Running totals per window are kept, so
//! reading the totals at the entity's latest event is O(1).
//!
//! Most entities are quiet and their buckets are cold memory by the time their next event
//! comes. So each window also keeps the earliest time any of its buckets can next migrate
//! or expire (`due`): an event or a read before it does not look at the tiers' oldest
//! buckets at all. It only ever errs early, which costs a look and changes no total.
//!
//! # Precision
//!
//! A bucket counts in a window while any part of it overlaps the window. The total for a
//! window of length `W` at time `now` therefore covers every event in `(now − W, now]` and
//! possibly events up to one *precision* older, i.e. it lies between the exact totals for
//! `W` and for `W + precision`:
//!
//! | window | precision (bucket at its far edge) |
//! |---|---|
//! | 1 h | 1 minute |
//! | 24 h | 1 hour |
//! | 7 d | 1 hour |
//! | 30 d | 1 day |
//!
//! Buckets are aligned to UTC multiples of their length (a day bucket is a UTC day; the
//! precision is a day either way).
//!
//! # Late events
//!
//! Events are expected in event-time order but may be late. A late event is added to the
//! bucket its timestamp falls in, in whichever tier now holds that time, so it is exact to
//! the same precision. An event older than the 30-day tier (its day bucket already left the
//! 30 d window at the time it arrives) is dropped: it could not count in any window any more.
//! A late event never moves the watermark back.
//!
//! # Values
//!
//! Each bucket carries [`SLOTS`] signed 64-bit slots; what a slot means (a count, a sum of
//! fen, a distinct count kept by [`crate::distinct::DistinctSet`]) is up to the owner.
//! One fixed width keeps every bucket the same size and serde-serialisable.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Microseconds per minute, hour and day: the store's time unit is the microsecond.
pub const MINUTE: i64 = 60_000_000;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// Number of value slots per bucket.
pub const SLOTS: usize = 11;

/// One value per slot.
pub type Slots = [i64; SLOTS];

/// The sliding windows, shortest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Window {
    H1,
    H24,
    D7,
    D30,
}

impl Window {
    pub const ALL: [Window; 4] = [Window::H1, Window::H24, Window::D7, Window::D30];

    /// The window's length in microseconds.
    pub const fn len_micros(self) -> i64 {
        match self {
            Window::H1 => HOUR,
            Window::H24 => DAY,
            Window::D7 => 7 * DAY,
            Window::D30 => 30 * DAY,
        }
    }

    /// How much older than the window's length an event may be and still count (see the
    /// module docs).
    pub const fn precision_micros(self) -> i64 {
        match self {
            Window::H1 => MINUTE,
            Window::H24 | Window::D7 => HOUR,
            Window::D30 => DAY,
        }
    }

    /// The suffix feature names carry: `1h`, `24h`, `7d`, `30d`.
    pub const fn suffix(self) -> &'static str {
        match self {
            Window::H1 => "1h",
            Window::H24 => "24h",
            Window::D7 => "7d",
            Window::D30 => "30d",
        }
    }

    pub const fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Bucket {
    start: i64,
    v: Slots,
}

fn floor_to(ts: i64, granularity: i64) -> i64 {
    ts.div_euclid(granularity) * granularity
}

fn add_slots(into: &mut Slots, from: &Slots) {
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

fn sub_slots(into: &mut Slots, from: &Slots) {
    for (a, b) in into.iter_mut().zip(from) {
        *a -= b;
    }
}

/// The bucket starting at `start`, inserted in order if it does not exist.
fn upsert(tier: &mut VecDeque<Bucket>, start: i64) -> &mut Bucket {
    let (pos, _) = upsert_pos(tier, start);
    &mut tier[pos]
}

/// The index of the bucket starting at `start`, inserting it in order if it does not exist;
/// and whether it was inserted.
fn upsert_pos(tier: &mut VecDeque<Bucket>, start: i64) -> (usize, bool) {
    // Almost always the newest bucket: check it before searching.
    if let Some(back) = tier.back() {
        if back.start == start {
            return (tier.len() - 1, false);
        }
        if back.start < start {
            tier.push_back(Bucket {
                start,
                v: [0; SLOTS],
            });
            return (tier.len() - 1, true);
        }
    }
    let pos = tier.partition_point(|b| b.start < start);
    if tier.get(pos).is_some_and(|b| b.start == start) {
        return (pos, false);
    }
    tier.insert(
        pos,
        Bucket {
            start,
            v: [0; SLOTS],
        },
    );
    (pos, true)
}

/// Merges a whole bucket into the back of a tier (buckets arrive in time order there).
fn merge_back(tier: &mut VecDeque<Bucket>, start: i64, v: &Slots) {
    match tier.back_mut() {
        Some(back) if back.start == start => add_slots(&mut back.v, v),
        _ => tier.push_back(Bucket { start, v: *v }),
    }
}

/// The aggregates of one entity over the four windows. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Windowed {
    /// The latest event time seen: the time the running totals are for.
    watermark: i64,
    minutes: VecDeque<Bucket>,
    hours: VecDeque<Bucket>,
    days: VecDeque<Bucket>,
    /// Hour buckets popped so far, so that `cursor24` can be an absolute position that
    /// survives pops at the front.
    hours_popped: u64,
    /// Absolute position of the first hour bucket still inside the 24 h window.
    cursor24: u64,
    sum_minutes: Slots,
    sum_hours24: Slots,
    sum_hours: Slots,
    sum_days: Slots,
    /// No bucket migrates or expires before this time (it may be earlier than needed,
    /// never later), so an event before it skips [`Windowed::advance`] and never reads
    /// the tiers' fronts: for a quiet entity those are cold memory.
    #[serde(default = "never_due")]
    due: i64,
}

fn never_due() -> i64 {
    i64::MIN
}

impl Default for Windowed {
    fn default() -> Self {
        Self {
            watermark: i64::MIN,
            minutes: VecDeque::new(),
            hours: VecDeque::new(),
            days: VecDeque::new(),
            hours_popped: 0,
            cursor24: 0,
            sum_minutes: [0; SLOTS],
            sum_hours24: [0; SLOTS],
            sum_hours: [0; SLOTS],
            sum_days: [0; SLOTS],
            due: i64::MAX,
        }
    }
}

impl Windowed {
    /// The latest event time applied, or `None` before the first.
    pub fn watermark(&self) -> Option<i64> {
        (self.watermark != i64::MIN).then_some(self.watermark)
    }

    /// Number of buckets held (for memory accounting and tests).
    pub fn buckets(&self) -> usize {
        self.minutes.len() + self.hours.len() + self.days.len()
    }

    /// Starts loading the buckets the next event will most likely touch: the newest minute
    /// bucket (where it adds) and the oldest (what it may migrate).
    pub(crate) fn prefetch(&self) {
        if let Some(b) = self.minutes.back() {
            crate::store::prefetch(b);
        }
        if let Some(b) = self.minutes.front() {
            crate::store::prefetch(b);
        }
        if self.due <= self.watermark.saturating_add(DAY) {
            if let Some(b) = self.hours.front() {
                crate::store::prefetch(b);
            }
        }
    }

    /// Adds `delta` to `slot` at event time `ts`. Panics only if `slot >= SLOTS`, which is a
    /// programming error in the owner's slot layout.
    pub fn add(&mut self, ts: i64, slot: usize, delta: i64) {
        self.add_many(ts, &[(slot, delta)]);
    }

    /// Adds several `(slot, delta)` pairs at one event time: one bucket lookup for all.
    pub fn add_many(&mut self, ts: i64, deltas: &[(usize, i64)]) {
        if ts > self.watermark {
            if ts >= self.due {
                self.advance(ts);
            } else {
                self.watermark = ts;
            }
        }
        let w = self.watermark;
        if floor_to(ts, MINUTE) + MINUTE > w - HOUR {
            let start = floor_to(ts, MINUTE);
            self.due = self.due.min(start + MINUTE + HOUR);
            let b = upsert(&mut self.minutes, start);
            for &(slot, delta) in deltas {
                b.v[slot] += delta;
                self.sum_minutes[slot] += delta;
            }
        } else if floor_to(ts, HOUR) + HOUR > w - 7 * DAY {
            let start = floor_to(ts, HOUR);
            // Leaving 24 h comes before leaving 7 d: the earlier time is a safe bound.
            self.due = self.due.min(start + HOUR + DAY);
            let in24 = start + HOUR > w - DAY;
            let (pos, inserted) = upsert_pos(&mut self.hours, start);
            for &(slot, delta) in deltas {
                self.hours[pos].v[slot] += delta;
                self.sum_hours[slot] += delta;
                if in24 {
                    self.sum_hours24[slot] += delta;
                }
            }
            if !in24 && inserted && self.hours_popped + pos as u64 <= self.cursor24 {
                // A bucket outside 24 h went in before the cursor's bucket: keep the cursor
                // on the same bucket.
                self.cursor24 += 1;
            }
        } else if floor_to(ts, DAY) + DAY > w - 30 * DAY {
            let start = floor_to(ts, DAY);
            self.due = self.due.min(start + DAY + 30 * DAY);
            let b = upsert(&mut self.days, start);
            for &(slot, delta) in deltas {
                b.v[slot] += delta;
                self.sum_days[slot] += delta;
            }
        }
        // Else: too late for every window (see "Late events").
    }

    /// Moves the watermark to `now`, migrating and evicting buckets.
    fn advance(&mut self, now: i64) {
        self.watermark = now;
        // Minute buckets leaving 1 h become part of their hour bucket.
        while let Some(b) = self.minutes.front() {
            if b.start + MINUTE > now - HOUR {
                break;
            }
            let Some(b) = self.minutes.pop_front() else {
                break;
            };
            sub_slots(&mut self.sum_minutes, &b.v);
            let start = floor_to(b.start, HOUR);
            let back_before_cursor = match self.hours.back() {
                Some(back) if back.start == start => {
                    self.hours_popped + (self.hours.len() as u64 - 1) < self.cursor24
                }
                _ => false,
            };
            merge_back(&mut self.hours, start, &b.v);
            add_slots(&mut self.sum_hours, &b.v);
            if !back_before_cursor {
                add_slots(&mut self.sum_hours24, &b.v);
            }
        }
        // Hour buckets leaving 24 h.
        let end = self.hours_popped + self.hours.len() as u64;
        while self.cursor24 < end {
            let b = &self.hours[(self.cursor24 - self.hours_popped) as usize];
            if b.start + HOUR > now - DAY {
                break;
            }
            sub_slots(&mut self.sum_hours24, &b.v);
            self.cursor24 += 1;
        }
        // Hour buckets leaving 7 d become part of their day bucket.
        while let Some(b) = self.hours.front() {
            if b.start + HOUR > now - 7 * DAY {
                break;
            }
            let Some(b) = self.hours.pop_front() else {
                break;
            };
            self.hours_popped += 1;
            sub_slots(&mut self.sum_hours, &b.v);
            merge_back(&mut self.days, floor_to(b.start, DAY), &b.v);
            add_slots(&mut self.sum_days, &b.v);
        }
        // Day buckets leaving 30 d are gone.
        while let Some(b) = self.days.front() {
            if b.start + DAY > now - 30 * DAY {
                break;
            }
            if let Some(b) = self.days.pop_front() {
                sub_slots(&mut self.sum_days, &b.v);
            }
        }
        // The earliest time any remaining bucket moves: the conditions above, solved for
        // `now`.
        let mut due = i64::MAX;
        if let Some(b) = self.minutes.front() {
            due = due.min(b.start + MINUTE + HOUR);
        }
        if let Some(b) = self.hours.get((self.cursor24 - self.hours_popped) as usize) {
            due = due.min(b.start + HOUR + DAY);
        }
        if let Some(b) = self.hours.front() {
            due = due.min(b.start + HOUR + 7 * DAY);
        }
        if let Some(b) = self.days.front() {
            due = due.min(b.start + DAY + 30 * DAY);
        }
        self.due = due;
    }

    /// The totals of every window at the watermark.
    pub fn totals(&self) -> [Slots; 4] {
        let mut h24 = self.sum_minutes;
        add_slots(&mut h24, &self.sum_hours24);
        let mut d7 = self.sum_minutes;
        add_slots(&mut d7, &self.sum_hours);
        let mut d30 = d7;
        add_slots(&mut d30, &self.sum_days);
        [self.sum_minutes, h24, d7, d30]
    }

    /// The totals of every window as seen at `now`, without changing the state, so that a
    /// quiet entity's counts decay when read later. At or before the watermark this is
    /// [`Windowed::totals`]. Costs O(buckets that expired since the watermark).
    ///
    /// Buckets are tested with their own length here (a minute bucket not yet merged into
    /// its hour), so the result can differ from what applying an event at `now` would give,
    /// but only within the documented precision.
    pub fn totals_at(&self, now: i64) -> [Slots; 4] {
        let mut t = self.totals();
        if now <= self.watermark || now < self.due {
            // Nothing has left any window since the watermark.
            return t;
        }
        let minutes = || self.minutes.iter().map(|b| (b, MINUTE));
        let hours = || self.hours.iter().map(|b| (b, HOUR));
        let hours24 = self
            .hours
            .range((self.cursor24 - self.hours_popped) as usize..)
            .map(|b| (b, HOUR));
        let days = self.days.iter().map(|b| (b, DAY));
        let cut = |w: Window| now - w.len_micros();
        expire(&mut t[0], minutes(), cut(Window::H1));
        expire(&mut t[1], hours24.chain(minutes()), cut(Window::H24));
        expire(&mut t[2], hours().chain(minutes()), cut(Window::D7));
        expire(
            &mut t[3],
            days.chain(hours()).chain(minutes()),
            cut(Window::D30),
        );
        t
    }
}

/// Subtracts the buckets (oldest first) that end at or before `cut`, stopping at the first
/// that does not: later ones are newer, to within one bucket of the coarser tier.
fn expire<'a>(t: &mut Slots, buckets: impl Iterator<Item = (&'a Bucket, i64)>, cut: i64) {
    for (b, len) in buckets {
        if b.start + len > cut {
            break;
        }
        sub_slots(t, &b.v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: i64 = 1_772_000_000_000_000;

    #[test]
    fn counts_decay_through_the_tiers() {
        let mut w = Windowed::default();
        w.add(T0, 0, 1);
        w.add(T0 + 30 * MINUTE, 0, 1);
        assert_eq!(w.totals()[0][0], 2);
        w.add(T0 + 2 * HOUR, 1, 5);
        let t = w.totals();
        assert_eq!((t[0][0], t[1][0], t[3][0]), (0, 2, 2));
        assert_eq!(t[0][1], 5);
        w.add(T0 + 8 * DAY, 1, 1);
        let t = w.totals();
        assert_eq!((t[2][0], t[3][0], t[3][1]), (0, 2, 6));
        w.add(T0 + 40 * DAY, 1, 1);
        assert_eq!(w.totals()[3], {
            let mut s = [0; SLOTS];
            s[1] = 1;
            s
        });
        assert!(w.buckets() <= 2);
    }

    #[test]
    fn late_event_lands_in_its_bucket_and_too_late_is_dropped() {
        let mut w = Windowed::default();
        w.add(T0 + 10 * DAY, 0, 1);
        w.add(T0 + 10 * DAY - 3 * HOUR, 0, 1); // late, in the 24 h window
        w.add(T0 + 10 * DAY - 3 * DAY, 0, 1); // late, in 7 d only
        w.add(T0 + 10 * DAY - 31 * DAY, 0, 1); // older than 30 d: dropped
        let t = w.totals();
        assert_eq!([t[0][0], t[1][0], t[2][0], t[3][0]], [1, 2, 3, 3]);
        assert_eq!(w.watermark(), Some(T0 + 10 * DAY));
    }

    #[test]
    fn reading_later_decays_without_mutation() {
        let mut w = Windowed::default();
        w.add(T0, 0, 3);
        let before = w.clone();
        let t = w.totals_at(T0 + 2 * DAY);
        assert_eq!([t[0][0], t[1][0], t[2][0], t[3][0]], [0, 0, 3, 3]);
        assert_eq!(w, before);
    }

    /// Exact totals over `(now − len, now]` from the raw events.
    fn brute(events: &[(i64, usize, i64)], now: i64, len: i64, slot: usize) -> i64 {
        events
            .iter()
            .filter(|(ts, s, _)| *s == slot && *ts > now - len && *ts <= now)
            .map(|(_, _, v)| v)
            .sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Skipping `advance` before `due`, and `totals_at`'s shortcut, change nothing: the
        /// same totals as a window that advances on every later event (the original rule).
        #[test]
        fn due_is_only_a_shortcut(
            steps in proptest::collection::vec((prop_oneof![3 => 0i64..10 * MINUTE, 1 => 0i64..2 * DAY], prop_oneof![4 => Just(0i64), 1 => 0i64..3 * DAY], 0usize..3), 1..300),
            reads in proptest::collection::vec(0i64..40 * DAY, 1..4),
        ) {
            let (mut fast, mut always) = (Windowed::default(), Windowed::default());
            let mut t = T0;
            for (gap, late, slot) in steps {
                t += gap;
                fast.add(t - late, slot, 1);
                always.due = i64::MIN;
                always.add(t - late, slot, 1);
                prop_assert_eq!(fast.totals(), always.totals());
                for &r in &reads {
                    always.due = i64::MIN;
                    prop_assert_eq!(fast.totals_at(t + r), always.totals_at(t + r));
                }
            }
        }

        /// Every window total lies between the exact totals for W and W + precision, with
        /// events arriving slightly out of order and with reads after the last event.
        #[test]
        fn matches_brute_force_within_precision(
            steps in proptest::collection::vec((0i64..6 * HOUR, prop_oneof![4 => 0i64..20 * MINUTE, 1 => 0i64..10 * DAY], 0usize..3, 1i64..1000), 1..300),
            read_after in proptest::collection::vec(0i64..40 * DAY, 1..4),
        ) {
            let mut w = Windowed::default();
            let mut events = Vec::new();
            let mut t = T0;
            let mut max_ts = i64::MIN;
            for (gap, late, slot, v) in steps {
                t += gap;
                let ts = t - late;
                w.add(ts, slot, v);
                max_ts = max_ts.max(ts);
                // A late event older than the 30-day tier is dropped; so is it here.
                if floor_to(ts, DAY) + DAY > max_ts - 30 * DAY {
                    events.push((ts, slot, v));
                }
                let totals = w.totals();
                for win in Window::ALL {
                    for (s, &got) in totals[win.index()].iter().enumerate().take(3) {
                        let lo = brute(&events, max_ts, win.len_micros(), s);
                        let hi = brute(&events, max_ts, win.len_micros() + win.precision_micros(), s);
                        prop_assert!(lo <= got && got <= hi, "{win:?} slot {s}: {lo} <= {got} <= {hi}");
                    }
                }
            }
            for extra in read_after {
                let now = max_ts + extra;
                let totals = w.totals_at(now);
                for win in Window::ALL {
                    for (s, &got) in totals[win.index()].iter().enumerate().take(3) {
                        let lo = brute(&events, now, win.len_micros(), s);
                        let hi = brute(&events, now, win.len_micros() + win.precision_micros(), s);
                        prop_assert!(lo <= got && got <= hi, "read {win:?} slot {s}: {lo} <= {got} <= {hi}");
                    }
                }
            }
        }
    }
}
