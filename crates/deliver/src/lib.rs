//! Warning delivery (issue 5, section 5): the worker that drains the store's durable outbox
//! into each institution's webhook.
//!
//! A warning version is queued in `warning_outbox` in the same transaction that stores it
//! (`fanzha-store`). The [`Deliverer`] leases due rows in batches, posts each payload to the
//! webhook of the institution that owns the entity, signed with HMAC-SHA256 ([`sign`]), and
//! records the result: delivered, retried later with exponential backoff and jitter
//! ([`Backoff`]), or dead after too many failures. The idempotency key is the row's, the same
//! on every retry, so a receiver that keys on it applies each version once even when an
//! answer is lost and the delivery is repeated.
//!
//! Nothing is held only in memory: a worker that dies leaves its leased rows to come back
//! when the lease runs out, and a new worker sends them again under the same key.
//!
//! This crate knows HTTP as a client only and SQL not at all: it meets the store through the
//! `Store` trait's outbox methods.

mod backoff;
mod config;
mod deliverer;
pub mod sign;

pub use backoff::Backoff;
pub use config::{Config, ConfigError, Endpoint, Problem, Secret, Settings};
pub use deliverer::{DeliverError, Deliverer, Report};
