//! Governance of two-card risk (issue 5, sections 4 and 5): appeals (申诉, Art. 32) and their
//! review, threshold decisions, false alarms by the holder's age group, score drift per
//! model version, the rule set with per-rule precision, model cards, the institutions'
//! answers, and the delivery operations (counts, dead letters re-queued).
//!
//! Audit actions written here (after the change succeeded):
//! - `warning.appeal`: `{"appeal", "entity_type", "id", "community"}`;
//! - `appeal.decision`: `{"appeal", "entity_type", "id", "decision", "reason"}`;
//! - `appeals.list`: `{"status", "hits"}`;
//! - `threshold.decision`: `{"decision", "pattern", "level", "old", "new", "effective_at",
//!   "reason"}`;
//! - `outbox.resend_dead`: `{"requeued"}`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::Datelike;
use fanzha_core::mask::digits_in_text;
use fanzha_risk::governance::{effective_levels, Governed};
use fanzha_risk::RuleSet;
use fanzha_store::{
    AppealDecision, AppealStatus, EntityRef, NewThresholdDecision, PrecisionBy, PrecisionRow,
    RiskEntity, Scope, ThresholdDecision, WarnedEntity, WarningLevel, WarningStatus,
};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::record;
use super::view::{warned_kind, EntityView, PrecisionRowView, TimeView};
use crate::auth::{now_micros, CurrentUser};
use crate::error::{ApiError, Code};
use crate::policy::Action;
use crate::AppState;

/// Who appeals, as recorded (the person, or who acts for them).
pub const APPELLANT_CHARS: usize = 100;
/// An appeal's grounds, a decision's or a threshold decision's reasons.
pub const GROUNDS_CHARS: usize = 1_000;
/// Hours in a day, for ages.
const HOUR: i64 = 3_600_000_000;

// ---- views ----

/// An appeal, masked: long digit runs in the free texts are masked like notes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppealView {
    pub id: i64,
    /// The warned entity (its handle opens the warning).
    pub entity: EntityView,
    #[schema(value_type = String, example = "account")]
    pub entity_type: RiskEntity,
    /// Who appeals: the restricted person, or who acts for them.
    pub appellant: String,
    /// The grounds given.
    pub grounds: String,
    pub filed_at: TimeView,
    /// Hours since filing, to the decision or to now.
    pub age_hours: i64,
    /// `open`, `upheld` or `lifted`.
    #[schema(value_type = String, example = "open")]
    pub status: AppealStatus,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<TimeView>,
}

/// The appeals queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppealsView {
    /// `open`, `upheld`, `lifted` or `all`.
    pub status: String,
    /// Oldest filed first: the longest wait on top.
    pub appeals: Vec<AppealView>,
}

/// A pattern's level cut-offs in effect, beside the rule files'.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CutoffsView {
    pub pattern: String,
    pub red: f64,
    pub orange: f64,
    pub yellow: f64,
    pub files_red: f64,
    pub files_orange: f64,
    pub files_yellow: f64,
    /// The decisions behind them, oldest first; empty when the files' stand.
    pub decisions: Vec<i64>,
}

/// A recorded threshold decision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThresholdDecisionView {
    pub id: i64,
    pub at: TimeView,
    pub effective_at: TimeView,
    /// Whether it is in effect now.
    pub in_effect: bool,
    pub actor: String,
    pub pattern: String,
    /// `red`, `orange` or `yellow`: whose cut-off moved.
    pub level: String,
    pub old_threshold: Option<i64>,
    pub new_threshold: i64,
    pub reason: String,
    /// The evaluation at the new threshold, as recorded.
    #[schema(value_type = Object)]
    pub evaluation: serde_json::Value,
}

/// Cut-offs in effect and every decision, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThresholdsView {
    /// The rule set the cut-offs apply to.
    pub rules_version: String,
    pub patterns: Vec<CutoffsView>,
    pub decisions: Vec<ThresholdDecisionView>,
    /// Decisions in effect naming a pattern the rule set lacks (not applied).
    pub unknown: Vec<i64>,
}

