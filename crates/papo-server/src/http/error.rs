//! The one error type at the HTTP edge. Every failure leaves as
//! `{"code", "message", "fields"?, "retry_after"?}` with the status its [`ErrorCode`] names.
//!
//! Unexpected failures become an opaque 500; the cause travels to the logging middleware in a
//! response extension ([`InternalErrorReport`]) and is never shown to the client.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use papo_core::error::{ErrorCode, FieldError, FieldErrors};
use serde::Serialize;
use utoipa::ToSchema;

/// Result of a handler.
pub type ApiResult<T, E = ApiError> = Result<T, E>;

/// An error answered to the client.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    fields: Option<FieldErrors>,
    retry_after: Option<u64>,
    source: Option<anyhow::Error>,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// Human-readable message.
    pub message: String,
    /// Invalid fields by name, for 409/422.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldErrors>,
    /// Seconds to wait, for 429 (also in the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// The cause of a 500, for the logging middleware.
#[derive(Clone, Debug)]
pub struct InternalErrorReport(pub Arc<String>);

impl ApiError {
    /// An error with the code's default message.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: Cow::Borrowed(code.default_message()),
            fields: None,
            retry_after: None,
            source: None,
        }
    }

    /// Replaces the message.
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = message.into();
        self
    }

    /// Attaches one field error.
    pub fn with_field(mut self, name: &str, error: FieldError) -> Self {
        self.fields
            .get_or_insert_with(FieldErrors::new)
            .insert(name.to_owned(), error);
        self
    }

    /// 422 `validation_failed` with these fields.
    pub fn invalid_fields(fields: FieldErrors) -> Self {
        let mut e = Self::new(ErrorCode::ValidationFailed);
        e.fields = Some(fields);
        e
    }

    /// 429 `rate_limited`, retry after `wait` (rounded up to whole seconds).
    pub fn rate_limited(wait: Duration) -> Self {
        let mut e = Self::new(ErrorCode::RateLimited);
        e.retry_after = Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        e
    }

    /// Adds `retry_after` (whole seconds, rounded up) and the `Retry-After` header.
    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        self
    }

    /// An opaque 500 carrying its cause for the logs.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(ErrorCode::InternalError);
        e.source = Some(err.into());
        e
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The invalid fields, if any.
    pub fn fields(&self) -> Option<&FieldErrors> {
        self.fields.as_ref()
    }

    /// The body the client sees, for answers outside an HTTP response (the gateway's). The
    /// cause of an internal error is logged here, as the logging middleware would.
    pub fn into_body(self) -> ErrorBody {
        let (body, source) = self.split();
        if let Some(source) = source {
            tracing::error!(error = %format!("{source:#}"), "internal error");
        }
        body
    }

    /// The client's body, and the cause kept for the logs.
    fn split(self) -> (ErrorBody, Option<anyhow::Error>) {
        let body = ErrorBody {
            code: self.code,
            message: self.message.into_owned(),
            fields: self.fields,
            retry_after: self.retry_after,
        };
        (body, self.source)
    }
}

impl From<papo_store::StoreError> for ApiError {
    fn from(err: papo_store::StoreError) -> Self {
        match err {
            // A row the write named was deleted meanwhile (the checks before it had found it).
            papo_store::StoreError::MissingParent(_) => Self::new(ErrorCode::NotFound)
                .with_message("It was deleted while this was being done."),
            err => Self::internal(err),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        Self::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (body, source) = self.split();
        let retry_after = body.retry_after;
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(source) = source {
            response
                .extensions_mut()
                .insert(InternalErrorReport(Arc::new(format!("{source:#}"))));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write whose parent row went meanwhile is the client's 404, not a 500 (the send
    /// path says "Unknown channel."; other writes, e.g. a reaction to a message deleted
    /// meanwhile, get this generic answer).
    #[test]
    fn a_missing_parent_is_not_found_and_other_store_errors_are_internal() {
        let gone = ApiError::from(papo_store::StoreError::MissingParent("fk".into()));
        assert_eq!(gone.code, ErrorCode::NotFound);
        assert!(gone.source.is_none());
        let other = ApiError::from(papo_store::StoreError::Writer("disk".into()));
        assert_eq!(other.code, ErrorCode::InternalError);
    }
}
