//! The one API error type: every failure maps to an HTTP status and a stable
//! code. The services' errors ([`ServiceError`], [`Refusal`]) carry no HTTP
//! type: they become an `ApiError` here, in one `From` each.

use crate::service::{Refusal, RefusalKind, ServiceError, ServiceErrorKind};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kycd_core::input::FieldError;
use kycd_core::lifecycle::LifecycleError;
use kycd_store::StoreError;

pub use crate::service::Reason;

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
    fn with_param_opt(mut self, param: Option<String>) -> Self {
        self.param = param;
        self
    }
    pub fn with_reasons(mut self, reasons: Vec<Reason>) -> Self {
        self.reasons = reasons;
        self
    }
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Refusal::invalid_request(message).into()
    }
    pub fn invalid_field(param: impl Into<String>, message: impl Into<String>) -> Self {
        Refusal::invalid_field(param, message).into()
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
        Refusal::not_found(what).into()
    }
    pub fn requirements_not_met(message: impl Into<String>, reasons: Vec<Reason>) -> Self {
        Refusal::requirements_not_met(message, reasons).into()
    }
    pub fn missing_capability(message: impl Into<String>) -> Self {
        Refusal::missing_capability(message).into()
    }
    pub fn customer_locked(status: &str) -> Self {
        Refusal::customer_locked(status).into()
    }
    pub fn invalid_transition(message: impl Into<String>) -> Self {
        Refusal::invalid_transition(message).into()
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Refusal::conflict(code, message).into()
    }
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Refusal::payload_too_large(message).into()
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

/// The one conversion of a refusal to its answer: its kind decides the status.
impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        let (status, error_type) = match r.kind {
            RefusalKind::Invalid => (StatusCode::BAD_REQUEST, "invalid_request_error"),
            RefusalKind::NotFound => (StatusCode::NOT_FOUND, "invalid_request_error"),
            RefusalKind::Forbidden => (StatusCode::FORBIDDEN, "invalid_request_error"),
            RefusalKind::Conflict => (StatusCode::CONFLICT, "invalid_request_error"),
            RefusalKind::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request_error"),
            RefusalKind::KeyReused => (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_error"),
        };
        ApiError::new(status, error_type, r.code, r.message)
            .with_reasons(r.reasons)
            .with_param_opt(r.param)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Refusal::from(e).into()
    }
}

impl From<LifecycleError> for ApiError {
    fn from(e: LifecycleError) -> Self {
        Refusal::from(e).into()
    }
}

/// The one conversion of a service error to the API's answer. Failures that
/// are not the caller's (5xx) keep their cause and location for the log line
/// the HTTP layer writes with the request id; the body never shows them.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let location = e.location;
        let layer = e.layer();
        let detail = e.to_string();
        let api = match e.kind {
            ServiceErrorKind::Domain(refusal) => return (*refusal).into(),
            ServiceErrorKind::Store(s) => store_answer(s),
            ServiceErrorKind::Vault(_)
            | ServiceErrorKind::Blobs(_)
            | ServiceErrorKind::Internal(_) => ApiError::internal(),
            ServiceErrorKind::Provider(p) => ApiError::provider_unavailable(p.provider),
        };
        api.with_origin(ErrorOrigin {
            location,
            layer,
            detail,
        })
    }
}

/// The answer to a store failure (logged by the HTTP layer, with its origin).
fn store_answer(e: StoreError) -> ApiError {
    if let Some(refusal) = Refusal::of_store(&e) {
        return refusal.into();
    }
    match e {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::{ProviderError, ServiceResult};

    fn provider(transient: bool) -> ServiceError {
        ProviderError {
            provider: "sumsub",
            message: "upstream said no".into(),
            transient,
        }
        .into()
    }

    #[test]
    fn provider_errors_answer_502_provider_unavailable() {
        let down = provider(true);
        assert!(down.is_transient());
        let api = ApiError::from(down);
        assert_eq!(api.status, StatusCode::BAD_GATEWAY);
        assert_eq!(api.code, "provider_unavailable");
        let origin = api.origin.expect("a provider failure keeps its origin");
        assert_eq!(origin.layer, "provider");
        assert!(origin.detail.contains("sumsub"), "{}", origin.detail);

        let refused = provider(false);
        assert!(!refused.is_transient());
        let api = ApiError::from(refused);
        assert_eq!(api.status, StatusCode::BAD_GATEWAY);
        assert_eq!(api.code, "provider_unavailable");
    }

    #[test]
    fn store_conflicts_are_transient_and_answer_concurrent_update() {
        let e = ServiceError::from(StoreError::VersionConflict);
        assert!(e.is_transient());
        let api = ApiError::from(e);
        assert_eq!(api.status, StatusCode::CONFLICT);
        assert_eq!(api.code, "concurrent_update");

        let missing = ServiceError::from(StoreError::NotFound);
        assert!(!missing.is_transient());
        assert_eq!(ApiError::from(missing).code, "resource_not_found");
        let taken = ServiceError::from(StoreError::Conflict("external_id".into()));
        assert_eq!(ApiError::from(taken).code, "external_id_taken");
    }

    #[test]
    fn domain_refusals_pass_through_unchanged_and_are_not_retried() {
        let e = ServiceError::from(Refusal::customer_locked("rejected"));
        assert!(!e.is_transient());
        assert_eq!(e.layer(), "domain");
        let api = ApiError::from(e);
        assert_eq!(api.code, "customer_locked");
        assert!(api.origin.is_none());
    }

    fn fails_here() -> ServiceResult<()> {
        Err(StoreError::Corrupt("bad row".into()))?;
        Ok(())
    }

    #[test]
    fn errors_record_where_they_arose() {
        let e = fails_here().unwrap_err();
        assert!(
            e.location.file().ends_with("src/error.rs"),
            "{}",
            e.location
        );
        let line = e.location.line();
        let api = ApiError::from(e);
        assert_eq!(api.status, StatusCode::INTERNAL_SERVER_ERROR);
        let origin = api.origin.unwrap();
        assert_eq!(origin.location.line(), line);
        assert_eq!(origin.layer, "store");
        assert!(origin.detail.contains("bad row"));
        // The line of the `?` in `fails_here`, not of a conversion helper.
        let source = include_str!("error.rs");
        let at = source.lines().nth(line as usize - 1).unwrap();
        assert!(at.contains("Corrupt(\"bad row\""), "{at}");
    }
}