/// One model version's (or the rules-only) stored warning scores.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DriftRowView {
    /// `null`: warnings scored by the rules alone.
    pub model_version: Option<String>,
    /// Warning versions stored with it.
    pub warnings: u64,
    /// Counts per score decile: 0–9, 10–19, …, 90–99, 100.
    pub bins: Vec<u64>,
    pub mean_score: f64,
    /// The version compared with: the one stored before it (rules-only first).
    pub compared_with: Option<String>,
    /// Population stability index of the deciles against `compared_with`; under 0.1 is
    /// usually read as stable, over 0.25 as shifted.
    pub psi: Option<f64>,
}

/// Score distributions of the stored warnings per model version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DriftView {
    pub rows: Vec<DriftRowView>,
    /// Stored models that produced no warning yet.
    pub unused_models: Vec<String>,
}

/// A rule with the answers to the warnings it hit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleView {
    pub code: String,
    /// `account`, `number` or `person`.
    pub entity: String,
    /// The CEL expression over features.
    pub expr: String,
    pub text_zh: String,
    pub text_en: String,
    pub file: String,
    /// Answers to warning versions whose hits included it.
    pub answers: PrecisionRowView,
}

/// A rule's weight in a pattern.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatternTermView {
    pub rule: String,
    pub weight: f64,
}

/// A pattern: its weighted rules, cut-offs in effect and measure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatternView {
    pub name: String,
    pub entity: String,
    pub red: f64,
    pub orange: f64,
    pub yellow: f64,
    pub measure: String,
    pub terms: Vec<PatternTermView>,
    pub answers: PrecisionRowView,
}

/// The active rule set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RulesView {
    pub version: String,
    pub rules: Vec<RuleView>,
    pub patterns: Vec<PatternView>,
}

/// A stored model's card.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelCardView {
    pub version: String,
    pub created_at: TimeView,
    /// The card as stored: training data, evaluation on held-out entities and other
    /// stores, feature importances.
    #[schema(value_type = Object)]
    pub card: serde_json::Value,
}

/// One institution's warnings and answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstitutionFeedbackView {
    pub institution_code: String,
    pub warnings: u64,
    pub answered: u64,
    pub unanswered: u64,
    pub confirmed: u64,
    pub false_alarm: u64,
    pub action_taken: u64,
    /// False alarms over answered warnings; `null` before any answer.
    pub false_alarm_rate: Option<f64>,
}

/// A count under a word.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountView {
    pub key: String,
    pub count: u64,
}

/// Warnings by status and deliveries by state, district-wide (figures, naming no one).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperationsView {
    pub warnings_by_status: Vec<CountView>,
    pub outbox_by_state: Vec<CountView>,
}

/// What re-queuing the dead letters did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResendView {
    pub requeued: u64,
}

// ---- appeals ----

fn free_text(field: &str, value: &str, max: usize, multiline: bool) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(
            ApiError::new(Code::MalformedBody, format!("{field} is required")).with_field(field),
        );
    }
    if v.chars().count() > max
        || v.chars()
            .any(|c| c.is_control() && !(multiline && c == '\n'))
    {
        return Err(ApiError::invalid_field(
            field,
            format!("at most {max} characters, without control characters"),
        ));
    }
    Ok(v.to_owned())
}

fn appeal_view(state: &AppState, a: &fanzha_store::Appeal, now: i64) -> AppealView {
    let entity = EntityRef {
        kind: warned_kind(a.entity.kind),
        id: a.entity.id.clone(),
    };
    AppealView {
        id: a.id,
        entity: EntityView::new(&state.handles, &entity),
        entity_type: a.entity.kind,
        appellant: digits_in_text(&a.person_id),
        grounds: digits_in_text(&a.reason),
        filed_at: TimeView::new(a.filed_at),
        age_hours: (a.decided_at.unwrap_or(now) - a.filed_at).max(0) / HOUR,
        status: a.status,
        decided_by: a.decided_by.clone(),
        decision_reason: a.decision_reason.as_deref().map(digits_in_text),
        decided_at: a.decided_at.map(TimeView::new),
    }
}

