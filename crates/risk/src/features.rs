//! Per-entity state and the named feature vectors that rules (CEL) and the model read.
//!
//! Why a fixed schema: rule files and trained models refer to features by name, and a model
//! artefact by position, so names and their order are part of the contract. They are listed
//! once in [`ACCOUNT_FEATURES`], [`NUMBER_FEATURES`] and [`PERSON_FEATURES`]; a feature's id
//! is its index there. Append new features at the end of the windowed or the static block
//! and never reuse a name: the tests pin the lists so a change is a deliberate one.
//!
//! Windowed features come in four variants, suffixed `_1h`, `_24h`, `_7d`, `_30d` (see
//! [`crate::window`] for their precision). Ratios and shares are 0 when their denominator is
//! 0; "unknown" static values (an account with no opening date) are −1. Money is in yuan.
//! Every value is computed from state alone at a given event time: no wall clock.
//!
//! The thresholds behind the features (short call, round amount, the amounts just under
//! which mules keep transfers, the legal card caps) are data in [`FeatureConfig`].

// Amounts are written as yuan_fen (`50_000_00` is 50,000 yuan), not in groups of three.
#![allow(clippy::inconsistent_digit_grouping)]

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::distinct::{DistinctSet, RecentSet};
use crate::event::{AccountKey, InstitutionKey, NumberKey, PersonKey};
use crate::window::{Windowed, DAY, HOUR};

/// The tunable thresholds of the features. Defaults follow LEGAL.md and common bank
/// monitoring practice; deployments override them from configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureConfig {
    /// A call shorter than this is a short call (a scam caller's dial-and-drop).
    pub short_call_s: u32,
    /// An amount that is a whole multiple of this is round (default 100 yuan).
    pub round_unit_fen: i64,
    /// Reporting or review thresholds mules keep just under (default 50,000, 10,000 and
    /// 5,000 yuan).
    pub thresholds_fen: Vec<i64>,
    /// "Just under" means within this many basis points below a threshold (default 10%).
    pub under_margin_bp: i64,
    /// Two numbers in contact within this many days are not strangers.
    pub contact_horizon_days: i64,
    /// A payment made within this many hours after the payer talked with a warned number
    /// (see `contact_min_call_s`) is a payment from a scam-contacted payer: the contact that
    /// precedes a victim's transfer.
    pub contact_lead_hours: i64,
    /// A call this long or longer is a conversation: a scam script takes minutes, while
    /// the many a scam caller dials who refuse or hang up are done within a minute or so.
    pub contact_min_call_s: u32,
    pub caps: Caps,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            short_call_s: 30,
            round_unit_fen: 100_00,
            thresholds_fen: vec![50_000_00, 10_000_00, 5_000_00],
            under_margin_bp: 1_000,
            contact_horizon_days: 90,
            contact_lead_hours: 72,
            contact_min_call_s: 90,
            caps: Caps::default(),
        }
    }
}

impl FeatureConfig {
    pub(crate) fn is_round(&self, fen: i64) -> bool {
        self.round_unit_fen > 0 && fen > 0 && fen % self.round_unit_fen == 0
    }

    pub(crate) fn is_just_under(&self, fen: i64) -> bool {
        self.thresholds_fen.iter().any(|&t| {
            let floor = t - t.saturating_mul(self.under_margin_bp) / 10_000;
            fen >= floor && fen < t
        })
    }
}

/// Caps on cards per identity (LEGAL.md: Anti-Telecom and Online Fraud Law, Arts. 10 and
/// 16, as reported): bank accounts per person per bank by class, SIMs per person per carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Caps {
    pub class1_per_bank: u32,
    pub class2_per_bank: u32,
    pub class3_per_bank: u32,
    pub sims_per_carrier: u32,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            class1_per_bank: 1,
            class2_per_bank: 5,
            class3_per_bank: 5,
            sims_per_carrier: 5,
        }
    }
}

