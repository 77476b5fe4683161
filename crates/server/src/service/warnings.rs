//! Two-card risk warnings (issue 5): the queue, a warning's detail, an institution's answer,
//! precision, and the dashboard's counts by level.
//!
//! A warning is named by the handle of the entity it warns about, so the same handle opens
//! the warning (`/api/v1/warnings/{handle}`) and the entity's profile
//! (`/api/v1/entities/{handle}`). A `number` warning's handle is a SIM handle: opening it
//! finds the SIM's warning first, then the number's.

use fanzha_store::{
    EntityKind, EntityRef, NewFeedback, PrecisionBy, RiskEntity, Scope, Verdict, WarnedEntity,
    Warning, WarningFilter, WarningLevel, WarningStatus,
};
use serde_json::json;

use super::record;
use super::view::{
    warned_kind, EntityView, PrecisionView, ReasonView, TimeView, WarningCountsView,
    WarningPageView, WarningSummaryView, WarningVersionView, WarningView,
};
use crate::auth::CurrentUser;
use crate::error::{ApiError, Code};
use crate::policy::{self, Action};
use crate::AppState;

/// Warnings per page of the API's queue.
pub const WARNINGS_PER_PAGE: u32 = 50;
/// The last page the queue pages to: past it, filters narrow better than paging.
pub const MAX_WARNING_PAGE: u32 = 10_000;
/// Longer than any pattern name.
const MAX_PATTERN_CHARS: usize = 64;
/// An answer's note, trimmed.
pub const NOTE_CHARS: usize = 500;
/// Where the dashboard stops counting a level (the store has no count of warnings; the
/// panel says "1,000+").
pub const COUNT_CAP: u32 = 1_000;

/// The queue's filters as the caller typed them; [`WarningQuery::parse`] checks them.
#[derive(Debug, Clone, Default)]
pub struct WarningQuery {
    pub level: Option<String>,
    pub pattern: Option<String>,
    pub status: Option<String>,
    pub entity_type: Option<String>,
    pub page: Option<String>,
}

impl WarningQuery {
    /// The store's filter and the 1-based page; 400 naming the parameter that does not
    /// parse. Blank parameters are absent (an HTML form sends them empty).
    pub fn parse(&self) -> Result<(WarningFilter, u32), ApiError> {
        fn word<T: std::str::FromStr>(
            name: &str,
            value: &Option<String>,
            words: &[&str],
        ) -> Result<Option<T>, ApiError> {
            match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => v
                    .parse()
                    .map(Some)
                    .map_err(|_| ApiError::parameter(name, format!("one of {}", words.join(", ")))),
            }
        }
        let pattern = match self.pattern.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p)
                if p.chars().count() <= MAX_PATTERN_CHARS
                    && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
            {
                Some(p.to_owned())
            }
            Some(_) => {
                return Err(ApiError::parameter(
                    "pattern",
                    "a pattern name: lowercase letters and `_`, e.g. `mule`",
                ))
            }
        };
        let page = match self.page.as_deref().map(str::trim) {
            None | Some("") => 1,
            Some(p) => p
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_WARNING_PAGE).contains(n))
                .ok_or_else(|| {
                    ApiError::parameter("page", format!("a page from 1 to {MAX_WARNING_PAGE}"))
                })?,
        };
        Ok((
            WarningFilter {
                entity_type: word("entity_type", &self.entity_type, RiskEntity::WORDS)?,
                level: word("level", &self.level, WarningLevel::WORDS)?,
                pattern,
                status: word("status", &self.status, WarningStatus::WORDS)?,
            },
            page,
        ))
    }
}

