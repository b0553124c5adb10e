//! The audit log's hash chain at the edge: sealing new entries (a background
//! worker, and `kycd audit verify` before checking) and verifying the chain.
//! Each run that seals logs the chain's head (`seq`, `hash`) at info level:
//! shipped to a SIEM, those lines are the anchor outside the database that
//! `kycd audit verify --head SEQ:HASH` checks, so removing the newest
//! entries shows. An entry whose MAC fails when it is sealed (edited in the
//! database before the sealer reached it) is logged at error level.

use kycd_store::audit::{self, EntryMac, Head};
use kycd_store::{Store, StoreError, StoreResult};

/// How many times a pass gives way to another sealer before it reports the
/// conflict.
const SEAL_CONFLICTS_TOLERATED: usize = 20;

/// Entries chained per pass (one transaction). A pass holds the writer (on
/// SQLite, the only one) for about 2 ms: creates waiting for their group
/// commit never wait long behind it, however large the backlog.
const SEAL_PASS: i64 = 128;

/// Seals every waiting entry (in passes of [`SEAL_PASS`]); returns how many
/// (by this caller), and logs the chain's head once after them. Several
/// sealers may run at once — the worker of each node, and `kycd audit
/// verify` beside a running server: a pass that finds its entries chained
/// or its sequence numbers taken by another's commit (the unique `seq`) is
/// rolled back and looks again.
pub async fn seal_all(store: &Store, keys: &dyn EntryMac) -> StoreResult<usize> {
    let mut head: Option<Head> = None;
    let mut total = 0;
    let result = seal_passes(store, keys, &mut head, &mut total).await;
    if let Some(head) = head {
        tracing::info!(
            seq = head.seq,
            hash = %head.hash,
            sealed = total,
            "audit chain head"
        );
    }
    result.map(|()| total)
}

/// The passes of [`seal_all`]: each commits on its own, so `head` and
/// `total` count what is committed even when a later pass fails.
async fn seal_passes(
    store: &Store,
    keys: &dyn EntryMac,
    head: &mut Option<Head>,
    total: &mut usize,
) -> StoreResult<()> {
    let mut conflicts = 0;
    loop {
        let entries = {
            let mut conn = store.reader().await?;
            audit::unsealed_batch(&mut conn, SEAL_PASS).await?
        };
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = store.begin().await?;
        let sealed = match audit::seal(&mut tx, keys, &entries).await {
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
        *total += sealed.count;
        *head = sealed.head;
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
