//! Services: each operation is a domain decision plus one store transaction.
//! Handlers (HTTP today; hosted pages and the back office later) call these.

pub mod commit;
pub mod customer_batch;
pub mod customers;
pub mod documents;
pub mod error;
pub mod evaluation;
pub mod group_commit;
pub mod hosted;
pub mod lifecycle;
pub mod products;
pub mod settings;

use crate::auth::Caller;
use crate::state::AppState;
pub use error::{
    ProviderError, Reason, Refusal, RefusalKind, ServiceError, ServiceErrorKind, ServiceResult,
};
use kycd_core::policy::Settings;
use kycd_core::time::Timestamp;
use kycd_store::Scope;

/// The context of one operation: who, where, when (the scope's clock) and its policy.
#[derive(Debug, Clone)]
pub struct OperationContext {
    pub scope: Scope,
    pub actor: String,
    pub now: Timestamp,
    pub settings: Settings,
    /// Seals and opens customer documents.
    pub vault: std::sync::Arc<crate::vault::Vault>,
}

impl OperationContext {
    pub fn live(&self) -> bool {
        self.scope.is_live()
    }
}

/// Loads the settings and the (sandbox) clock for a request.
pub async fn context(state: &AppState, caller: &Caller) -> ServiceResult<OperationContext> {
    context_for(state, &caller.scope, caller.actor()).await
}

pub async fn context_for(
    state: &AppState,
    scope: &Scope,
    actor: String,
) -> ServiceResult<OperationContext> {
    let (settings, offset) = settings::load(state, scope).await?;
    // Millisecond precision: what the API shows is what is stored and compared.
    let real = chrono::Utc::now().timestamp_millis();
    let now = chrono::DateTime::from_timestamp_millis(real).unwrap_or_default()
        + chrono::Duration::seconds(offset);
    Ok(OperationContext {
        scope: scope.clone(),
        actor,
        now,
        settings,
        vault: state.vault.clone(),
    })
}

/// Commits an operation's transaction and wakes the outbox so its events go
/// out: the end of every domain operation, whether it opened the transaction
/// itself or ran `…_in` a caller's (the back office's four-eyes approval).
pub async fn finish(state: &AppState, tx: kycd_store::Tx) -> ServiceResult<()> {
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    state.outbox_notify.notify_one();
    Ok(())
}

/// Runs a whole transactional operation again (up to three times) when a
/// concurrent transaction made it fail (deadlock, serialization failure,
/// optimistic version conflict; see `ServiceError::is_transient`), so callers see a retry only when contention persists.
pub async fn with_retry<T, F, Fut>(mut op: F) -> ServiceResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ServiceResult<T>>,
{
    let mut tries = 0;
    loop {
        match op().await {
            Err(e) if e.is_transient() && tries < 2 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5 * tries)).await;
            }
            other => return other,
        }
    }
}
