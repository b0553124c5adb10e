//! The error of services and jobs, by layer: a domain refusal, the store, the
//! vault, the blob store or an identity provider, each with the place in the
//! code where it arose. It becomes an `ApiError` in one `From`.

use crate::error::{ApiError, ErrorOrigin};
use kycd_core::input::FieldError;
use kycd_core::lifecycle::LifecycleError;
use kycd_store::StoreError;
use kycd_vault::VaultError;
use std::panic::Location;

pub type ServiceResult<T> = Result<T, ServiceError>;

/// What went wrong, by the layer it came from.
#[derive(Debug)]
pub enum ServiceErrorKind {
    /// A domain rule refused the operation (validation, lifecycle, missing
    /// resource, policy): the answer to the caller, already in the API's terms.
    Domain(Box<ApiError>),
    /// The database.
    Store(StoreError),
    /// Sealing, opening or unwrapping keys.
    Vault(VaultError),
    /// The document blob store.
    Blobs(String),
    /// An identity provider (Sumsub, …).
    Provider(ProviderError),
}

/// A failed call to an identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// `sumsub`, …
    pub provider: &'static str,
    /// Safe to log: never personal data.
    pub message: String,
    /// A timeout, a refused connection, a 5xx or a 429: a later try may succeed.
    pub transient: bool,
}

/// A service or job error and where it arose.
#[derive(Debug)]
pub struct ServiceError {
    pub kind: ServiceErrorKind,
    pub location: &'static Location<'static>,
}

impl ServiceError {
    #[track_caller]
    pub fn new(kind: ServiceErrorKind) -> Self {
        ServiceError {
            kind,
            location: Location::caller(),
        }
    }

    /// The blob store failed at `operation`.
    #[track_caller]
    pub fn blobs(operation: &str, e: impl std::fmt::Display) -> Self {
        Self::new(ServiceErrorKind::Blobs(format!("{operation}: {e}")))
    }

    /// A concurrent change got there first (optimistic version, deadlock,
    /// serialization failure) or a provider is briefly unavailable: running
    /// the whole operation again may succeed.
    pub fn is_transient(&self) -> bool {
        match &self.kind {
            ServiceErrorKind::Store(e) => e.is_transient(),
            ServiceErrorKind::Provider(p) => p.transient,
            ServiceErrorKind::Domain(_)
            | ServiceErrorKind::Vault(_)
            | ServiceErrorKind::Blobs(_) => false,
        }
    }

    /// The layer, for logs.
    pub fn layer(&self) -> &'static str {
        match &self.kind {
            ServiceErrorKind::Domain(_) => "domain",
            ServiceErrorKind::Store(_) => "store",
            ServiceErrorKind::Vault(_) => "vault",
            ServiceErrorKind::Blobs(_) => "blobs",
            ServiceErrorKind::Provider(_) => "provider",
        }
    }

    /// The domain refusal, when it is one.
    pub fn as_domain(&self) -> Option<&ApiError> {
        match &self.kind {
            ServiceErrorKind::Domain(e) => Some(e),
            _ => None,
        }
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            ServiceErrorKind::Domain(e) => write!(f, "{}: {}", e.code, e.message),
            ServiceErrorKind::Store(e) => write!(f, "store: {e}"),
            ServiceErrorKind::Vault(e) => write!(f, "vault: {e}"),
            ServiceErrorKind::Blobs(e) => write!(f, "blob store: {e}"),
            ServiceErrorKind::Provider(p) => write!(f, "provider {}: {}", p.provider, p.message),
        }
    }
}

impl std::error::Error for ServiceError {}

impl From<ApiError> for ServiceError {
    #[track_caller]
    fn from(e: ApiError) -> Self {
        ServiceError::new(ServiceErrorKind::Domain(Box::new(e)))
    }
}

impl From<FieldError> for ServiceError {
    #[track_caller]
    fn from(e: FieldError) -> Self {
        ServiceError::new(ServiceErrorKind::Domain(Box::new(e.into())))
    }
}

impl From<LifecycleError> for ServiceError {
    #[track_caller]
    fn from(e: LifecycleError) -> Self {
        ServiceError::new(ServiceErrorKind::Domain(Box::new(e.into())))
    }
}

impl From<StoreError> for ServiceError {
    #[track_caller]
    fn from(e: StoreError) -> Self {
        ServiceError::new(ServiceErrorKind::Store(e))
    }
}

impl From<sqlx::Error> for ServiceError {
    #[track_caller]
    fn from(e: sqlx::Error) -> Self {
        ServiceError::new(ServiceErrorKind::Store(e.into()))
    }
}

impl From<VaultError> for ServiceError {
    #[track_caller]
    fn from(e: VaultError) -> Self {
        ServiceError::new(ServiceErrorKind::Vault(e))
    }
}

impl From<ProviderError> for ServiceError {
    #[track_caller]
    fn from(e: ProviderError) -> Self {
        ServiceError::new(ServiceErrorKind::Provider(e))
    }
}

/// The one conversion to the API's answer. Failures that are not the
/// caller's (5xx) keep their cause and location for the log line the HTTP
/// layer writes with the request id; the body never shows them.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let location = e.location;
        let layer = e.layer();
        let detail = e.to_string();
        let api = match e.kind {
            ServiceErrorKind::Domain(api) => return *api,
            ServiceErrorKind::Store(s) => crate::error::store_answer(s),
            ServiceErrorKind::Vault(_) | ServiceErrorKind::Blobs(_) => ApiError::internal(),
            ServiceErrorKind::Provider(p) => ApiError::provider_unavailable(p.provider),
        };
        api.with_origin(ErrorOrigin {
            location,
            layer,
            detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

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
        let e = ServiceError::from(ApiError::customer_locked("rejected"));
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
            e.location.file().ends_with("service/error.rs"),
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
