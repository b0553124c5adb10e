//! Many customer creates in one transaction (`POST /v1/customers/batch` and
//! `kycd import`): each item is validated and sealed exactly as a single
//! create, and the good ones commit together — one commit, one fsync, for up
//! to [`MAX_ITEMS`] customers. The items are first written without
//! savepoints; when one fails in the database, that attempt is rolled back
//! and the batch written again with each item inside its own savepoint (a
//! failing item is undone alone, its neighbours stay). The group committer
//! (`group_commit`) writes concurrent single creates the same way.

use super::Refusal;
use super::customers::{
    PreparedCreate, blind_key, plan_start, prepare_create, write_create, write_creates,
};
use super::{OperationContext, ServiceError, ServiceResult};
use crate::idempotency::Success;
use crate::metrics::StageClock;
use crate::state::AppState;
use crate::wire::{CustomerBatchResponse, CustomerBatchResult, CustomerResponse};
use kycd_core::input::CustomerInput;
use kycd_store::Tx;
use kycd_store::db::{release_savepoint, rollback_to_savepoint, savepoint};

/// The most items one batch may hold.
pub const MAX_ITEMS: usize = 1000;

/// One item of a batch: the create body, or why it could not be read as one
/// (answered as that item's error).
pub type Item = Result<CustomerInput, Refusal>;

const SAVEPOINT: &str = "kycd_batch_item";

/// Opens the savepoint of one item of a batch (or of a group commit): call
/// [`end_item`] with what writing it gave.
pub async fn begin_item(tx: &mut Tx) -> ServiceResult<()> {
    Ok(savepoint(tx, SAVEPOINT).await?)
}

/// Ends one item opened by [`begin_item`]: its writes are kept (they commit
/// with the transaction) when it succeeded, undone alone when it failed, and
/// its result is handed back. `Err`: the savepoint itself failed, the
/// transaction cannot go on.
pub async fn end_item<T>(tx: &mut Tx, result: ServiceResult<T>) -> ServiceResult<ServiceResult<T>> {
    match result {
        Ok(v) => {
            release_savepoint(tx, SAVEPOINT).await?;
            Ok(Ok(v))
        }
        Err(e) => {
            rollback_to_savepoint(tx, SAVEPOINT).await?;
            Ok(Err(e))
        }
    }
}

/// `400 invalid_field` on `customers` unless there are 1 to [`MAX_ITEMS`] items.
pub fn check_count(n: usize) -> Result<(), Refusal> {
    if n == 0 || n > MAX_ITEMS {
        return Err(Refusal::invalid_field(
            "customers",
            format!("must hold 1 to {MAX_ITEMS} customers"),
        ));
    }
    Ok(())
}

/// What became of one item inside the transaction.
enum Outcome {
    Created(Box<CustomerResponse>),
    Failed(Refusal),
}

/// A failure that is the item's (a 4xx: invalid, conflicting, refused) and
/// not the batch's: ours (5xx) or a concurrent transaction's (transient)
/// fail the whole batch, which then commits nothing.
fn item_error(e: ServiceError) -> Result<Refusal, ServiceError> {
    if e.is_transient() {
        return Err(e);
    }
    e.into_refusal()
}

