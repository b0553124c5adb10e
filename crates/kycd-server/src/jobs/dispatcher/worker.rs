//! The dispatcher's background loop: woken by committed events (the outbox
//! notification), by finished attempts and by a periodic tick; keeps up to
//! 64 attempts in flight and records results in batches.

use super::{Dispatcher, MAX_IN_FLIGHT, sender};
use crate::service::ServiceResult;
use crate::state::AppState;
use sender::Outcome;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// What the background loop may find to do.
struct Wake {
    /// Events may be waiting in the outbox (committed, tick).
    fan_out: bool,
    /// Deliveries may be due (new deliveries, tick, a full claim last time).
    claim: bool,
    last_tick: Instant,
}

/// The background loop: woken by committed events and by a periodic tick.
pub async fn run(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut d = Dispatcher::new(state.clone());
    let every = Duration::from_millis(state.config.tick_millis.clamp(50, 1000));
    let mut inflight: JoinSet<Outcome> = JoinSet::new();
    let mut wake = Wake {
        fan_out: true,
        claim: true,
        last_tick: Instant::now() - every,
    };
    loop {
        while let Some(r) = inflight.try_join_next() {
            if let Ok(o) = r {
                d.done.push(o);
            }
        }
        if let Err(e) = step(&mut d, &mut inflight, &mut wake, every).await {
            tracing::warn!(error = %e, location = %e.location, "webhook dispatcher step failed");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::select! {
            _ = state.outbox_notify.notified() => {
                wake.fan_out = true;
                wake.claim = true;
            }
            Some(r) = inflight.join_next(), if !inflight.is_empty() => {
                if let Ok(o) = r {
                    d.done.push(o);
                }
            }
            _ = tokio::time::sleep(every.saturating_sub(wake.last_tick.elapsed())) => {}
            _ = shutdown.changed() => break,
        }
    }
    // Let the attempts under way finish and record them.
    let deadline = tokio::time::sleep(sender::TIMEOUT + Duration::from_secs(1));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            r = inflight.join_next() => match r {
                Some(Ok(o)) => d.done.push(o),
                Some(Err(_)) => {}
                None => break,
            },
            _ = &mut deadline => break,
        }
    }
    if let Err(e) = d.record().await {
        tracing::warn!(error = %e, location = %e.location, "webhook results not recorded at shutdown");
    }
}

async fn step(
    d: &mut Dispatcher,
    inflight: &mut JoinSet<Outcome>,
    wake: &mut Wake,
    every: Duration,
) -> ServiceResult<()> {
    d.record().await?;
    if wake.last_tick.elapsed() >= every {
        wake.last_tick = Instant::now();
        wake.fan_out = true;
        wake.claim = true;
        d.refresh_offsets(every).await?;
    }
    if wake.fan_out {
        wake.fan_out = false;
        if d.fan_out().await? > 0 {
            wake.claim = true;
        }
    }
    let room = MAX_IN_FLIGHT - inflight.len();
    if !wake.claim || room == 0 || (room < MAX_IN_FLIGHT / 4 && !inflight.is_empty()) {
        return Ok(());
    }
    let jobs = d.claim(room, false).await?;
    if !jobs.is_empty() {
        tracing::debug!(target: "kycd::webhooks", attempts = jobs.len(), "claimed webhook deliveries");
    }
    // Nothing more is due until the next event or tick, unless the claim was full.
    wake.claim = jobs.len() + d.done.len() >= room;
    for job in jobs {
        let s = d.sender.clone();
        inflight.spawn(async move { s.send(job).await });
    }
    Ok(())
}
