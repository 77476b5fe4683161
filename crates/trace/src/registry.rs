//! One freeze registry per account, across every authority (冻结登记, M6), and the legal
//! periods of stop-payments and freezes as configurable rules (LEGAL.md).
//!
//! The registry is a pure function of the measures registered on an account and its balance:
//! measures are served in registration order, each holding what it asked for out of what the
//! earlier ones left free; the rest of its request queues (轮候冻结). So active measures never
//! exceed the balance, and when one lifts or shrinks the queued ones behind it take effect,
//! earliest registered first (LEGAL.md's default where the criminal rule is open). The same
//! function answers "who holds what, at any moment"; [`timeline`] gives since when.

use chrono::{Days, Months};
use fanzha_core::time::Instant;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A measure's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Emergency stop-payment (紧急止付): short, no case needed.
    Stop,
    /// Freeze (冻结): only under a filed case.
    Freeze,
}

/// The legal periods, each a parameter with LEGAL.md's value as its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Periods {
    /// A stop-payment lasts this long from when it takes effect.
    pub stop_hours: u32,
    /// Stop-payments on one account, in all.
    pub stops_per_account: u32,
    /// A freeze's term, and a major case's.
    pub freeze_months: u32,
    pub major_freeze_months: u32,
    /// A renewal is due this many days before expiry.
    pub renew_before_days: u32,
    /// Frozen money must be screened (甄别) within this many months, a whole-account freeze
    /// within fewer.
    pub screening_months: u32,
    pub whole_account_screening_months: u32,
    /// Money found unrelated to the case is released within this many days.
    pub release_days: u32,
}

impl Default for Periods {
    fn default() -> Periods {
        Periods {
            stop_hours: 48,
            stops_per_account: 2,
            freeze_months: 6,
            major_freeze_months: 12,
            renew_before_days: 10,
            screening_months: 3,
            whole_account_screening_months: 1,
            release_days: 3,
        }
    }
}

const HOUR: i64 = 3_600_000_000;

/// Calendar arithmetic at Asia/Shanghai (a term of "6 months" from 31 August ends on the
/// last day of February, as chrono's month addition clamps).
fn add(at: i64, months: u32, days: u64, back: bool) -> i64 {
    let Some(t) = Instant::from_micros(at) else {
        return at;
    };
    let local = t.shanghai();
    let moved = if back {
        local
            .checked_sub_months(Months::new(months))
            .and_then(|d| d.checked_sub_days(Days::new(days)))
    } else {
        local
            .checked_add_months(Months::new(months))
            .and_then(|d| d.checked_add_days(Days::new(days)))
    };
    moved.map_or(at, |d| d.timestamp_micros())
}

impl Periods {
    /// When a measure taking effect at `from` lapses unless renewed.
    pub fn expiry(&self, kind: Kind, from: i64, major: bool) -> i64 {
        match kind {
            Kind::Stop => from.saturating_add(i64::from(self.stop_hours) * HOUR),
            Kind::Freeze => {
                let m = if major {
                    self.major_freeze_months
                } else {
                    self.freeze_months
                };
                add(from, m, 0, false)
            }
        }
    }

    /// When the renewal of a freeze expiring at `expiry` is due.
    pub fn renewal_due(&self, expiry: i64) -> i64 {
        add(expiry, 0, u64::from(self.renew_before_days), true)
    }

    /// By when a freeze from `from` must be screened.
    pub fn screening_due(&self, from: i64, whole_account: bool) -> i64 {
        let m = if whole_account {
            self.whole_account_screening_months
        } else {
            self.screening_months
        };
        add(from, m, 0, false)
    }

    /// By when money found unrelated, at `found`, must be released.
    pub fn release_due(&self, found: i64) -> i64 {
        add(found, 0, u64::from(self.release_days), false)
    }

