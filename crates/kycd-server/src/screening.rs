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

/// The loaded lists, kept whole for delta re-screening on refresh.
#[derive(Default)]
pub struct Lists {
    pub loaded: tokio::sync::Mutex<Vec<LoadedSource>>,
}

pub struct LoadedSource {
    pub source: Source,
    pub list: kycd_screening::LoadedList,
    pub loaded_at: chrono::DateTime<chrono::Utc>,
    /// The last successful read of the source, changed or not (freshness).
    pub checked_at: chrono::DateTime<chrono::Utc>,
}

/// One `format:path-or-url` entry of KYCD_SCREENING_SOURCES.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub format: kycd_screening::Format,
    pub location: String,
    pub name: String,
}

/// Parses KYCD_SCREENING_SOURCES entries.
pub fn parse_sources(entries: &[String]) -> anyhow::Result<Vec<Source>> {
    let mut out: Vec<Source> = vec![];
    for e in entries {
        let (format, location) = e.split_once(':').ok_or_else(|| {
            anyhow::anyhow!("screening source `{e}`: expected format:path-or-url")
        })?;
        let format: kycd_screening::Format = format
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("screening source `{e}`: unknown format `{format}`"))?;
        let location = location.trim().to_string();
        let stem = location
            .rsplit('/')
            .next()
            .unwrap_or(&location)
            .split('.')
            .next()
            .unwrap_or("list")
            .to_string();
        let mut name = format!("{}:{stem}", format.as_str());
        if out.iter().any(|s| s.name == name) {
            name = format!("{name}-{}", out.len() + 1);
        }
        out.push(Source {
            format,
            location,
            name,
        });
    }
    Ok(out)
}

/// Reads one source (a path, or an http(s) URL downloaded into the data dir).
pub async fn read_source(
    data_dir: &std::path::Path,
    src: &Source,
) -> anyhow::Result<kycd_screening::LoadedList> {
    let path = if src.location.starts_with("http://") || src.location.starts_with("https://") {
        let bytes = reqwest::get(&src.location)
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let dir = data_dir.join("screening");
        std::fs::create_dir_all(&dir)?;
        let file = src
            .location
            .rsplit('/')
            .next()
            .filter(|f| !f.is_empty())
            .unwrap_or("list");
        let path = dir.join(file);
        std::fs::write(&path, &bytes)?;
        path
    } else {
        std::path::PathBuf::from(&src.location)
    };
    let (format, name) = (src.format, src.name.clone());
    let list =
        tokio::task::spawn_blocking(move || kycd_screening::load(format, &path, &name)).await?;
    list.map_err(|e| anyhow::anyhow!("{}:{}: {}", e.file, e.line, e.message))
}