/// One page of the warnings within the caller's scope matching `filter`, newest evidence
/// first, masked; audited as `warnings.list` with the filter and the count shown.
pub async fn warnings(
    state: &AppState,
    user: &CurrentUser,
    filter: &WarningFilter,
    page: u32,
    per_page: u32,
) -> Result<WarningPageView, ApiError> {
    user.allow(Action::ViewWarnings)?;
    let scope = user.scope()?;
    let offset = u64::from(page.saturating_sub(1)) * u64::from(per_page);
    // One more than a page says whether there is a next one without counting them all.
    let mut rows = state
        .store
        .warning_list(&scope, filter, per_page.saturating_add(1), offset)
        .await?;
    let has_more = rows.len() > per_page as usize;
    rows.truncate(per_page as usize);
    record(
        state,
        user,
        "warnings.list",
        json!({
            "entity_type": filter.entity_type.map(RiskEntity::as_str),
            "level": filter.level.map(WarningLevel::as_str),
            "pattern": filter.pattern,
            "status": filter.status.map(WarningStatus::as_str),
            "page": page,
            "hits": rows.len(),
        }),
    )
    .await?;
    Ok(WarningPageView {
        warnings: rows.iter().map(|w| summary(state, w)).collect(),
        page,
        per_page,
        has_more,
    })
}

/// The warning about the entity a handle names, masked; 404 when there is none or it is
/// outside the caller's scope (alike; the audit entry `lookup.warning` tells them apart).
pub async fn warning(
    state: &AppState,
    user: &CurrentUser,
    handle: &str,
) -> Result<WarningView, ApiError> {
    user.allow(Action::ViewWarnings)?;
    let scope = user.scope()?;
    let entity = super::open_handle(state, handle, "list again")?;
    let found = find(state, &scope, &entity).await?;
    record_lookup(state, user, &entity, &found).await?;
    let w = found.warning.ok_or_else(warning_not_found)?;
    let mut out = view(state, user, &w)?;
    out.history = history(state, &w.entity).await?;
    out.appeals = super::governance::appeals_of(state, &w.entity).await?;
    Ok(out)
}

/// The warning's stored versions, oldest first, reasons masked as the warning's are.
async fn history(
    state: &AppState,
    entity: &WarnedEntity,
) -> Result<Vec<WarningVersionView>, ApiError> {
    let text = fanzha_core::mask::digits_in_text;
    state
        .store
        .warning_versions(entity)
        .await?
        .into_iter()
        .map(|v| {
            let mut reasons = v.reasons()?;
            reasons.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
            Ok(WarningVersionView {
                version: v.version,
                score: v.score.get(),
                level: v.level,
                pattern: v.pattern,
                status: v.status,
                model_version: v.model_version,
                at: TimeView::new(v.at),
                reasons: reasons
                    .into_iter()
                    .map(|r| ReasonView {
                        code: r.code,
                        source: r.source,
                        text_zh: text(&r.text_zh),
                        text_en: text(&r.text_en),
                        contribution: r.contribution,
                    })
                    .collect(),
            })
        })
        .collect()
}

/// An institution's answer to the current version of a warning it owns: sets the
/// warning's status (unless an appeal is pending or has lifted it) and counts towards
/// precision. Audited as `warning.feedback` once recorded; an attempt on a warning outside
/// the caller's scope is recorded as a `lookup.warning` and answered 404.
pub async fn feedback(
    state: &AppState,
    user: &CurrentUser,
    handle: &str,
    verdict: &str,
    note: Option<&str>,
) -> Result<WarningView, ApiError> {
    user.allow(Action::AnswerWarning)?;
    let scope = user.scope()?;
    let institution = user
        .institution
        .clone()
        .ok_or_else(|| ApiError::new(Code::Forbidden, "this account names no institution"))?;
    // A verdict outside the vocabulary makes the body not the document the endpoint takes.
    let verdict = verdict.trim().parse::<Verdict>().map_err(|_| {
        ApiError::new(
            Code::MalformedBody,
            format!("the verdict is one of {}", Verdict::WORDS.join(", ")),
        )
        .with_field("verdict")
    })?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = note {
        if n.chars().count() > NOTE_CHARS || n.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ApiError::invalid_field(
                "note",
                format!("a note of at most {NOTE_CHARS} characters, without control characters"),
            ));
        }
    }
    let entity = super::open_handle(state, handle, "list again")?;
    let found = find(state, &scope, &entity).await?;
    let Some(w) = found.warning.as_ref() else {
        record_lookup(state, user, &entity, &found).await?;
        return Err(warning_not_found());
    };
    let recorded = state
        .store
        .feedback_record(&NewFeedback {
            entity: w.entity.clone(),
            version: w.version,
            institution_code: institution.clone(),
            verdict,
            note: note.map(str::to_owned),
            at: crate::auth::now_micros(),
            actor: user.actor(),
        })
        .await?;
    if !recorded {
        return Err(warning_not_found());
    }
    record(
        state,
        user,
        "warning.feedback",
        json!({
            "entity_type": w.entity.kind.as_str(),
            "id": w.entity.id,
            "version": w.version,
            "institution": institution,
            "verdict": verdict.as_str(),
            "note": note,
            "community": found.community,
        }),
    )
    .await?;
    let after = state
        .store
        .warning_get(&scope, &w.entity)
        .await?
        .ok_or_else(warning_not_found)?;
    view(state, user, &after)
}

