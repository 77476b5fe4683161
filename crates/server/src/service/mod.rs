//! The service layer: what a caller may see and do, for the JSON API and the console alike.
//!
//! Every function takes the [`AppState`] and the [`CurrentUser`], checks the role against
//! [`crate::policy`] (the one table of permissions), reads through the caller's
//! [`fanzha_store::Scope`] (so the store narrows the rows, not the page), writes the audit
//! entry the action owes *before* returning anything, and returns a [`view`] whose personal
//! values are already masked and whose entities are named by opaque [`crate::handle`]s.
//! Handlers and console pages only translate HTTP to these calls and views to JSON or HTML.
//!
//! The audit actions written here are read by the insider detector; their names and detail
//! fields are a contract:
//! - `lookup.<kind>` (kind = `person`, `account`, `sim`, `device`): one per profile or
//!   person look-up, `{"id", "community", "found", "in_scope"}`. `found` says whether the
//!   entity exists at all; `in_scope` is false only when it exists outside the caller's scope
//!   (answered 404, exactly like a missing one).
//! - `search`: `{"q", "hits"}`.
//! - `lookup.warning`: one per warning opened (or answered outside the caller's scope),
//!   `{"entity_type", "id", "community", "found", "in_scope"}`, as a profile's.
//! - `warnings.list`: one per page of the warning queue, the filter and `hits`.
//! - `warning.feedback`: an institution's answer, after it is recorded:
//!   `{"entity_type", "id", "version", "institution", "verdict", "note", "community"}`.
//! - `reveal.<kind>`: `{"id", "field", "reason", "community"}`.
//! - `warning.appeal`, `appeal.decision`, `appeals.list`, `threshold.decision`,
//!   `outbox.resend_dead`: see [`governance`].
//! - `admin.user.add|disable|enable`, `admin.key.add|revoke`, `audit.flag.review`: state
//!   changes, recorded after they succeed.
//!
//! Errors are [`ApiError`]s: a client's mistake names its field and is 4xx; a store or audit
//! failure is 5xx.

mod admin;
mod audit_trail;
mod dashboard;
mod entities;
pub mod governance;
pub mod trace;
pub mod view;
mod warnings;

use fanzha_store::AuditEntry;

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::AppState;

pub use admin::{add_key, add_user, keys, revoke_key, set_disabled, users, MIN_PASSWORD_CHARS};
pub use audit_trail::{audit_page, flags, review_flag, verify, AuditQuery, AUDIT_PER_PAGE};
pub use dashboard::{dashboard, DEFAULT_DAYS, FIGURES_TTL, MAX_DAYS};
pub use entities::{
    person_by_id, profile, reveal, search, MAX_QUERY_CHARS, PROFILE_LIMIT, REASON_CHARS,
    SEARCH_LIMIT,
};
pub(crate) use governance::cutoffs_of;
pub use governance::{
    appeals, decide_appeal, drift, file_appeal, institution_feedback, model_cards, operations,
    record_threshold, resend_dead, rules, thresholds, AppealView, AppealsView, CountView,
    CutoffsView, DriftRowView, DriftView, InstitutionFeedbackView, ModelCardView, OperationsView,
    PatternTermView, PatternView, ResendView, RuleView, RulesView, ThresholdDecisionView,
    ThresholdProposal, ThresholdsView, APPELLANT_CHARS, GROUNDS_CHARS,
};
pub use view::*;
pub use warnings::{
    feedback, precision, warning, warning_counts, warnings, WarningQuery, COUNT_CAP,
    MAX_WARNING_PAGE, NOTE_CHARS, WARNINGS_PER_PAGE,
};

/// Appends an audit entry as the caller and waits until it is committed.
pub(crate) async fn record(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    detail: serde_json::Value,
) -> Result<AuditEntry, ApiError> {
    Ok(state.audit.append(&user.actor(), action, &detail).await?)
}

/// The entity a handle names; a 400 naming `handle` when this server did not issue it.
/// `again` says where to get a fresh one (`search again`, `list again`).
pub(crate) fn open_handle(
    state: &AppState,
    handle: &str,
    again: &str,
) -> Result<fanzha_store::EntityRef, ApiError> {
    state.handles.open(handle).ok_or_else(|| {
        ApiError::parameter(
            "handle",
            format!("not a handle this server issued (they expire when it restarts): {again}"),
        )
    })
}