/// Slots of an account's [`Windowed`].
pub(crate) mod acct {
    pub const IN_COUNT: usize = 0;
    pub const IN_SUM: usize = 1;
    pub const OUT_COUNT: usize = 2;
    pub const OUT_SUM: usize = 3;
    pub const NIGHT: usize = 4;
    pub const ROUND: usize = 5;
    pub const UNDER: usize = 6;
    pub const PAYERS: usize = 7;
    pub const PAYEES: usize = 8;
    pub const DEN: usize = 9;
    pub const LOGINS: usize = 10;
}

/// Slots of a number's [`Windowed`].
pub(crate) mod num {
    pub const CALLS_OUT: usize = 0;
    pub const CALLS_IN: usize = 1;
    pub const SHORT_OUT: usize = 2;
    pub const STRANGER_OUT: usize = 3;
    pub const CALLEES: usize = 4;
    pub const SMS_OUT: usize = 5;
    pub const SMS_RECEIVERS: usize = 6;
    pub const DEN: usize = 7;
    pub const RISKY_IN: usize = 8;
}

/// Inflows not yet matched by an outflow, kept for dwell times; the oldest go first.
const PENDING_MAX: usize = 32;
/// Dwell samples kept for the median.
const DWELL_SAMPLES: usize = 16;
/// A person's card lists stop growing here; the counts saturate (already far over any cap).
const CARDS_MAX: usize = 256;
/// Linked transfers kept per kind in [`Links`]; the counts saturate here.
const LINKS_MAX: usize = 64;

/// Transfers that link an account to risk found elsewhere: money from or to accounts the
/// scoring has warned, and money from payers a warned or risk-signal number had just
/// contacted. Why times and not window slots: few accounts ever have such a transfer, so
/// this lives in a box the rest never allocate, and the windows of every account stay as
/// small as they were.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    /// Event times, oldest first, of inflows from warned accounts.
    pub(crate) in_warned: SmallVec<[i64; 4]>,
    /// Outflows to warned accounts.
    pub(crate) out_warned: SmallVec<[i64; 4]>,
    /// Inflows from scam-contacted payers (see [`FeatureConfig::contact_lead_hours`]).
    pub(crate) in_contacted: SmallVec<[i64; 4]>,
}

impl Links {
    pub(crate) fn push(list: &mut SmallVec<[i64; 4]>, ts: i64) {
        let horizon = ts - 30 * DAY;
        list.retain(|t| *t > horizon);
        if list.len() == LINKS_MAX {
            list.remove(0);
        }
        list.push(ts);
    }

    fn count_since(list: &[i64], since: i64) -> usize {
        list.iter().filter(|t| **t > since).count()
    }
}

/// An account's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountState {
    pub(crate) win: Windowed,
    pub(crate) payers: DistinctSet,
    pub(crate) payees: DistinctSet,
    pub(crate) holder: Option<PersonKey>,
    pub(crate) opened_at: Option<i64>,
    pub(crate) first_inflow_at: Option<i64>,
    /// Unmatched inflows as (time, fen left), oldest first.
    pub(crate) pending: SmallVec<[(i64, i64); 4]>,
    /// Recent dwell times in seconds, a ring of `DWELL_SAMPLES`.
    pub(crate) dwell: SmallVec<[u32; 4]>,
    pub(crate) dwell_next: u8,
    /// Few by nature; reading "shared with other holders" scans these times the device's
    /// holders, so the cap is small.
    pub(crate) devices: RecentSet<16>,
    pub(crate) ips: RecentSet<16>,
    /// Warned by the scoring (see [`crate::Engine::mark`]): its transfers link its
    /// counterparties to it.
    pub(crate) marked: bool,
    pub(crate) links: Option<Box<Links>>,
    /// See the `account_kind` feature; 0 until the account's opening is seen.
    pub(crate) kind: u8,
}

impl AccountState {
    pub(crate) fn links_mut(&mut self) -> &mut Links {
        self.links.get_or_insert_with(Box::default)
    }