/// Records an appeal against the measure of a warning within the caller's scope, which
/// becomes `appealed` (a review task in the appeals queue) until an approver decides.
/// 409 when no measure is in force (withdrawn, lifted) or an appeal is already pending.
pub async fn file_appeal(
    state: &AppState,
    user: &CurrentUser,
    handle: &str,
    appellant: &str,
    grounds: &str,
) -> Result<AppealView, ApiError> {
    user.allow(Action::FileAppeal)?;
    let appellant = free_text("appellant", appellant, APPELLANT_CHARS, false)?;
    let grounds = free_text("grounds", grounds, GROUNDS_CHARS, true)?;
    // Opening the warning checks the scope and records the look-up.
    let w = super::warning(state, user, handle).await?;
    let entity = WarnedEntity::new(
        w.summary.entity_type,
        state
            .handles
            .open(handle)
            .map(|e| e.id)
            .ok_or_else(|| ApiError::parameter("handle", "not a handle this server issued"))?,
    );
    if matches!(
        w.summary.status,
        WarningStatus::Withdrawn | WarningStatus::Lifted
    ) {
        return Err(ApiError::new(
            Code::Conflict,
            "no measure is in force on this warning: there is nothing to appeal",
        ));
    }
    let now = now_micros();
    let id = state
        .store
        .appeal_file(&entity, &appellant, &grounds, now)
        .await?
        .ok_or_else(|| {
            ApiError::new(Code::Conflict, "an appeal against this warning is pending")
        })?;
    record(
        state,
        user,
        "warning.appeal",
        json!({
            "appeal": id,
            "entity_type": entity.kind.as_str(),
            "id": entity.id,
        }),
    )
    .await?;
    let a = state
        .store
        .appeal_get(id)
        .await?
        .ok_or_else(|| ApiError::new(Code::AppealNotFound, "no such appeal"))?;
    Ok(appeal_view(state, &a, now))
}

/// The appeals in `status` (`open` when blank, or `all`), oldest first; audited as
/// `appeals.list`.
pub async fn appeals(
    state: &AppState,
    user: &CurrentUser,
    status: &str,
) -> Result<AppealsView, ApiError> {
    user.allow(Action::ViewAppeals)?;
    let (word, wanted) = match status.trim() {
        "" | "open" => ("open", Some(AppealStatus::Open)),
        "all" => ("all", None),
        s => match s.parse::<AppealStatus>() {
            Ok(a) => (a.as_str(), Some(a)),
            Err(_) => {
                return Err(ApiError::parameter(
                    "status",
                    "one of open, upheld, lifted, all",
                ))
            }
        },
    };
    let rows = state.store.appeals_by_status(wanted).await?;
    record(
        state,
        user,
        "appeals.list",
        json!({ "status": word, "hits": rows.len() }),
    )
    .await?;
    let now = now_micros();
    Ok(AppealsView {
        status: word.to_owned(),
        appeals: rows.iter().map(|a| appeal_view(state, a, now)).collect(),
    })
}

