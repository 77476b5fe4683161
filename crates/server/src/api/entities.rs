//! Search, profiles, reveal and the dashboard over JSON: each handler only turns the request
//! into a [`service`] call.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ErrorBody};
use crate::policy::Action;
use crate::service::{self, DashboardView, HitView, ProfileView, RevealView};
use crate::AppState;

/// The search's query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// An id, account number, phone number or device id exactly, or the start of a name.
    pub q: Option<String>,
}

/// Search results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    /// At most 50, within the caller's scope, masked.
    pub hits: Vec<HitView>,
}

/// Finds entities within the caller's scope; audited as `search` with the query.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "entities",
    security(("session" = []), ("api_key" = [])),
    params(SearchParams),
    responses(
        (status = 200, description = "Hits, masked, with handles", body = SearchResults),
        (status = 400, description = "No usable query (`field` = `q`)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role sees no personal data", body = ErrorBody),
        (status = 503, description = "The search could not be audited", body = ErrorBody)
    )
)]
pub async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<SearchResults>, ApiError> {
    // Roles first, then parameters, in every handler: a caller who may not do this learns
    // nothing from the shape of their request.
    user.allow(Action::ViewEntities)?;
    let Query(params) = query?;
    let hits = service::search(&state, &user, params.q.as_deref().unwrap_or_default()).await?;
    Ok(Json(SearchResults { hits }))
}

/// An entity's profile, masked; audited as `lookup.<kind>`.
#[utoipa::path(
    get,
    path = "/api/v1/entities/{handle}",
    tag = "entities",
    security(("session" = []), ("api_key" = [])),
    params(("handle" = String, Path, description = "A handle from a search hit, link or event")),
    responses(
        (status = 200, description = "The profile, masked", body = ProfileView),
        (status = 400, description = "Not a handle this server issued", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role sees no personal data", body = ErrorBody),
        (status = 404, description = "No such entity in the caller's scope", body = ErrorBody),
        (status = 503, description = "The look-up could not be audited", body = ErrorBody)
    )
)]
pub async fn profile(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<ProfileView>, ApiError> {
    user.allow(Action::ViewEntities)?;
    let Path(handle) = path.map_err(|e| ApiError::from(e).with_field("handle"))?;
    Ok(Json(service::profile(&state, &user, &handle).await?))
}

/// A reveal: which field of which entity, and why.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    pub handle: String,
    /// An attribute key whose value is personal (`name`, `phone`, `address`, …) or `id`.
    #[schema(example = "phone")]
    pub field: String,
    /// Why the raw value is needed: 10 to 500 characters, kept in the audit trail.
    #[schema(example = "核实被害人联系方式，准备紧急止付")]
    pub reason: String,
}

/// One field unmasked, for a permitted role with a reason; audited as `reveal.<kind>`.
#[utoipa::path(
    post,
    path = "/api/v1/reveal",
    tag = "entities",
    security(("session" = []), ("api_key" = [])),
    request_body = RevealRequest,
    responses(
        (status = 200, description = "The raw value", body = RevealView),
        (status = 400, description = "Not a reveal document, or not a handle this server issued", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role may not reveal", body = ErrorBody),
        (status = 404, description = "No such entity in the caller's scope", body = ErrorBody),
        (status = 422, description = "No reason of 10 to 500 characters, or no such personal field", body = ErrorBody),
        (status = 503, description = "The reveal could not be audited", body = ErrorBody)
    )
)]
pub async fn reveal(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<Json<RevealRequest>, JsonRejection>,
) -> Result<Json<RevealView>, ApiError> {
    user.allow(Action::Reveal)?;
    let Json(req) = body?;
    Ok(Json(
        service::reveal(&state, &user, &req.handle, &req.field, &req.reason).await?,
    ))
}

/// The dashboard's query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardParams {
    /// The window in days, 1 to 366; 30 when absent.
    pub days: Option<String>,
}

/// Reports, cases and losses per day within the caller's remit, with the previous window.
#[utoipa::path(
    get,
    path = "/api/v1/dashboard",
    tag = "dashboard",
    security(("session" = []), ("api_key" = [])),
    params(DashboardParams),
    responses(
        (status = 200, description = "The figures", body = DashboardView),
        (status = 400, description = "Not a window of 1 to 366 days (`field` = `days`)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role has no dashboard", body = ErrorBody)
    )
)]
pub async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<DashboardParams>, QueryRejection>,
) -> Result<Json<std::sync::Arc<DashboardView>>, ApiError> {
    user.allow(Action::ViewDashboard)?;
    let Query(params) = query?;
    let days = match params.days.as_deref().map(str::trim) {
        None | Some("") => service::DEFAULT_DAYS,
        // Out-of-range numbers are the service's to refuse, with the same message.
        Some(d) => d.parse::<u32>().map_err(|_| {
            ApiError::parameter(
                "days",
                format!("a window of 1 to {} days", service::MAX_DAYS),
            )
        })?,
    };
    Ok(Json(service::dashboard(&state, &user, days).await?))
}
