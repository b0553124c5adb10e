//! The audit log's hash chain at the edge: sealing new entries (a background
//! worker, and `kycd audit verify` before checking) and verifying the chain.
//! Each pass that seals logs the chain's head (`seq`, `hash`) at info level:
//! shipped to a SIEM, those lines are the anchor outside the database that
//! `kycd audit verify --head SEQ:HASH` checks, so removing the newest
//! entries shows. An entry whose MAC fails when it is sealed (edited in the
//! database before the sealer reached it) is logged at error level.

use kycd_store::audit::{self, EntryMac, Head};
use kycd_store::{Store, StoreError, StoreResult};

/// How many times a pass gives way to another sealer before it reports the
/// conflict.
const SEAL_CONFLICTS_TOLERATED: usize = 20;

/// Seals every waiting entry (in passes of 500); returns how many (by this
/// caller). Several sealers may run at once — the worker of each node, and
/// `kycd audit verify` beside a running server: a pass that finds its
/// sequence numbers taken by another's commit (the unique `seq`) is rolled
/// back and looks again, since the other sealer chained those entries.
pub async fn seal_all(store: &Store, keys: &dyn EntryMac) -> StoreResult<usize> {
    let mut total = 0;
    let mut conflicts = 0;
    loop {
        {
            let mut conn = store.reader().await?;
            if !audit::unsealed(&mut conn).await? {
                return Ok(total);
            }
        }
        let mut tx = store.begin().await?;
        let sealed = match audit::seal(&mut tx, keys, 500).await {
            Ok(sealed) => sealed,
            Err(StoreError::Conflict(on)) if conflicts < SEAL_CONFLICTS_TOLERATED => {
                tracing::debug!(%on, "another sealer chained these audit entries first: looking again");
                conflicts += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        tx.commit().await.map_err(StoreError::from)?;
        for id in &sealed.mac_failed {
            tracing::error!(
                entry = %id,
                "audit entry altered before it was sealed: its content does not match its MAC (kycd audit verify names it)"
            );
        }
        if let (Some(head), true) = (&sealed.head, sealed.count > 0) {
            tracing::info!(
                seq = head.seq,
                hash = %head.hash,
                sealed = sealed.count,
                "audit chain head"
            );
        }
        total += sealed.count;
        if sealed.count == 0 {
            return Ok(total);
        }
    }
}

/// Seals what waits, then checks the whole chain (and `head`, if given).
pub async fn verify(
    store: &Store,
    keys: &dyn EntryMac,
    head: Option<&Head>,
) -> StoreResult<audit::Verdict> {
    seal_all(store, keys).await?;
    let mut conn = store.reader().await?;
    audit::verify(&mut conn, keys, head).await
}
