//! Keyed state behind a trait, so the engine's state can live in memory or be checkpointed
//! to a database (later), and partitioned workers can each hold their keys.
//!
//! The engine never reaches a store from inside its step: it asks a [`StateStore`] for one
//! map per entity kind and reads or updates one key at a time. [`MemoryStore`] backs every
//! map with an `FxHashMap` (fast for dense `u32` keys); its state serialises with serde, so a
//! checkpoint is a serialisation of [`crate::engine::EngineState`].

use std::hash::Hash;

use rustc_hash::FxHashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A map from an entity key to its state.
pub trait KeyedMap<K, V> {
    fn get(&self, key: &K) -> Option<&V>;
    /// The state of `key`, created empty on first use.
    fn entry(&mut self, key: K) -> &mut V;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Keeps only the entries for which `keep` holds (for expiring stale keys).
    fn retain(&mut self, keep: impl FnMut(&K, &mut V) -> bool);
}

/// A family of keyed maps: one implementation per place state can live.
pub trait StateStore {
    type Map<K, V>: KeyedMap<K, V> + Default + Clone + Serialize + DeserializeOwned
    where
        K: Copy + Eq + Hash + Serialize + DeserializeOwned,
        V: Default + Clone + Serialize + DeserializeOwned;
}

/// All state in process memory.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryStore;

impl<K: Copy + Eq + Hash, V: Default> KeyedMap<K, V> for FxHashMap<K, V> {
    fn get(&self, key: &K) -> Option<&V> {
        FxHashMap::get(self, key)
    }

    fn entry(&mut self, key: K) -> &mut V {
        FxHashMap::entry(self, key).or_default()
    }

    fn len(&self) -> usize {
        FxHashMap::len(self)
    }

    fn retain(&mut self, keep: impl FnMut(&K, &mut V) -> bool) {
        FxHashMap::retain(self, keep)
    }
}

impl StateStore for MemoryStore {
    type Map<K, V>
        = FxHashMap<K, V>
    where
        K: Copy + Eq + Hash + Serialize + DeserializeOwned,
        V: Default + Clone + Serialize + DeserializeOwned;
}
