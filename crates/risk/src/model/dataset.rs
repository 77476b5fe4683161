//! Training rows from a store: the engine replayed over its events, one labelled row per
//! (entity, Beijing day it was active).
//!
//! Why a row per active day and not per event: consecutive events of one entity give
//! near-identical vectors, which would weigh the busiest entities by their traffic. The
//! row is the entity's features right after its last event of the day, which is also a
//! moment the live run scores (right after a touch), so the 1 h windows are as they were.
//!
//! Negatives outnumber targets by thousands. They are subsampled by entity (an entity keeps
//! all its rows or none, so an entity-level evaluation sees whole histories) with a keep
//! rate that halves whenever a table outgrows its cap, and each kept negative row carries
//! the weight 1/rate so the fitted probabilities stay those of the full population.
//! Targets are always kept. Entities with another fraud role are left out ([`Truth`]).

use std::collections::BTreeMap;

use fanzha_store::Store;
use rustc_hash::FxHashMap;

use super::{Labels, ModelKind, Truth};
use crate::features::{Entity, FeatureConfig};
use crate::replay::{Replay, ReplayError};
use crate::rules::EvalError;
use crate::score::Scorer;
use crate::window::{DAY, HOUR};
use crate::{Engine, Names};

/// Why collecting training rows stopped.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error("scoring with the rules")]
    Score(#[source] EvalError),
}

/// Events replayed at once.
const CHUNK: usize = 4_096;

/// The rows of one entity kind.
#[derive(Debug, Clone)]
pub struct Table {
    pub kind: ModelKind,
    /// Row-major features, [`Table::width`] per row.
    values: Vec<f64>,
    /// 1 for a target, 0 otherwise.
    pub y: Vec<f64>,
    /// Each row's entity, an index into [`Table::ids`].
    pub entity: Vec<u32>,
    /// Entity ids as the store spells them.
    pub ids: Vec<String>,
    /// Per entity: its sampling hash and whether it is a target.
    hashes: Vec<u64>,
    targets: Vec<bool>,
    /// Negatives are kept when their hash is at most `u64::MAX >> shift`: a rate of 2^-shift.
    shift: u32,
}

impl Table {
    pub fn new(kind: ModelKind) -> Table {
        Table {
            kind,
            values: Vec::new(),
            y: Vec::new(),
            entity: Vec::new(),
            ids: Vec::new(),
            hashes: Vec::new(),
            targets: Vec::new(),
            shift: 0,
        }
    }

    /// Features per row.
    pub fn width(&self) -> usize {
        self.kind.schema().len()
    }

    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Row `i`'s features.
    pub fn row(&self, i: usize) -> &[f64] {
        let w = self.width();
        &self.values[i * w..(i + 1) * w]
    }

    /// The share of negative entities kept (1, ½, ¼, …).
    pub fn negative_rate(&self) -> f64 {
        0.5f64.powi(self.shift as i32)
    }

    /// The weight of row `i`: 1 for a target, 1/rate for a negative.
    pub fn weight(&self, i: usize) -> f64 {
        if self.y[i] > 0.5 {
            1.0
        } else {
            1.0 / self.negative_rate()
        }
    }

    pub fn is_target_entity(&self, e: u32) -> bool {
        self.targets.get(e as usize).copied().unwrap_or(false)
    }

    /// Distinct entities with rows, and of them targets.
    pub fn entity_counts(&self) -> (usize, usize) {
        let mut seen = vec![false; self.ids.len()];
        for &e in &self.entity {
            seen[e as usize] = true;
        }
        let n = seen.iter().filter(|s| **s).count();
        let t = seen
            .iter()
            .zip(&self.targets)
            .filter(|(s, t)| **s && **t)
            .count();
        (n, t)
    }

    /// Registers an entity; its index.
    fn add_entity(&mut self, id: String, hash: u64, target: bool) -> u32 {
        self.ids.push(id);
        self.hashes.push(hash);
        self.targets.push(target);
        (self.ids.len() - 1) as u32
    }

    fn keeps(&self, e: u32) -> bool {
        let i = e as usize;
        self.targets[i] || self.hashes[i] <= u64::MAX >> self.shift
    }

    /// Appends a row, halving the negative rate while the table is over `cap` rows.
    fn push(&mut self, e: u32, values: &[f64], cap: usize) {
        if !self.keeps(e) {
            return;
        }
        let start = self.values.len();
        self.values.extend_from_slice(values);
        // Held-back features are one constant: no tree splits on them, so scoring needs
        // no mask (see ModelKind::held_back).
        for &i in self.kind.held_back() {
            if let Some(v) = self.values.get_mut(start + i) {
                *v = 0.0;
            }
        }
        self.y
            .push(if self.targets[e as usize] { 1.0 } else { 0.0 });
        self.entity.push(e);
        while self.rows() > cap && self.shift < 63 {
            let before = self.rows();
            self.shift += 1;
            self.retain_kept();
            // Only targets left: the cap cannot be met by sampling negatives.
            if self.rows() == before && self.y.iter().all(|y| *y > 0.5) {
                break;
            }
        }
    }