/// Decides an open appeal: `uphold` keeps the measure (the warning returns to its status
/// before the appeal), `clear` lifts it at once (the warning becomes `lifted`, and a new
/// version is queued to the owner so it lifts what it did). The reasons are recorded.
pub async fn decide_appeal(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    decision: &str,
    reason: &str,
) -> Result<AppealView, ApiError> {
    user.allow(Action::DecideAppeal)?;
    let decision = match decision.trim() {
        "uphold" => AppealDecision::Upheld,
        "clear" => AppealDecision::Lifted,
        _ => {
            return Err(
                ApiError::new(Code::MalformedBody, "the decision is uphold or clear")
                    .with_field("decision"),
            )
        }
    };
    let reason = free_text("reason", reason, GROUNDS_CHARS, true)?;
    let appeal =
        state.store.appeal_get(id).await?.ok_or_else(|| {
            ApiError::new(Code::AppealNotFound, "no such appeal").with_field("id")
        })?;
    if appeal.status != AppealStatus::Open {
        return Err(ApiError::new(
            Code::Conflict,
            "this appeal is already decided",
        ));
    }
    let now = now_micros();
    let decided = state
        .store
        .appeal_decide(id, decision, &user.actor(), &reason, now)
        .await?;
    if !decided {
        return Err(ApiError::new(
            Code::Conflict,
            "this appeal is already decided",
        ));
    }
    record(
        state,
        user,
        "appeal.decision",
        json!({
            "appeal": id,
            "entity_type": appeal.entity.kind.as_str(),
            "id": appeal.entity.id,
            "decision": match decision {
                AppealDecision::Upheld => "uphold",
                AppealDecision::Lifted => "clear",
            },
            "reason": reason,
        }),
    )
    .await?;
    let a = state
        .store
        .appeal_get(id)
        .await?
        .ok_or_else(|| ApiError::new(Code::AppealNotFound, "no such appeal"))?;
    Ok(appeal_view(state, &a, now))
}

/// The appeals against one warning (for its page), oldest first; within the scope the
/// caller opened the warning in.
pub(crate) async fn appeals_of(
    state: &AppState,
    entity: &WarnedEntity,
) -> Result<Vec<AppealView>, ApiError> {
    let now = now_micros();
    Ok(state
        .store
        .appeal_list(Some(entity))
        .await?
        .iter()
        .map(|a| appeal_view(state, a, now))
        .collect())
}

// ---- the rule set and thresholds ----

/// The rule set the server shows: the one built into Fanzha (what `fanzha risk run` uses
/// without `--rules`).
pub fn rule_set() -> Result<&'static RuleSet, ApiError> {
    static SET: OnceLock<Result<RuleSet, String>> = OnceLock::new();
    SET.get_or_init(|| RuleSet::builtin().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ApiError::internal(Code::Internal, e))
}

fn governed(decisions: &[ThresholdDecision], now: i64) -> Result<Governed, ApiError> {
    effective_levels(rule_set()?, decisions, now)
        .map_err(|e| ApiError::internal(Code::Internal, &e))
}

fn decision_view(d: &ThresholdDecision, now: i64) -> ThresholdDecisionView {
    ThresholdDecisionView {
        id: d.id,
        at: TimeView::new(d.at),
        effective_at: TimeView::new(d.effective_at),
        in_effect: d.effective_at <= now,
        actor: d.actor.clone(),
        pattern: d.pattern.clone(),
        level: d.level.as_str().to_owned(),
        old_threshold: d.old_threshold,
        new_threshold: d.new_threshold,
        reason: d.reason.clone(),
        evaluation: serde_json::from_str(&d.evaluation).unwrap_or(serde_json::Value::Null),
    }
}

/// The cut-offs in effect and the decisions behind them.
pub async fn thresholds(state: &AppState, user: &CurrentUser) -> Result<ThresholdsView, ApiError> {
    user.allow(Action::ViewPrecision)?;
    let decisions = state.store.threshold_decisions().await?;
    let now = now_micros();
    let g = governed(&decisions, now)?;
    Ok(ThresholdsView {
        rules_version: rule_set()?.version(),
        patterns: g
            .patterns
            .iter()
            .map(|e| CutoffsView {
                pattern: e.pattern.as_str().to_owned(),
                red: e.levels.red(),
                orange: e.levels.orange(),
                yellow: e.levels.yellow(),
                files_red: e.from_files.red(),
                files_orange: e.from_files.orange(),
                files_yellow: e.from_files.yellow(),
                decisions: e.decisions.clone(),
            })
            .collect(),
        decisions: decisions
            .iter()
            .rev()
            .map(|d| decision_view(d, now))
            .collect(),
        unknown: g.unknown,
    })
}

