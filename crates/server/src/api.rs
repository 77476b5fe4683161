//! The handlers and the OpenAPI document generated from them: the document lists exactly the
//! paths annotated here, so it cannot drift from the code.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use fanzha_core::mask;
use fanzha_store::PersonRow;
use serde::Serialize;
use utoipa::OpenApi;

use crate::error::{ApiError, Code, ErrorBody};
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fanzha (反诈) API",
        description = "The joint-operations platform against telecom and online fraud. Every \
                       error answers with `ErrorBody`; personal data is masked."
    ),
    paths(healthz, metrics, get_person),
    components(schemas(Health, PersonView, ErrorBody)),
    tags(
        (name = "operations", description = "Health and metrics"),
        (name = "persons", description = "People in the district's records")
    )
)]
pub struct ApiDoc;

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

/// One person, masked.
#[utoipa::path(
    get,
    path = "/api/v1/persons/{person_id}",
    tag = "persons",
    params(("person_id" = String, Path, description = "The identity document number")),
    responses(
        (status = 200, description = "The person, masked", body = PersonView),
        (status = 400, description = "Not a usable id", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody)
    )
)]
pub async fn get_person(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<PersonView>, ApiError> {
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
    let person = state.store.person(&person_id).await?;
    // Every look-up of a person's data is on record, found or not: a run of misses is how
    // someone fishing for ids shows.
    let detail = serde_json::json!({ "person_id": person_id, "found": person.is_some() });
    state
        .store
        .audit_append("api:anonymous", "api.person.view", &detail.to_string())
        .await?;
    match person {
        Some(p) => Ok(Json(PersonView::from(p))),
        None => Err(ApiError::new(Code::PersonNotFound, "no such person").with_field("person_id")),
    }
}
