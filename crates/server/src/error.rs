//! Errors as clients see them: one JSON shape (`code`, `message`, `field`) and one table
//! from error code to HTTP status, so a code means the same status everywhere.
//!
//! A client's mistake is a 4xx with a code naming it; only our own failures are 5xx, and
//! their messages say nothing of the internals (the log has the cause).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// Declares [`Code`] with its wire name and HTTP status: the single table.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, $status:ident;)*) => {
        /// Every error code the API can answer with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code's name on the wire.
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            pub fn status(self) -> StatusCode {
                match self {
                    $(Code::$variant => StatusCode::$status,)*
                }
            }
        }
    };
}

error_codes! {
    /// The request body is not the JSON the endpoint takes.
    MalformedBody => "malformed_body", BAD_REQUEST;
    /// A path or query parameter is unusable; `field` names it.
    InvalidParameter => "invalid_parameter", BAD_REQUEST;
    /// A body field is well-formed but its value is not acceptable (a reason too short, an
    /// unknown role); `field` names it.
    InvalidField => "invalid_field", UNPROCESSABLE_ENTITY;
    /// Some other malformed request the framework refused before a handler saw it.
    BadRequest => "bad_request", BAD_REQUEST;
    /// No valid session or key came with the request.
    Unauthenticated => "unauthenticated", UNAUTHORIZED;
    /// The username or password is wrong (which one is not said).
    InvalidCredentials => "invalid_credentials", UNAUTHORIZED;
    /// Too many failed logins for this username or from this address; `Retry-After` says
    /// how long to wait.
    TooManyAttempts => "too_many_attempts", TOO_MANY_REQUESTS;
    /// The caller's role may not do this.
    Forbidden => "forbidden", FORBIDDEN;
    /// A state-changing request a browser sent from another site (CSRF).
    CrossSiteRequest => "cross_site_request", FORBIDDEN;
    PersonNotFound => "person_not_found", NOT_FOUND;
    /// No such entity, or not one the caller may see (the two are not told apart).
    EntityNotFound => "entity_not_found", NOT_FOUND;
    /// No warning about the entity, or not one the caller may see (not told apart).
    WarningNotFound => "warning_not_found", NOT_FOUND;
    UserNotFound => "user_not_found", NOT_FOUND;
    AppealNotFound => "appeal_not_found", NOT_FOUND;
    KeyNotFound => "key_not_found", NOT_FOUND;
    FlagNotFound => "flag_not_found", NOT_FOUND;
    /// No such report, or not one the caller may see.
    ReportNotFound => "report_not_found", NOT_FOUND;
    CaseNotFound => "case_not_found", NOT_FOUND;
    /// No such return round.
    RoundNotFound => "round_not_found", NOT_FOUND;
    /// No such order, or not one the caller may see (a bank sees its own accounts' only).
    OrderNotFound => "order_not_found", NOT_FOUND;
    /// The workflow's rules refuse the step (a third stop, a freeze before the case, an
    /// order not in a status the step applies to, an approver of too low a level).
    WorkflowRefused => "workflow_refused", CONFLICT;
    /// The ledger is being loaded after a start; `Retry-After` says when to ask again.
    LedgerLoading => "ledger_loading", SERVICE_UNAVAILABLE;
    UsernameTaken => "username_taken", CONFLICT;
    /// The request contradicts the current state (an admin disabling their own account).
    Conflict => "conflict", CONFLICT;
    RouteNotFound => "route_not_found", NOT_FOUND;
    MethodNotAllowed => "method_not_allowed", METHOD_NOT_ALLOWED;
    PayloadTooLarge => "payload_too_large", PAYLOAD_TOO_LARGE;
    UnsupportedMediaType => "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE;
    /// The store did not answer.
    StoreUnavailable => "store_unavailable", SERVICE_UNAVAILABLE;
    Internal => "internal", INTERNAL_SERVER_ERROR;
}

impl Code {
    /// The code for a bare status produced outside our handlers (the router, a body limit).
    pub fn from_status(status: StatusCode) -> Code {
        match status {
            StatusCode::NOT_FOUND => Code::RouteNotFound,
            StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
            StatusCode::UNAUTHORIZED => Code::Unauthenticated,
            StatusCode::FORBIDDEN => Code::Forbidden,
            StatusCode::TOO_MANY_REQUESTS => Code::TooManyAttempts,
            StatusCode::UNPROCESSABLE_ENTITY => Code::InvalidField,
            StatusCode::CONFLICT => Code::Conflict,
            StatusCode::SERVICE_UNAVAILABLE => Code::StoreUnavailable,
            s if s.is_client_error() => Code::BadRequest,
            _ => Code::Internal,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable machine-readable code, e.g. `person_not_found`.
    pub code: &'static str,
    /// What went wrong, for a person to read.
    pub message: String,
    /// The offending field or parameter, when one is to blame.
    pub field: Option<String>,
}

/// An error a handler returns; it becomes an [`ErrorBody`] with the code's status.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    /// A path or query parameter that cannot be used (400).
    pub fn parameter(field: &str, message: impl Into<String>) -> Self {
        ApiError::new(Code::InvalidParameter, message).with_field(field)
    }

    /// A body field whose value is not acceptable (422).
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        ApiError::new(Code::InvalidField, message).with_field(field)
    }

