//! Group commit: concurrent single creates (`POST /v1/customers`) share one
//! transaction and one fsync. A request validates and seals its create on its
//! own task, queues it, and waits; a committer task takes every create queued
//! while the previous group committed (up to `--group-commit-max`), writes
//! them in one transaction, commits, and only then answers each request. A
//! failed commit fails the whole group: none is acknowledged.
//!
//! Optimistic first: the group is written without savepoints, its creates
//! together (on PostgreSQL one statement for the whole group, on SQLite one
//! multi-row statement per table, instead of seven per create). When one
//! create fails (a duplicate `external_id`), that transaction is rolled back
//! whole and the group is written again with each create under its own
//! savepoint (as a batch does: the failing create is undone alone and
//! answered with its own error, its neighbours commit). The rolled-back
//! attempt leaves each create's Idempotency-Key claim as it found it, and its
//! time is booked as the stage `group_retry`
//! (`kycd_group_commit_retries_total` counts such groups).
//!
//! Each create keeps everything of its own in the group's transaction: the
//! customer, keys, secrets, blind indexes, event, usage, audit row and its
//! request's Idempotency-Key record (written with that request's claim,
//! carried here by [`crate::idempotency::ClaimHandle`]).

use super::customer_batch::{begin_item, end_item};
use super::customers::{PreparedCreate, record_created, write_creates, write_single_create};
use super::{OperationContext, ServiceError, ServiceErrorKind, ServiceResult};
use crate::idempotency::{ClaimHandle, SavedClaim, current_claim, with_claim};
use crate::metrics::StageClock;
use crate::state::{AppState, Inner};
use kycd_core::customer::Customer;
use kycd_store::{StoreError, Tx};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc, oneshot};

/// How creates are committed: the settings, and the queue of the running
/// committers (started on first use, on the runtime of that request).
pub struct GroupCommit {
    enabled: bool,
    /// The most creates in one transaction.
    max: usize,
    /// How long a committer waits for more creates after the first of a group
    /// (0: it takes only what is already queued).
    linger: Duration,
    /// Committer tasks (each writes one group at a time on its own connection).
    committers: usize,
    queue: OnceLock<mpsc::UnboundedSender<Job>>,
}

/// One create waiting for its group.
struct Job {
    cx: OperationContext,
    prepared: PreparedCreate,
    claim: Option<ClaimHandle>,
    reply: Reply,
}

/// Where a create's answer goes, with its stage clock.
struct Reply {
    clock: StageClock,
    answer: oneshot::Sender<(ServiceResult<Customer>, StageClock)>,
}

impl Reply {
    fn send(self, result: ServiceResult<Customer>) {
        // The request may have gone (its client hung up): nobody to tell.
        let _ = self.answer.send((result, self.clock));
    }
}

impl GroupCommit {
    pub fn new(enabled: bool, max: usize, linger: Duration, committers: usize) -> Self {
        GroupCommit {
            enabled,
            max: max.max(1),
            linger,
            committers: committers.max(1),
            queue: OnceLock::new(),
        }
    }

    /// Group commit off: each create commits its own transaction.
    pub fn off() -> Self {
        Self::new(false, 1, Duration::ZERO, 1)
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The queue, starting the committers on first use. They hold the state
    /// weakly: when the last `AppState` goes, the queue closes and they end.
    fn queue(&self, state: &AppState) -> &mpsc::UnboundedSender<Job> {
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..self.committers {
                tokio::spawn(run(
                    Arc::downgrade(&state.inner),
                    rx.clone(),
                    self.max,
                    self.linger,
                ));
            }
            tx
        })
    }
}

/// Queues a prepared create for the next group and waits until its group
/// committed (or it failed alone, or the group failed).
pub async fn submit(
    state: &AppState,
    cx: &OperationContext,
    prepared: PreparedCreate,
    clock: &mut StageClock,
) -> ServiceResult<Customer> {
    let (answer, answered) = oneshot::channel();
    let job = Job {
        cx: cx.clone(),
        prepared,
        claim: current_claim(),
        reply: Reply {
            clock: std::mem::take(clock),
            answer,
        },
    };
    if state.group_commit.queue(state).send(job).is_err() {
        // The committer is gone (the server is shutting down).
        return Err(StoreError::Unavailable {
            retry_after: Duration::from_secs(1),
        }
        .into());
    }
    let (result, returned) = answered
        .await
        .map_err(|_| ServiceError::internal("the group committer dropped a create"))?;
    *clock = returned;
    result
}

