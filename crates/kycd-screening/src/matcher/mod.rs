//! Matching internals: token scoring and the candidate index used by the screener.

pub(crate) mod index;
pub(crate) mod score;

pub use score::jaro_winkler;
