//! The audit log's hash chain at the edge: sealing new entries (a background
//! worker, and `kycd audit verify` before checking) and verifying the chain.

use kycd_store::{Store, StoreError, StoreResult, audit};

/// Seals every waiting entry (in passes of 500); returns how many.
pub async fn seal_all(store: &Store) -> StoreResult<usize> {
    let mut total = 0;
    loop {
        {
            let mut conn = store.reader().await?;
            if !audit::unsealed(&mut conn).await? {
                return Ok(total);
            }
        }
        let mut tx = store.begin().await?;
        let n = audit::seal(&mut tx, 500).await?;
        tx.commit().await.map_err(StoreError::from)?;
        total += n;
        if n == 0 {
            return Ok(total);
        }
    }
}

/// Seals what waits, then checks the whole chain.
pub async fn verify(store: &Store) -> StoreResult<audit::Verdict> {
    seal_all(store).await?;
    let mut conn = store.reader().await?;
    audit::verify(&mut conn).await
}
