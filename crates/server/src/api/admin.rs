//! Users and API keys over JSON (admin only); each change is audited by the service.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ErrorBody};
use crate::policy::Action;
use crate::service::{self, KeyView, NewKeyRequest, NewKeyView, NewUserRequest, UserView};
use crate::AppState;

/// Every user, disabled ones included.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    tag = "admin",
    security(("session" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The users, by name", body = [UserView]),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody)
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<UserView>>, ApiError> {
    Ok(Json(service::users(&state, &user).await?))
}

/// Adds a user; audited as `admin.user.add`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    tag = "admin",
    security(("session" = []), ("api_key" = [])),
    request_body = NewUserRequest,
    responses(
        (status = 201, description = "Added", body = UserView),
        (status = 400, description = "Not a user document", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The username is taken", body = ErrorBody),
        (status = 422, description = "A field's value is not acceptable; `field` names it", body = ErrorBody)
    )
)]
pub async fn add_user(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<Json<NewUserRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    user.allow(Action::Administer)?;
    let Json(req) = body?;
    Ok((
        StatusCode::CREATED,
        Json(service::add_user(&state, &user, &req).await?),
    ))
}

/// Disables a user and ends their sessions; audited as `admin.user.disable`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{username}/disable",
    tag = "admin",
    security(("session" = []), ("api_key" = [])),
    params(("username" = String, Path)),
    responses(
        (status = 200, description = "Disabled", body = UserView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "An admin cannot disable their own account", body = ErrorBody)
    )
)]
pub async fn disable_user(
    state: State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<UserView>, ApiError> {
    set_disabled(state, user, path, true).await
}

/// Enables a disabled user again; audited as `admin.user.enable`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{username}/enable",
    tag = "admin",
    security(("session" = []), ("api_key" = [])),
    params(("username" = String, Path)),
    responses(
        (status = 200, description = "Enabled", body = UserView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody)
    )
)]
pub async fn enable_user(
    state: State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<UserView>, ApiError> {
    set_disabled(state, user, path, false).await
}

async fn set_disabled(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<String>, PathRejection>,
    disabled: bool,
) -> Result<Json<UserView>, ApiError> {
    user.allow(Action::Administer)?;
    let Path(username) = path.map_err(|e| ApiError::from(e).with_field("username"))?;
    Ok(Json(
        service::set_disabled(&state, &user, &username, disabled).await?,
    ))
}

/// Every API key, revoked ones included (never the secrets).
#[utoipa::path(
    get,
    path = "/api/v1/admin/keys",
    tag = "admin",
    security(("session" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The keys, oldest first", body = [KeyView]),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody)
    )
)]
pub async fn list_keys(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<KeyView>>, ApiError> {
    Ok(Json(service::keys(&state, &user).await?))
}

/// Makes a key for a bank's or carrier's system; the secret is shown in this answer only.
/// Audited as `admin.key.add`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/keys",
    tag = "admin",
    security(("session" = []), ("api_key" = [])),
    request_body = NewKeyRequest,
    responses(
        (status = 201, description = "Made; store the secret now", body = NewKeyView),
        (status = 400, description = "Not a key document", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "A field's value is not acceptable; `field` names it", body = ErrorBody)
    )
)]
pub async fn add_key(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<Json<NewKeyRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<NewKeyView>), ApiError> {
    user.allow(Action::Administer)?;
    let Json(req) = body?;
    Ok((
        StatusCode::CREATED,
        Json(service::add_key(&state, &user, &req).await?),
    ))
}

/// Revokes a key at once; audited as `admin.key.revoke`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/keys/{id}/revoke",
    tag = "admin",
    security(("session" = []), ("api_key" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Revoked", body = KeyView),
        (status = 400, description = "Not a key id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such active key", body = ErrorBody)
    )
)]
pub async fn revoke_key(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<KeyView>, ApiError> {
    user.allow(Action::Administer)?;
    let Path(id) = path.map_err(|e| ApiError::from(e).with_field("id"))?;
    Ok(Json(service::revoke_key(&state, &user, id).await?))
}
