//! The kycd-webhooks integration tests, one binary: signing, the retry
//! schedule, the SSRF guard.

mod retry;
mod signing;
mod ssrf;