/// A committer: takes a group off the queue, commits it, again.
async fn run(
    state: Weak<Inner>,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>,
    max: usize,
    linger: Duration,
) {
    loop {
        let group = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            let mut group = vec![first];
            let until = tokio::time::Instant::now() + linger;
            while group.len() < max {
                match queue.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) if linger.is_zero() => break,
                    Err(_) => match tokio::time::timeout_at(until, queue.recv()).await {
                        Ok(Some(job)) => group.push(job),
                        _ => break,
                    },
                }
            }
            group
        };
        let Some(inner) = state.upgrade() else {
            return;
        };
        commit_group(&AppState { inner }, group).await;
    }
}

/// Writes a group and answers each of its creates. First optimistically:
/// every create in one transaction without savepoints, one commit (the
/// common case, two statements fewer per create). When a create fails, that
/// attempt is rolled back whole (nothing of it was acknowledged) and the
/// group is written again the careful way ([`with_savepoints`]), so the
/// failing create is answered alone and its neighbours commit. A group of
/// one is not written again: its failure is its own answer.
async fn commit_group(state: &AppState, mut group: Vec<Job>) {
    state.metrics.group_commit(group.len());
    for job in &mut group {
        job.reply.clock.lap("wait_for_group");
    }
    // What a rolled-back attempt must leave as it found it: each create's
    // stage clock and its Idempotency-Key claim.
    let saved: Vec<(StageClock, Option<SavedClaim>)> = group
        .iter()
        .map(|j| {
            (
                j.reply.clock.clone(),
                j.claim.as_ref().map(ClaimHandle::save),
            )
        })
        .collect();
    let (index, error) = match first_attempt(state, &mut group).await {
        Attempt::Committed {
            customers,
            commit_started,
            commit_ended,
        } => {
            state.outbox_notify.notify_one();
            for (job, c) in group.into_iter().zip(customers) {
                let mut reply = job.reply;
                reply.clock.lap_at("wait_for_group", commit_started);
                reply.clock.lap_at("commit", commit_ended);
                reply.send(Ok(c));
            }
            return;
        }
        Attempt::Lost(e) => return fail_all(group.into_iter().map(|j| j.reply), e),
        Attempt::CreateFailed { index, error } => (index, error),
    };
    let alone = group.len() == 1;
    for (job, (clock, claim)) in group.iter_mut().zip(saved) {
        if let (Some(handle), Some(claim)) = (&job.claim, claim) {
            handle.restore(claim);
        }
        if !alone {
            // The rolled-back attempt's time, under a stage of its own.
            job.reply.clock = clock;
            job.reply.clock.lap("group_retry");
        }
    }
    if alone {
        let job = group.pop().expect("a group of one");
        return job.reply.send(Err(error));
    }
    tracing::debug!(
        size = group.len(),
        failed = ?index,
        layer = error.layer(),
        "a create failed in its group: writing the group again, each create under its savepoint"
    );
    state.metrics.group_commit_retry();
    with_savepoints(state, group).await;
}

/// What the first, optimistic attempt at a group gave.
enum Attempt {
    /// Every create written and committed (in the group's order).
    Committed {
        customers: Vec<Customer>,
        commit_started: Instant,
        commit_ended: Instant,
    },
    /// A create failed (the one at `index`, when known): the attempt was
    /// rolled back.
    CreateFailed {
        index: Option<usize>,
        error: ServiceError,
    },
    /// No transaction, or its commit failed: nothing committed, and writing
    /// the group again would not help.
    Lost(ServiceError),
}

