//! kycd-store: persistence for kycd. One `Store` over SQLite (default,
//! embedded, WAL) and PostgreSQL, each with its own embedded migrations.
//! Queries are written once in portable SQL; what differs lives in `Dialect`.
//! Every query is scoped by organization and environment.

pub mod audit;
pub mod back_office_health;
pub mod backup;
pub mod breaker;
pub mod case_claims;
pub mod customers;
pub mod db;
pub mod documents;
pub mod events;
pub mod four_eyes;
pub mod hosted;
pub mod idempotency;
pub mod ids;
mod migration_trees;
pub mod operator_factors;
pub mod operators;
pub mod orgs;
pub mod products;
pub mod providers;
pub mod rows;
pub mod schema;
pub mod screening;
pub mod usage;
pub mod webhooks;

pub use db::{
    Conn, DEFAULT_POOL_SIZE, Dialect, KeyOwner, Scope, Store, StoreError, StoreOptions,
    StoreResult, Tx, create_postgres_database, create_scratch_database, from_micros, micros,
};
