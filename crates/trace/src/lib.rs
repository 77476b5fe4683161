//! Fund tracing (资金查控) for Fanzha: capabilities M5 and M7, as ledger → rule → result.
//!
//! The store's transactions are loaded once into a [`Graph`] ([`load`]): a compact,
//! time-ordered ledger with one adjacency list per account and running-balance checkpoints,
//! built by hand because it is the hot path (DESIGN.md, "graphs"). A [`trace`] follows one
//! report's payments forward under a declared [`Rule`] (FIFO, LIFO, pro-rata, lowest
//! intermediate balance) and returns what is still held where, what left the system and
//! the transactions that carried every fen; [`reach`] is the poison rule, an upper bound on
//! where the money went. [`returns`] allocates an account's frozen money among the victims
//! whose money reached it, by the order of the return rules in LEGAL.md. [`registry`] is the
//! one freeze register per account across authorities, with the legal periods as rules;
//! [`stop`] ranks a report's accounts to stop and sizes each order to the traced holding;
//! [`orders`] holds the workflow's rules (who approves, who is told, which step follows).
//!
//! Architecture invariant: tracing is pure. Nothing here reads a clock or a store except
//! [`load`], which only reads; every result is a function of the graph, the payments, the
//! rule and the cut-off time.

pub mod calendar;
pub mod desk;
pub mod document;
pub mod eval;
pub mod flow;
pub mod graph;
pub mod load;
pub mod orders;
pub mod reach;
pub mod registry;
pub mod returns;
pub mod rule;
pub mod stop;
pub mod trace;
pub mod view;

#[cfg(test)]
mod proptests;

pub use graph::{AccountIx, ExitKind, Graph, GraphBuilder, GraphError, TxIx};
pub use reach::{reach, reach_within, Reach};
pub use returns::{allocate, Allocation, Basis, Claim, ReturnPlan};
pub use rule::Rule;
pub use trace::{trace, trace_with, Edge, Exit, Holding, Trace};