    pub(crate) fn inflow(&mut self, ts: i64, fen: i64) {
        self.first_inflow_at = Some(self.first_inflow_at.map_or(ts, |t| t.min(ts)));
        if self.pending.len() == PENDING_MAX {
            self.pending.remove(0);
        }
        self.pending.push((ts, fen));
    }

    /// Matches an outflow against pending inflows, first in first out, recording one dwell
    /// sample per inflow it draws on. Money beyond the pending inflows is of unknown origin
    /// (the data window started later) and gives no sample.
    pub(crate) fn outflow(&mut self, ts: i64, mut fen: i64) {
        let horizon = ts - 30 * DAY;
        while fen > 0 {
            let Some(&(in_ts, left)) = self.pending.first() else {
                break;
            };
            if in_ts < horizon || in_ts > ts {
                // Too old to be the source, or (a late inflow) after this outflow.
                if in_ts < horizon {
                    self.pending.remove(0);
                    continue;
                }
                break;
            }
            let take = left.min(fen);
            fen -= take;
            self.record_dwell(((ts - in_ts) / 1_000_000).clamp(0, i64::from(u32::MAX)) as u32);
            if take == left {
                self.pending.remove(0);
            } else if let Some(first) = self.pending.first_mut() {
                first.1 -= take;
            }
        }
    }

    fn record_dwell(&mut self, secs: u32) {
        if self.dwell.len() < DWELL_SAMPLES {
            self.dwell.push(secs);
        } else {
            self.dwell[usize::from(self.dwell_next)] = secs;
        }
        self.dwell_next = ((usize::from(self.dwell_next) + 1) % DWELL_SAMPLES) as u8;
    }

    /// (median, minimum) of the recent dwell samples, in seconds.
    pub(crate) fn dwell_stats(&self) -> Option<(f64, f64)> {
        if self.dwell.is_empty() {
            return None;
        }
        let mut d: SmallVec<[u32; DWELL_SAMPLES]> = self.dwell.iter().copied().collect();
        d.sort_unstable();
        let n = d.len();
        let median = if n % 2 == 1 {
            f64::from(d[n / 2])
        } else {
            (f64::from(d[n / 2 - 1]) + f64::from(d[n / 2])) / 2.0
        };
        Some((median, f64::from(d[0])))
    }
}

/// A telephone number's state: a SIM we hold, or any far party.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberState {
    pub(crate) win: Windowed,
    pub(crate) callees: DistinctSet,
    pub(crate) sms_receivers: DistinctSet,
    pub(crate) international: bool,
    pub(crate) virtual_operator: bool,
    pub(crate) holder: Option<PersonKey>,
    pub(crate) activated_at: Option<i64>,
    pub(crate) imeis: RecentSet<16>,
    /// Warned by the scoring: its calls and texts mark their recipients as contacted.
    pub(crate) marked: bool,
}

/// A bank account a person holds, for the cap checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Held {
    pub key: u32,
    pub institution: InstitutionKey,
    /// 1–3 for Class I–III personal accounts, 0 for other or unknown classes.
    pub class: u8,
}

/// A person's (holder's) state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonState {
    pub(crate) accounts: SmallVec<[Held; 2]>,
    pub(crate) sims: SmallVec<[Held; 2]>,
    pub(crate) devices: RecentSet,
    /// The latest conversation on one of the person's numbers with a warned number.
    pub(crate) risky_contact_at: Option<i64>,
}

impl PersonState {
    pub(crate) fn hold_account(&mut self, h: Held) -> bool {
        Self::hold(&mut self.accounts, h)
    }

    pub(crate) fn hold_sim(&mut self, h: Held) -> bool {
        Self::hold(&mut self.sims, h)
    }

    fn hold(list: &mut SmallVec<[Held; 2]>, h: Held) -> bool {
        if list.iter().any(|x| x.key == h.key) || list.len() >= CARDS_MAX {
            return false;
        }
        list.push(h);
        true
    }
}

