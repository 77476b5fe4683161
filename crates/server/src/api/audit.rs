//! The audit trail and insider flags over JSON (auditors only).

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ErrorBody};
use crate::policy::Action;
use crate::service::{self, AuditPageView, AuditQuery, FlagView, VerifyView};
use crate::AppState;

/// A page of the audit trail, newest first, details masked.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    security(("session" = []), ("api_key" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "The page", body = AuditPageView),
        (status = 400, description = "A parameter does not parse; `field` names it", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an auditor", body = ErrorBody)
    )
)]
pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPageView>, ApiError> {
    user.allow(Action::Audit)?;
    let Query(query) = query?;
    let (filter, page) = query.parse()?;
    Ok(Json(
        service::audit_page(&state, &user, &filter, page).await?,
    ))
}

/// Verifies the hash chain: `ok`, or the first entry that does not verify.
#[utoipa::path(
    get,
    path = "/api/v1/audit/verify",
    tag = "audit",
    security(("session" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The verdict", body = VerifyView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an auditor", body = ErrorBody)
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<VerifyView>, ApiError> {
    Ok(Json(service::verify(&state, &user).await?))
}

/// Users flagged by the insider rules, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit/flags",
    tag = "audit",
    security(("session" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The flags", body = [FlagView]),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an auditor", body = ErrorBody)
    )
)]
pub async fn flags(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<FlagView>>, ApiError> {
    Ok(Json(service::flags(&state, &user).await?))
}

/// Marks a flag reviewed by the calling auditor; audited as `audit.flag.review`.
#[utoipa::path(
    post,
    path = "/api/v1/audit/flags/{id}/review",
    tag = "audit",
    security(("session" = []), ("api_key" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Reviewed", body = FlagView),
        (status = 400, description = "Not a flag id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an auditor", body = ErrorBody),
        (status = 404, description = "No such flag", body = ErrorBody)
    )
)]
pub async fn review_flag(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<FlagView>, ApiError> {
    user.allow(Action::Audit)?;
    let Path(id) = path.map_err(|e| ApiError::from(e).with_field("id"))?;
    Ok(Json(service::review_flag(&state, &user, id).await?))
}
