//! The webhook dispatcher: fans committed outbox events out to the matching
//! endpoints (a delivery row each), claims due deliveries under a lease (the
//! attempt row is written before sending), sends up to 64 at once, records
//! every attempt, retries on the schedule of `kycd_webhooks::next_retry_delay`
//! and disables endpoints that are gone (410) or failed for 5 days.
//! Retries of a sandbox scope follow its clock. Several processes may run it
//! against one PostgreSQL database (claims use SKIP LOCKED).

pub mod secrets;
pub mod sender;
mod worker;

pub use worker::run;

use crate::service::ServiceResult;
use crate::state::AppState;
use axum::body::Bytes;
use chrono::{DateTime, Utc};
use kycd_store::webhooks::{self as store, deliveries};
use kycd_store::{Scope, events, ids, orgs};
use secrets::SecretSet;
use sender::{Job, Kind, Outcome, Sender};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Attempts in flight at once.
pub const MAX_IN_FLIGHT: usize = 64;
/// Outbox events fanned out per transaction.
const FAN_OUT_BATCH: i64 = 500;
/// How long a claimed attempt is ours: the 15 s timeout plus margin. A
/// process that dies mid-attempt leaves it to be retried after this.
const LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// An endpoint failing continuously this long is disabled.
pub const DISABLE_AFTER: chrono::Duration = chrono::Duration::days(5);

/// What a batch of attempts says about one endpoint.
struct Health {
    scope: Scope,
    clock_offset: i64,
    succeeded: bool,
    gone: bool,
    was_failing: bool,
}

pub struct Dispatcher {
    state: AppState,
    sender: Sender,
    /// Opened secrets by endpoint id, with the sealed text they came from
    /// (a rotation changes it, so a stale entry is never used).
    secrets: HashMap<String, (String, Arc<SecretSet>)>,
    /// Sandbox clocks ahead of real time, refreshed every tick.
    offsets: HashMap<Scope, i64>,
    offsets_at: Option<Instant>,
    /// Finished attempts not yet recorded.
    done: Vec<Outcome>,
}

impl Dispatcher {
    pub fn new(state: AppState) -> Dispatcher {
        let sender = state.webhook_sender.clone();
        Dispatcher {
            state,
            sender,
            secrets: HashMap::new(),
            offsets: HashMap::new(),
            offsets_at: None,
            done: vec![],
        }
    }