/// Holdings counted per institution and class in one pass, so the several cap features
/// read from one card list do not each walk it.
pub(crate) struct Tally {
    /// Per institution, the holdings of class 0 (other or unknown) to 3.
    counts: SmallVec<[(InstitutionKey, [u32; 4]); 8]>,
}

impl Tally {
    pub(crate) fn of(list: &[Held]) -> Self {
        let mut counts: SmallVec<[(InstitutionKey, [u32; 4]); 8]> = SmallVec::new();
        for h in list {
            let class = match h.class {
                c @ 1..=3 => usize::from(c),
                _ => 0,
            };
            match counts.iter_mut().find(|(i, _)| *i == h.institution) {
                Some((_, n)) => n[class] += 1,
                None => {
                    let mut n = [0; 4];
                    n[class] = 1;
                    counts.push((h.institution, n));
                }
            }
        }
        Self { counts }
    }

    fn count(n: &[u32; 4], class: Option<u8>) -> usize {
        match class {
            Some(c @ 1..=3) => n[usize::from(c)] as usize,
            Some(_) => 0,
            None => n.iter().sum::<u32>() as usize,
        }
    }

    /// Distinct institutions.
    pub(crate) fn institutions(&self) -> usize {
        self.counts.len()
    }

    /// The largest count per institution of holdings of `class` (any class when `None`).
    pub(crate) fn max(&self, class: Option<u8>) -> usize {
        self.counts
            .iter()
            .map(|(_, n)| Self::count(n, class))
            .max()
            .unwrap_or(0)
    }

    /// How many holdings of `class` exceed `cap`, summed over institutions.
    pub(crate) fn excess(&self, class: Option<u8>, cap: u32) -> usize {
        self.counts
            .iter()
            .map(|(_, n)| Self::count(n, class).saturating_sub(cap as usize))
            .sum()
    }

    /// Excess over the per-bank caps of Class I, II and III accounts together.
    pub(crate) fn accounts_over_cap(&self, caps: &Caps) -> usize {
        self.excess(Some(1), caps.class1_per_bank)
            + self.excess(Some(2), caps.class2_per_bank)
            + self.excess(Some(3), caps.class3_per_bank)
    }
}

/// A device's (online-banking device id or handset IMEI) state: who and what used it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    pub(crate) holders: RecentSet,
    pub(crate) accounts: RecentSet,
    pub(crate) sims: RecentSet,
}

/// An IP address's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpState {
    pub(crate) holders: RecentSet,
    pub(crate) accounts: RecentSet,
}

/// A place's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceState {
    pub(crate) risky: bool,
}

/// The kinds of entity that have feature vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Entity {
    Account(AccountKey),
    Number(NumberKey),
    Person(PersonKey),
}

impl Entity {
    /// The feature names of this entity's kind, in id order.
    pub fn schema(&self) -> &'static [&'static str] {
        match self {
            Entity::Account(_) => ACCOUNT_FEATURES,
            Entity::Number(_) => NUMBER_FEATURES,
            Entity::Person(_) => PERSON_FEATURES,
        }
    }
}

/// Builds a schema: each windowed name in its four window variants, then the static names.
macro_rules! schema {
    (windowed: [$($w:ident),* $(,)?], fixed: [$($s:ident),* $(,)?]) => {
        &[
            $(
                concat!(stringify!($w), "_1h"),
                concat!(stringify!($w), "_24h"),
                concat!(stringify!($w), "_7d"),
                concat!(stringify!($w), "_30d"),
            )*
            $(stringify!($s),)*
        ]
    };
}

