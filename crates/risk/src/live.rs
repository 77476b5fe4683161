//! The live risk state behind `serve`'s real-time decisions (issue 5, section 6).
//!
//! One writer, many readers. The writer ([`LiveWriter`]) owns an [`Engine`], the interned
//! [`Names`] and a position in every event table; it replays the store from the start
//! ([`crate::replay`]), then tails it from where each table left off, applying events in
//! chunks and rescoring only the accounts and numbers a chunk touched. After each chunk it
//! publishes those entities' assessments into [`LiveRisk`], a sharded map from identifier
//! to an immutable [`EntityRisk`] behind an `Arc`.
//!
//! Why a sharded map of `Arc`s rather than one immutable map swapped whole: a tail round
//! touches a few hundred entities out of hundreds of thousands, and copying the whole map
//! every few seconds would cost more than the round. A reader takes one shard's read lock
//! for a hash look-up and an `Arc` clone (tens of nanoseconds); the writer takes a shard's
//! write lock for one insert at a time, so a reader waits at most for one insert, never for
//! scoring. std's `RwLock` suffices at this grain, and the workspace gains no dependency.
//!
//! What an entity's published assessment is: the strongest of (a) the strongest the live
//! rules reached for it since start or since the last rule reload (a mule's features fade
//! once it goes quiet; its risk must not, as in the batch run), and (b) its stored warning
//! (open, confirmed, action taken or appealed: an institution's answer that it was a false
//! alarm, a lifted or withdrawn warning does not count), read at warm-up and refreshed by
//! [`LiveWriter::load_warnings`]. Entities the engine knows with no rule hit are published
//! too, as [`EntityRisk::clean`], so a decision can tell "seen and clean" from "never seen".
//!
//! Rules: the writer polls a [`Reloader`]; a new set rescores every known entity (the live
//! peaks restart under the new rules; stored warnings stay), a refused file leaves the
//! active set as it was.
//!
//! Late rows: a tail reads rows after each table's last (time, id), so a row stored later
//! with an earlier event time (a late file of older events) is never read by it.
//! [`LiveWriter::missed_rows`] tells from the tables' row counts that this happened, and the
//! caller replays the store into a fresh writer beside the serving one and hands over with
//! [`LiveWriter::replace_with`]. This crate has no runtime: the server's task decides how
//! often to call [`LiveWriter::catch_up`] and when to check.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use fanzha_store::{
    RiskEntity, Scope, Store, StoreError, Warning, WarningFilter, WarningLevel, WarningStatus,
};
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};
use serde::Serialize;

use crate::event::{AccountKey, Event, NumberKey};
use crate::features::{Entity, FeatureConfig};
use crate::model::{Model, ModelKind};
use crate::replay::{Replay, ReplayError, ReplayPosition};
use crate::rules::{Level, LoadError, PatternName, Reloader, RuleSet, Scores};
use crate::score::Verdict;
use crate::{Engine, Names};

/// Events applied per chunk; touched entities are rescored once per chunk.
const CHUNK: usize = 4_096;
/// Rows fetched per page of each event table.
const PAGE: u32 = 10_000;
/// Shards of each map: enough that the writer's insert and the readers rarely meet.
const SHARDS: usize = 64;
/// Reasons kept per entity: what a decision shows.
const TOP_REASONS: usize = 3;

/// Which identifiers a look-up is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Space {
    /// Bank and payment accounts, by account number.
    Account,
    /// Phone numbers, by normalised number (`PartyNumber::normalized`).
    Number,
}

/// Where an assessment came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskSource {
    /// The live rules over the live features.
    Live,
    /// A stored warning (the batch run's, or an earlier serve's).
    Stored,
}

/// A reason behind an entity's score, its texts shared by every entity it applies to.
#[derive(Debug, Clone, Serialize)]
pub struct LiveReason {
    pub code: Arc<str>,
    pub text_zh: Arc<str>,
    pub text_en: Arc<str>,
    /// Points of the entity's score this reason accounts for.
    pub contribution: f64,
}

