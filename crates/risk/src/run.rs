//! A batch run over the store (`fanzha risk run`): sources → engine → rules → warnings.
//!
//! The store's events arrive in event-time order ([`crate::replay`]), so the engine sees
//! the district's history as a live run would have. After each event the touched accounts
//! and numbers are scored by the rule set, with the model if one is given ([`crate::score`],
//! which also marks the warned ones in the engine for its link features); an entity keeps
//! the strongest assessment it ever reached (a mule's features fade once it goes quiet, its
//! warning must not) and the event time it first reached a level.
//! At the end each warned entity's warning is stored, one per entity, a new version only
//! when its evidence changed, and queued for its owner (the store does both in one
//! transaction); an open warning the run no longer raises is withdrawn, its owner told.
//!
//! A warning goes to the institution that owns the entity: an account's bank, a SIM's
//! carrier. An account known only from transfers (another district's or bank's, DATA.md's
//! outside account) or a number seen only in traffic has no owner in the data: its
//! warning goes to the higher-level anti-fraud centre ([`UPSTREAM`]), which reaches the
//! issuing bank or carrier across districts — as a district centre pushes such cards up.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use fanzha_store::{
    Measure as StoredMeasure, NewWarning, ReasonSource, RiskEntity, Scope, Score, Store,
    StoreError, WarnedEntity, WarningFilter, WarningLevel, WarningReason, WarningStatus,
};

use crate::event::{Event, InstitutionKey};
use crate::features::{Entity, FeatureConfig};
use crate::model::{Model, ModelKind};
use crate::replay::{Replay, ReplayError};
use crate::rules::{Level, RuleSet};
use crate::score::{Scorer, Verdict};
use crate::{Engine, Names};

/// The recipient of warnings on entities with no owner in the data: the higher-level
/// anti-fraud centre (上级反诈中心). The delivery configuration gives it a webhook like
/// any institution's.
pub const UPSTREAM: &str = "upstream";

/// Rows fetched per page of each event table.
pub const PAGE_ROWS: u32 = 10_000;
/// Events handed to the engine at once.
const CHUNK: usize = 4_096;

/// Why a run stopped. Nothing is stored before the scan has finished, so a failed run
/// leaves the stored warnings as they were.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("reading the store")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error("scoring {entity}: {reason}")]
    Score { entity: String, reason: String },
}

/// What a run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunReport {
    /// Events applied, per table.
    pub events: BTreeMap<&'static str, u64>,
    /// Event time of the first and last event (UTC microseconds).
    pub first_event_at: Option<i64>,
    pub last_event_at: Option<i64>,
    /// Accounts and numbers scored at least once.
    pub scored: u64,
    /// Entities that reached a warning level.
    pub warned: u64,
    /// Warnings stored with new evidence (a new version, queued for delivery).
    pub new_versions: u64,
    /// Warnings stored with the evidence they already had.
    pub unchanged: u64,
    /// Warned entities with no owner in the data, stored for the higher-level centre
    /// ([`UPSTREAM`]).
    pub upstream: u64,
    /// Open warnings this run no longer raised: withdrawn and their owners told.
    pub withdrawn: u64,
    /// The rule set's version label.
    pub rules_version: String,
    /// The model combined with the rules, if any.
    pub model_version: Option<String>,
    /// Warned entities whose score the model set (above their rules' score).
    pub by_model: u64,
}

/// A trained model to combine with the rules, and its stored version.
#[derive(Clone, Copy)]
pub struct WithModel<'a> {
    pub model: &'a Model,
    pub version: &'a str,
}

/// An assessment that reached a level.
#[derive(Debug, Clone)]
struct Assessed {
    score: f64,
    level: Level,
    pattern: &'static str,
    measure: StoredMeasure,
    reasons: Vec<WarningReason>,
    /// When it was reached (event time).
    at: i64,
    /// The rules' own score, below `score` when the model raised it.
    rule_score: f64,
    /// The features at that time, when the model set the score: its reasons are worked
    /// out from them once, for the stored warning, not at every event.
    model_values: Option<Vec<f64>>,
}

/// What an entity's warning rests on: the first assessment that reached a level (its
/// `first_warned_at`, from which detection delay is measured) and the strongest since,
/// which is what is stored.
#[derive(Debug, Clone)]
struct Warned {
    first: Assessed,
    strongest: Option<Assessed>,
}