/// A threshold decision as submitted.
#[derive(Debug, Clone, Default)]
pub struct ThresholdProposal {
    pub pattern: String,
    pub level: String,
    pub new_threshold: String,
    pub reason: String,
    /// RFC 3339; blank: now.
    pub effective_at: String,
    /// The evaluation at the new threshold (e.g. `fanzha eval risk --json`), JSON; blank:
    /// none given. The institutions' answers for the pattern are attached either way.
    pub evaluation: String,
}

/// Records a threshold decision: who (the caller), the level's cut-off before and after,
/// why, from when, and the evaluation. Refused (naming the field) when the pattern is not
/// in the rule set, the cut-off is not 1–100, or the cut-offs would be out of order once
/// every decision up to it applies.
pub async fn record_threshold(
    state: &AppState,
    user: &CurrentUser,
    p: &ThresholdProposal,
) -> Result<ThresholdDecisionView, ApiError> {
    user.allow(Action::DecideThreshold)?;
    let rules = rule_set()?;
    let pattern = p.pattern.trim();
    if !rules.patterns().any(|x| x.name().as_str() == pattern) {
        let names: Vec<&str> = rules.patterns().map(|x| x.name().as_str()).collect();
        return Err(ApiError::new(
            Code::MalformedBody,
            format!("a pattern of the rule set: {}", names.join(", ")),
        )
        .with_field("pattern"));
    }
    let level: WarningLevel = p.level.trim().parse().map_err(|_| {
        ApiError::new(Code::MalformedBody, "the level is red, orange or yellow").with_field("level")
    })?;
    let new_threshold = p
        .new_threshold
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=100).contains(n))
        .ok_or_else(|| {
            ApiError::new(Code::MalformedBody, "a whole score from 1 to 100")
                .with_field("new_threshold")
        })?;
    let reason = free_text("reason", &p.reason, GROUNDS_CHARS, true)?;
    let now = now_micros();
    let effective_at = match p.effective_at.trim() {
        "" => now,
        t => chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .and_then(|d| d.timestamp_micros().checked_add(0))
            .filter(|m| *m >= 0)
            .ok_or_else(|| {
                ApiError::new(
                    Code::MalformedBody,
                    "an RFC 3339 time, e.g. 2026-03-20T00:00:00+08:00",
                )
                .with_field("effective_at")
            })?,
    };
    let submitted = match p.evaluation.trim() {
        "" => serde_json::Value::Null,
        e => serde_json::from_str::<serde_json::Value>(e)
            .ok()
            .filter(|v| v.is_object())
            .ok_or_else(|| {
                ApiError::new(Code::MalformedBody, "the evaluation is a JSON object")
                    .with_field("evaluation")
            })?,
    };
    let mut decisions = state.store.threshold_decisions().await?;
    // The cut-off the decision replaces: the one in effect when it takes effect.
    let before = governed(&decisions, effective_at)?;
    let old = before
        .patterns
        .iter()
        .find(|e| e.pattern.as_str() == pattern)
        .map(|e| match level {
            WarningLevel::Red => e.levels.red(),
            WarningLevel::Orange => e.levels.orange(),
            WarningLevel::Yellow => e.levels.yellow(),
        });
    // The order check, with the new decision in its place among the others.
    decisions.push(ThresholdDecision {
        id: i64::MAX,
        at: now,
        actor: user.actor(),
        pattern: pattern.to_owned(),
        level,
        effective_at,
        old_threshold: None,
        new_threshold,
        reason: reason.clone(),
        evaluation: String::new(),
    });
    // In order at every moment a decision takes effect, not only at the end: a run between
    // two of them must find valid cut-offs too.
    let mut moments: Vec<i64> = decisions.iter().map(|d| d.effective_at).collect();
    moments.sort_unstable();
    moments.dedup();
    for t in moments {
        if let Err(e) = effective_levels(rules, &decisions, t) {
            return Err(ApiError::invalid_field("new_threshold", e.to_string()));
        }
    }
    // The evaluation on the institutions' word: the answered versions of this pattern
    // that the old and the new cut-off would warn about.
    let scored = state.store.answered_scores(pattern).await?;
    let at = |cut: Option<f64>| {
        let cut = cut?;
        let (mut answered, mut right, mut false_alarm) = (0u64, 0u64, 0u64);
        for a in scored.iter().filter(|a| f64::from(a.score) >= cut) {
            answered += a.count;
            match a.verdict {
                fanzha_store::Verdict::FalseAlarm => false_alarm += a.count,
                _ => right += a.count,
            }
        }
        Some(json!({
            "cut_off": cut,
            "answered": answered,
            "precision": (answered > 0).then(|| right as f64 / answered as f64),
            "false_alarm_rate": (answered > 0).then(|| false_alarm as f64 / answered as f64),
        }))
    };
    let evaluation = json!({
        "submitted": submitted,
        "answers": {
            "basis": "institutions' answers to this pattern's warning versions at or above the cut-off, by stored score",
            "at_old": at(old),
            "at_new": at(Some(new_threshold as f64)),
        },
    });
    let d = NewThresholdDecision {
        at: now,
        actor: user.actor(),
        pattern: pattern.to_owned(),
        level,
        effective_at,
        old_threshold: old.map(|o| o.round() as i64),
        new_threshold,
        reason,
        evaluation: evaluation.to_string(),
    };
    let id = state.store.threshold_decision_add(&d).await?;
    record(
        state,
        user,
        "threshold.decision",
        json!({
            "decision": id,
            "pattern": d.pattern,
            "level": level.as_str(),
            "old": d.old_threshold,
            "new": new_threshold,
            "effective_at": effective_at,
            "reason": d.reason,
        }),
    )
    .await?;
    let stored = state
        .store
        .threshold_decisions()
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or_else(|| ApiError::internal(Code::Internal, &"a recorded decision is gone"))?;
    Ok(decision_view(&stored, now))
}