    /// Whether one more stop-payment may be placed on an account that has had `stops`.
    pub fn may_stop(&self, stops: u32) -> Result<(), Refused> {
        if stops >= self.stops_per_account {
            Err(Refused::StopsUsed {
                max: self.stops_per_account,
            })
        } else {
            Ok(())
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refused {
    #[error("this account has had its {max} stop-payments already; file the case and freeze")]
    StopsUsed { max: u32 },
    #[error("a freeze needs a filed case (立案) first")]
    NoCase,
}

/// One measure on the account, by any authority (ours or `external_freezes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    pub id: String,
    pub authority: String,
    pub kind: Kind,
    /// What it asked for, in fen.
    pub amount_fen: i64,
    pub registered_at: i64,
    /// Lapses then unless renewed (renewals move it).
    pub expires_at: Option<i64>,
    /// Partial releases: (when, fen released).
    pub releases: Vec<(i64, i64)>,
    /// Lifted in full.
    pub lifted_at: Option<i64>,
    /// Freezes the whole account rather than an amount (screening is due sooner).
    pub whole_account: bool,
    /// When the frozen money was screened and a disposition recorded.
    pub disposed_at: Option<i64>,
}

impl Measure {
    /// In force at `at`: registered, not lifted, not lapsed.
    pub fn live(&self, at: i64) -> bool {
        self.registered_at <= at
            && self.lifted_at.is_none_or(|l| at < l)
            && self.expires_at.is_none_or(|e| at < e)
    }

    /// What it still asks for at `at`, after partial releases.
    pub fn requested(&self, at: i64) -> i64 {
        let released: i64 = self
            .releases
            .iter()
            .filter(|&&(t, _)| t <= at)
            .map(|&(_, a)| a)
            .sum();
        (self.amount_fen - released).max(0)
    }
}

/// Other authorities' rows of one account (`external_freezes`, in registration order) as
/// measures. `stop`, `freeze` and `queued` open a measure (a queued request is a freeze the
/// registry queues itself); `renew` moves the expiry of the authority's latest live freeze;
/// `release` lifts the authority's latest live measure, in part when it names less than
/// that measure still asks for. A row's own expiry is kept; where it has none, the
/// default term applies. Rows that match nothing are returned apart, not guessed at.
pub fn from_external(
    rows: &[fanzha_store::ExternalFreeze],
    periods: &Periods,
) -> (Vec<Measure>, Vec<usize>) {
    let mut out: Vec<Measure> = Vec::new();
    let mut unmatched = Vec::new();
    for (n, r) in rows.iter().enumerate() {
        let at = r.registered_at;
        match r.measure.as_str() {
            "stop" | "freeze" | "queued" => {
                let kind = if r.measure == "stop" {
                    Kind::Stop
                } else {
                    Kind::Freeze
                };
                out.push(Measure {
                    id: r
                        .document_no
                        .clone()
                        .unwrap_or_else(|| format!("{}@{at}", r.authority)),
                    authority: r.authority.clone(),
                    kind,
                    amount_fen: r.amount_fen.unwrap_or(0),
                    registered_at: at,
                    expires_at: Some(
                        r.expires_at
                            .unwrap_or_else(|| periods.expiry(kind, at, false)),
                    ),
                    releases: Vec::new(),
                    lifted_at: None,
                    whole_account: false,
                    disposed_at: None,
                });
            }
            "renew" => match latest_live(&mut out, &r.authority, &[Kind::Freeze], at) {
                Some(m) => {
                    let from = m.expires_at.unwrap_or(at);
                    m.expires_at = Some(
                        r.expires_at
                            .unwrap_or_else(|| periods.expiry(Kind::Freeze, from, false)),
                    );
                }
                None => unmatched.push(n),
            },
            "release" => match latest_live(&mut out, &r.authority, &[Kind::Freeze, Kind::Stop], at)
            {
                Some(m) => match r.amount_fen {
                    Some(a) if a < m.requested(at) => m.releases.push((at, a)),
                    _ => m.lifted_at = Some(at),
                },
                None => unmatched.push(n),
            },
            _ => unmatched.push(n),
        }
    }
    (out, unmatched)
}

/// The name the district's own measures carry in the registry.
pub const OWN: &str = "本辖区 (this district)";

/// The district's own orders as registry rows, to join other authorities' in
/// [`from_external`]: an executed (or partly executed) stop, freeze or renewal holds what the
/// bank holds from when it took effect; a release order lifts or shrinks; a lifted order is
/// a release of itself.
pub fn own_rows(orders: &[fanzha_store::Order]) -> Vec<fanzha_store::ExternalFreeze> {
    let mut rows = Vec::new();
    for o in orders {
        let (Some(at), Some(held)) = (o.effective_at, o.held_fen) else {
            continue;
        };
        let row = |measure: &str, amount: Option<i64>, at: i64| fanzha_store::ExternalFreeze {
            account_id: o.new.account_id.clone(),
            authority: OWN.to_owned(),
            measure: measure.to_owned(),
            amount_fen: amount,
            registered_at: at,
            expires_at: o.expires_at,
            document_no: o.document_no.clone(),
        };
        // An executed return took that money off the account: it releases as much of
        // the freeze it was paid from.
        let measure = if o.new.kind == "return" {
            "release"
        } else {
            o.new.kind.as_str()
        };
        rows.push(row(measure, Some(held), at));
        if o.status == "lifted" {
            rows.push(row("release", None, o.updated_at));
        }
    }
    rows
}

/// The authority's most recent measure of these kinds in force at `at`.
fn latest_live<'a>(
    measures: &'a mut [Measure],
    authority: &str,
    kinds: &[Kind],
    at: i64,
) -> Option<&'a mut Measure> {
    measures
        .iter_mut()
        .rev()
        .find(|m| m.authority == authority && kinds.contains(&m.kind) && m.live(at))
}