/// Runs the engine over everything in `store` and stores the warnings.
pub async fn run(
    store: &Arc<dyn Store>,
    rules: &RuleSet,
    model: Option<WithModel<'_>>,
    cfg: FeatureConfig,
    page: u32,
) -> Result<RunReport, RunError> {
    let page = page.max(1);
    let mut replay = Replay::new(&**store, page)?;
    let mut names = Names::default();
    let mut engine: Engine = Engine::new(cfg);
    let mut report = RunReport {
        rules_version: rules.version(),
        model_version: model.map(|m| m.version.to_owned()),
        ..RunReport::default()
    };
    let mut owners: HashMap<Entity, InstitutionKey> = HashMap::new();
    let mut assessed: HashMap<Entity, Warned> = HashMap::new();
    let mut scored: rustc_hash::FxHashSet<Entity> = Default::default();
    let mut scorer = Scorer::new(rules, model.map(|m| m.model));

    // Events go to the engine in chunks: `apply_batch` fetches the state of the events
    // ahead while applying this one, which a large district's state needs.
    let mut chunk: Vec<Event> = Vec::with_capacity(CHUNK);
    let mut failure = None;
    loop {
        replay.next_chunk(&mut names, &mut chunk, CHUNK).await?;
        if chunk.is_empty() {
            break;
        }
        for event in &chunk {
            let (table, ts) = match event {
                Event::Transfer(e) => ("transactions", e.ts),
                Event::Call(e) => ("calls", e.ts),
                Event::Sms(e) => ("sms", e.ts),
                Event::Login(e) => ("logins", e.ts),
                Event::AccountOpened(a) => {
                    owners.insert(Entity::Account(a.account), a.bank);
                    ("accounts", a.opened_at)
                }
                Event::SimActivated(s) => {
                    owners.insert(Entity::Number(s.msisdn), s.carrier);
                    ("sims", s.activated_at)
                }
                Event::PlaceFlag(e) => ("places", e.ts),
            };
            *report.events.entry(table).or_default() += 1;
            report.first_event_at.get_or_insert(ts);
            report.last_event_at = Some(ts);
        }
        engine.apply_batch(&chunk, |engine, event, touched| {
            for &entity in touched {
                if failure.is_some() {
                    break;
                }
                match scorer.score(engine, entity) {
                    Ok(None) => {}
                    Ok(Some(verdict)) => {
                        scored.insert(entity);
                        keep_strongest(&mut assessed, entity, &verdict, event.ts());
                    }
                    Err(e) => {
                        failure = Some(RunError::Score {
                            entity: format!("{entity:?}"),
                            reason: e.to_string(),
                        })
                    }
                }
            }
        });
        if let Some(e) = failure.take() {
            return Err(e);
        }
        chunk.clear();
    }
    report.scored = scored.len() as u64;
    report.warned = assessed.len() as u64;

    let mut stored: std::collections::HashSet<(RiskEntity, String)> = Default::default();
    // Stored in a stable order, so two runs over the same data queue alike.
    let mut warned: Vec<(Entity, Warned)> = assessed.into_iter().collect();
    warned.sort_by_key(|w| w.0);
    for (entity, w) in warned {
        let owner = match owners
            .get(&entity)
            .and_then(|k| names.institutions.name(k.0))
        {
            Some(owner) => owner,
            None => {
                report.upstream += 1;
                UPSTREAM
            }
        };
        let (kind, id) = match entity {
            Entity::Account(k) => (RiskEntity::Account, names.accounts.name(k.0)),
            Entity::Number(k) => (RiskEntity::Sim, names.numbers.name(k.0)),
            Entity::Person(k) => (RiskEntity::Person, names.persons.name(k.0)),
        };
        let Some(id) = id else {
            continue;
        };
        let first_warned_at = w.first.at;
        let mut a = w.strongest.unwrap_or(w.first);
        if let (Some(m), Some(values)) = (model, a.model_values.take()) {
            report.by_model += 1;
            a.reasons.extend(model_reasons(
                m.model,
                entity,
                &values,
                a.score,
                a.rule_score,
            ));
        }
        let n = a.score.round().clamp(0.0, f64::from(Score::MAX)) as u8;
        let Some(score) = Score::new(n) else {
            continue;
        };
        let warning = NewWarning {
            entity: WarnedEntity::new(kind, id),
            institution_code: owner.to_owned(),
            score,
            level: match a.level {
                Level::Yellow => WarningLevel::Yellow,
                Level::Orange => WarningLevel::Orange,
                Level::Red => WarningLevel::Red,
            },
            pattern: a.pattern.to_owned(),
            reasons: a.reasons,
            measure: a.measure,
            model_version: report.model_version.clone(),
            rules_version: Some(report.rules_version.clone()),
            at: a.at,
            first_warned_at: Some(first_warned_at),
        };
        if store.warning_upsert(&warning).await?.changed {
            report.new_versions += 1;
        } else {
            report.unchanged += 1;
        }
        stored.insert((kind, id.to_owned()));
    }

    // An open warning this run did not raise (the rules changed, or the data it stood on was
    // corrected) no longer has evidence: withdrawn, and its owner told. Listed whole before
    // any is withdrawn, as withdrawing moves it out of the open list.
    let open = WarningFilter {
        status: Some(WarningStatus::Open),
        ..WarningFilter::default()
    };
    let mut stale = Vec::new();
    loop {
        let page_rows = store
            .warning_list(&Scope::All, &open, page, stale.len() as u64)
            .await?;
        let n = page_rows.len();
        stale.extend(page_rows.into_iter().map(|w| w.entity));
        if n < page as usize {
            break;
        }
    }
    let at = report.last_event_at.unwrap_or(0);
    for entity in stale {
        if stored.contains(&(entity.kind, entity.id.clone())) {
            continue;
        }
        if store.warning_withdraw(&entity, at).await?.is_some() {
            report.withdrawn += 1;
        }
    }
    Ok(report)
}