/// The cut-offs (red, orange, yellow) in effect now for one pattern: figures about the rule
/// set, naming no one, drawn beside any warning the caller may open.
pub(crate) async fn cutoffs_of(
    state: &AppState,
    pattern: &str,
) -> Result<Option<(f64, f64, f64)>, ApiError> {
    let decisions = state.store.threshold_decisions().await?;
    let g = governed(&decisions, now_micros())?;
    Ok(g.patterns
        .iter()
        .find(|e| e.pattern.as_str() == pattern)
        .map(|e| (e.levels.red(), e.levels.orange(), e.levels.yellow())))
}

pub(crate) fn row_view(r: &PrecisionRow) -> PrecisionRowView {
    let answered = r.confirmed + r.false_alarm + r.action_taken;
    PrecisionRowView {
        key: r.key.clone(),
        confirmed: r.confirmed,
        false_alarm: r.false_alarm,
        action_taken: r.action_taken,
        answered,
        precision: r.precision(),
        false_alarm_rate: (answered > 0).then(|| r.false_alarm as f64 / answered as f64),
    }
}

fn no_answers(key: &str) -> PrecisionRowView {
    row_view(&PrecisionRow {
        key: key.to_owned(),
        confirmed: 0,
        false_alarm: 0,
        action_taken: 0,
    })
}