/// Precision from the institutions' answers, per pattern, institution or rule code.
pub async fn precision(
    state: &AppState,
    user: &CurrentUser,
    by: &str,
) -> Result<PrecisionView, ApiError> {
    user.allow(Action::ViewPrecision)?;
    let (by_word, by) = match by.trim() {
        "" | "pattern" => ("pattern", PrecisionBy::Pattern),
        "institution" => ("institution", PrecisionBy::Institution),
        "rule" => ("rule", PrecisionBy::Rule),
        "age_group" => (
            "age_group",
            PrecisionBy::AgeGroup {
                year: super::governance::this_year(),
            },
        ),
        _ => {
            return Err(ApiError::parameter(
                "by",
                "one of pattern, institution, rule, age_group",
            ))
        }
    };
    let rows = state.store.precision(by).await?;
    Ok(PrecisionView {
        by: by_word.to_owned(),
        rows: rows.iter().map(super::governance::row_view).collect(),
    })
}

/// Warnings in the caller's scope by level, each counted up to [`COUNT_CAP`]; `None` for a
/// role that sees no warnings. Figures only: not audited, like the dashboard's.
pub async fn warning_counts(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Option<WarningCountsView>, ApiError> {
    if !policy::allows(user.role, Action::ViewWarnings) {
        return Ok(None);
    }
    let scope = user.scope()?;
    let mut counts = [0u64; 3];
    for (i, level) in [
        WarningLevel::Red,
        WarningLevel::Orange,
        WarningLevel::Yellow,
    ]
    .into_iter()
    .enumerate()
    {
        let filter = WarningFilter {
            level: Some(level),
            ..WarningFilter::default()
        };
        counts[i] = state
            .store
            .warning_list(&scope, &filter, COUNT_CAP, 0)
            .await?
            .len() as u64;
    }
    let by_status = state
        .store
        .warning_status_counts(&scope)
        .await?
        .into_iter()
        .map(|(s, n)| super::governance::CountView {
            key: s.as_str().to_owned(),
            count: n,
        })
        .collect();
    Ok(Some(WarningCountsView {
        red: counts[0],
        orange: counts[1],
        yellow: counts[2],
        cap: u64::from(COUNT_CAP),
        by_status,
    }))
}

/// What a look-up found: the warning if in scope, and for the audit trail whether one
/// exists at all and the entity's community.
struct Found {
    warning: Option<Warning>,
    /// The warned entity as looked up (the first candidate when there is no warning).
    entity: WarnedEntity,
    exists: bool,
    in_scope: bool,
    community: Option<String>,
}

/// The warned entities a handle may name: a SIM handle names the SIM's warning or the
/// number's.
fn candidates(entity: &EntityRef) -> &'static [RiskEntity] {
    match entity.kind {
        EntityKind::Account => &[RiskEntity::Account],
        EntityKind::Sim => &[RiskEntity::Sim, RiskEntity::Number],
        EntityKind::Person => &[RiskEntity::Person],
        EntityKind::Device => &[],
    }
}