/// Writes every create of the group in one transaction, without savepoints
/// (together, see [`write_creates`]), then each create's Idempotency-Key
/// record, and
/// commits; at the first failure, rolls the whole transaction back.
async fn first_attempt(state: &AppState, group: &mut [Job]) -> Attempt {
    let mut tx = match state.store.begin().await {
        Ok(tx) => tx,
        Err(e) => return Attempt::Lost(e.into()),
    };
    for job in group.iter_mut() {
        job.reply.clock.lap("wait_for_group");
    }
    let items: Vec<_> = group.iter().map(|j| (&j.cx, &j.prepared)).collect();
    let written = write_creates(state, &mut tx, &items).await;
    let customers = match written {
        Ok(customers) => customers,
        Err(error) => return roll_back(tx, None, error).await,
    };
    for (index, (job, c)) in group.iter_mut().zip(&customers).enumerate() {
        job.reply.clock.lap("insert_rows");
        let recorded = with_claim(
            job.claim.clone(),
            record_created(state, &mut tx, c, &job.prepared),
        )
        .await;
        if let Err(error) = recorded {
            return roll_back(tx, Some(index), error).await;
        }
        job.reply.clock.lap("idempotency");
    }
    let commit_started = Instant::now();
    let committed = tx.commit().await;
    let commit_ended = Instant::now();
    match committed {
        Ok(()) => Attempt::Committed {
            customers,
            commit_started,
            commit_ended,
        },
        Err(e) => Attempt::Lost(StoreError::from(e).into()),
    }
}

/// Rolls a first attempt back after a create failed in it.
async fn roll_back(tx: Tx, index: Option<usize>, error: ServiceError) -> Attempt {
    if let Err(e) = tx.rollback().await {
        // The connection is lost with it: the next attempt takes another.
        tracing::warn!(error = %e, "rolling back a group's first attempt failed");
    }
    Attempt::CreateFailed { index, error }
}

/// Writes a group in one transaction, each create under its own savepoint
/// (a failing create is undone alone and answered at once with its own
/// error), commits, then answers the others.
async fn with_savepoints(state: &AppState, group: Vec<Job>) {
    let replies = |jobs: std::vec::IntoIter<Job>| jobs.map(|j| j.reply);
    let mut tx = match state.store.begin().await {
        Ok(tx) => tx,
        Err(e) => return fail_all(replies(group.into_iter()), e.into()),
    };
    let mut written: Vec<(Reply, Customer)> = Vec::with_capacity(group.len());
    let mut rest = group.into_iter();
    while let Some(job) = rest.next() {
        let Job {
            cx,
            prepared,
            claim,
            mut reply,
        } = job;
        reply.clock.lap("wait_for_group");
        let ended = match begin_item(&mut tx).await {
            Ok(()) => {
                let result = with_claim(
                    claim,
                    write_single_create(state, &mut tx, &cx, &prepared, &mut reply.clock),
                )
                .await;
                end_item(&mut tx, result).await
            }
            Err(e) => Err(e),
        };
        match ended {
            Ok(Ok(c)) => {
                reply.clock.lap("savepoints");
                written.push((reply, c));
            }
            // Undone alone: its own error, at once (nothing of it commits).
            Ok(Err(e)) => reply.send(Err(e)),
            // The transaction is lost: nothing of the group commits.
            Err(e) => {
                let done = written.into_iter().map(|(r, _)| r);
                return fail_all(done.chain([reply]).chain(replies(rest)), e);
            }
        }
    }
    let commit_started = Instant::now();
    let committed = tx.commit().await;
    let commit_ended = Instant::now();
    match committed {
        Ok(()) => {
            if !written.is_empty() {
                state.outbox_notify.notify_one();
            }
            for (mut reply, c) in written {
                reply.clock.lap_at("wait_for_group", commit_started);
                reply.clock.lap_at("commit", commit_ended);
                reply.send(Ok(c));
            }
        }
        Err(e) => fail_all(
            written.into_iter().map(|(r, _)| r),
            kycd_store::StoreError::from(e).into(),
        ),
    }
}

/// Answers every create of a failed group with the same error: none of them
/// committed.
fn fail_all(replies: impl Iterator<Item = Reply>, e: ServiceError) {
    tracing::warn!(error = %e, layer = e.layer(), "group commit failed: none of its creates is acknowledged");
    for reply in replies {
        reply.send(Err(same_failure(&e)));
    }
}

/// The group's failure again, for another of its creates (a `ServiceError`
/// may hold a driver error, which does not clone): the same answer to the
/// caller — unavailable, retry, or ours.
fn same_failure(e: &ServiceError) -> ServiceError {
    match &e.kind {
        ServiceErrorKind::Domain(refusal) => ServiceError::from((**refusal).clone()),
        ServiceErrorKind::Store(s) if s.is_unavailable() => StoreError::Unavailable {
            retry_after: Duration::from_secs(1),
        }
        .into(),
        ServiceErrorKind::Store(s) if s.is_transient() => StoreError::VersionConflict.into(),
        _ => ServiceError::internal(format!("group commit failed: {e}")),
    }
}