    fn retain_kept(&mut self) {
        let w = self.width();
        let mut write = 0;
        for read in 0..self.rows() {
            if !self.keeps(self.entity[read]) {
                continue;
            }
            if write != read {
                self.values.copy_within(read * w..(read + 1) * w, write * w);
                self.y[write] = self.y[read];
                self.entity[write] = self.entity[read];
            }
            write += 1;
        }
        self.values.truncate(write * w);
        self.y.truncate(write);
        self.entity.truncate(write);
    }

    /// The rows `which` selects, column-major (perpetual's layout), with their labels and
    /// weights.
    pub fn columns(&self, which: &[usize]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (w, n) = (self.width(), which.len());
        let mut cols = vec![0.0; w * n];
        for (r, &i) in which.iter().enumerate() {
            for (c, v) in self.row(i).iter().enumerate() {
                cols[c * n + r] = *v;
            }
        }
        let y = which.iter().map(|&i| self.y[i]).collect();
        let weight = which.iter().map(|&i| self.weight(i)).collect();
        (cols, y, weight)
    }

    /// A table from explicit rows (for tests and other sources): `(entity id, features,
    /// is_target)`; every row is kept.
    pub fn from_rows<'a>(
        kind: ModelKind,
        rows: impl IntoIterator<Item = (&'a str, &'a [f64], bool)>,
    ) -> Table {
        let mut t = Table::new(kind);
        let mut index: BTreeMap<String, u32> = BTreeMap::new();
        for (id, values, target) in rows {
            let e = match index.get(id) {
                Some(e) => *e,
                None => {
                    let e = t.add_entity(id.to_owned(), 0, target);
                    index.insert(id.to_owned(), e);
                    e
                }
            };
            t.push(e, values, usize::MAX);
        }
        t
    }
}

/// The rows of a replayed store.
#[derive(Debug, Clone)]
pub struct Snapshots {
    pub account: Table,
    pub sim: Table,
    pub events: u64,
    /// Event time of the first and last event (UTC microseconds).
    pub first_event_at: Option<i64>,
    pub last_event_at: Option<i64>,
}

impl Snapshots {
    pub fn table(&self, kind: ModelKind) -> &Table {
        match kind {
            ModelKind::Account => &self.account,
            ModelKind::Sim => &self.sim,
        }
    }

    fn table_mut(&mut self, kind: ModelKind) -> &mut Table {
        match kind {
            ModelKind::Account => &mut self.account,
            ModelKind::Sim => &mut self.sim,
        }
    }
}

/// What an engine entity is for the tables.
#[derive(Clone, Copy)]
enum Slot {
    Skip,
    Row(ModelKind, u32),
}