/// Writes the prepared items in `tx`, in order, one outcome per item. With
/// `savepoints` each item is written under its own (a failing item is undone
/// alone: that is its outcome); without, the items are written together
/// ([`write_creates`]: one statement on PostgreSQL, one per table on
/// SQLite) and any item
/// failing in the database gives `None` (the caller rolls the transaction
/// back and writes the batch again with savepoints). A failure that is the
/// batch's (see [`item_error`]) fails it either way.
async fn write_items(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    prepared: &[Result<PreparedCreate, Refusal>],
    savepoints: bool,
) -> ServiceResult<Option<Vec<Outcome>>> {
    if !savepoints {
        let good: Vec<_> = prepared.iter().flatten().map(|p| (cx, p)).collect();
        let mut written = match write_creates(state, tx, &good).await {
            Ok(customers) => customers.into_iter(),
            Err(e) => {
                item_error(e)?;
                return Ok(None);
            }
        };
        let outcomes = prepared.iter().map(|p| match p {
            Ok(_) => written
                .next()
                .map(|c| Outcome::Created(Box::new(CustomerResponse::from(&c))))
                .ok_or_else(|| ServiceError::internal("a batch item was not written")),
            Err(e) => Ok(Outcome::Failed(e.clone())),
        });
        return outcomes.collect::<ServiceResult<Vec<_>>>().map(Some);
    }
    let mut outcomes = Vec::with_capacity(prepared.len());
    for p in prepared {
        let p = match p {
            Ok(p) => p,
            Err(e) => {
                outcomes.push(Outcome::Failed(e.clone()));
                continue;
            }
        };
        begin_item(tx).await?;
        let written = write_create(state, tx, cx, p, &mut StageClock::start()).await;
        match end_item(tx, written).await? {
            Ok(c) => outcomes.push(Outcome::Created(Box::new(CustomerResponse::from(&c)))),
            Err(e) => outcomes.push(Outcome::Failed(item_error(e)?)),
        }
    }
    Ok(Some(outcomes))
}

/// Creates the items in one transaction and answers one result per item, in
/// order. `request_id` goes into each item's error object (as in the body of
/// a single create's error). With an Idempotency-Key the whole answer is
/// stored on the same transaction (sealed under the organization's
/// idempotency key, since it is about many customers).
pub async fn create_many(
    state: &AppState,
    cx: &OperationContext,
    items: Vec<Item>,
    request_id: &str,
) -> ServiceResult<CustomerBatchResponse> {
    check_count(items.len())?;
    let blind = blind_key(state, cx).await?;
    // The CPU work (validation, sealing, hashing) before the transaction.
    let mut prepared: Vec<Result<PreparedCreate, Refusal>> = Vec::with_capacity(items.len());
    for item in items {
        prepared.push(match item {
            Ok(input) => {
                match prepare_create(state, cx, &blind, &input, &mut StageClock::start()) {
                    // A start asked on create calls its provider now, outside
                    // the transaction (as a single create does).
                    Ok(mut p) => match plan_start(state, cx, &mut p).await {
                        Ok(()) => Ok(p),
                        Err(e) => Err(item_error(e)?),
                    },
                    Err(e) => Err(item_error(e)?),
                }
            }
            Err(e) => Err(e),
        });
    }
    let mut tx = state.store.begin().await?;
    // Optimistic first: every item without a savepoint (two statements fewer
    // per item). When an item fails in the database, that attempt is rolled
    // back whole and the batch written again, each item under its savepoint.
    let outcomes = match write_items(state, &mut tx, cx, &prepared, false).await? {
        Some(outcomes) => outcomes,
        None => {
            if let Err(e) = tx.rollback().await {
                // The connection is lost with it: the next attempt takes another.
                tracing::warn!(error = %e, "rolling back a batch's first attempt failed");
            }
            state.metrics.batch_retry();
            tx = state.store.begin().await?;
            write_items(state, &mut tx, cx, &prepared, true)
                .await?
                .ok_or_else(|| ServiceError::internal("a batch item failed under its savepoint"))?
        }
    };
    let response = CustomerBatchResponse {
        data: outcomes
            .into_iter()
            .map(|o| match o {
                Outcome::Created(c) => CustomerBatchResult::created(*c),
                Outcome::Failed(e) => CustomerBatchResult::refused(e, request_id),
            })
            .collect(),
    };
    let subject = crate::idempotency::org_subject(&cx.scope);
    crate::idempotency::complete_in_tx(state, &mut tx, Success::Ok, &response, &subject).await?;
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    state.outbox_notify.notify_one();
    Ok(response)
}