    /// A failure of ours. The cause goes to the log only, with long digit runs (ids, cards,
    /// phones an SQL error may quote) masked; the client learns nothing of the internals.
    pub fn internal(code: Code, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(
            code = code.name(),
            "{}",
            fanzha_core::mask::digits_in_text(&cause.to_string())
        );
        let message = match code {
            Code::StoreUnavailable => "the store is unavailable",
            _ => "internal error",
        };
        ApiError::new(code, message)
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    /// A body the JSON extractor refused: too large, not declared as JSON, or not the
    /// document the endpoint takes. The field is named when serde names it.
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as R;
        let text = rejection.body_text();
        let code = match &rejection {
            R::JsonDataError(_) | R::JsonSyntaxError(_) => Code::MalformedBody,
            R::MissingJsonContentType(_) => Code::UnsupportedMediaType,
            _ => Code::from_status(rejection.status()),
        };
        let named = text
            .split_once("field `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(f, _)| f.to_owned());
        // Otherwise the extractor prefixes serde's message with the path to the value it
        // refused (`amount_fen: invalid type…`, `reasons[0].code: …`).
        let field = named.or_else(|| {
            let (_, rest) = text.split_once("target type: ")?;
            let (path, _) = rest.split_once(": ")?;
            (!path.is_empty() && path != "." && !path.contains(' ')).then(|| path.to_owned())
        });
        ApiError {
            code,
            message: echo_masked(&text),
            field,
        }
    }
}

/// A framework or serde message may quote the offending value, which may be an id or a
/// phone number the caller sent: its long digit runs are masked before it is echoed (the
/// answer may be logged by a proxy, and a log is no place for them).
fn echo_masked(message: &str) -> String {
    fanzha_core::mask::digits_in_text(message)
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    /// A query string that does not deserialise: serde names the parameter when it can.
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        let text = rejection.body_text();
        let field = text
            .split_once("field `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(f, _)| f.to_owned());
        ApiError {
            code: Code::InvalidParameter,
            message: echo_masked(&text),
            field,
        }
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    /// A path segment that is not what the route takes (not UTF-8, not a number).
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        use axum::extract::path::ErrorKind as K;
        use axum::extract::rejection::PathRejection as R;
        let field = match &rejection {
            R::FailedToDeserializePathParams(e) => match e.kind() {
                K::ParseErrorAtKey { key, .. }
                | K::InvalidUtf8InPathParam { key }
                | K::DeserializeError { key, .. } => Some(key.clone()),
                _ => None,
            },
            _ => None,
        };
        // Our own words: the framework's quote the segment, which may be an id.
        let message = match &field {
            Some(key) => format!("the path parameter `{key}` is not usable here"),
            None => "the path is not usable here".to_owned(),
        };
        ApiError {
            code: Code::InvalidParameter,
            message,
            field,
        }
    }
}

impl From<crate::audit::AuditError> for ApiError {
    /// Nothing is answered that could not be audited: the caller gets 503.
    fn from(e: crate::audit::AuditError) -> Self {
        ApiError::internal(Code::StoreUnavailable, &e)
    }
}

impl From<fanzha_store::StoreError> for ApiError {
    fn from(e: fanzha_store::StoreError) -> Self {
        ApiError::internal(Code::Internal, &e)
    }
}

impl From<fanzha_trace::desk::DeskError> for ApiError {
    fn from(e: fanzha_trace::desk::DeskError) -> Self {
        use fanzha_trace::desk::DeskError as D;
        match e {
            D::Invalid { field, reason } => ApiError::invalid_field(field, reason),
            D::NotFound { what, ref id } => {
                let code = match what {
                    "report" => Code::ReportNotFound,
                    "case" => Code::CaseNotFound,
                    "round" => Code::RoundNotFound,
                    _ => Code::OrderNotFound,
                };
                ApiError::new(code, format!("no {what} {id} here")).with_field(what)
            }
            D::Refused(_) | D::Workflow(_) | D::Moved(_) | D::Filed(_) | D::Conflict(_) => {
                ApiError::new(Code::WorkflowRefused, e.to_string())
            }
            D::Store(s) => s.into(),
            D::Load(l) => ApiError::internal(Code::Internal, &l),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.name(),
            message: self.message,
            field: self.field,
        };
        (self.code.status(), Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_client_codes_are_4xx() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len(), "two codes share a name");
        for c in Code::ALL {
            let ours = matches!(
                c,
                Code::StoreUnavailable | Code::Internal | Code::LedgerLoading
            );
            assert_eq!(c.status().is_server_error(), ours, "{c:?}");
        }
    }

    #[test]
    fn bare_statuses_map_to_their_codes() {
        for c in Code::ALL {
            // Each status maps back to a code with that same status.
            assert_eq!(Code::from_status(c.status()).status(), c.status(), "{c:?}");
        }
        assert_eq!(Code::from_status(StatusCode::IM_A_TEAPOT), Code::BadRequest);
    }
}