/// Number of windowed base features of an account.
pub(crate) const ACCOUNT_WINDOWED: usize = 11;
pub const ACCOUNT_FEATURES: &[&str] = schema!(
    windowed: [
        in_count, in_yuan, out_count, out_yuan, pass_through, payers, payees,
        night_share, round_share, under_threshold_share, den_place_events,
    ],
    fixed: [
        dwell_median_s, dwell_min_s, age_at_first_inflow_h, age_days, holder_known,
        holder_accounts, holder_banks, holder_accounts_over_cap, devices_30d, ips_30d,
        device_other_holders_30d, ip_other_holders_30d, logins_30d,
        in_from_warned_7d, in_from_warned_30d, out_to_warned_7d, out_to_warned_30d,
        in_from_contacted_7d, in_from_contacted_30d, in_from_warned_share_7d,
        in_from_contacted_share_7d, account_kind,
    ]
);

pub(crate) const NUMBER_WINDOWED: usize = 10;
pub const NUMBER_FEATURES: &[&str] = schema!(
    windowed: [
        calls_out, calls_in, out_in_ratio, callees, short_call_share, stranger_share,
        sms_out, sms_receivers, den_place_events, risky_callers_in,
    ],
    fixed: [
        international, virtual_operator, known_sim, sim_age_days, imeis_7d,
        max_sims_per_imei_7d, holder_sims, holder_max_sims_per_carrier, holder_sims_over_cap,
    ]
);

pub const PERSON_FEATURES: &[&str] = schema!(
    windowed: [],
    fixed: [
        accounts, banks, max_class1_per_bank, max_class2_per_bank, max_class3_per_bank,
        accounts_over_cap, sims, carriers, max_sims_per_carrier, sims_over_cap, devices_30d,
    ]
);

/// One entity's features at one event time, in the order of its schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureVector {
    pub entity: Entity,
    /// The event time the features are for (UTC microseconds).
    pub at: i64,
    pub values: Vec<f64>,
}

impl FeatureVector {
    pub fn names(&self) -> &'static [&'static str] {
        self.entity.schema()
    }

    /// The value of the feature called `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        let i = self.names().iter().position(|n| *n == name)?;
        self.values.get(i).copied()
    }

    /// (name, value) pairs in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        self.names()
            .iter()
            .copied()
            .zip(self.values.iter().copied())
    }
}

fn ratio(num: i64, den: i64) -> f64 {
    if den > 0 {
        num as f64 / den as f64
    } else {
        0.0
    }
}

/// Lays out windowed values (`per_window[w][base]`) name-major, as the schema lists them.
fn push_windowed<const N: usize>(out: &mut Vec<f64>, per_window: &[[f64; N]; 4]) {
    for base in 0..N {
        for w in per_window {
            out.push(w[base]);
        }
    }
}

/// Context the feature computations read besides the entity's own state.
pub(crate) struct Ctx<'a> {
    pub now: i64,
    pub cfg: &'a FeatureConfig,
}