/// One entity's published risk. Immutable: the writer replaces it.
#[derive(Debug, Clone)]
pub struct EntityRisk {
    /// 0–100.
    pub score: f64,
    /// `None` below every pattern's yellow threshold.
    pub level: Option<Level>,
    /// The pattern behind the score, when any rule hit.
    pub pattern: Option<PatternName>,
    /// Largest contribution first, at most three.
    pub reasons: Vec<LiveReason>,
    /// Event time (UTC microseconds) of the assessment; 0 for a clean entity.
    pub at: i64,
    pub source: RiskSource,
}

impl EntityRisk {
    /// A known entity with no rule hit.
    pub fn clean() -> EntityRisk {
        EntityRisk {
            score: 0.0,
            level: None,
            pattern: None,
            reasons: Vec::new(),
            at: 0,
            source: RiskSource::Live,
        }
    }
}

type Shard = RwLock<FxHashMap<Box<str>, Arc<EntityRisk>>>;
/// A rule's code and texts (zh, en), shared by every assessment that cites it.
type Texts = FxHashMap<Box<str>, (Arc<str>, Arc<str>, Arc<str>)>;

/// A map split into shards by the identifier's hash.
struct Shards {
    shards: Box<[Shard]>,
    len: AtomicU64,
}

impl Shards {
    fn new() -> Shards {
        Shards {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            len: AtomicU64::new(0),
        }
    }

    fn shard(&self, id: &str) -> &Shard {
        // The high bits: FxHash's low bits are weak for short keys.
        &self.shards[(FxBuildHasher.hash_one(id) >> 58) as usize % SHARDS]
    }

    fn get(&self, id: &str) -> Option<Arc<EntityRisk>> {
        let shard = self
            .shard(id)
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        shard.get(id).cloned()
    }

