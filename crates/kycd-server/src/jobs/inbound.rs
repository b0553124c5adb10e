//! The inbound provider webhook worker: takes stored, signature-checked
//! payloads from the inbox in arrival order and processes each once (the
//! mark is written in the same transaction as the processing's effects).

use crate::service::ServiceResult;
use crate::state::AppState;
use kycd_store::Tx;
use kycd_store::webhooks::inbound::{self, Inbound};

const BATCH: i64 = 100;

/// What a provider's payload does to kycd. Runs in the transaction that marks
/// it processed, so it happens once; an error is kept on the row (dead letter).
async fn process(state: &AppState, tx: &mut Tx, w: &Inbound) -> Result<(), String> {
    match w.provider.as_str() {
        crate::providers::sumsub::NAME => {
            crate::providers::sumsub::process_webhook(state, tx, w).await
        }
        _ => {
            tracing::debug!(provider = %w.provider, id = %w.id, "inbound webhook recorded");
            Ok(())
        }
    }
}

/// Processes everything waiting in the inbox; returns how many.
pub async fn process_pending(state: &AppState) -> ServiceResult<usize> {
    let mut done = 0;
    loop {
        let mut tx = state.store.begin().await?;
        let batch = inbound::claim_unprocessed(&mut tx, state.store.dialect, BATCH).await?;
        for w in &batch {
            let result = process(state, &mut tx, w).await;
            if let Err(e) = &result {
                tracing::warn!(provider = %w.provider, id = %w.id, error = %e, "inbound webhook processing failed");
            }
            inbound::mark_processed(&mut tx, &w.id, chrono::Utc::now(), result.err().as_deref())
                .await?;
        }
        tx.commit().await.map_err(kycd_store::StoreError::from)?;
        done += batch.len();
        if (batch.len() as i64) < BATCH {
            return Ok(done);
        }
    }
}
