//! The error of services and jobs, by layer: a domain refusal, the store, the
//! vault, the blob store, an identity provider or a broken invariant, each
//! with the place in the code where it arose. No HTTP type appears here: the
//! HTTP layer turns a [`ServiceError`] (and a [`Refusal`]) into its answer in
//! one `From` each (`crate::error`).

use kycd_core::input::FieldError;
use kycd_core::lifecycle::LifecycleError;
use kycd_store::StoreError;
use kycd_vault::VaultError;
use serde::Serialize;
use std::panic::Location;

pub type ServiceResult<T> = Result<T, ServiceError>;

/// What kind of refusal it is; the HTTP layer answers each with one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The request is malformed or a field is invalid.
    Invalid,
    /// No such resource in the caller's scope.
    NotFound,
    /// The resource exists but the rules forbid the operation (unmet
    /// requirements, a missing capability).
    Forbidden,
    /// The resource's state conflicts with the operation (locked, a
    /// transition not allowed, taken).
    Conflict,
    /// The body is larger than allowed.
    TooLarge,
    /// An Idempotency-Key sent again with another request.
    KeyReused,
}

/// One reason behind a refusal (e.g. each unmet requirement).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Reason {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

/// A domain rule refused the operation: what the caller is told, in the
/// service's terms (a kind, a stable code, a message safe to show).
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub code: &'static str,
    pub message: String,
    pub param: Option<String>,
    pub reasons: Vec<Reason>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl Refusal {
    pub fn new(kind: RefusalKind, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            kind,
            code,
            message: message.into(),
            param: None,
            reasons: vec![],
        }
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
        Refusal::new(RefusalKind::Invalid, "invalid_request", message)
    }
    pub fn invalid_field(param: impl Into<String>, message: impl Into<String>) -> Self {
        Refusal::new(RefusalKind::Invalid, "invalid_field", message).with_param(param)
    }
    pub fn not_found(what: &str) -> Self {
        Refusal::new(
            RefusalKind::NotFound,
            "resource_not_found",
            format!("no such {what}"),
        )
    }
    pub fn requirements_not_met(message: impl Into<String>, reasons: Vec<Reason>) -> Self {
        Refusal::new(RefusalKind::Forbidden, "requirements_not_met", message).with_reasons(reasons)
    }
    pub fn missing_capability(message: impl Into<String>) -> Self {
        Refusal::new(RefusalKind::Forbidden, "missing_capability", message)
    }
    pub fn customer_locked(status: &str) -> Self {
        Refusal::new(
            RefusalKind::Conflict,
            "customer_locked",
            format!("a customer in status {status} cannot be updated"),
        )
    }
    pub fn invalid_transition(message: impl Into<String>) -> Self {
        Refusal::new(RefusalKind::Conflict, "invalid_transition", message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Refusal::new(RefusalKind::Conflict, code, message)
    }
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Refusal::new(RefusalKind::TooLarge, "payload_too_large", message)
    }

    /// The store's own refusals: a row not found, a unique constraint
    /// violated. Other store failures are not the caller's (`None`).
    pub fn of_store(e: &StoreError) -> Option<Refusal> {
        match e {
            StoreError::NotFound => Some(Refusal::not_found("resource")),
            StoreError::Conflict(what) if what == "external_id" => Some(
                Refusal::conflict(
                    "external_id_taken",
                    "a customer with this external_id already exists in this organization and environment",
                )
                .with_param("external_id"),
            ),
            StoreError::Conflict(what) => {
                Some(Refusal::conflict("conflict", format!("conflict on {what}")))
            }
            _ => None,
        }
    }
}

impl From<FieldError> for Refusal {
    fn from(e: FieldError) -> Self {
        Refusal::invalid_field(e.param, e.message)
    }
}

impl From<LifecycleError> for Refusal {
    fn from(e: LifecycleError) -> Self {
        Refusal::invalid_transition(e.to_string())
    }
}

/// What went wrong, by the layer it came from.
#[derive(Debug)]
pub enum ServiceErrorKind {
    /// A domain rule refused the operation (validation, lifecycle, missing
    /// resource, policy): what the caller is told.
    Domain(Box<Refusal>),
    /// The database.
    Store(StoreError),
    /// Sealing, opening or unwrapping keys.
    Vault(VaultError),
    /// The document blob store.
    Blobs(String),
    /// An identity provider (Sumsub, …).
    Provider(ProviderError),
    /// A broken invariant of ours (a blob missing, bytes that do not match
    /// their checksum, a value that does not serialize).
    Internal(String),
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

    /// An invariant of ours broke (`what`, safe to log).
    #[track_caller]
    pub fn internal(what: impl Into<String>) -> Self {
        Self::new(ServiceErrorKind::Internal(what.into()))
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
            | ServiceErrorKind::Blobs(_)
            | ServiceErrorKind::Internal(_) => false,
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
            ServiceErrorKind::Internal(_) => "internal",
        }
    }

    /// The domain refusal, when it is one.
    pub fn as_domain(&self) -> Option<&Refusal> {
        match &self.kind {
            ServiceErrorKind::Domain(e) => Some(e),
            _ => None,
        }
    }

    /// The refusal the caller is told when the failure is the caller's (a
    /// domain refusal, a row not found, a unique constraint violated); the
    /// error itself otherwise (ours, or a concurrent transaction's).
    pub fn into_refusal(self) -> Result<Refusal, ServiceError> {
        match self.kind {
            ServiceErrorKind::Domain(r) => Ok(*r),
            ServiceErrorKind::Store(ref e) => Refusal::of_store(e).ok_or(self),
            _ => Err(self),
        }
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            ServiceErrorKind::Domain(e) => write!(f, "{e}"),
            ServiceErrorKind::Store(e) => write!(f, "store: {e}"),
            ServiceErrorKind::Vault(e) => write!(f, "vault: {e}"),
            ServiceErrorKind::Blobs(e) => write!(f, "blob store: {e}"),
            ServiceErrorKind::Provider(p) => write!(f, "provider {}: {}", p.provider, p.message),
            ServiceErrorKind::Internal(e) => write!(f, "internal: {e}"),
        }
    }
}

impl std::error::Error for ServiceError {}

impl From<Refusal> for ServiceError {
    #[track_caller]
    fn from(e: Refusal) -> Self {
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
