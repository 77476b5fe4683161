//! The handlers and the OpenAPI document generated from them: each path's entry (parameters,
//! bodies, every status it answers with) is written on its handler, so the two change together.
//! A route added to the router must be added to `ApiDoc`'s `paths` too; the server tests check
//! the document lists the API's paths.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, Code, ErrorBody};
use crate::service::{self, PersonView};
use crate::AppState;

mod admin;
mod audit;
mod decisions;
mod entities;
mod governance;
mod trace;
mod warnings;

pub use admin::{add_key, add_user, disable_user, enable_user, list_keys, list_users, revoke_key};
pub use audit::{flags as audit_flags, page as audit_page, review_flag, verify as audit_verify};
pub use decisions::{
    account_opening as check_account_opening, call as decide_call, payment as decide_payment,
    sms as decide_sms,
};
pub use entities::{dashboard, profile, reveal, search};
pub use governance::{
    decide as decide_appeal, drift, file as file_appeal, institutions as institution_feedback,
    list as appeals, models, operations, record_threshold, resend_dead, rules, thresholds,
};
pub use trace::{
    case_freezes, cases, decide_round as decide_return_round, draft_order, due as orders_due,
    file_case, intake, open_round, order, order_document, order_step, orders,
    ratio as return_ratio, registry as account_freezes, return_plan, round_document,
    rounds as return_rounds, stop_plan, take_report, trace as report_trace,
};
pub use warnings::{
    detail as warning, feedback as warning_feedback, list as warnings,
    precision as warning_precision,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fanzha (反诈) API",
        description = "The joint-operations platform against telecom and online fraud. Every \
                       error answers with `ErrorBody`; personal data is masked."
    ),
    modifiers(&SecuritySchemes),
    paths(
        healthz,
        metrics,
        login,
        logout,
        get_person,
        entities::search,
        entities::profile,
        entities::reveal,
        entities::dashboard,
        warnings::list,
        warnings::detail,
        warnings::feedback,
        warnings::precision,
        governance::file,
        governance::list,
        governance::decide,
        governance::thresholds,
        governance::record_threshold,
        governance::drift,
        governance::rules,
        governance::models,
        governance::institutions,
        governance::operations,
        governance::resend_dead,
        decisions::payment,
        decisions::call,
        decisions::sms,
        decisions::account_opening,
        admin::list_users,
        admin::add_user,
        admin::disable_user,
        admin::enable_user,
        admin::list_keys,
        admin::add_key,
        admin::revoke_key,
        audit::page,
        audit::verify,
        audit::flags,
        audit::review_flag,
        trace::intake,
        trace::trace,
        trace::stop_plan,
        trace::cases,
        trace::file_case,
        trace::case_freezes,
        trace::orders,
        trace::draft_order,
        trace::order,
        trace::order_step,
        trace::order_document,
        trace::registry,
        trace::return_plan,
        trace::due,
        trace::rounds,
        trace::open_round,
        trace::decide_round,
        trace::ratio,
        trace::take_report,
        trace::round_document
    ),
    components(schemas(Health, LoginRequest, LoginResponse, PersonView, ErrorBody)),
    tags(
        (name = "operations", description = "Health and metrics"),
        (name = "session", description = "Logging in and out"),
        (name = "entities", description = "Search, profiles (masked) and reveal with a reason"),
        (name = "dashboard", description = "Reports, cases and losses over time"),
        (name = "warnings", description = "Two-card risk warnings (masked), institutions' answers and precision"),
        (name = "appeals", description = "Appeals (申诉, Art. 32) against warnings' measures and their review"),
        (name = "governance", description = "Threshold decisions, the rule set, model cards, drift and institutions' answers"),
        (name = "decisions", description = "Real-time decisions on payments, calls and SMS, and account-opening checks, for institutions' keys"),
        (name = "linkage", description = "Police-bank linkage: intake, fund tracing, stop and freeze orders through approval to the bank's answer, the freeze registry and returns"),
        (name = "admin", description = "Users, institutions' API keys and delivery operations"),
        (name = "audit", description = "The hash-chained audit trail and insider flags")
    )
)]
pub struct ApiDoc;

/// The two ways to call: a person's session cookie, or an institution's key.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::SESSION_COOKIE))),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The answer of `/healthz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` when the store answers.
    pub status: &'static str,
}

