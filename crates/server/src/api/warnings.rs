//! Two-card risk warnings over JSON: the queue, a warning, an institution's answer and
//! precision. Each handler only turns the request into a [`service`] call.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ErrorBody};
use crate::policy::Action;
use crate::service::{self, PrecisionView, WarningPageView, WarningQuery, WarningView};
use crate::AppState;

/// The queue's query string; every parameter is optional and blank means absent.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WarningParams {
    /// `red`, `orange` or `yellow`.
    pub level: Option<String>,
    /// `mule`, `runner`, `sold_card`, `scam_caller_sim`, `sim_box`.
    pub pattern: Option<String>,
    /// `open`, `confirmed`, `false_alarm`, `action_taken`, `appealed`, `lifted`.
    pub status: Option<String>,
    /// `account`, `sim`, `number` or `person`.
    pub entity_type: Option<String>,
    /// 1-based; 50 warnings a page.
    pub page: Option<String>,
}

/// The warnings within the caller's scope, newest evidence first, masked; audited as
/// `warnings.list`.
#[utoipa::path(
    get,
    path = "/api/v1/warnings",
    tag = "warnings",
    security(("session" = []), ("api_key" = [])),
    params(WarningParams),
    responses(
        (status = 200, description = "One page of warnings, masked, with handles", body = WarningPageView),
        (status = 400, description = "A filter or page that does not parse; `field` names it", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role sees no warnings", body = ErrorBody),
        (status = 503, description = "The listing could not be audited", body = ErrorBody)
    )
)]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<WarningParams>, QueryRejection>,
) -> Result<Json<WarningPageView>, ApiError> {
    user.allow(Action::ViewWarnings)?;
    let Query(p) = query?;
    let (filter, page) = WarningQuery {
        level: p.level,
        pattern: p.pattern,
        status: p.status,
        entity_type: p.entity_type,
        page: p.page,
    }
    .parse()?;
    Ok(Json(
        service::warnings(&state, &user, &filter, page, service::WARNINGS_PER_PAGE).await?,
    ))
}

/// One warning: score, level, pattern, reasons in Chinese and English with their
/// contributions, the recommended measure, version and status; audited as
/// `lookup.warning`.
#[utoipa::path(
    get,
    path = "/api/v1/warnings/{handle}",
    tag = "warnings",
    security(("session" = []), ("api_key" = [])),
    params(("handle" = String, Path, description = "The warned entity's handle, from the queue or a profile")),
    responses(
        (status = 200, description = "The warning, masked", body = WarningView),
        (status = 400, description = "Not a handle this server issued", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role sees no warnings", body = ErrorBody),
        (status = 404, description = "No warning about it in the caller's scope", body = ErrorBody),
        (status = 503, description = "The look-up could not be audited", body = ErrorBody)
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<WarningView>, ApiError> {
    user.allow(Action::ViewWarnings)?;
    let Path(handle) = path.map_err(|e| ApiError::from(e).with_field("handle"))?;
    Ok(Json(service::warning(&state, &user, &handle).await?))
}

/// An institution's answer to a warning.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// `confirmed`, `false_alarm` or `action_taken`.
    #[schema(example = "action_taken")]
    pub verdict: String,
    /// At most 500 characters.
    #[schema(example = "已限制非柜面业务并通知客户到柜面核实")]
    pub note: Option<String>,
}

/// The owning bank's or carrier's answer to the warning's current version (a second answer
/// replaces the first); the warning takes the verdict as its status unless an appeal is
/// pending. Audited as `warning.feedback`.
#[utoipa::path(
    post,
    path = "/api/v1/warnings/{handle}/feedback",
    tag = "warnings",
    security(("session" = []), ("api_key" = [])),
    params(("handle" = String, Path, description = "The warned entity's handle")),
    request_body = FeedbackRequest,
    responses(
        (status = 200, description = "Recorded; the warning as it now stands", body = WarningView),
        (status = 400, description = "Not a feedback document, a verdict outside the list (`field` = `verdict`), or not a handle this server issued", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Only a bank or carrier answers warnings", body = ErrorBody),
        (status = 404, description = "No warning about it owned by the caller's institution", body = ErrorBody),
        (status = 422, description = "A note over 500 characters (`field` = `note`)", body = ErrorBody),
        (status = 503, description = "The answer could not be audited", body = ErrorBody)
    )
)]
pub async fn feedback(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<FeedbackRequest>, JsonRejection>,
) -> Result<Json<WarningView>, ApiError> {
    user.allow(Action::AnswerWarning)?;
    let Path(handle) = path.map_err(|e| ApiError::from(e).with_field("handle"))?;
    let Json(req) = body?;
    Ok(Json(
        service::feedback(&state, &user, &handle, &req.verdict, req.note.as_deref()).await?,
    ))
}

/// Precision's query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PrecisionParams {
    /// `pattern` (when absent), `institution` or `rule`.
    pub by: Option<String>,
}

/// Precision from the institutions' answers (confirmed or acted on, over all answers), per
/// pattern, institution or rule. Figures only: they name no one.
#[utoipa::path(
    get,
    path = "/api/v1/warnings/precision",
    tag = "warnings",
    security(("session" = []), ("api_key" = [])),
    params(PrecisionParams),
    responses(
        (status = 200, description = "Answers and precision per key", body = PrecisionView),
        (status = 400, description = "Not a grouping (`field` = `by`)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role has no precision figures", body = ErrorBody)
    )
)]
pub async fn precision(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<PrecisionParams>, QueryRejection>,
) -> Result<Json<PrecisionView>, ApiError> {
    user.allow(Action::ViewPrecision)?;
    let Query(p) = query?;
    Ok(Json(
        service::precision(&state, &user, p.by.as_deref().unwrap_or_default()).await?,
    ))
}