/// One measure's standing at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standing {
    /// Index into the measures given.
    pub measure: usize,
    /// Held now (冻结 in effect).
    pub active_fen: i64,
    /// Waiting behind earlier measures (轮候).
    pub queued_fen: i64,
}

/// Who holds what on the account at `at`, given its balance then: live measures in
/// registration order (ties by id), each served from what the earlier left free.
pub fn standing(measures: &[Measure], balance_fen: i64, at: i64) -> Vec<Standing> {
    let mut order: Vec<usize> = (0..measures.len())
        .filter(|&k| measures[k].live(at))
        .collect();
    order.sort_by(|&a, &b| {
        (measures[a].registered_at, &measures[a].id)
            .cmp(&(measures[b].registered_at, &measures[b].id))
    });
    let mut free = balance_fen.max(0);
    order
        .into_iter()
        .map(|k| {
            let want = measures[k].requested(at);
            let active = want.min(free);
            free -= active;
            Standing {
                measure: k,
                active_fen: active,
                queued_fen: want - active,
            }
        })
        .collect()
}

/// A measure's standing over a stretch of time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub measure: usize,
    pub active_fen: i64,
    pub queued_fen: i64,
    pub since: i64,
    /// When it changed next (`None`: still so at the last moment asked about).
    pub until: Option<i64>,
}

/// Every measure's standing from its registration to `end`, as periods of constant
/// (active, queued): recomputed at every moment something changes — a registration, a
/// release, a lift, a lapse, or a change of balance (`balances`: (from when, fen), in
/// time order; the balance before the first is 0).
pub fn timeline(measures: &[Measure], balances: &[(i64, i64)], end: i64) -> Vec<Period> {
    let mut moments: Vec<i64> = balances.iter().map(|&(t, _)| t).collect();
    for m in measures {
        moments.push(m.registered_at);
        moments.extend(m.releases.iter().map(|&(t, _)| t));
        moments.extend(m.lifted_at);
        moments.extend(m.expires_at);
    }
    moments.retain(|&t| t <= end);
    moments.sort_unstable();
    moments.dedup();
    let mut open: Vec<Option<Period>> = vec![None; measures.len()];
    let mut out = Vec::new();
    for &t in &moments {
        let bal = balances
            .iter()
            .take_while(|&&(from, _)| from <= t)
            .last()
            .map_or(0, |&(_, b)| b);
        let now = standing(measures, bal, t);
        for (k, slot) in open.iter_mut().enumerate() {
            let cur = now.iter().find(|s| s.measure == k);
            let same = match (slot.as_ref(), cur) {
                (Some(p), Some(s)) => p.active_fen == s.active_fen && p.queued_fen == s.queued_fen,
                (None, None) => true,
                _ => false,
            };
            if same {
                continue;
            }
            if let Some(mut p) = slot.take() {
                p.until = Some(t);
                out.push(p);
            }
            *slot = cur.map(|s| Period {
                measure: k,
                active_fen: s.active_fen,
                queued_fen: s.queued_fen,
                since: t,
                until: None,
            });
        }
    }
    out.extend(open.into_iter().flatten());
    out.sort_by_key(|p| (p.measure, p.since));
    out
}

/// A freeze past its screening deadline with no disposition (久冻不决) at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overdue {
    pub measure: usize,
    pub due: i64,
}

