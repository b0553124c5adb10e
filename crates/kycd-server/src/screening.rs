//! Screening at the edge: turns a customer into list queries and keeps the
//! loaded lists (from KYCD_SCREENING_SOURCES) in the application state.

use kycd_core::customer::{Customer, CustomerType, ScreeningHit};
use kycd_screening::{EntityKind, Query, Screener};

/// Possible matches for a customer's name (with date of birth and nationality as evidence).
pub fn screen_customer(screener: &Screener, c: &Customer, threshold: f64) -> Vec<ScreeningHit> {
    let Some(name) = c.display_name() else {
        return vec![];
    };
    let (kind, dob, country) = match c.customer_type {
        CustomerType::Individual => {
            let i = c.individual.as_ref();
            (
                EntityKind::Person,
                i.and_then(|i| i.date_of_birth).map(|d| d.to_string()),
                i.and_then(|i| i.nationality.clone()),
            )
        }
        CustomerType::Business => (
            EntityKind::Organization,
            None,
            c.business.as_ref().and_then(|b| b.country.clone()),
        ),
    };
    let q = Query {
        name,
        kind: Some(kind),
        date_of_birth: dob,
        country,
        threshold,
        limit: 5,
    };
    screener
        .search(&q)
        .into_iter()
        .map(|m| ScreeningHit {
            list: m.list,
            entry_id: m.entry_id,
            name: m.name,
            matched_name: m.matched_name,
            score: (m.score * 1000.0).round() / 1000.0,
            programs: m.programs,
            pep: m.pep,
            subject: c.id.clone(),
        })
        .collect()
}
