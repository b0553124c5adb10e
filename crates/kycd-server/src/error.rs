//! The one API error type: every failure maps to an HTTP status and a stable code.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kycd_core::input::FieldError;
use kycd_core::lifecycle::LifecycleError;
use kycd_store::StoreError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Reason {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub error_type: &'static str,
    pub code: &'static str,
    pub message: String,
    pub param: Option<String>,
    pub reasons: Vec<Reason>,
    /// Seconds for the `Retry-After` header (503, 429).
    pub retry_after: Option<std::num::NonZeroU32>,
    /// Where a failure that is not the caller's arose (logged with the
    /// request id, never shown in the body).
    pub origin: Option<Box<ErrorOrigin>>,
}

/// The cause of a failure and the place in the code where it arose.
#[derive(Debug, Clone)]
pub struct ErrorOrigin {
    pub location: &'static std::panic::Location<'static>,
    /// `store`, `vault`, `blobs`, `provider`.
    pub layer: &'static str,
    /// The cause, safe to log (no personal data, no key material).
    pub detail: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        error_type: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            error_type,
            code,
            message: message.into(),
            param: None,
            reasons: vec![],
            retry_after: None,
            origin: None,
        }
    }
    pub fn with_origin(mut self, origin: ErrorOrigin) -> Self {
        self.origin = Some(Box::new(origin));
        self
    }
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = std::num::NonZeroU32::new(seconds.clamp(1, u32::MAX as u64) as u32);
        self
    }
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }
    pub fn with_reasons(mut self, reasons: Vec<Reason>) -> Self {
        self.reasons = reasons;
        self
    }
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_request",
            message,
        )
    }
    pub fn invalid_field(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_field",
            message,
        )
        .with_param(param)
    }
    pub fn invalid_api_key(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid_api_key",
            message,
        )
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "resource_not_found",
            format!("no such {what}"),
        )
    }
    pub fn requirements_not_met(message: impl Into<String>, reasons: Vec<Reason>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            "requirements_not_met",
            message,
        )
        .with_reasons(reasons)
    }
    pub fn missing_capability(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            "missing_capability",
            message,
        )
    }
    pub fn customer_locked(status: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "invalid_request_error",
            "customer_locked",
            format!("a customer in status {status} cannot be updated"),
        )
    }
    pub fn invalid_transition(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "invalid_request_error",
            "invalid_transition",
            message,
        )
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "invalid_request_error", code, message)
    }
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "payload_too_large",
            message,
        )
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "internal_error",
            "something went wrong on our side",
        )
    }
    /// 503: the database (or the server) cannot serve right now; the client
    /// should retry after `Retry-After` seconds.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            "service_unavailable",
            "the service is temporarily unavailable: try again shortly",
        )
        .with_retry_after(1)
    }
    /// 502: an identity provider (Sumsub…) did not answer or refused the
    /// call after the retries; nothing was changed.
    pub fn provider_unavailable(provider: &str) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "api_error",
            "provider_unavailable",
            format!(
                "the identity provider {provider} is unavailable: nothing was changed, try again later"
            ),
        )
    }
    /// 408: the client declared a body and did not send it in time.
    pub fn request_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            "request_timeout",
            "the request body did not arrive in time",
        )
    }
    /// 415: a body in a media type the route does not take.
    pub fn unsupported_media_type(accepted: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            "unsupported_media_type",
            format!("the request body must be {accepted}"),
        )
    }
    /// 429: over the rate limit; retry after `retry_after` seconds.
    pub fn rate_limited(retry_after: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_request_error",
            "rate_limited",
            "too many requests: slow down and retry after the Retry-After delay",
        )
        .with_retry_after(retry_after)
    }

    /// The JSON body, with the request id filled in by the response middleware.
    pub fn body(&self, request_id: &str) -> serde_json::Value {
        let mut e = serde_json::json!({
            "type": self.error_type,
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
        });
        if let Some(p) = &self.param {
            e["param"] = p.clone().into();
        }
        if !self.reasons.is_empty() {
            e["reasons"] = serde_json::to_value(&self.reasons).unwrap_or_default();
        }
        serde_json::json!({ "error": e })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The body is rendered by `http::finalize`, which knows the request id.
        let mut res = self.status.into_response();
        res.extensions_mut().insert(self);
        res
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::invalid_field(e.param, e.message)
    }
}

impl From<LifecycleError> for ApiError {
    fn from(e: LifecycleError) -> Self {
        ApiError::invalid_transition(e.to_string())
    }
}

/// The answer to a store failure (logged by the HTTP layer, with its origin).
pub(crate) fn store_answer(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found("resource"),
        StoreError::Conflict(what) if what == "external_id" => ApiError::conflict(
            "external_id_taken",
            "a customer with this external_id already exists in this organization and environment",
        )
        .with_param("external_id"),
        StoreError::Conflict(what) => ApiError::conflict("conflict", format!("conflict on {what}")),
        StoreError::Unavailable { retry_after } => {
            ApiError::unavailable().with_retry_after(retry_after.as_secs_f64().ceil() as u64)
        }
        e if e.is_unavailable() => ApiError::unavailable(),
        e if e.is_transient() => ApiError::conflict(
            "concurrent_update",
            "a concurrent change got there first: retry the request",
        ),
        _ => ApiError::internal(),
    }
}

impl From<StoreError> for ApiError {
    #[track_caller]
    fn from(e: StoreError) -> Self {
        crate::service::ServiceError::from(e).into()
    }
}

impl From<kycd_vault::VaultError> for ApiError {
    #[track_caller]
    fn from(e: kycd_vault::VaultError) -> Self {
        crate::service::ServiceError::from(e).into()
    }
}
