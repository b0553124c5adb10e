//! Background work run inside the server process: the expiry scheduler, the
//! webhook dispatcher and list refreshes.

pub mod dispatcher;
pub mod inbound;
pub mod scheduler;
pub mod screening;

use crate::state::AppState;

/// Runs webhook deliveries that are due now (used by the sandbox clock):
/// fans out, sends and records before returning.
pub async fn run_due_webhooks(state: &AppState) {
    dispatcher::run_due(state).await;
}

/// Starts the background workers; they stop when `shutdown` fires.
pub fn spawn(state: AppState, shutdown: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(dispatcher::run(state.clone(), shutdown.clone()));
    tokio::spawn(inbound::run(state.clone(), shutdown.clone()));
    tokio::spawn(screening::run(state.clone(), shutdown.clone()));
    tokio::spawn(scheduler::run(state, shutdown));
}
