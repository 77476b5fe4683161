//! Two-card risk (两卡风险) for Fanzha: the streaming feature engine of capability M1.
//!
//! Events from the store or the live stream are normalised into compact [`Event`]s with
//! interned ids ([`intern`]), applied in event-time order to keyed per-entity state
//! ([`Engine`]), and read back as named feature vectors ([`features`]) for the rules and
//! the model. The sliding windows are in [`window`], bounded distinct counts in
//! [`distinct`], and the state's storage trait in [`store`] (vectors indexed by interned
//! id by default).
//!
//! Architecture invariant: this crate knows nothing of HTTP, SQL or the console, and its
//! step reads neither a clock nor a store.

pub mod distinct;
pub mod engine;
pub mod event;
pub mod features;
pub mod intern;
pub mod store;
pub mod window;

pub use engine::{Engine, EngineState, Touched};
pub use event::Event;
pub use features::{Entity, FeatureConfig, FeatureVector};
pub use intern::Names;
pub use store::{DenseMap, HashStore, KeyedMap, MemoryStore, StateStore};