/// The active rule set: every rule with the answers to the warnings it hit, every pattern
/// with its weights, cut-offs in effect and answers.
pub async fn rules(state: &AppState, user: &CurrentUser) -> Result<RulesView, ApiError> {
    user.allow(Action::ViewPrecision)?;
    let set = rule_set()?;
    let by_rule: BTreeMap<String, PrecisionRow> = state
        .store
        .precision(PrecisionBy::Rule)
        .await?
        .into_iter()
        .map(|r| (r.key.clone(), r))
        .collect();
    let by_pattern: BTreeMap<String, PrecisionRow> = state
        .store
        .precision(PrecisionBy::Pattern)
        .await?
        .into_iter()
        .map(|r| (r.key.clone(), r))
        .collect();
    let decisions = state.store.threshold_decisions().await?;
    let g = governed(&decisions, now_micros())?;
    let answers = |m: &BTreeMap<String, PrecisionRow>, k: &str| {
        m.get(k).map_or_else(|| no_answers(k), row_view)
    };
    Ok(RulesView {
        version: set.version(),
        rules: set
            .rules()
            .map(|r| RuleView {
                code: r.code().to_owned(),
                entity: r.entity().as_str().to_owned(),
                expr: r.expr().to_owned(),
                text_zh: r.text_zh().to_owned(),
                text_en: r.text_en().to_owned(),
                file: r.file().to_owned(),
                answers: answers(&by_rule, r.code()),
            })
            .collect(),
        patterns: set
            .patterns()
            .map(|p| {
                let levels = g
                    .patterns
                    .iter()
                    .find(|e| e.pattern == p.name())
                    .map_or(p.levels(), |e| e.levels);
                PatternView {
                    name: p.name().as_str().to_owned(),
                    entity: p.entity().as_str().to_owned(),
                    red: levels.red(),
                    orange: levels.orange(),
                    yellow: levels.yellow(),
                    measure: p.measure().as_str().to_owned(),
                    terms: set
                        .pattern_rules(p)
                        .map(|(r, w)| PatternTermView {
                            rule: r.code().to_owned(),
                            weight: w,
                        })
                        .collect(),
                    answers: answers(&by_pattern, p.name().as_str()),
                }
            })
            .collect(),
    })
}

// ---- figures: age groups, institutions, drift, models ----

/// The year (Beijing) ages are counted in.
pub(crate) fn this_year() -> i32 {
    let offset = chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset"));
    chrono::Utc::now().with_timezone(&offset).year()
}

/// Per institution: warnings, answered and not, and how they were answered.
pub async fn institution_feedback(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<InstitutionFeedbackView>, ApiError> {
    user.allow(Action::ViewPrecision)?;
    Ok(state
        .store
        .institution_feedback()
        .await?
        .into_iter()
        .map(|r| {
            let answered = r.confirmed + r.false_alarm + r.action_taken;
            InstitutionFeedbackView {
                unanswered: r.warnings.saturating_sub(r.answered),
                false_alarm_rate: (answered > 0).then(|| r.false_alarm as f64 / answered as f64),
                institution_code: r.institution_code,
                warnings: r.warnings,
                answered: r.answered,
                confirmed: r.confirmed,
                false_alarm: r.false_alarm,
                action_taken: r.action_taken,
            }
        })
        .collect())
}

/// Population stability index of two histograms (each smoothed by half a count per bin,
/// so an empty bin does not make it infinite).
pub fn psi(expected: &[u64], actual: &[u64]) -> Option<f64> {
    let (e_n, a_n): (u64, u64) = (expected.iter().sum(), actual.iter().sum());
    if e_n == 0 || a_n == 0 || expected.len() != actual.len() {
        return None;
    }
    let k = expected.len() as f64;
    let share = |c: u64, n: u64| (c as f64 + 0.5) / (n as f64 + 0.5 * k);
    Some(
        expected
            .iter()
            .zip(actual)
            .map(|(&e, &a)| {
                let (pe, pa) = (share(e, e_n), share(a, a_n));
                (pa - pe) * (pa / pe).ln()
            })
            .sum(),
    )
}

/// The stored warning scores per model version, each compared with the version stored
/// before it (the rules-only scores first).
pub async fn drift(state: &AppState, user: &CurrentUser) -> Result<DriftView, ApiError> {
    user.allow(Action::ViewPrecision)?;
    let bins = state.store.score_bins().await?;
    let models = state.store.model_list().await?;
    let mut hist: BTreeMap<Option<String>, [u64; 11]> = BTreeMap::new();
    for b in &bins {
        let h = hist.entry(b.model_version.clone()).or_insert([0; 11]);
        h[usize::from(b.bin.min(10))] += b.count;
    }
    // Rules-only first, then models in the order they were stored, then any version the
    // store has no card for.
    let mut order: Vec<Option<String>> = vec![None];
    order.extend(models.iter().map(|m| Some(m.version.clone())));
    for k in hist.keys() {
        if !order.contains(k) {
            order.push(k.clone());
        }
    }
    let mut rows = Vec::new();
    let mut previous: Option<(Option<String>, [u64; 11])> = None;
    for version in order {
        let Some(h) = hist.get(&version) else {
            continue;
        };
        let n: u64 = h.iter().sum();
        let mean = h
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (if i == 10 {
                    100.0
                } else {
                    i as f64 * 10.0 + 4.5
                }) * *c as f64
            })
            .sum::<f64>()
            / n.max(1) as f64;
        rows.push(DriftRowView {
            model_version: version.clone(),
            warnings: n,
            bins: h.to_vec(),
            mean_score: mean,
            compared_with: previous
                .as_ref()
                .map(|(v, _)| v.clone().unwrap_or_else(|| "rules".to_owned())),
            psi: previous.as_ref().and_then(|(_, p)| psi(p, h)),
        });
        previous = Some((version, *h));
    }
    Ok(DriftView {
        rows,
        unused_models: models
            .iter()
            .filter(|m| !hist.contains_key(&Some(m.version.clone())))
            .map(|m| m.version.clone())
            .collect(),
    })
}