pub(crate) fn account_values(
    ctx: &Ctx<'_>,
    a: &AccountState,
    holder: Option<&PersonState>,
    device_other_holders: usize,
    ip_other_holders: usize,
    out: &mut Vec<f64>,
) {
    use acct::*;
    let totals = a.win.totals_at(ctx.now);
    let mut per_window = [[0.0; ACCOUNT_WINDOWED]; 4];
    for (t, v) in totals.iter().zip(per_window.iter_mut()) {
        let moves = t[IN_COUNT] + t[OUT_COUNT];
        *v = [
            t[IN_COUNT] as f64,
            t[IN_SUM] as f64 / 100.0,
            t[OUT_COUNT] as f64,
            t[OUT_SUM] as f64 / 100.0,
            ratio(t[OUT_SUM], t[IN_SUM]),
            (t[PAYERS] * a.payers.scale()) as f64,
            (t[PAYEES] * a.payees.scale()) as f64,
            ratio(t[NIGHT], moves),
            ratio(t[ROUND], moves),
            ratio(t[UNDER], moves),
            t[DEN] as f64,
        ];
    }
    push_windowed(out, &per_window);
    let (dwell_median, dwell_min) = a.dwell_stats().unwrap_or((-1.0, -1.0));
    let age_first = match (a.opened_at, a.first_inflow_at) {
        (Some(o), Some(f)) => (f - o) as f64 / HOUR as f64,
        _ => -1.0,
    };
    let age = a
        .opened_at
        .map_or(-1.0, |o| (ctx.now - o) as f64 / DAY as f64);
    let since = ctx.now - 30 * DAY;
    let tally = holder.map(|p| Tally::of(&p.accounts));
    out.extend([
        dwell_median,
        dwell_min,
        age_first,
        age,
        f64::from(u8::from(a.holder.is_some())),
        holder.map_or(0.0, |p| p.accounts.len() as f64),
        tally.as_ref().map_or(0.0, |t| t.institutions() as f64),
        tally
            .as_ref()
            .map_or(0.0, |t| t.accounts_over_cap(&ctx.cfg.caps) as f64),
        a.devices.count_since(since) as f64,
        a.ips.count_since(since) as f64,
        device_other_holders as f64,
        ip_other_holders as f64,
        totals[3][LOGINS] as f64,
    ]);
    let week = ctx.now - 7 * DAY;
    let links = a.links.as_deref();
    let linked = |pick: fn(&Links) -> &[i64], since: i64| {
        links.map_or(0, |l| Links::count_since(pick(l), since))
    };
    let in_warned = |since| linked(|l| &l.in_warned, since);
    let out_warned = |since| linked(|l| &l.out_warned, since);
    let in_contacted = |since| linked(|l| &l.in_contacted, since);
    let in_week = totals[2][IN_COUNT];
    out.extend([
        in_warned(week) as f64,
        in_warned(since) as f64,
        out_warned(week) as f64,
        out_warned(since) as f64,
        in_contacted(week) as f64,
        in_contacted(since) as f64,
        ratio(in_warned(week) as i64, in_week).min(1.0),
        ratio(in_contacted(week) as i64, in_week).min(1.0),
        f64::from(a.kind),
    ]);
}

pub(crate) fn number_values(
    ctx: &Ctx<'_>,
    n: &NumberState,
    holder: Option<&PersonState>,
    max_sims_per_imei: usize,
    out: &mut Vec<f64>,
) {
    use num::*;
    let totals = n.win.totals_at(ctx.now);
    let mut per_window = [[0.0; NUMBER_WINDOWED]; 4];
    for (t, v) in totals.iter().zip(per_window.iter_mut()) {
        let contacts_out = t[CALLS_OUT] + t[SMS_OUT];
        *v = [
            t[CALLS_OUT] as f64,
            t[CALLS_IN] as f64,
            // Out ÷ in with in floored at 1, so a number that only dials still ranks by
            // how much it dials.
            t[CALLS_OUT] as f64 / t[CALLS_IN].max(1) as f64,
            (t[CALLEES] * n.callees.scale()) as f64,
            ratio(t[SHORT_OUT], t[CALLS_OUT]),
            ratio(t[STRANGER_OUT], contacts_out),
            t[SMS_OUT] as f64,
            (t[SMS_RECEIVERS] * n.sms_receivers.scale()) as f64,
            t[DEN] as f64,
            t[RISKY_IN] as f64,
        ];
    }
    push_windowed(out, &per_window);
    let (sims, max_per_carrier, over) = holder.map_or((0.0, 0.0, 0.0), |p| {
        let t = Tally::of(&p.sims);
        (
            p.sims.len() as f64,
            t.max(None) as f64,
            t.excess(None, ctx.cfg.caps.sims_per_carrier) as f64,
        )
    });
    out.extend([
        f64::from(u8::from(n.international)),
        f64::from(u8::from(n.virtual_operator)),
        f64::from(u8::from(n.activated_at.is_some())),
        n.activated_at
            .map_or(-1.0, |a| (ctx.now - a) as f64 / DAY as f64),
        n.imeis.count_since(ctx.now - 7 * DAY) as f64,
        max_sims_per_imei as f64,
        sims,
        max_per_carrier,
        over,
    ]);
}

