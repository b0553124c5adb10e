//! The expiry scheduler: emits `customer.verification.expiring` at
//! expires_at − notice days and expires customers at expires_at. Safe with
//! several processes: each change is committed under the customer's version,
//! so a customer expires once whoever gets there first.

use crate::service;
use crate::service::ServiceResult;
use crate::state::AppState;
use kycd_store::{Scope, customers as db, orgs};

/// Processes what is due in one scope (sandbox clock `offset`) or everywhere.
pub async fn run_due(state: &AppState, scope: Option<&Scope>, offset: i64) -> ServiceResult<usize> {
    let now = chrono::Utc::now() + chrono::Duration::seconds(offset);
    let mut done = 0;
    loop {
        let due = {
            let mut conn = state.store.reader().await?;
            db::due_for_expiry(&mut conn, scope, now, 200).await?
        };
        if due.is_empty() {
            break;
        }
        let mut progressed = false;
        for (sc, id) in &due {
            let cx = service::context_for(state, sc, "scheduler".into()).await?;
            match service::lifecycle::process_expiry(state, &cx, id).await {
                Ok(true) => {
                    done += 1;
                    progressed = true;
                }
                Ok(false) => {}
                // Another process got there first: fine.
                Err(e) if e.is_transient() => {}
                Err(e) => {
                    tracing::warn!(error = %e, location = %e.location, "expiry processing failed")
                }
            }
        }
        if !progressed || due.len() < 200 {
            break;
        }
    }
    Ok(done)
}

/// One pass over real time and every sandbox clock.
pub async fn tick(state: &AppState) -> ServiceResult<usize> {
    let mut n = run_due(state, None, 0).await?;
    let offsets = {
        let mut conn = state.store.reader().await?;
        orgs::clock_offsets(&mut conn).await?
    };
    for (scope, offset) in offsets {
        n += run_due(state, Some(&scope), offset).await?;
    }
    Ok(n)
}
