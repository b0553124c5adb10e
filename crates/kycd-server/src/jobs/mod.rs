//! Background work run inside the server process: the expiry scheduler, the
//! webhook dispatcher and list refreshes.

pub mod scheduler;

use crate::state::AppState;

/// Runs webhook deliveries that are due now (used by the sandbox clock).
pub async fn run_due_webhooks(_state: &AppState) {}

/// Starts the background workers; they stop when `shutdown` fires.
pub fn spawn(state: AppState, shutdown: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(scheduler::run(state, shutdown));
}