    fn remove(&self, id: &str) {
        let mut shard = self
            .shard(id)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if shard.remove(id).is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn put(&self, id: &str, risk: Arc<EntityRisk>) {
        let mut shard = self
            .shard(id)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match shard.get_mut(id) {
            Some(slot) => *slot = risk,
            None => {
                shard.insert(id.into(), risk);
                self.len.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The published, read-only side of the live state: what request handlers read.
pub struct LiveRisk {
    accounts: Shards,
    numbers: Shards,
    ready: AtomicBool,
    /// Latest event time applied (UTC microseconds), `i64::MIN` before any.
    watermark: AtomicI64,
    events: AtomicU64,
    rules_version: RwLock<Arc<str>>,
    cfg: FeatureConfig,
}

impl LiveRisk {
    /// The entity's published risk; `None` when the live state has never seen it.
    pub fn get(&self, space: Space, id: &str) -> Option<Arc<EntityRisk>> {
        match space {
            Space::Account => self.accounts.get(id),
            Space::Number => self.numbers.get(id),
        }
    }

    /// Whether the replay of the store has finished: before it, an entity missing from the
    /// state may simply not have been replayed yet.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The latest event time applied, or `None` before the first event.
    pub fn watermark(&self) -> Option<i64> {
        let w = self.watermark.load(Ordering::Relaxed);
        (w != i64::MIN).then_some(w)
    }

    /// Events applied since start.
    pub fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    /// (accounts, numbers) published.
    pub fn entity_counts(&self) -> (u64, u64) {
        (
            self.accounts.len.load(Ordering::Relaxed),
            self.numbers.len.load(Ordering::Relaxed),
        )
    }

    /// The active rule set's version label.
    pub fn rules_version(&self) -> Arc<str> {
        Arc::clone(
            &self
                .rules_version
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// The feature thresholds the engine runs with (decisions read the same ones).
    pub fn config(&self) -> &FeatureConfig {
        &self.cfg
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error("reading the store")]
    Store(#[from] StoreError),
}

/// The single writer of a [`LiveRisk`]. See the module docs.
pub struct LiveWriter {
    shared: Arc<LiveRisk>,
    reloader: Option<Reloader>,
    rules: Arc<RuleSet>,
    /// Combined with the rules as the batch run combines them, when set.
    model: Option<Arc<Model>>,
    engine: Engine,
    names: Names,
    position: Option<ReplayPosition>,
    /// The strongest live assessment per entity that reached any score.
    peaks: FxHashMap<Entity, Arc<EntityRisk>>,
    stored_accounts: FxHashMap<Box<str>, Arc<EntityRisk>>,
    stored_numbers: FxHashMap<Box<str>, Arc<EntityRisk>>,
    /// Reason texts by rule code, shared by every assessment (cleared on reload).
    texts: Texts,
    clean: Arc<EntityRisk>,
    chunk: Vec<Event>,
    touched: FxHashSet<Entity>,
    values: Vec<f64>,
    scores: Scores,
}

impl LiveWriter {
    /// A writer with an empty state, scoring with `rules` (see [`LiveWriter::watching`]).
    pub fn new(rules: Arc<RuleSet>, cfg: FeatureConfig) -> LiveWriter {
        let shared = Arc::new(LiveRisk {
            accounts: Shards::new(),
            numbers: Shards::new(),
            ready: AtomicBool::new(false),
            watermark: AtomicI64::new(i64::MIN),
            events: AtomicU64::new(0),
            rules_version: RwLock::new(rules.version().into()),
            cfg: cfg.clone(),
        });
        LiveWriter {
            shared,
            reloader: None,
            rules,
            model: None,
            engine: Engine::new(cfg),
            names: Names::default(),
            position: None,
            peaks: FxHashMap::default(),
            stored_accounts: FxHashMap::default(),
            stored_numbers: FxHashMap::default(),
            texts: FxHashMap::default(),
            clean: Arc::new(EntityRisk::clean()),
            chunk: Vec::with_capacity(CHUNK),
            touched: FxHashSet::default(),
            values: Vec::new(),
            scores: Scores::default(),
        }
    }

    /// Scores with `reloader`'s active set from now on, and takes each new set it loads
    /// ([`LiveWriter::poll_rules`]).
    pub fn watching(mut self, reloader: Reloader) -> LiveWriter {
        self.rules = reloader.current();
        self.set_version();
        self.reloader = Some(reloader);
        self
    }

    fn set_version(&self) {
        *self
            .shared
            .rules_version
            .write()
            .unwrap_or_else(PoisonError::into_inner) = self.rules.version().into();
    }

    /// Whether rows were stored behind the tail's position, given row counts per table
    /// (`Store::counts`) taken *before* the last draining [`LiveWriter::catch_up`]: every
    /// row counted then and stored after the position has been read since, so a table with
    /// more rows counted than read holds rows the tail will never see. The server then
    /// rebuilds ([`LiveWriter::replace_with`]).
    pub fn missed_rows(&self, counts: &std::collections::BTreeMap<String, u64>) -> u64 {
        let Some(position) = &self.position else {
            return 0;
        };
        position
            .rows_read()
            .map(|(kind, read)| {
                counts
                    .get(kind.kind().as_str())
                    .map_or(0, |&n| n.saturating_sub(read))
            })
            .sum()
    }

    /// Takes over `fresh`'s state (a writer that replayed the store from the start beside
    /// this one) while keeping this writer's published read side, its rule reloader and its
    /// readiness: `fresh`'s assessments are published into it, entities it does not know
    /// are dropped from it. Readers see each entity switch from old to new, never a gap.
    pub fn replace_with(&mut self, mut fresh: LiveWriter) {
        let shared = Arc::clone(&self.shared);
        for (from, to) in [
            (&fresh.shared.accounts, &shared.accounts),
            (&fresh.shared.numbers, &shared.numbers),
        ] {
            let mut keep: FxHashSet<Box<str>> = FxHashSet::default();
            for shard in from.shards.iter() {
                let shard = shard.read().unwrap_or_else(PoisonError::into_inner);
                for (id, risk) in shard.iter() {
                    to.put(id, Arc::clone(risk));
                    keep.insert(id.clone());
                }
            }
            let mut gone = Vec::new();
            for shard in to.shards.iter() {
                let shard = shard.read().unwrap_or_else(PoisonError::into_inner);
                gone.extend(shard.keys().filter(|id| !keep.contains(*id)).cloned());
            }
            for id in gone {
                to.remove(&id);
            }
        }
        shared
            .events
            .store(fresh.shared.events(), Ordering::Relaxed);
        shared.watermark.store(
            fresh.shared.watermark.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        fresh.reloader = self.reloader.take();
        fresh.rules = Arc::clone(&self.rules);
        fresh.model = self.model.clone();
        fresh.shared = shared;
        fresh.set_version();
        *self = fresh;
    }

    /// The read side, for request handlers.
    pub fn shared(&self) -> Arc<LiveRisk> {
        Arc::clone(&self.shared)
    }

    /// The rule set in use.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Combines `model` with the rules from the next scoring on (the server gives it the
    /// newest stored model, as `fanzha risk run` takes by default).
    pub fn set_model(&mut self, model: Option<Arc<Model>>) {
        self.model = model;
    }

    /// The model combined with the rules, if any.
    pub fn model(&self) -> Option<&Arc<Model>> {
        self.model.as_ref()
    }

    /// Marks the replay finished (see [`LiveRisk::is_ready`]).
    pub fn mark_ready(&self) {
        self.shared.ready.store(true, Ordering::Release);
    }

    /// Applies up to `max` events stored since the last call (from the start of the store
    /// on the first), publishing the touched entities; returns how many were applied
    /// (fewer than `max` only when the store has no more for now).
    pub async fn catch_up(&mut self, store: &dyn Store, max: usize) -> Result<usize, LiveError> {
        let mut replay = match self.position.take() {
            Some(p) => p.resume(store),
            None => Replay::new(store, PAGE)?,
        };
        let mut applied = 0;
        let result = loop {
            if applied >= max {
                break Ok(());
            }
            self.chunk.clear();
            let want = CHUNK.min(max - applied);
            match replay
                .next_chunk(&mut self.names, &mut self.chunk, want)
                .await
            {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    applied += n;
                    self.apply_chunk();
                }
                Err(e) => break Err(e),
            }
        };
        self.position = Some(replay.detach());
        result?;
        Ok(applied)
    }

    fn apply_chunk(&mut self) {
        let touched = &mut self.touched;
        touched.clear();
        self.engine.apply_batch(&self.chunk, |_, _, t| {
            touched.extend(t.iter().filter(|e| !matches!(e, Entity::Person(_))));
        });
        let mut entities: Vec<Entity> = self.touched.drain().collect();
        // A stable order, so two replays publish alike.
        entities.sort_unstable();
        for e in entities {
            self.rescore(e);
        }
        if let Some(now) = self.engine.now() {
            self.shared.watermark.store(now, Ordering::Relaxed);
        }
        self.shared
            .events
            .fetch_add(self.chunk.len() as u64, Ordering::Relaxed);
    }

    /// Scores `entity` with the current rules and publishes the stronger of its live peak
    /// and its stored warning.
    fn rescore(&mut self, entity: Entity) {
        if !self.engine.features_into(entity, &mut self.values) {
            return;
        }
        if self
            .rules
            .evaluate_into(entity, &self.values, &mut self.scores)
            .is_err()
        {
            // A vector of the wrong length is a bug between engine and schema, not data:
            // logged once per entity, the entity keeps what it had.
            tracing::error!(
                ?entity,
                "live scoring: feature vector does not fit the rules"
            );
            return;
        }
        let Some(kind) = ModelKind::of(entity) else {
            return;
        };
        let v = crate::score::verdict(
            &self.rules,
            self.model.as_deref(),
            kind,
            &self.values,
            &self.scores,
        );
        // Marked as the batch run marks, for the link features of what comes next.
        if crate::score::marks(v.level) {
            self.engine.mark(entity);
        }
        if v.rules.is_some() || v.level.is_some() {
            let at = self.engine.now().unwrap_or(0);
            let kept = self.peaks.get(&entity).map_or(-1.0, |p| p.score);
            if v.score > kept {
                let risk = Arc::new(assessment(&mut self.texts, &v, at));
                self.peaks.insert(entity, risk);
            }
        }
        self.publish(entity);
    }

    fn publish(&self, entity: Entity) {
        let (space, id) = match entity {
            Entity::Account(k) => (Space::Account, self.names.accounts.name(k.0)),
            Entity::Number(k) => (Space::Number, self.names.numbers.name(k.0)),
            Entity::Person(_) => return,
        };
        let Some(id) = id else { return };
        let stored = match space {
            Space::Account => self.stored_accounts.get(id),
            Space::Number => self.stored_numbers.get(id),
        };
        let live = self.peaks.get(&entity);
        let best = match (live, stored) {
            (Some(l), Some(s)) if s.score > l.score => s,
            (Some(l), _) => l,
            (None, Some(s)) => s,
            (None, None) => &self.clean,
        };
        let map = match space {
            Space::Account => &self.shared.accounts,
            Space::Number => &self.shared.numbers,
        };
        map.put(id, Arc::clone(best));
    }

    /// Reads the stored warnings that still stand (open, confirmed, action taken,
    /// appealed) and publishes each entity's stronger of it and its live peak. Returns how
    /// many were read.
    pub async fn load_warnings(&mut self, store: &dyn Store) -> Result<usize, LiveError> {
        let mut all: Vec<Warning> = Vec::new();
        let page = 1_000u32;
        loop {
            let rows = store
                .warning_list(
                    &Scope::All,
                    &WarningFilter::default(),
                    page,
                    all.len() as u64,
                )
                .await?;
            let n = rows.len();
            all.extend(rows);
            if n < page as usize {
                break;
            }
        }
        let before_accounts = std::mem::take(&mut self.stored_accounts);
        let before_numbers = std::mem::take(&mut self.stored_numbers);
        let mut read = 0;
        for w in &all {
            if !matches!(
                w.status,
                WarningStatus::Open
                    | WarningStatus::Confirmed
                    | WarningStatus::ActionTaken
                    | WarningStatus::Appealed
            ) {
                continue;
            }
            let map = match w.entity.kind {
                RiskEntity::Account => &mut self.stored_accounts,
                RiskEntity::Sim | RiskEntity::Number => &mut self.stored_numbers,
                RiskEntity::Person => continue,
            };
            map.insert(w.entity.id.as_str().into(), Arc::new(stored(w)));
            read += 1;
        }
        // Publish every entity a warning names (known to the engine or not yet).
        for (id, risk) in &self.stored_accounts {
            let best = self.best_with_live(Space::Account, id, risk);
            self.shared.accounts.put(id, best);
        }
        for (id, risk) in &self.stored_numbers {
            let best = self.best_with_live(Space::Number, id, risk);
            self.shared.numbers.put(id, best);
        }
        // A warning that no longer stands (a false alarm, lifted, withdrawn) stops counting:
        // the entity falls back to its live assessment, or is forgotten if the engine never
        // saw it.
        for id in before_accounts.keys() {
            if !self.stored_accounts.contains_key(id) {
                match self.names.accounts.lookup(id) {
                    Some(k) => self.publish(Entity::Account(AccountKey(k))),
                    None => self.shared.accounts.remove(id),
                }
            }
        }
        for id in before_numbers.keys() {
            if !self.stored_numbers.contains_key(id) {
                match self.names.numbers.lookup(id) {
                    Some(k) => self.publish(Entity::Number(NumberKey(k))),
                    None => self.shared.numbers.remove(id),
                }
            }
        }
        Ok(read)
    }

    fn best_with_live(&self, space: Space, id: &str, stored: &Arc<EntityRisk>) -> Arc<EntityRisk> {
        let entity = match space {
            Space::Account => self
                .names
                .accounts
                .lookup(id)
                .map(|k| Entity::Account(AccountKey(k))),
            Space::Number => self
                .names
                .numbers
                .lookup(id)
                .map(|k| Entity::Number(NumberKey(k))),
        };
        match entity.and_then(|e| self.peaks.get(&e)) {
            Some(l) if l.score >= stored.score => Arc::clone(l),
            _ => Arc::clone(stored),
        }
    }

    /// Checks the rule directory. `Ok(true)` when a new set became active (every known
    /// entity is rescored with it); `Ok(false)` when nothing changed; `Err` when the
    /// changed files were refused, the active set staying (the error names file, line and
    /// column).
    pub fn poll_rules(&mut self) -> Result<bool, LoadError> {
        let Some(reloader) = &self.reloader else {
            return Ok(false);
        };
        let Some(set) = reloader.poll()? else {
            return Ok(false);
        };
        self.rules = set;
        self.set_version();
        self.texts.clear();
        self.peaks.clear();
        let accounts = (1..=self.names.accounts.len() as u32)
            .filter_map(std::num::NonZeroU32::new)
            .map(|k| Entity::Account(AccountKey(k)));
        let numbers = (1..=self.names.numbers.len() as u32)
            .filter_map(std::num::NonZeroU32::new)
            .map(|k| Entity::Number(NumberKey(k)));
        let all: Vec<Entity> = accounts.chain(numbers).collect();
        for e in all {
            self.rescore(e);
        }
        Ok(true)
    }
}

/// A verdict as published: rounded reasons, texts shared; when the model set the score, a
/// reason that says so, with its probability.
fn assessment(texts: &mut Texts, v: &Verdict<'_>, at: i64) -> EntityRisk {
    let rule_reasons = v.rules.map_or(&[][..], |r| &r.reasons[..]);
    let mut reasons: Vec<LiveReason> = rule_reasons
        .iter()
        .take(TOP_REASONS)
        .map(|r| {
            let (code, zh, en) = texts
                .entry(r.code().into())
                .or_insert_with(|| (r.code().into(), r.text_zh().into(), r.text_en().into()))
                .clone();
            LiveReason {
                code,
                text_zh: zh,
                text_en: en,
                contribution: (r.contribution() * 10.0).round() / 10.0,
            }
        })
        .collect();
    if let Some(p) = v.model_p.filter(|_| v.by_model()) {
        let rule_score = v.rules.map_or(0.0, |r| r.score);
        reasons.insert(
            0,
            LiveReason {
                code: "MODEL".into(),
                text_zh: format!("模型判定风险概率 {p:.2}").into(),
                text_en: format!("the model's risk probability is {p:.2}").into(),
                contribution: ((v.score - rule_score) * 10.0).round() / 10.0,
            },
        );
        reasons.truncate(TOP_REASONS);
    }
    EntityRisk {
        score: v.score,
        level: v.level,
        pattern: Some(v.pattern),
        reasons,
        at,
        source: RiskSource::Live,
    }
}

/// A stored warning as an assessment.
fn stored(w: &Warning) -> EntityRisk {
    let reasons = w
        .reasons()
        .unwrap_or_default()
        .into_iter()
        .take(TOP_REASONS)
        .map(|r| LiveReason {
            code: r.code.into(),
            text_zh: r.text_zh.into(),
            text_en: r.text_en.into(),
            contribution: r.contribution,
        })
        .collect();
    EntityRisk {
        score: f64::from(w.score.get()),
        level: Some(match w.level {
            WarningLevel::Yellow => Level::Yellow,
            WarningLevel::Orange => Level::Orange,
            WarningLevel::Red => Level::Red,
        }),
        pattern: serde_json::from_value(serde_json::Value::String(w.pattern.clone())).ok(),
        reasons,
        at: w.updated_at,
        source: RiskSource::Stored,
    }
}
