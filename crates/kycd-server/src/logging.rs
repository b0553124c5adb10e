//! Structured logs: human-readable by default, JSON with KYCD_LOG_FORMAT=json.
//! Handlers never log bodies, identifiers or raw paths.

use crate::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (`KYCD_LOG` filter, `KYCD_LOG_FORMAT`); a
/// filter that does not parse falls back to the default with a warning.
pub fn init(config: &Config) {
    let (filter, bad) = match EnvFilter::try_new(&config.log) {
        Ok(f) => (f, None),
        Err(e) => (EnvFilter::new("info,sqlx=warn"), Some(e)),
    };
    let json = config.log_format == LogFormat::Json;
    // Colours only for a terminal: a log file or a collector gets plain text.
    let colours = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colours)
        .with_target(true);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    if let Some(e) = bad {
        tracing::warn!(error = %e, "KYCD_LOG does not parse; logging at info");
    }
}