/// A stable 64-bit hash of an id (FNV-1a, then a finaliser for the high bits), so the same
/// entities are sampled and split on every run and build.
pub(crate) fn stable_hash(seed: u64, s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Replays `store` through a fresh engine and collects the labelled rows, marking warned
/// entities as the run does, with `scorer` (the rules, and a model if marks should come from
/// one too); each table keeps
/// at most about `cap` rows (targets beyond it are all kept). `seed` picks the sampled
/// negatives.
pub async fn collect(
    store: &dyn Store,
    mut scorer: Scorer<'_>,
    labels: &Labels,
    cfg: FeatureConfig,
    cap: usize,
    seed: u64,
    page: u32,
) -> Result<Snapshots, CollectError> {
    let cap = cap.max(1);
    let mut replay = Replay::new(store, page)?;
    let mut names = Names::default();
    let mut engine: Engine = Engine::new(cfg);
    let mut out = Snapshots {
        account: Table::new(ModelKind::Account),
        sim: Table::new(ModelKind::Sim),
        events: 0,
        first_event_at: None,
        last_event_at: None,
    };
    let mut slots: FxHashMap<Entity, Slot> = FxHashMap::default();
    // Per entity active today: its features after its latest event.
    let mut today: FxHashMap<Entity, Vec<f64>> = FxHashMap::default();
    let mut day: Option<i64> = None;
    let mut chunk = Vec::with_capacity(CHUNK);
    loop {
        chunk.clear();
        if replay.next_chunk(&mut names, &mut chunk, CHUNK).await? == 0 {
            break;
        }
        // Entities first seen in this chunk get their slot before the engine runs, since
        // the names are not reachable from inside the batch callback's borrow.
        for ev in &chunk {
            for entity in ev_entities(ev) {
                slots
                    .entry(entity)
                    .or_insert_with(|| slot(entity, &names, labels, seed, &mut out));
            }
        }
        out.first_event_at.get_or_insert(chunk[0].ts());
        let mut failure = None;
        engine.apply_batch(&chunk, |engine, ev, touched| {
            // The Beijing day (UTC+8): the simulated districts live by it.
            let d = (ev.ts() + 8 * HOUR).div_euclid(DAY);
            if day.is_some_and(|day| day != d) {
                flush(&mut today, &slots, &mut out, cap);
            }
            day = Some(d);
            for &entity in touched {
                // Every touched entity is scored, kept or not: the marks the scoring
                // leaves are the link features of the entities kept.
                let values = match scorer.score(engine, entity) {
                    Ok(Some(v)) => v.values,
                    Ok(None) => continue,
                    Err(e) => {
                        failure.get_or_insert(e);
                        continue;
                    }
                };
                let Some(Slot::Row(kind, e)) = slots.get(&entity).copied() else {
                    continue;
                };
                if !out.table(kind).keeps(e) {
                    continue;
                }
                let kept = today.entry(entity).or_default();
                kept.clear();
                kept.extend_from_slice(values);
            }
        });
        if let Some(e) = failure {
            return Err(CollectError::Score(e));
        }
        out.events = replay.events;
        out.last_event_at = chunk.last().map(|e| e.ts());
    }
    flush(&mut today, &slots, &mut out, cap);
    Ok(out)
}

/// The accounts and numbers an event names directly. Entities the engine touches beyond
/// them (cards sharing a holder or device) were named by an earlier event.
fn ev_entities(ev: &crate::Event) -> impl Iterator<Item = Entity> {
    use crate::Event as E;
    let (a, b): (Option<Entity>, Option<Entity>) = match ev {
        E::Transfer(t) => (t.from.map(Entity::Account), t.to.map(Entity::Account)),
        E::Call(c) => (
            Some(Entity::Number(c.caller)),
            Some(Entity::Number(c.callee)),
        ),
        E::Sms(s) => (
            Some(Entity::Number(s.sender)),
            Some(Entity::Number(s.receiver)),
        ),
        E::Login(l) => (login_entity(l), None),
        E::AccountOpened(a) => (Some(Entity::Account(a.account)), None),
        E::SimActivated(s) => (Some(Entity::Number(s.msisdn)), None),
        E::PlaceFlag(_) => (None, None),
    };
    a.into_iter().chain(b)
}

fn login_entity(l: &crate::event::Login) -> Option<Entity> {
    Some(match l.subject {
        crate::event::Subject::Account(k) => Entity::Account(k),
        crate::event::Subject::Number(k) => Entity::Number(k),
    })
}

fn slot(entity: Entity, names: &Names, labels: &Labels, seed: u64, out: &mut Snapshots) -> Slot {
    let Some(kind) = ModelKind::of(entity) else {
        return Slot::Skip;
    };
    let id = match entity {
        Entity::Account(k) => names.accounts.name(k.0),
        Entity::Number(k) => names.numbers.name(k.0),
        Entity::Person(_) => None,
    };
    let Some(id) = id else {
        return Slot::Skip;
    };
    let truth = labels.truth(kind, id);
    if truth == Truth::OtherFraud {
        return Slot::Skip;
    }
    let h = stable_hash(seed, id);
    let e = out
        .table_mut(kind)
        .add_entity(id.to_owned(), h, truth == Truth::Target);
    Slot::Row(kind, e)
}

fn flush(
    today: &mut FxHashMap<Entity, Vec<f64>>,
    slots: &FxHashMap<Entity, Slot>,
    out: &mut Snapshots,
    cap: usize,
) {
    // In entity order, so the tables do not depend on the map's iteration order.
    let mut active: Vec<(Entity, Vec<f64>)> = today.drain().collect();
    active.sort_unstable_by_key(|(e, _)| *e);
    for (entity, values) in active {
        if let Some(Slot::Row(kind, e)) = slots.get(&entity).copied() {
            // Only rows of the entities the model scores (see ModelKind::scores).
            if kind.scores(&values) {
                out.table_mut(kind).push(e, &values, cap);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_halves_negatives_and_keeps_every_target() {
        let mut t = Table::new(ModelKind::Sim);
        let w = t.width();
        let row = vec![0.0; w];
        let target = t.add_entity("t".into(), u64::MAX, true);
        for _ in 0..5 {
            t.push(target, &row, 40);
        }
        for i in 0..200u64 {
            let id = format!("n{i}");
            let e = t.add_entity(id.clone(), stable_hash(1, &id), false);
            t.push(e, &row, 40);
        }
        assert!(t.rows() <= 40, "{}", t.rows());
        assert_eq!(t.y.iter().filter(|y| **y > 0.5).count(), 5);
        assert!(t.negative_rate() < 0.25);
        // Weighted, the negatives still stand for about 200 entities.
        let negatives: f64 = (0..t.rows())
            .filter(|&i| t.y[i] < 0.5)
            .map(|i| t.weight(i))
            .sum();
        assert!((100.0..=400.0).contains(&negatives), "{negatives}");
        assert_eq!(t.entity_counts().1, 1);
    }

    #[test]
    fn columns_transpose_the_chosen_rows() {
        let a = vec![1.0; ModelKind::Sim.schema().len()];
        let mut b = a.clone();
        b[0] = 7.0;
        let t = Table::from_rows(ModelKind::Sim, [("a", &a[..], false), ("b", &b[..], true)]);
        let (cols, y, weight) = t.columns(&[1, 0]);
        assert_eq!((cols[0], cols[1], cols[2]), (7.0, 1.0, 1.0));
        assert_eq!(y, vec![1.0, 0.0]);
        assert_eq!(weight, vec![1.0, 1.0]);
    }
}
