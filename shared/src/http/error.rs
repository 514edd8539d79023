//! Every error a route can answer, mapped to HTTP in one place. Bodies are
//! JSON: `{"error": "<code>", "message": "<text>"}`.
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::auth::AuthError;
use crate::bus::BusError;
use crate::directory::DirectoryError;
use crate::domain::StoreError;
use crate::inbox::InboxError;
use crate::notifications::{NotifyError, TypeError};
use crate::records::RecordError;
use crate::sessions::SessionError;
use crate::subscriptions::{SubscriptionError, TemplateError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    RequestTimeout(String),
    /// A quota of what a user or tenant may create is reached.
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    #[error("service temporarily unavailable, retry later")]
    Unavailable(#[source] StoreError),
}

impl ApiError {
    pub fn bad_request(message: impl std::fmt::Display) -> Self {
        Self::BadRequest(message.to_string())
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            Self::QuotaExceeded(_) => (StatusCode::CONFLICT, "quota_exceeded"),
            Self::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::TenantNotAllowed(_) | AuthError::NotAdmin | AuthError::NotEveryTenant => Self::Forbidden(e.to_string()),
            _ => Self::Unauthorized(e.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::Unavailable(e)
    }
}

impl From<BusError> for ApiError {
    fn from(e: BusError) -> Self {
        match e {
            BusError::Invalid(m) => Self::BadRequest(m),
            BusError::Conflict(m) => Self::Conflict(m),
            BusError::Store(e) => Self::Unavailable(e),
        }
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Invalid(m) => Self::BadRequest(m),
            DirectoryError::UnknownUser(_) | DirectoryError::UnknownCompany(_) | DirectoryError::NotActive => Self::NotFound(e.to_string()),
            DirectoryError::QuotaExceeded(m) => Self::QuotaExceeded(m),
            DirectoryError::Store(e) => Self::Unavailable(e),
        }
    }
}

impl From<TypeError> for ApiError {
    fn from(e: TypeError) -> Self {
        match e {
            TypeError::Invalid(m) => Self::BadRequest(m),
            TypeError::QuotaExceeded(m) => Self::QuotaExceeded(m),
            TypeError::Store(e) => Self::Unavailable(e),
        }
    }
}

impl From<NotifyError> for ApiError {
    fn from(e: NotifyError) -> Self {
        match e {
            NotifyError::Invalid(m) => Self::BadRequest(m),
            NotifyError::NotFound => Self::NotFound("no such notification".into()),
            NotifyError::Conflict(m) => Self::Conflict(m),
            NotifyError::Store(e) => Self::Unavailable(e),
        }
    }
}

impl From<InboxError> for ApiError {
    fn from(e: InboxError) -> Self {
        match e {
            InboxError::NotFound => Self::NotFound("no such inbox item".into()),
            InboxError::Invalid(m) => Self::BadRequest(m),
            InboxError::Store(e) => Self::Unavailable(e),
        }
    }
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::UnknownResource(_) | RecordError::NotFound(_) => Self::NotFound(e.to_string()),
            RecordError::Invalid(m) => Self::BadRequest(m),
            RecordError::QuotaExceeded(m) => Self::QuotaExceeded(m),
            RecordError::Store(e) => Self::Unavailable(e),
        }
    }
}

impl From<SubscriptionError> for ApiError {
    fn from(e: SubscriptionError) -> Self {
        match e {
            SubscriptionError::Invalid(m) => Self::BadRequest(m),
            SubscriptionError::Forbidden(m) => Self::Forbidden(m),
            SubscriptionError::NotFound => Self::NotFound("no such subscription".into()),
            SubscriptionError::QuotaExceeded(m) => Self::QuotaExceeded(m),
            SubscriptionError::Store(e) => Self::Unavailable(e),
        }
    }
}

impl From<TemplateError> for ApiError {
    fn from(e: TemplateError) -> Self {
        match e {
            TemplateError::Invalid(m) => Self::BadRequest(m),
            TemplateError::NotFound(m) => Self::NotFound(m),
            TemplateError::QuotaExceeded(m) => Self::QuotaExceeded(m),
            TemplateError::Store(e) => Self::Unavailable(e),
        }
    }
}

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Invalid(m) => Self::BadRequest(m),
            SessionError::Store(e) => Self::Unavailable(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let Self::Unavailable(cause) = &self {
            tracing::error!(error = %cause, "store unavailable");
        }
        let body = Json(json!({ "error": code, "message": self.to_string() }));
        if status == StatusCode::UNAUTHORIZED {
            (status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response()
        } else {
            (status, body).into_response()
        }
    }
}

/// Extractors that also pass on axum's own rejections answer a `Response`.
impl From<ApiError> for Response {
    fn from(e: ApiError) -> Self {
        e.into_response()
    }
}
