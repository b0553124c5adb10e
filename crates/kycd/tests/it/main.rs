//! The tests that run the `kycd` binary, one test binary: each module spawns
//! `kycd` processes (see `common`) against SQLite or PostgreSQL.

mod common;

mod api_keys;
mod idempotency_crash;
mod import;
mod keys_rotate;
mod logs_no_pii;
mod master_key_safety;
mod operators;
mod webhooks_processes;
