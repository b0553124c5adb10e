//! The kycd-server integration tests, one binary: each module starts the real
//! server on port 0 with a fresh database (see `common`) and talks HTTP to it.

#[macro_use]
mod common;

mod admin;
mod admin_browser;
mod admin_documents;
mod admin_four_eyes;
mod admin_health;
mod admin_team;
mod admin_totp;
mod bad_input;
mod contract_paths;
mod customer_batch;
mod customers;
mod db_outage;
mod documents;
mod expiry_nodes;
mod hosted;
mod hosted_browser;
mod kyb;
mod lifecycle;
mod limits;
mod live_decisions;
mod openapi;
mod products;
mod rate_limits;
mod schema_drift;
mod screening;
mod shapes;
mod strict_input;
mod sumsub;
mod vault_at_rest;
mod webhooks;
