//! Governance over JSON: appeals and their review, threshold decisions, the rule set, model
//! cards and drift, institutions' answers, and delivery operations. Each handler only turns
//! the request into a [`service`] call.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ErrorBody};
use crate::policy::Action;
use crate::service::{
    self, AppealView, AppealsView, DriftView, InstitutionFeedbackView, ModelCardView,
    OperationsView, ResendView, RulesView, ThresholdDecisionView, ThresholdProposal,
    ThresholdsView,
};
use crate::AppState;

/// An appeal (申诉) recorded on the restricted person's behalf.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealRequest {
    /// Who appeals: the person, or who acts for them (at most 100 characters).
    #[schema(example = "持卡人本人（柜面递交）")]
    pub appellant: String,
    /// The grounds (at most 1,000 characters).
    #[schema(example = "该卡为工资卡，近期大额进出为工程款结算，附合同")]
    pub grounds: String,
}

/// Records an appeal against the measure of a warning within the caller's scope: the
/// warning becomes `appealed` and the appeal waits in the review queue. Audited as
/// `warning.appeal`.
#[utoipa::path(
    post,
    path = "/api/v1/warnings/{handle}/appeals",
    tag = "appeals",
    security(("session" = []), ("api_key" = [])),
    params(("handle" = String, Path, description = "The warned entity's handle")),
    request_body = AppealRequest,
    responses(
        (status = 201, description = "Recorded; the appeal, open", body = AppealView),
        (status = 400, description = "Not an appeal document, or `appellant` / `grounds` missing (`field` names it), or not a handle this server issued", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role does not take appeals", body = ErrorBody),
        (status = 404, description = "No warning about it in the caller's scope", body = ErrorBody),
        (status = 409, description = "No measure in force (withdrawn or lifted), or an appeal is pending", body = ErrorBody),
        (status = 422, description = "A text over its length (`field` names it)", body = ErrorBody)
    )
)]
pub async fn file(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<AppealRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<AppealView>), ApiError> {
    user.allow(Action::FileAppeal)?;
    let Path(handle) = path.map_err(|e| ApiError::from(e).with_field("handle"))?;
    let Json(req) = body?;
    let a = service::file_appeal(&state, &user, &handle, &req.appellant, &req.grounds).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// The appeals queue's query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppealParams {
    /// `open` (when absent), `upheld`, `lifted` or `all`.
    pub status: Option<String>,
}

/// Appeals, oldest filed first, with their age; audited as `appeals.list`.
#[utoipa::path(
    get,
    path = "/api/v1/appeals",
    tag = "appeals",
    security(("session" = []), ("api_key" = [])),
    params(AppealParams),
    responses(
        (status = 200, description = "The queue", body = AppealsView),
        (status = 400, description = "Not a status (`field` = `status`)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role has no appeals queue", body = ErrorBody)
    )
)]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<AppealParams>, QueryRejection>,
) -> Result<Json<AppealsView>, ApiError> {
    user.allow(Action::ViewAppeals)?;
    let Query(p) = query?;
    Ok(Json(
        service::appeals(&state, &user, p.status.as_deref().unwrap_or_default()).await?,
    ))
}

/// A reviewer's decision.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionRequest {
    /// `uphold` (the measure stays) or `clear` (lifted at once, the owner told).
    #[schema(example = "clear")]
    pub decision: String,
    /// The reasons, recorded (at most 1,000 characters).
    #[schema(example = "经核实为工程款结算，资金来源合法")]
    pub reason: String,
}

/// Decides an open appeal; `clear` lifts the measure at once and queues a new version of
/// the warning (status `lifted`) to the bank or carrier. Audited as `appeal.decision`.
#[utoipa::path(
    post,
    path = "/api/v1/appeals/{id}/decision",
    tag = "appeals",
    security(("session" = []), ("api_key" = [])),
    params(("id" = i64, Path, description = "The appeal's id")),
    request_body = AppealDecisionRequest,
    responses(
        (status = 200, description = "Decided; the appeal as it now stands", body = AppealView),
        (status = 400, description = "Not a decision document, or a decision other than uphold/clear or a missing reason (`field` names it)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Only an approver decides appeals", body = ErrorBody),
        (status = 404, description = "No such appeal", body = ErrorBody),
        (status = 409, description = "Already decided", body = ErrorBody),
        (status = 422, description = "A reason over 1,000 characters (`field` = `reason`)", body = ErrorBody)
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<i64>, PathRejection>,
    body: Result<Json<AppealDecisionRequest>, JsonRejection>,
) -> Result<Json<AppealView>, ApiError> {
    user.allow(Action::DecideAppeal)?;
    let Path(id) = path.map_err(|e| ApiError::from(e).with_field("id"))?;
    let Json(req) = body?;
    Ok(Json(
        service::decide_appeal(&state, &user, id, &req.decision, &req.reason).await?,
    ))
}

