//! kycd-core: the domain of kycd, pure (no IO, no async, no SQL).
//!
//! Customer model and validated newtypes, the status machine as one transition
//! table, policy (levels, products → requirements), automated checks,
//! decisions and reason codes, event types.

pub mod capabilities;
pub mod checks;
pub mod countries;
pub mod customer;
pub mod documents;
pub mod events;
pub mod hosted;
pub mod ids;
pub mod input;
pub mod lifecycle;
pub mod patch;
pub mod policy;
pub mod providers;
pub mod reasons;
pub mod schema;
pub mod status;
pub mod time;
pub mod validate;
