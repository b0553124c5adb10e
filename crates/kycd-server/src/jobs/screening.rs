//! Screening lists: loaded at start from KYCD_SCREENING_SOURCES and refreshed
//! on an interval. A refresh whose checksum changed re-screens the customers
//! of every organization against the new and changed entries only (delta),
//! and a possible match puts an active customer on_hold with an event. A
//! list that fails to load is reported with its file and line and does not
//! replace the list already loaded.

use crate::screening::{LoadedSource, parse_sources, read_source, screen_customer};
use crate::service;
use crate::state::AppState;
use kycd_core::customer::ScreeningHit;
use kycd_core::status::CustomerStatus;
use kycd_screening::Screener;
use kycd_store::screening as db;
use std::collections::HashMap;
use std::sync::Arc;

/// Loads or reloads every source; returns how many customers were put on hold.
pub async fn refresh(state: &AppState) -> anyhow::Result<usize> {
    let sources = parse_sources(&state.config.screening_sources())?;
    let mut loaded = state.screening.loaded.lock().await;
    let mut deltas: Vec<Screener> = vec![];
    for src in &sources {
        let started = std::time::Instant::now();
        let list = match read_source(&state.config.data_dir, src).await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(source = %src.name, error = %e, "screening list failed to load; keeping the previous version");
                continue;
            }
        };
        let now = chrono::Utc::now();
        let previous = loaded.iter().position(|l| l.source.name == src.name);
        if let Some(i) = previous
            && loaded[i].list.checksum == list.checksum
        {
            loaded[i].checked_at = now;
            continue;
        }
        tracing::info!(source = %src.name, entries = list.entries.len(), millis = started.elapsed().as_millis() as u64, "screening list loaded");
        let version = db::ListVersion {
            name: src.name.clone(),
            format: src.format.as_str().to_string(),
            entries: list.entries.len() as i64,
            loaded_at: now,
            checksum: list.checksum.clone(),
        };
        let mut conn = state.store.writer().await?;
        db::record_version(&mut conn, &version).await?;
        drop(conn);
        match previous {
            Some(i) => {
                let changed = kycd_screening::changed_entries(&loaded[i].list, &list);
                if !changed.is_empty() {
                    deltas.push(Screener::from_entries(&src.name, changed));
                }
                loaded[i] = LoadedSource {
                    source: src.clone(),
                    list,
                    loaded_at: now,
                    checked_at: now,
                };
            }
            None => {
                // A list seen for the first time: every entry is new.
                if state.screener().is_some() {
                    deltas.push(Screener::from_entries(&src.name, list.entries.clone()));
                }
                loaded.push(LoadedSource {
                    source: src.clone(),
                    list,
                    loaded_at: now,
                    checked_at: now,
                });
            }
        }
    }
    if loaded.is_empty() {
        return Ok(0);
    }
    let lists: Vec<kycd_screening::LoadedList> = loaded.iter().map(|l| l.list.clone()).collect();
    drop(loaded);
    let full = tokio::task::spawn_blocking(move || Screener::new(lists)).await?;
    *state.screener.write().expect("screener lock") = Some(Arc::new(full));
    let mut held = 0;
    for delta in deltas {
        held += rescreen(state, &delta).await?;
    }
    Ok(held)
}

/// Screens every customer against `delta`; active (and verified, or
/// re-verifying) customers with a possible match go on hold.
pub async fn rescreen(state: &AppState, delta: &Screener) -> anyhow::Result<usize> {
    let mut after = String::new();
    let mut held = 0;
    let mut thresholds: HashMap<kycd_store::Scope, f64> = HashMap::new();
    loop {
        let page = {
            let mut conn = state.store.reader().await?;
            db::customers_page(&mut conn, &*state.vault, &after, 500).await?
        };
        let Some((_, last)) = page.last() else { break };
        after = last.id.clone();
        for (scope, c) in page {
            if !matches!(
                c.status,
                CustomerStatus::Active | CustomerStatus::Verified | CustomerStatus::UpdateRequested
            ) {
                continue;
            }
            let threshold = match thresholds.get(&scope) {
                Some(t) => *t,
                None => {
                    let (s, _) = service::settings::load(state, &scope).await?;
                    thresholds.insert(scope.clone(), s.screening_threshold);
                    s.screening_threshold
                }
            };
            let hits = screen_customer(delta, &c, threshold);
            if hits.is_empty() {
                continue;
            }
            let dismissed = {
                let mut conn = state.store.reader().await?;
                db::dismissed(&mut conn, &scope, &c.id).await?
            };
            let hits: Vec<ScreeningHit> = hits
                .into_iter()
                .filter(|h| !dismissed.contains(&(h.list.clone(), h.entry_id.clone())))
                .collect();
            if hits.is_empty() {
                continue;
            }
            let cx = service::context_for(state, &scope, "screening".into()).await?;
            match service::lifecycle::hold_for_rescreen(state, &cx, &c.id, hits).await {
                Ok(()) => held += 1,
                Err(e) => {
                    tracing::warn!(error = %e, location = %e.location, "re-screening hold failed")
                }
            }
        }
    }
    Ok(held)
}

/// Loads the lists at start, then refreshes them on the configured interval.
/// One refresh, with the customers it put on hold reported.
pub async fn refresh_and_report(state: &AppState) -> anyhow::Result<()> {
    let held = refresh(state).await?;
    if held > 0 {
        tracing::info!(held, "re-screening put customers on hold");
    }
    Ok(())
}