pub fn undisposed(measures: &[Measure], periods: &Periods, at: i64) -> Vec<Overdue> {
    measures
        .iter()
        .enumerate()
        .filter(|(_, m)| m.kind == Kind::Freeze && m.live(at) && m.disposed_at.is_none())
        .filter_map(|(k, m)| {
            let due = periods.screening_due(m.registered_at, m.whole_account);
            (due <= at).then_some(Overdue { measure: k, due })
        })
        .collect()
}

/// Frozen beyond what tracing shows is the victims' (the traced holdings): the excess, to be
/// released by `due`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverFreeze {
    pub frozen_fen: i64,
    pub traced_fen: i64,
    pub release_fen: i64,
    pub due: i64,
}

/// Our own measures' active total against the traced holdings on the account, at `at`.
pub fn over_freezing(
    active_fen: i64,
    traced_fen: i64,
    periods: &Periods,
    at: i64,
) -> Option<OverFreeze> {
    (active_fen > traced_fen).then(|| OverFreeze {
        frozen_fen: active_fen,
        traced_fen: traced_fen.max(0),
        release_fen: active_fen - traced_fen.max(0),
        due: periods.release_due(at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> i64 {
        Instant::parse_rfc3339(s).unwrap().micros()
    }

    fn freeze(id: &str, amount: i64, at: i64) -> Measure {
        Measure {
            id: id.into(),
            authority: "district".into(),
            kind: Kind::Freeze,
            amount_fen: amount,
            registered_at: at,
            expires_at: None,
            releases: Vec::new(),
            lifted_at: None,
            whole_account: false,
            disposed_at: None,
        }
    }

    #[test]
    fn periods_follow_the_calendar_at_shanghai() {
        let p = Periods::default();
        let from = t("2026-08-31T10:00:00+08:00");
        assert_eq!(
            p.expiry(Kind::Stop, from, false),
            t("2026-09-02T10:00:00+08:00")
        );
        assert_eq!(
            p.expiry(Kind::Freeze, from, false),
            t("2027-02-28T10:00:00+08:00")
        );
        assert_eq!(
            p.expiry(Kind::Freeze, from, true),
            t("2027-08-31T10:00:00+08:00")
        );
        assert_eq!(
            p.renewal_due(t("2027-02-28T10:00:00+08:00")),
            t("2027-02-18T10:00:00+08:00")
        );
        assert_eq!(p.screening_due(from, true), t("2026-09-30T10:00:00+08:00"));
        assert_eq!(p.release_due(from), t("2026-09-03T10:00:00+08:00"));
        assert_eq!(p.may_stop(1), Ok(()));
        assert_eq!(p.may_stop(2), Err(Refused::StopsUsed { max: 2 }));
    }

    #[test]
    fn the_part_beyond_the_free_balance_queues_and_takes_effect_when_the_first_lifts() {
        let mut a = freeze("a", 800, 10);
        let b = freeze("b", 500, 20);
        let c = freeze("c", 100, 30);
        let s = standing(&[a.clone(), b.clone(), c.clone()], 1_000, 40);
        let got: Vec<(i64, i64)> = s.iter().map(|x| (x.active_fen, x.queued_fen)).collect();
        assert_eq!(got, [(800, 0), (200, 300), (0, 100)]);
        // a releases 600 at 50: b is served in full, then c.
        a.releases.push((50, 600));
        let s = standing(&[a.clone(), b.clone(), c.clone()], 1_000, 60);
        let got: Vec<(i64, i64)> = s.iter().map(|x| (x.active_fen, x.queued_fen)).collect();
        assert_eq!(got, [(200, 0), (500, 0), (100, 0)]);
        // The timeline says since when.
        let periods = timeline(&[a, b, c], &[(0, 1_000)], 100);
        let b_periods: Vec<(i64, i64, i64, Option<i64>)> = periods
            .iter()
            .filter(|p| p.measure == 1)
            .map(|p| (p.active_fen, p.queued_fen, p.since, p.until))
            .collect();
        assert_eq!(b_periods, [(200, 300, 20, Some(50)), (500, 0, 50, None)]);
    }

    #[test]
    fn lapsed_and_lifted_measures_hold_nothing() {
        let mut a = freeze("a", 800, 10);
        a.expires_at = Some(100);
        let mut b = freeze("b", 800, 20);
        b.lifted_at = Some(50);
        let c = freeze("c", 800, 30);
        let s = standing(&[a, b, c], 1_000, 120);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].measure, s[0].active_fen), (2, 800));
    }

    #[test]
    fn long_freezes_without_disposition_and_over_freezing_are_reported() {
        let p = Periods::default();
        let from = t("2026-03-01T10:00:00+08:00");
        let mut whole = freeze("w", 1_000, from);
        whole.whole_account = true;
        let part = freeze("p", 1_000, from);
        let mut done = freeze("d", 1_000, from);
        done.disposed_at = Some(from + HOUR);
        let ms = [whole, part, done];
        let at = t("2026-04-15T00:00:00+08:00");
        let o = undisposed(&ms, &p, at);
        assert_eq!(
            o,
            [Overdue {
                measure: 0,
                due: t("2026-04-01T10:00:00+08:00")
            }]
        );
        let o = undisposed(&ms, &p, t("2026-06-02T00:00:00+08:00"));
        assert_eq!(o.iter().map(|x| x.measure).collect::<Vec<_>>(), [0, 1]);
        let over = over_freezing(5_000, 3_200, &p, at).unwrap();
        assert_eq!(
            (over.release_fen, over.due),
            (1_800, t("2026-04-18T00:00:00+08:00"))
        );
        assert_eq!(over_freezing(3_000, 3_200, &p, at), None);
    }

    #[test]
    fn other_authorities_rows_become_measures() {
        let row = |measure: &str, amount: Option<i64>, at: i64, exp: Option<i64>| {
            fanzha_store::ExternalFreeze {
                account_id: "A".into(),
                authority: "court".into(),
                measure: measure.into(),
                amount_fen: amount,
                registered_at: at,
                expires_at: exp,
                document_no: None,
            }
        };
        let p = Periods::default();
        let from = t("2026-03-01T10:00:00+08:00");
        let rows = [
            row("stop", Some(500), from, None),
            row("freeze", Some(900), from + HOUR, Some(from + 1_000 * HOUR)),
            row("renew", None, from + 900 * HOUR, None),
            row("release", Some(300), from + 950 * HOUR, None),
            row("cancel", None, from + 960 * HOUR, None),
        ];
        let (ms, unmatched) = from_external(&rows, &p);
        assert_eq!(ms.len(), 2);
        // The stop lapses after its default 48 h; the renewal moves the freeze's expiry on
        // by a term from its old one; the release names less than the freeze holds.
        assert_eq!(ms[0].expires_at, Some(from + 48 * HOUR));
        assert_eq!(
            ms[1].expires_at,
            Some(p.expiry(Kind::Freeze, from + 1_000 * HOUR, false))
        );
        assert_eq!(ms[1].releases, [(from + 950 * HOUR, 300)]);
        assert_eq!(ms[1].requested(from + 960 * HOUR), 600);
        assert_eq!(unmatched, [4], "an unknown word is set apart");
        // A release with no amount lifts in full; one with nothing live to lift is set apart.
        let rows = [
            row("freeze", Some(900), from, None),
            row("release", None, from + HOUR, None),
            row("release", None, from + 2 * HOUR, None),
        ];
        let (ms, unmatched) = from_external(&rows, &p);
        assert_eq!(ms[0].lifted_at, Some(from + HOUR));
        assert_eq!(unmatched, [2]);
    }

    proptest! {
        #[test]
        fn active_never_exceeds_the_balance_and_queues_fill_earliest_first(
            amounts in prop::collection::vec((1i64..10_000, 0i64..50), 1..12),
            balance in 0i64..40_000,
        ) {
            let ms: Vec<Measure> = amounts
                .iter()
                .enumerate()
                .map(|(k, &(a, at))| freeze(&format!("m{k:02}"), a, at))
                .collect();
            let s = standing(&ms, balance, 100);
            let active: i64 = s.iter().map(|x| x.active_fen).sum();
            prop_assert!(active <= balance);
            let asked: i64 = ms.iter().map(|m| m.amount_fen).sum();
            prop_assert_eq!(active, asked.min(balance), "nothing free is left unused");
            // Once one measure queues, every later one holds nothing.
            let mut queued = false;
            for x in &s {
                if queued {
                    prop_assert_eq!(x.active_fen, 0);
                }
                queued |= x.queued_fen > 0;
            }
        }
    }
}