/// The cut-offs in effect per pattern and every threshold decision, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/governance/thresholds",
    tag = "governance",
    security(("session" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Cut-offs and decisions", body = ThresholdsView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role has no governance figures", body = ErrorBody)
    )
)]
pub async fn thresholds(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<ThresholdsView>, ApiError> {
    Ok(Json(service::thresholds(&state, &user).await?))
}

/// A threshold decision.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdRequest {
    /// A pattern of the rule set: `mule`, `runner`, `sold_card`, `scam_caller_sim`,
    /// `sim_box`.
    #[schema(example = "mule")]
    pub pattern: String,
    /// The level whose cut-off moves: `red`, `orange` or `yellow` (yellow is the warning
    /// threshold).
    #[schema(example = "yellow")]
    pub level: String,
    /// The new cut-off, 1 to 100.
    #[schema(example = 55)]
    pub new_threshold: i64,
    /// Why (at most 1,000 characters).
    #[schema(example = "黄色预警误报率 38%，老年持卡人占比偏高")]
    pub reason: String,
    /// RFC 3339; absent: now.
    #[schema(example = "2026-03-20T00:00:00+08:00")]
    pub effective_at: Option<String>,
    /// The evaluation at the new threshold, e.g. `fanzha eval risk --json`'s output.
    #[schema(value_type = Object)]
    pub evaluation: Option<serde_json::Value>,
}

/// Records a threshold decision: who, the cut-off before and after, why, from when, and the
/// evaluation (with the institutions' answers for the pattern attached). `fanzha risk run`
/// applies the decisions in effect. Audited as `threshold.decision`.
#[utoipa::path(
    post,
    path = "/api/v1/governance/thresholds",
    tag = "governance",
    security(("session" = []), ("api_key" = [])),
    request_body = ThresholdRequest,
    responses(
        (status = 201, description = "Recorded", body = ThresholdDecisionView),
        (status = 400, description = "Not a decision document, or a pattern, level, cut-off, time or evaluation that does not parse (`field` names it)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Only a commander records threshold decisions", body = ErrorBody),
        (status = 422, description = "Cut-offs out of order after it (`field` = `new_threshold`), or a reason over 1,000 characters", body = ErrorBody)
    )
)]
pub async fn record_threshold(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<Json<ThresholdRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<ThresholdDecisionView>), ApiError> {
    user.allow(Action::DecideThreshold)?;
    let Json(req) = body?;
    let proposal = ThresholdProposal {
        pattern: req.pattern,
        level: req.level,
        new_threshold: req.new_threshold.to_string(),
        reason: req.reason,
        effective_at: req.effective_at.unwrap_or_default(),
        evaluation: req.evaluation.map(|e| e.to_string()).unwrap_or_default(),
    };
    let d = service::record_threshold(&state, &user, &proposal).await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// Score distributions of the stored warnings per model version, and their population
/// stability against the version before.
#[utoipa::path(
    get,
    path = "/api/v1/governance/drift",
    tag = "governance",
    security(("session" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Per model version", body = DriftView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role has no governance figures", body = ErrorBody)
    )
)]
pub async fn drift(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<DriftView>, ApiError> {
    Ok(Json(service::drift(&state, &user).await?))
}

/// The active rule set: rules (code, entity, expression, texts) and patterns (weights,
/// cut-offs in effect, measure), each with the institutions' answers.
#[utoipa::path(
    get,
    path = "/api/v1/governance/rules",
    tag = "governance",
    security(("session" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The rule set", body = RulesView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role has no governance figures", body = ErrorBody)
    )
)]
pub async fn rules(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<RulesView>, ApiError> {
    Ok(Json(service::rules(&state, &user).await?))
}

/// The stored models' cards, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/governance/models",
    tag = "governance",
    security(("session" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Model cards", body = [ModelCardView]),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role has no governance figures", body = ErrorBody)
    )
)]
pub async fn models(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<ModelCardView>>, ApiError> {
    Ok(Json(service::model_cards(&state, &user).await?))
}

/// Per institution: warnings, answered and unanswered, and how they were answered.
#[utoipa::path(
    get,
    path = "/api/v1/governance/institutions",
    tag = "governance",
    security(("session" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Per institution", body = [InstitutionFeedbackView]),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role has no governance figures", body = ErrorBody)
    )
)]
pub async fn institutions(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<InstitutionFeedbackView>>, ApiError> {
    Ok(Json(service::institution_feedback(&state, &user).await?))
}

/// Warnings by status and deliveries by state, district-wide.
#[utoipa::path(
    get,
    path = "/api/v1/admin/operations",
    tag = "admin",
    security(("session" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Counts", body = OperationsView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Only an administrator", body = ErrorBody)
    )
)]
pub async fn operations(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<OperationsView>, ApiError> {
    Ok(Json(service::operations(&state, &user).await?))
}

/// Re-queues every dead-lettered delivery with its idempotency key; audited as
/// `outbox.resend_dead`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/outbox/resend-dead",
    tag = "admin",
    security(("session" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "How many were re-queued", body = ResendView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Only an administrator", body = ErrorBody)
    )
)]
pub async fn resend_dead(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<ResendView>, ApiError> {
    Ok(Json(service::resend_dead(&state, &user).await?))
}
