//! The handlers and the OpenAPI document generated from them: each path's entry (parameters,
//! bodies, every status it answers with) is written on its handler, so the two change together.
//! A route added to the router must be added to `ApiDoc`'s `paths` too; the server tests check
//! the document lists the API's paths.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fanzha_core::mask;
use fanzha_store::PersonRow;
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, Code, ErrorBody};
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fanzha (反诈) API",
        description = "The joint-operations platform against telecom and online fraud. Every \
                       error answers with `ErrorBody`; personal data is masked."
    ),
    modifiers(&SecuritySchemes),
    paths(healthz, metrics, login, logout, get_person),
    components(schemas(Health, LoginRequest, LoginResponse, PersonView, ErrorBody)),
    tags(
        (name = "operations", description = "Health and metrics"),
        (name = "session", description = "Logging in and out"),
        (name = "persons", description = "People in the district's records")
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
            Err(auth::LoginRefusal::Store(e)) => return Err(e.into()),
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
        .store
        .audit_append(&user.actor(), "api.logout", "{}")
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

/// A person as the API shows them: identifying fields masked, and nothing that would undo
/// the masking. The birth date is left out because it is the part of a resident id the mask
/// hides; the address waits for reveal-with-reason.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    /// The identity document number, masked: `500103********1234`.
    #[schema(example = "500103********1234")]
    pub id_number: String,
    /// `resident_id`, `residence_permit`, `passport`, …
    pub id_kind: Option<String>,
    /// Masked: `张*`.
    #[schema(example = "张*")]
    pub name: Option<String>,
    /// Masked: `138****5678`.
    #[schema(example = "138****5678")]
    pub phone: Option<String>,
    /// The community (jurisdiction) the person belongs to.
    pub community_code: Option<String>,
    pub tags: Option<String>,
}

impl From<PersonRow> for PersonView {
    fn from(p: PersonRow) -> Self {
        PersonView {
            id_number: mask::id_number(&p.person_id),
            id_kind: p.id_kind,
            name: p.name.as_deref().map(mask::name),
            phone: p.phone.as_deref().map(mask::phone),
            community_code: p.community_code,
            tags: p.tags,
        }
    }
}

/// Longer than any identity document number by a wide margin; anything longer is not an id.
const MAX_PERSON_ID_CHARS: usize = 64;

/// One person, masked. Needs a session (or key) and a role whose work is with people.
#[utoipa::path(
    get,
    path = "/api/v1/persons/{person_id}",
    tag = "persons",
    security(("session" = []), ("api_key" = [])),
    params(("person_id" = String, Path, description = "The identity document number")),
    responses(
        (status = 200, description = "The person, masked", body = PersonView),
        (status = 400, description = "Not a usable id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role may not look people up", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody)
    )
)]
pub async fn get_person(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<PersonView>, ApiError> {
    let scope = user.scope()?;
    let Path(person_id) = path.map_err(|e| {
        ApiError::new(Code::InvalidParameter, e.body_text()).with_field("person_id")
    })?;
    if person_id.chars().count() > MAX_PERSON_ID_CHARS {
        return Err(ApiError::new(
            Code::InvalidParameter,
            format!("a person id has at most {MAX_PERSON_ID_CHARS} characters"),
        )
        .with_field("person_id"));
    }
    let person = state.store.person(&scope, &person_id).await?;
    // Every look-up of a person's data is on record, found or not: a run of misses is how
    // someone fishing for ids shows.
    let detail = serde_json::json!({ "person_id": person_id, "found": person.is_some() });
    state
        .store
        .audit_append(&user.actor(), "api.person.view", &detail.to_string())
        .await?;
    match person {
        Some(p) => Ok(Json(PersonView::from(p))),
        None => Err(ApiError::new(Code::PersonNotFound, "no such person").with_field("person_id")),
    }
}
