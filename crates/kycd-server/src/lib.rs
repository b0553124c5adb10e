//! kycd-server: the HTTP server of kycd (axum). Handlers are thin: they parse
//! into domain types and call `service`, which makes the domain decision and
//! commits one store transaction. IO lives here, never in kycd-core.

pub mod admin;
pub mod api;
pub mod app;
pub mod auth;
pub mod blobs;
pub mod config;
pub mod error;
pub mod error_codes;
pub mod explain;
pub mod hosted;
pub mod http;
pub mod idempotency;
pub mod images;
pub mod jobs;
pub mod json_keys;
pub mod json_shape;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod node;
pub mod openapi;
pub mod providers;
pub mod ratelimit;
pub mod screening;
pub mod serve;
pub mod service;
pub mod state;
pub mod vault;
pub mod web;
pub mod wire;

pub use app::{Application, Bootstrap, create_org};
pub use config::Config;