async fn find(state: &AppState, scope: &Scope, entity: &EntityRef) -> Result<Found, ApiError> {
    let kinds = candidates(entity);
    let first = WarnedEntity::new(
        kinds.first().copied().unwrap_or(RiskEntity::Account),
        entity.id.clone(),
    );
    let mut outside = None;
    for &kind in kinds {
        let e = WarnedEntity::new(kind, entity.id.clone());
        if let Some(w) = state.store.warning_get(scope, &e).await? {
            let community = community(state, entity).await?;
            return Ok(Found {
                warning: Some(w),
                entity: e,
                exists: true,
                in_scope: true,
                community,
            });
        }
        // Out of scope or missing? Asked without the scope only to record which: the
        // answer is the same 404 either way.
        if outside.is_none() && *scope != Scope::All {
            outside = state.store.warning_get(&Scope::All, &e).await?;
        }
    }
    let community = match &outside {
        Some(_) => community(state, entity).await?,
        None => None,
    };
    Ok(Found {
        entity: outside.as_ref().map_or(first, |w| w.entity.clone()),
        exists: outside.is_some(),
        in_scope: outside.is_none(),
        warning: None,
        community,
    })
}

/// The community of the warned entity's holder, for the audit entry.
async fn community(state: &AppState, entity: &EntityRef) -> Result<Option<String>, ApiError> {
    Ok(state
        .store
        .profile(&Scope::All, entity, 0)
        .await?
        .and_then(|p| p.community_code))
}

async fn record_lookup(
    state: &AppState,
    user: &CurrentUser,
    entity: &EntityRef,
    found: &Found,
) -> Result<(), ApiError> {
    record(
        state,
        user,
        "lookup.warning",
        json!({
            "entity_type": found.entity.kind.as_str(),
            "id": entity.id,
            "community": found.community,
            "found": found.exists,
            "in_scope": found.in_scope,
        }),
    )
    .await?;
    Ok(())
}

fn warning_not_found() -> ApiError {
    ApiError::new(Code::WarningNotFound, "no such warning").with_field("handle")
}

fn summary(state: &AppState, w: &Warning) -> WarningSummaryView {
    let entity = EntityRef {
        kind: warned_kind(w.entity.kind),
        id: w.entity.id.clone(),
    };
    WarningSummaryView {
        entity: EntityView::new(&state.handles, &entity),
        entity_type: w.entity.kind,
        institution_code: w.institution_code.clone(),
        score: w.score.get(),
        level: w.level,
        pattern: w.pattern.clone(),
        status: w.status,
        measure: w.measure,
        version: w.version,
        first_warned_at: TimeView::new(w.first_warned_at),
        updated_at: TimeView::new(w.updated_at),
    }
}

fn view(state: &AppState, user: &CurrentUser, w: &Warning) -> Result<WarningView, ApiError> {
    let mut reasons = w.reasons()?;
    reasons.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    // Reason texts are written by rules from figures, but a rule may quote a value: long
    // digit runs are masked like any other text that leaves.
    let text = fanzha_core::mask::digits_in_text;
    Ok(WarningView {
        summary: summary(state, w),
        reasons: reasons
            .into_iter()
            .map(|r| ReasonView {
                code: r.code,
                source: r.source,
                text_zh: text(&r.text_zh),
                text_en: text(&r.text_en),
                contribution: r.contribution,
            })
            .collect(),
        rules_version: w.rules_version.clone(),
        model_version: w.model_version.clone(),
        can_answer: policy::allows(user.role, Action::AnswerWarning)
            && user.institution.as_deref() == Some(w.institution_code.as_str()),
        can_appeal: policy::allows(user.role, Action::FileAppeal)
            && !matches!(
                w.status,
                WarningStatus::Withdrawn | WarningStatus::Lifted | WarningStatus::Appealed
            ),
        history: Vec::new(),
        appeals: Vec::new(),
    })
}