/// Whether the server and its store answer.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "The store answers", body = Health),
        (status = 503, description = "The store does not answer", body = ErrorBody)
    )
)]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::internal(Code::StoreUnavailable, &e))?;
    Ok(Json(Health { status: "ok" }))
}

/// Request counts and latencies in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"))
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// A login.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// Who is now logged in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub username: String,
    /// One of `admin`, `commander`, `analyst`, `approver`, `station_leader`,
    /// `station_officer`, `community_worker`, `bank_operator`, `carrier_operator`,
    /// `publicity`, `auditor`.
    pub role: String,
}

/// Logs in; the session cookie (HttpOnly, Secure, SameSite=Strict) comes back in
/// `Set-Cookie`.
#[utoipa::path(
    post,
    path = "/api/v1/login",
    tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = LoginResponse),
        (status = 400, description = "Not a login document", body = ErrorBody),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 415, description = "Body not declared as JSON", body = ErrorBody),
        (status = 429, description = "Too many failed logins; see Retry-After", body = ErrorBody)
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let auth::LoggedIn { token, user } =
        match auth::password_login(&state, "api", &req.username, req.password, client.ip()).await {
            Ok(done) => done,
            Err(auth::LoginRefusal::TooLong(field)) => {
                return Err(
                    ApiError::new(Code::InvalidParameter, format!("{field} too long"))
                        .with_field(field),
                )
            }
            Err(auth::LoginRefusal::Throttled(wait)) => {
                let mut res = ApiError::new(
                    Code::TooManyAttempts,
                    "too many failed logins; try again later",
                )
                .into_response();
                // Whole seconds, rounded up, so a client that waits exactly this long gets
                // through.
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                res.headers_mut()
                    .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
                return Ok(res);
            }
            Err(auth::LoginRefusal::WrongCredentials) => {
                return Err(ApiError::new(
                    Code::InvalidCredentials,
                    "wrong username or password",
                ))
            }
            Err(auth::LoginRefusal::Failed(e)) => return Err(e),
        };
    let body = LoginResponse {
        username: user.username,
        role: user.role.as_str().to_owned(),
    };
    Ok((
        [(header::SET_COOKIE, auth::session_cookie(&token))],
        Json(body),
    )
        .into_response())
}

/// Ends the caller's session and clears the cookie.
#[utoipa::path(
    post,
    path = "/api/v1/logout",
    tag = "session",
    security(("session" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "An API key cannot log out", body = ErrorBody)
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, ApiError> {
    let Some(session) = &user.session_hash else {
        return Err(ApiError::new(
            Code::Forbidden,
            "an API key is revoked by the operator, not logged out",
        ));
    };
    state.store.session_remove(session).await?;
    state
        .audit
        .append(&user.actor(), "api.logout", &serde_json::json!({}))
        .await?;
    Ok((
        axum::http::StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, auth::cleared_cookie())],
    )
        .into_response())
}

/// The OpenAPI document, built once at start-up.
pub async fn openapi(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.clone(),
    )
}

/// Unknown routes answer in the same JSON shape as every other error.
pub async fn route_not_found() -> ApiError {
    ApiError::new(Code::RouteNotFound, "no such route")
}

/// One person, masked, within the caller's scope. Needs a session (or key) and a role
/// whose work is with people; audited as `lookup.person`.
#[utoipa::path(
    get,
    path = "/api/v1/persons/{person_id}",
    tag = "entities",
    security(("session" = []), ("api_key" = [])),
    params(("person_id" = String, Path, description = "The identity document number")),
    responses(
        (status = 200, description = "The person, masked", body = PersonView),
        (status = 400, description = "Not a usable id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role may not look people up", body = ErrorBody),
        (status = 404, description = "No such person in the caller's scope", body = ErrorBody),
        (status = 503, description = "The look-up could not be audited", body = ErrorBody)
    )
)]
pub async fn get_person(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<PersonView>, ApiError> {
    // The role is judged before the parameter: a caller who may not look people up learns
    // nothing from the shape of their request.
    user.allow(crate::policy::Action::ViewEntities)?;
    let Path(person_id) = path.map_err(|e| ApiError::from(e).with_field("person_id"))?;
    Ok(Json(
        service::person_by_id(&state, &user, &person_id).await?,
    ))
}