    /// A transaction for the dispatcher's own bookkeeping. On PostgreSQL it
    /// commits without waiting for the WAL flush: a crash of the database can
    /// only lose the last few milliseconds of claims and results, which sends
    /// those deliveries again (at least once holds; the outbox itself is
    /// written durably by the API's transactions).
    async fn begin(&self) -> ServiceResult<kycd_store::Tx> {
        let mut tx = self.state.store.begin().await?;
        if self.state.store.dialect == kycd_store::Dialect::Postgres {
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *tx)
                .await
                .map_err(kycd_store::StoreError::from)?;
        }
        Ok(tx)
    }

    async fn refresh_offsets(&mut self, max_age: Duration) -> ServiceResult<()> {
        if self.offsets_at.is_some_and(|t| t.elapsed() < max_age) {
            return Ok(());
        }
        let mut conn = self.state.store.reader().await?;
        self.offsets = orgs::clock_offsets(&mut conn).await?.into_iter().collect();
        self.offsets_at = Some(Instant::now());
        Ok(())
    }

    /// Fans out pending outbox events; returns the deliveries created.
    pub async fn fan_out(&mut self) -> ServiceResult<usize> {
        let mut created = 0;
        loop {
            let mut tx = self.begin().await?;
            let (n_events, n_deliveries) =
                deliveries::fan_out(&mut tx, self.state.store.dialect, FAN_OUT_BATCH, Utc::now())
                    .await?;
            tx.commit().await.map_err(kycd_store::StoreError::from)?;
            created += n_deliveries;
            if (n_events as i64) < FAN_OUT_BATCH {
                return Ok(created);
            }
        }
    }

    /// Claims up to `room` due deliveries (on the real clock unless
    /// `sandbox_only`, then on each sandbox clock that is ahead) and prepares
    /// their jobs.
    pub async fn claim(&mut self, room: usize, sandbox_only: bool) -> ServiceResult<Vec<Job>> {
        let now = Utc::now();
        let mut claimed = vec![];
        let mut scopes: Vec<Option<(Scope, i64)>> = vec![];
        if !sandbox_only {
            scopes.push(None);
        }
        scopes.extend(
            self.offsets
                .iter()
                .filter(|(_, o)| **o > 0)
                .map(|(s, o)| Some((s.clone(), *o))),
        );
        for scope in scopes {
            let room = room - claimed.len();
            if room == 0 {
                break;
            }
            let due = scope
                .as_ref()
                .map_or(now, |(_, o)| now + chrono::Duration::seconds(*o));
            let mut tx = self.begin().await?;
            let got = deliveries::claim(
                &mut tx,
                self.state.store.dialect,
                scope.as_ref().map(|(s, _)| s),
                due,
                now,
                now + LEASE,
                room as i64,
            )
            .await?;
            tx.commit().await.map_err(kycd_store::StoreError::from)?;
            claimed.extend(got);
        }
        if claimed.is_empty() {
            return Ok(vec![]);
        }
        self.prepare(claimed, now).await
    }

    /// Loads the events and endpoints of claimed deliveries; deliveries whose
    /// endpoint is no longer enabled are canceled without sending.
    async fn prepare(
        &mut self,
        claimed: Vec<deliveries::Claimed>,
        now: DateTime<Utc>,
    ) -> ServiceResult<Vec<Job>> {
        let mut conn = self.state.store.reader().await?;
        let mut event_ids: Vec<&str> = claimed.iter().map(|c| c.event_id.as_str()).collect();
        event_ids.sort_unstable();
        event_ids.dedup();
        let bodies: HashMap<String, (Scope, Bytes)> =
            deliveries::events_by_ids(&mut conn, &event_ids)
                .await?
                .into_iter()
                .map(|(scope, e)| {
                    let body = serde_json::to_vec(&e.payload()).unwrap_or_default();
                    (e.id, (scope, Bytes::from(body)))
                })
                .collect();
        let mut endpoint_ids: Vec<&str> = claimed.iter().map(|c| c.endpoint_id.as_str()).collect();
        endpoint_ids.sort_unstable();
        endpoint_ids.dedup();
        // With each scope's current clock offset: it may have just moved.
        let endpoints: HashMap<String, (store::Endpoint, i64)> =
            store::by_ids(&mut conn, &endpoint_ids)
                .await?
                .into_iter()
                .map(|(e, offset)| (e.id.clone(), (e, offset)))
                .collect();
        let mut jobs = vec![];
        for c in claimed {
            let endpoint = endpoints
                .get(&c.endpoint_id)
                .filter(|(e, _)| e.scope == c.scope && e.status == store::ENABLED);
            let body = bodies.get(&c.event_id).filter(|(s, _)| *s == c.scope);
            let (Some((endpoint, offset)), Some((_, body))) = (endpoint, body) else {
                self.done.push(unsent(
                    Kind::Canceled,
                    c,
                    now,
                    "endpoint disabled or deleted",
                ));
                continue;
            };
            let secrets = match self.secrets.get(&endpoint.id) {
                Some((sealed, set)) if *sealed == endpoint.secrets => set.clone(),
                _ => match SecretSet::open(
                    &self.state,
                    &mut conn,
                    &endpoint.scope,
                    &endpoint.id,
                    &endpoint.secrets,
                )
                .await
                {
                    Ok(set) => {
                        let set = Arc::new(set);
                        self.secrets
                            .insert(endpoint.id.clone(), (endpoint.secrets.clone(), set.clone()));
                        set
                    }
                    Err(_) => {
                        self.done.push(unsent(
                            Kind::Internal,
                            c,
                            now,
                            "signing secret unavailable",
                        ));
                        continue;
                    }
                },
            };
            jobs.push(Job {
                scope_now: now + chrono::Duration::seconds(*offset),
                clock_offset: *offset,
                claimed: c,
                url: endpoint.url.clone(),
                secrets,
                body: body.clone(),
                was_failing: endpoint.failing_since.is_some(),
            });
        }
        Ok(jobs)
    }

    /// Records finished attempts in one transaction: the attempt rows, the
    /// deliveries' next step, the endpoints' health (and disabling).
    pub async fn record(&mut self) -> ServiceResult<()> {
        if self.done.is_empty() {
            return Ok(());
        }
        let outcomes = std::mem::take(&mut self.done);
        let now = Utc::now();
        let mut health: HashMap<String, Health> = HashMap::new();
        let mut results = Vec::with_capacity(outcomes.len());
        for o in &outcomes {
            let c = &o.job.claimed;
            let gone = o.status_code == Some(410);
            let next = if o.succeeded() {
                deliveries::Next::Succeeded
            } else if o.kind == Kind::Canceled {
                deliveries::Next::Canceled
            } else if gone {
                deliveries::Next::Failed
            } else {
                match kycd_webhooks::next_retry_delay(c.attempt_in_round(), rand::random::<f64>()) {
                    Some(d) => deliveries::Next::RetryAt(
                        now + chrono::Duration::seconds(o.job.clock_offset)
                            + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(10)),
                    ),
                    None => deliveries::Next::Failed,
                }
            };
            if o.kind == Kind::Sent {
                let h = health
                    .entry(c.endpoint_id.clone())
                    .or_insert_with(|| Health {
                        scope: c.scope.clone(),
                        clock_offset: o.job.clock_offset,
                        succeeded: false,
                        gone: false,
                        was_failing: o.job.was_failing,
                    });
                h.succeeded |= o.succeeded();
                h.gone |= gone;
            }
            results.push(deliveries::AttemptResult {
                claimed: c.clone(),
                status_code: o.status_code.map(i64::from),
                duration_ms: o.duration_ms,
                error: o.error.clone(),
                next,
            });
        }
        let outcome = self.write_results(&results, &health, now).await;
        match outcome {
            Ok(disabled) => {
                if disabled {
                    self.state.outbox_notify.notify_one();
                }
                Ok(())
            }
            Err(e) => {
                // Keep them for the next try; if this process dies the leases expire.
                self.done = outcomes;
                Err(e)
            }
        }
    }

    async fn write_results(
        &self,
        results: &[deliveries::AttemptResult],
        health: &HashMap<String, Health>,
        now: DateTime<Utc>,
    ) -> ServiceResult<bool> {
        let mut tx = self.begin().await?;
        deliveries::record(&mut tx, results, now).await?;
        let mut disabled_any = false;
        for (id, h) in health {
            let scope = &h.scope;
            let scope_now = now + chrono::Duration::seconds(h.clock_offset);
            if h.succeeded {
                if h.was_failing {
                    store::record_health(&mut tx, id, true, scope_now).await?;
                }
                continue;
            }
            let since = store::record_health(&mut tx, id, false, scope_now).await?;
            let reason = if h.gone {
                Some("endpoint_gone")
            } else if since.is_some_and(|s| scope_now - s >= DISABLE_AFTER) {
                Some("failing_for_5_days")
            } else {
                None
            };
            if let Some(reason) = reason
                && store::disable(&mut tx, id, reason, scope_now).await?
            {
                disabled_any = true;
                let data = serde_json::json!({
                    "endpoint_id": id,
                    "reason": reason,
                    "failing_since": since.map(|s| kycd_core::time::format(&s)),
                });
                let event = events::Event {
                    id: ids::new("evt"),
                    event_type: kycd_core::events::WEBHOOK_ENDPOINT_DISABLED.to_string(),
                    customer_id: None,
                    data: data.clone(),
                    created_at: scope_now,
                };
                events::insert(&mut tx, scope, &event).await?;
                kycd_store::customers::insert_audit(
                    &mut tx,
                    &*self.state.vault,
                    scope,
                    "system:webhook_dispatcher",
                    "webhook_endpoint.disable",
                    Some(id),
                    &data,
                    scope_now,
                )
                .await?;
                tracing::warn!(endpoint_id = %id, reason, "webhook endpoint disabled");
            }
        }
        tx.commit().await.map_err(kycd_store::StoreError::from)?;
        Ok(disabled_any)
    }

    /// One synchronous pass after a sandbox clock moved: fan out, then send
    /// what is due in the scopes whose clock is ahead (up to `max` attempts;
    /// real-time work stays with the background loop) and record it.
    pub async fn pass(&mut self, max: usize) -> ServiceResult<usize> {
        self.pass_within(max, None).await
    }

    /// `pass`, starting no new batch once `budget` has elapsed (what is left
    /// goes out from the background loop).
    pub async fn pass_within(
        &mut self,
        max: usize,
        budget: Option<Duration>,
    ) -> ServiceResult<usize> {
        let started = std::time::Instant::now();
        self.refresh_offsets(Duration::ZERO).await?;
        self.fan_out().await?;
        let mut sent = 0;
        while sent < max && budget.is_none_or(|b| started.elapsed() < b) {
            let jobs = self.claim(MAX_IN_FLIGHT.min(max - sent), true).await?;
            let canceled = self.done.len();
            if jobs.is_empty() && canceled == 0 {
                break;
            }
            sent += jobs.len() + canceled;
            let mut set = JoinSet::new();
            for job in jobs {
                let s = self.sender.clone();
                set.spawn(async move { s.send(job).await });
            }
            while let Some(r) = set.join_next().await {
                if let Ok(o) = r {
                    self.done.push(o);
                }
            }
            self.record().await?;
        }
        Ok(sent)
    }
}

/// An attempt not made: canceled (the endpoint is gone) or internal (retried).
fn unsent(kind: Kind, c: deliveries::Claimed, now: DateTime<Utc>, why: &str) -> Outcome {
    Outcome {
        kind,
        job: Job {
            claimed: c,
            url: String::new(),
            secrets: Arc::new(SecretSet::generate()),
            body: Bytes::new(),
            scope_now: now,
            clock_offset: 0,
            was_failing: false,
        },
        status_code: None,
        duration_ms: 0,
        error: Some(why.to_string()),
    }
}

/// How long `run_due` keeps starting batches: a sandbox clock advance answers
/// in bounded time even when a large backlog of deliveries became due (schemathesis
/// saw 20 s); the background loop delivers the rest.
pub const RUN_DUE_BUDGET: Duration = Duration::from_secs(2);

/// Runs what is due now across all scopes (the sandbox clock just moved).
pub async fn run_due(state: &AppState) {
    let mut d = Dispatcher::new(state.clone());
    if let Err(e) = d.pass_within(5_000, Some(RUN_DUE_BUDGET)).await {
        tracing::warn!(error = %e, location = %e.location, "webhook pass failed");
    }
}
