//! Secondary evidence that moves a name score up or down: date of birth, country, kind.

use crate::dates::PartialDate;
use crate::model::EntityKind;

/// Same full date of birth.
pub const DOB_EXACT: f64 = 0.08;
/// Same year and month where both are known, or the same year where one side only has a year.
pub const DOB_YEAR: f64 = 0.04;
/// Same year, different month or day (typing errors happen, but it counts against).
pub const DOB_SAME_YEAR_DIFFERENT_DAY: f64 = -0.06;
/// Years one apart (lists often carry approximate years).
pub const DOB_ONE_YEAR_OFF: f64 = -0.12;
/// Years further apart: most likely another person.
pub const DOB_MISMATCH: f64 = -0.25;
/// The query country is one of the entry's countries.
pub const COUNTRY_MATCH: f64 = 0.03;
/// The entry has countries and the query country is not among them.
pub const COUNTRY_MISMATCH: f64 = -0.04;
/// Bonuses only apply to name scores at least this high: evidence supports a name match,
/// it does not make one.
pub const BONUS_MIN_NAME: f64 = 0.6;

/// Adjustment for the query date of birth against the entry's dates (the best one counts).
pub fn dob(query: Option<PartialDate>, entry: &[PartialDate]) -> f64 {
    let Some(q) = query else { return 0.0 };
    entry
        .iter()
        .map(|d| dob_one(q, *d))
        .fold(None, |best: Option<f64>, v| {
            Some(best.map_or(v, |b| b.max(v)))
        })
        .unwrap_or(0.0)
}

fn dob_one(q: PartialDate, d: PartialDate) -> f64 {
    let diff = q.year.abs_diff(d.year);
    if diff == 1 {
        return DOB_ONE_YEAR_OFF;
    }
    if diff > 1 {
        return DOB_MISMATCH;
    }
    let months_known = q.month > 0 && d.month > 0;
    let days_known = months_known && q.day > 0 && d.day > 0;
    if days_known {
        if q.month == d.month && q.day == d.day {
            DOB_EXACT
        } else if q.month == d.day && q.day == d.month {
            DOB_YEAR / 2.0 // day and month swapped (US vs European order)
        } else {
            DOB_SAME_YEAR_DIFFERENT_DAY
        }
    } else if months_known && q.month != d.month {
        DOB_SAME_YEAR_DIFFERENT_DAY
    } else {
        DOB_YEAR
    }
}

/// Adjustment for the query country (alpha-2) against the entry's countries.
pub fn country(query: Option<&str>, entry: &[String]) -> f64 {
    match query {
        Some(q) if !entry.is_empty() => {
            if entry.iter().any(|c| c == q) {
                COUNTRY_MATCH
            } else {
                COUNTRY_MISMATCH
            }
        }
        _ => 0.0,
    }
}

/// Adjustment when the query says what kind of party it is and the entry is another kind.
pub fn kind(query: Option<EntityKind>, entry: EntityKind) -> f64 {
    use EntityKind::*;
    match (query, entry) {
        (None, _) | (Some(Unknown), _) | (_, Unknown) => 0.0,
        (Some(a), b) if a == b => 0.0,
        (Some(Person), Organization) | (Some(Organization), Person) => -0.15,
        (Some(Person), _) | (_, Person) => -0.30,
        _ => -0.05,
    }
}

/// Combines a name score with the adjustments, clamped to [0, 1]. Positive adjustments
/// only count for name scores of at least [`BONUS_MIN_NAME`].
pub fn combine(name: f64, adjustments: &[f64]) -> f64 {
    let mut s = name;
    for &a in adjustments {
        if a < 0.0 || name >= BONUS_MIN_NAME {
            s += a;
        }
    }
    s.clamp(0.0, 1.0)
}
