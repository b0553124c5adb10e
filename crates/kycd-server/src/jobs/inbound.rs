//! The inbound provider webhook worker: takes stored, signature-checked
//! payloads from the inbox in arrival order and processes each once (the
//! mark is written in the same transaction as the processing's effects).

use crate::service::ServiceResult;
use crate::state::AppState;
use kycd_store::webhooks::inbound::{self, Inbound};
use kycd_store::{Tx, db};

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
            // A payload that fails part-way leaves nothing of its own behind:
            // its writes are undone alone, the error is kept on its row and
            // the rest of the batch goes on.
            db::savepoint(&mut tx, "inbound_item").await?;
            let result = process(state, &mut tx, w).await;
            match &result {
                Ok(()) => db::release_savepoint(&mut tx, "inbound_item").await?,
                Err(e) => {
                    tracing::warn!(provider = %w.provider, id = %w.id, error = %e, "inbound webhook processing failed");
                    db::rollback_to_savepoint(&mut tx, "inbound_item").await?;
                }
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
