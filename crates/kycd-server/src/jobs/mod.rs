//! Background work run inside the server process: the expiry scheduler, the
//! webhook dispatcher, the inbound webhook worker and list refreshes. They
//! run as tasks of one `JoinSet`, so a graceful shutdown waits for each to
//! finish what it has under way (a pass, the attempts in flight) and record it.

pub mod dispatcher;
pub mod inbound;
pub mod scheduler;
pub mod screening;

use crate::state::AppState;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Runs webhook deliveries that are due now (used by the sandbox clock):
/// fans out, sends and records before returning.
pub async fn run_due_webhooks(state: &AppState) {
    dispatcher::run_due(state).await;
}

/// A worker's step over its own handle on the state.
fn with_state<F, Fut>(state: AppState, step: F) -> impl FnMut() -> Fut
where
    F: Fn(AppState) -> Fut,
{
    move || step(state.clone())
}

/// A service error with where it arose, for a worker's log line.
fn located(e: crate::service::ServiceError) -> String {
    format!("{e} (at {})", e.location)
}

/// The running background workers.
pub struct Workers {
    tasks: JoinSet<()>,
    stop: watch::Sender<bool>,
}

/// Starts the background workers.
pub fn spawn(state: AppState) -> Workers {
    let (stop, shutdown) = watch::channel(false);
    let tick = Duration::from_millis(state.config.tick_millis);
    let mut tasks = JoinSet::new();
    tasks.spawn(dispatcher::run(state.clone(), shutdown.clone()));
    tasks.spawn(periodic(
        "expiry scheduler",
        tick,
        Start::Now,
        shutdown.clone(),
        with_state(state.clone(), |s| async move {
            scheduler::tick(&s).await.map(drop).map_err(located)
        }),
    ));
    tasks.spawn(periodic(
        "inbound webhooks",
        tick,
        Start::Now,
        shutdown.clone(),
        with_state(state.clone(), |s| async move {
            inbound::process_pending(&s)
                .await
                .map(drop)
                .map_err(located)
        }),
    ));
    tasks.spawn(periodic(
        "audit sealer",
        tick.max(Duration::from_secs(1)),
        Start::Now,
        shutdown.clone(),
        with_state(state.clone(), |s| async move {
            crate::admin::audit::seal_all(&s.store, &*s.vault)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }),
    ));
    let after = state.config.sumsub_reconcile_after;
    tasks.spawn(periodic(
        "sumsub reconciliation",
        (after / 4).min(Duration::from_secs(900)).max(tick),
        Start::AfterInterval,
        shutdown.clone(),
        with_state(state.clone(), move |s| async move {
            crate::providers::sumsub::reconcile(&s, after)
                .await
                .map(drop)
                .map_err(located)
        }),
    ));
    if !state.config.screening_sources().is_empty() {
        tasks.spawn(periodic(
            "screening refresh",
            state.config.screening_refresh,
            // The first load happens in Application::build, before serving.
            Start::AfterInterval,
            shutdown,
            with_state(state.clone(), |s| async move {
                screening::refresh_and_report(&s).await
            }),
        ));
    }
    Workers { tasks, stop }
}

impl Workers {
    /// A sender that tells every worker to stop (they finish their current pass).
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.stop.clone()
    }

    /// Tells the workers to stop and waits until each has finished and
    /// recorded what it had under way.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while let Some(done) = self.tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "a background worker ended abnormally");
            }
        }
        tracing::info!("background workers stopped");
    }
}

/// When a periodic worker makes its first pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Now,
    AfterInterval,
}

/// Calls `step` every `every` until `shutdown` fires. A pass under way is
/// never cut: shutdown waits for it. A failed pass is logged with the
/// worker's name and retried at the next interval.
pub async fn periodic<F, Fut, E>(
    name: &'static str,
    every: Duration,
    start: Start,
    mut shutdown: watch::Receiver<bool>,
    mut step: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut first = true;
    loop {
        if *shutdown.borrow() {
            return;
        }
        if !(first && start == Start::Now) {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => return,
            }
        }
        first = false;
        if let Err(e) = step().await {
            tracing::warn!(worker = name, error = %e, "background pass failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn periodic_runs_on_its_interval_and_finishes_the_pass_under_way() {
        let (stop, shutdown) = watch::channel(false);
        let passes = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let (p, f) = (passes.clone(), finished.clone());
        let task = tokio::spawn(periodic(
            "test",
            Duration::from_secs(10),
            Start::Now,
            shutdown,
            move || {
                let (p, f) = (p.clone(), f.clone());
                async move {
                    p.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    f.fetch_add(1, Ordering::SeqCst);
                    Ok::<(), String>(())
                }
            },
        ));
        // Passes at 0 s and 13 s; stop asked at 14 s, inside the second pass.
        tokio::time::sleep(Duration::from_secs(14)).await;
        assert_eq!(passes.load(Ordering::SeqCst), 2);
        stop.send(true).unwrap();
        task.await.unwrap();
        assert_eq!(
            finished.load(Ordering::SeqCst),
            2,
            "the pass under way at shutdown ran to its end"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn after_interval_waits_before_the_first_pass_and_stops_while_waiting() {
        let (stop, shutdown) = watch::channel(false);
        let passes = Arc::new(AtomicUsize::new(0));
        let p = passes.clone();
        let task = tokio::spawn(periodic(
            "test",
            Duration::from_secs(10),
            Start::AfterInterval,
            shutdown,
            move || {
                let p = p.clone();
                async move {
                    p.fetch_add(1, Ordering::SeqCst);
                    Err::<(), String>("failed passes are retried".into())
                }
            },
        ));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(passes.load(Ordering::SeqCst), 0);
        tokio::time::sleep(Duration::from_secs(16)).await;
        assert_eq!(passes.load(Ordering::SeqCst), 2, "passes at 10 s and 20 s");
        stop.send(true).unwrap();
        task.await.unwrap();
        assert_eq!(passes.load(Ordering::SeqCst), 2);
    }
}