/// The stored models' cards, newest first.
pub async fn model_cards(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<ModelCardView>, ApiError> {
    user.allow(Action::ViewPrecision)?;
    let mut cards: Vec<ModelCardView> = state
        .store
        .model_list()
        .await?
        .into_iter()
        .map(|m| ModelCardView {
            card: serde_json::from_str(&m.card)
                .unwrap_or_else(|_| serde_json::Value::String(m.card.clone())),
            version: m.version,
            created_at: TimeView::new(m.created_at),
        })
        .collect();
    cards.reverse();
    Ok(cards)
}

// ---- operations ----

/// District-wide counts of warnings by status and deliveries by state.
pub async fn operations(state: &AppState, user: &CurrentUser) -> Result<OperationsView, ApiError> {
    user.allow(Action::Operate)?;
    let warnings = state.store.warning_status_counts(&Scope::All).await?;
    let outbox = state.store.outbox_state_counts().await?;
    Ok(OperationsView {
        warnings_by_status: warnings
            .into_iter()
            .map(|(s, n)| CountView {
                key: s.as_str().to_owned(),
                count: n,
            })
            .collect(),
        outbox_by_state: outbox
            .into_iter()
            .map(|(s, n)| CountView {
                key: s.as_str().to_owned(),
                count: n,
            })
            .collect(),
    })
}

/// Re-queues every dead delivery with its idempotency key (the receiver applies a version
/// once however often it arrives); audited as `outbox.resend_dead`.
pub async fn resend_dead(state: &AppState, user: &CurrentUser) -> Result<ResendView, ApiError> {
    user.allow(Action::Operate)?;
    let requeued = state.store.outbox_resend_dead(now_micros()).await?;
    record(
        state,
        user,
        "outbox.resend_dead",
        json!({ "requeued": requeued }),
    )
    .await?;
    Ok(ResendView { requeued })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_is_near_zero_for_equal_shapes_and_grows_with_the_shift() {
        let a = [10, 20, 30, 0, 0];
        assert!(psi(&a, &[20, 40, 60, 0, 0]).unwrap().abs() < 0.01);
        let near = psi(&a, &[12, 20, 28, 0, 0]).unwrap();
        let far = psi(&a, &[0, 0, 10, 20, 30]).unwrap();
        assert!(near < 0.1 && far > 0.25, "{near} {far}");
        assert_eq!(psi(&a, &[0; 5]), None);
    }
}