/// Records the verdict for the entity when it reached a level: as its first assessment, or
/// as its strongest when it beats the one kept.
fn keep_strongest(
    assessed: &mut HashMap<Entity, Warned>,
    entity: Entity,
    verdict: &Verdict<'_>,
    ts: i64,
) {
    let (Some(level), Some(measure)) = (verdict.level, verdict.measure) else {
        return;
    };
    let kept = assessed
        .get(&entity)
        .map(|w| w.strongest.as_ref().map_or(w.first.score, |s| s.score));
    if kept.is_some_and(|k| k >= verdict.score) {
        return;
    }
    let Ok(measure) = measure.as_str().parse::<StoredMeasure>() else {
        return;
    };
    let rule_reasons = verdict.rules.map_or(&[][..], |r| &r.reasons[..]);
    let now = Assessed {
        score: verdict.score,
        level,
        pattern: verdict.pattern.as_str(),
        measure,
        reasons: rule_reasons
            .iter()
            .map(|r| WarningReason {
                code: r.code().to_owned(),
                source: ReasonSource::Rule,
                text_zh: r.text_zh().to_owned(),
                text_en: r.text_en().to_owned(),
                contribution: (r.contribution() * 10.0).round() / 10.0,
            })
            .collect(),
        at: ts,
        rule_score: verdict.rules.map_or(0.0, |r| r.score),
        model_values: verdict.by_model().then(|| verdict.values.to_vec()),
    };
    match assessed.get_mut(&entity) {
        Some(w) => w.strongest = Some(now),
        None => {
            assessed.insert(
                entity,
                Warned {
                    first: now,
                    strongest: None,
                },
            );
        }
    }
}

/// The model's reasons for a score it set: the features that raised its probability most
/// (tree SHAP, in log-odds), each with its value. Their contributions share the part of
/// the score above the rules' own.
fn model_reasons(
    model: &Model,
    entity: Entity,
    values: &[f64],
    score: f64,
    rule_score: f64,
) -> Vec<WarningReason> {
    let Some(kind) = ModelKind::of(entity) else {
        return Vec::new();
    };
    let top = model.top_contributions(kind, values, MODEL_REASONS);
    let total: f64 = top.iter().map(|(_, c)| c).sum();
    let schema = entity.schema();
    top.into_iter()
        .map(|(name, c)| {
            let value = schema
                .iter()
                .position(|n| *n == name)
                .and_then(|i| values.get(i))
                .copied()
                .unwrap_or(f64::NAN);
            let shown = if value.fract() == 0.0 {
                format!("{value:.0}")
            } else {
                format!("{value:.2}")
            };
            let share = if total > 0.0 { c / total } else { 0.0 };
            WarningReason {
                code: format!("MODEL:{name}"),
                source: ReasonSource::Model,
                text_zh: format!("模型：特征 {name} = {shown} 抬高了风险概率"),
                text_en: format!("Model: feature {name} = {shown} raised the risk probability"),
                contribution: ((score - rule_score).max(0.0) * share * 10.0).round() / 10.0,
            }
        })
        .collect()
}

/// Model reasons kept per warning.
const MODEL_REASONS: usize = 3;
