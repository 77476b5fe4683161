//! Two-card risk (两卡风险) for Fanzha: capability M1, as sources → engine → rules →
//! warnings.
//!
//! Events from the store ([`rows`]) or the live stream are normalised into compact
//! [`Event`]s with interned ids ([`intern`]), applied in event-time order to keyed
//! per-entity state ([`Engine`]), and read back as named feature vectors ([`features`]).
//! The sliding windows are in [`window`], bounded distinct counts in [`distinct`], and the
//! state's storage trait in [`store`] (vectors indexed by interned id by default). The
//! [`rules`] score the vectors into patterns with reasons; [`run`] drives a batch over the
//! store and stores one warning per entity; [`eval`] scores warnings against labels;
//! [`model`] trains and scores the gradient-boosted model over the same features; [`live`]
//! keeps the state `serve` decides from and [`decide`] turns it and a request's own signals
//! into allow, warn, hold or block.
//!
//! Architecture invariant: this crate knows nothing of HTTP, SQL or the console (the batch
//! run reads and writes through the `Store` trait), and the engine's step reads neither a
//! clock nor a store.

pub mod decide;
pub mod distinct;
pub mod engine;
pub mod eval;
pub mod event;
pub mod features;
pub mod governance;
pub mod intern;
pub mod live;
pub mod model;
pub mod opening;
pub mod replay;
pub mod rows;
pub mod rules;
pub mod run;
pub mod score;
pub mod store;
pub mod window;

pub use engine::{Engine, EngineState, Touched};
pub use event::Event;
pub use features::{Entity, FeatureConfig, FeatureVector};
pub use intern::Names;
pub use rules::{PatternScore, Reloader, RuleSet};
pub use score::Scorer;
pub use store::{DenseMap, HashStore, KeyedMap, MemoryStore, StateStore};
