//! The tests that run the `kycd` binary, one test binary: each module spawns
//! `kycd` processes (see `common`) against SQLite or PostgreSQL.

mod common;
/// The webhook receiver of the server's tests (checks signatures, counts deliveries).
#[path = "../../../kycd-server/tests/it/webhooks/receiver.rs"]
mod receiver;

mod api_keys;
mod audit_tamper;
mod backup_restore;
mod dev_mode;
mod group_commit;
mod idempotency_crash;
mod import;
mod keys_rotate;
mod logs_no_pii;
mod master_key_safety;
mod operators;
mod scale_out;
mod schema_upgrades;
mod webhooks_processes;