pub(crate) fn person_values(ctx: &Ctx<'_>, p: &PersonState, out: &mut Vec<f64>) {
    let caps = &ctx.cfg.caps;
    let accounts = Tally::of(&p.accounts);
    let sims = Tally::of(&p.sims);
    out.extend([
        p.accounts.len() as f64,
        accounts.institutions() as f64,
        accounts.max(Some(1)) as f64,
        accounts.max(Some(2)) as f64,
        accounts.max(Some(3)) as f64,
        accounts.accounts_over_cap(caps) as f64,
        p.sims.len() as f64,
        sims.institutions() as f64,
        sims.max(None) as f64,
        sims.excess(None, caps.sims_per_carrier) as f64,
        p.devices.count_since(ctx.now - 30 * DAY) as f64,
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_pinned() {
        assert_eq!(ACCOUNT_FEATURES.len(), ACCOUNT_WINDOWED * 4 + 22);
        assert_eq!(NUMBER_FEATURES.len(), NUMBER_WINDOWED * 4 + 9);
        assert_eq!(PERSON_FEATURES.len(), 11);
        assert_eq!(
            &ACCOUNT_FEATURES[..5],
            &[
                "in_count_1h",
                "in_count_24h",
                "in_count_7d",
                "in_count_30d",
                "in_yuan_1h"
            ]
        );
        assert_eq!(ACCOUNT_FEATURES[44], "dwell_median_s");
        assert_eq!(NUMBER_FEATURES[16], "short_call_share_1h");
        assert_eq!(NUMBER_FEATURES[40], "international");
        let mut all: Vec<_> = ACCOUNT_FEATURES.to_vec();
        all.sort_unstable();
        all.dedup();
        assert_eq!(
            all.len(),
            ACCOUNT_FEATURES.len(),
            "feature names are unique"
        );
    }

    #[test]
    fn amount_patterns_come_from_config() {
        let cfg = FeatureConfig::default();
        assert!(cfg.is_round(500_00));
        assert!(!cfg.is_round(499_99));
        assert!(cfg.is_just_under(49_000_00));
        assert!(cfg.is_just_under(9_999_00));
        assert!(!cfg.is_just_under(50_000_00));
        assert!(!cfg.is_just_under(7_000_00));
        let strict = FeatureConfig {
            thresholds_fen: vec![20_000_00],
            ..FeatureConfig::default()
        };
        assert!(strict.is_just_under(19_500_00));
        assert!(!strict.is_just_under(49_000_00));
    }

    #[test]
    fn dwell_is_first_in_first_out() {
        let mut a = AccountState::default();
        a.inflow(0, 100);
        a.inflow(60_000_000, 100);
        a.outflow(120_000_000, 150);
        // Draws on the first inflow (120 s) and half of the second (60 s).
        assert_eq!(a.dwell_stats(), Some((90.0, 60.0)));
        a.outflow(180_000_000, 500);
        assert_eq!(a.pending.len(), 0);
    }

    #[test]
    fn caps_count_excess_per_institution_and_class() {
        let bank = |n| InstitutionKey(std::num::NonZeroU32::new(n).unwrap());
        let mut p = PersonState::default();
        for (k, b, c) in [(1, 1, 1), (2, 1, 1), (3, 2, 1), (4, 1, 2)] {
            p.hold_account(Held {
                key: k,
                institution: bank(b),
                class: c,
            });
        }
        assert!(!p.hold_account(Held {
            key: 1,
            institution: bank(1),
            class: 1
        }));
        let accounts = Tally::of(&p.accounts);
        assert_eq!(accounts.accounts_over_cap(&Caps::default()), 1);
        assert_eq!(
            (
                accounts.institutions(),
                accounts.max(Some(1)),
                accounts.max(None)
            ),
            (2, 2, 3)
        );
        for k in 0..7 {
            p.hold_sim(Held {
                key: k,
                institution: bank(9),
                class: 0,
            });
        }
        assert_eq!(
            Tally::of(&p.sims).excess(None, Caps::default().sims_per_carrier),
            2
        );
    }
}
