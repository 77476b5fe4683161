//! Keyed state behind a trait, so the engine's state can live in memory or be checkpointed
//! to a database (later), and partitioned workers can each hold their keys.
//!
//! The engine never reaches a store from inside its step: it asks a [`StateStore`] for one
//! map per entity kind and reads or updates one key at a time.
//!
//! Two kinds of map, because the engine has two kinds of key:
//! - *Dense* keys are interned ids ([`DenseKey`]): handed out 1, 2, 3… in first-seen order.
//!   [`MemoryStore`] keeps their state in a [`DenseMap`], a vector indexed by id: a lookup
//!   is one bounds check and one memory access, with no hashing and no probing. With
//!   hundreds of thousands of ~½ KB states, the probe sequence of a hash map was a second
//!   cache miss on every lookup (a third of the engine's time when profiled).
//! - *Hashed* keys (the unordered pair of two numbers for the contact graph) are sparse and
//!   live in an `FxHashMap`.
//!
//! [`HashStore`] puts every map in an `FxHashMap`; it is the original layout, kept so tests
//! can check that the dense store gives the same features. Both serialise with serde (a
//! dense map as a map from key to state), so a checkpoint is a serialisation of
//! [`crate::engine::EngineState`].

use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

use rustc_hash::FxHashMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
    /// Asks the CPU to start loading the state of `key`, which will be needed soon (see
    /// [`crate::engine::Engine::apply_batch`]). A hint: may do nothing.
    fn prefetch(&self, key: &K) {
        self.prefetch_lines(key, usize::MAX);
    }
    /// Like [`KeyedMap::prefetch`], for the first `lines` cache lines of the state only.
    fn prefetch_lines(&self, _key: &K, _lines: usize) {}
}

/// Starts loading the cache lines of `value` without waiting for them.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    prefetch_lines(value, usize::MAX);
}

/// Starts loading the first `lines` cache lines of `value`.
#[inline(always)]
pub(crate) fn prefetch_lines<T>(value: &T, lines: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = (value as *const T).cast::<i8>();
        for line in 0..std::mem::size_of::<T>().div_ceil(64).min(lines) {
            // SAFETY: SSE is part of the x86_64 baseline, and a prefetch never faults nor
            // reads memory architecturally, whatever the address (`wrapping_add` keeps the
            // arithmetic defined; the lines are within `value` anyway).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(line * 64)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (value, lines);
}

/// A key that is a small dense integer (an interned id), usable as a vector index.
pub trait DenseKey: Copy + Eq + Hash + Serialize + DeserializeOwned {
    /// The position of this key in a dense vector: ids start at 1, positions at 0.
    fn index(self) -> usize;
    /// The key at a position, if there is one.
    fn from_index(i: usize) -> Option<Self>;
}

/// A family of keyed maps: one implementation per place state can live.
pub trait StateStore {
    /// State keyed by interned ids.
    type Dense<K, V>: KeyedMap<K, V> + Default + Clone + Serialize + DeserializeOwned
    where
        K: DenseKey,
        V: Default + Clone + Serialize + DeserializeOwned;
    /// State keyed by anything else.
    type Map<K, V>: KeyedMap<K, V> + Default + Clone + Serialize + DeserializeOwned
    where
        K: Copy + Eq + Hash + Serialize + DeserializeOwned,
        V: Default + Clone + Serialize + DeserializeOwned;

    /// Makes room for `n` keys without growing on the way (a hint; may do nothing).
    fn reserve<K: DenseKey, V: Default + Clone + Serialize + DeserializeOwned>(
        map: &mut Self::Dense<K, V>,
        n: usize,
    );
}

/// All state in process memory; interned ids index vectors. The default store.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryStore;

/// All state in process memory, in hash maps: the original layout, for comparison.
#[derive(Debug, Clone, Copy, Default)]
pub struct HashStore;

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

/// State per interned id, in a vector indexed by the id. Memory is proportional to the
/// largest id seen, which the interner keeps equal to the number of ids.
#[derive(Debug, Clone)]
pub struct DenseMap<K, V> {
    slots: Vec<Option<V>>,
    len: usize,
    _key: PhantomData<K>,
}

impl<K, V> Default for DenseMap<K, V> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            len: 0,
            _key: PhantomData,
        }
    }
}

impl<K: DenseKey, V> DenseMap<K, V> {
    /// Room for the ids `1..=n` without reallocating.
    pub fn reserve(&mut self, n: usize) {
        self.slots.reserve(n.saturating_sub(self.slots.len()));
    }

    /// The present entries in id order.
    pub fn iter(&self) -> impl Iterator<Item = (K, &V)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((K::from_index(i)?, v.as_ref()?)))
    }
}

impl<K: DenseKey, V: Default> KeyedMap<K, V> for DenseMap<K, V> {
    #[inline]
    fn get(&self, key: &K) -> Option<&V> {
        self.slots.get(key.index())?.as_ref()
    }

    #[inline]
    fn entry(&mut self, key: K) -> &mut V {
        let i = key.index();
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        let slot = &mut self.slots[i];
        if slot.is_none() {
            self.len += 1;
        }
        slot.get_or_insert_with(V::default)
    }

    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn prefetch_lines(&self, key: &K, lines: usize) {
        if let Some(slot) = self.slots.get(key.index()) {
            prefetch_lines(slot, lines);
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let (Some(k), Some(v)) = (K::from_index(i), slot.as_mut()) else {
                continue;
            };
            if !keep(&k, v) {
                *slot = None;
                self.len -= 1;
            }
        }
    }
}

impl<K: DenseKey, V: Serialize> Serialize for DenseMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, K: DenseKey, V: Deserialize<'de>> Deserialize<'de> for DenseMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<K, V>(PhantomData<(K, V)>);
        impl<'de, K: DenseKey, V: Deserialize<'de>> serde::de::Visitor<'de> for Visit<K, V> {
            type Value = DenseMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map from interned id to state")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = DenseMap::default();
                while let Some((k, v)) = m.next_entry::<K, V>()? {
                    let i = k.index();
                    if i >= out.slots.len() {
                        out.slots.resize_with(i + 1, || None);
                    }
                    if out.slots[i].replace(v).is_none() {
                        out.len += 1;
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(Visit(PhantomData))
    }
}

impl StateStore for MemoryStore {
    type Dense<K, V>
        = DenseMap<K, V>
    where
        K: DenseKey,
        V: Default + Clone + Serialize + DeserializeOwned;
    type Map<K, V>
        = FxHashMap<K, V>
    where
        K: Copy + Eq + Hash + Serialize + DeserializeOwned,
        V: Default + Clone + Serialize + DeserializeOwned;

    fn reserve<K: DenseKey, V: Default + Clone + Serialize + DeserializeOwned>(
        map: &mut DenseMap<K, V>,
        n: usize,
    ) {
        map.reserve(n);
    }
}

impl StateStore for HashStore {
    type Dense<K, V>
        = FxHashMap<K, V>
    where
        K: DenseKey,
        V: Default + Clone + Serialize + DeserializeOwned;
    type Map<K, V>
        = FxHashMap<K, V>
    where
        K: Copy + Eq + Hash + Serialize + DeserializeOwned,
        V: Default + Clone + Serialize + DeserializeOwned;

    fn reserve<K: DenseKey, V: Default + Clone + Serialize + DeserializeOwned>(
        map: &mut FxHashMap<K, V>,
        n: usize,
    ) {
        map.reserve(n.saturating_sub(map.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::AccountKey;
    use std::num::NonZeroU32;

    fn key(i: u32) -> AccountKey {
        AccountKey(NonZeroU32::new(i).unwrap())
    }

    #[test]
    fn dense_map_creates_counts_retains_and_round_trips() {
        let mut m: DenseMap<AccountKey, i64> = DenseMap::default();
        assert!(m.get(&key(3)).is_none());
        *m.entry(key(3)) += 5;
        *m.entry(key(1)) += 1;
        *m.entry(key(3)) += 1;
        assert_eq!(
            (m.len(), m.get(&key(3)), m.get(&key(2))),
            (2, Some(&6), None)
        );
        let json = serde_json::to_string(&m).unwrap();
        let back: DenseMap<AccountKey, i64> = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.iter().collect::<Vec<_>>(),
            m.iter().collect::<Vec<_>>()
        );
        m.retain(|k, _| k.get() != 3);
        assert_eq!(
            (m.len(), m.get(&key(3)), m.get(&key(1))),
            (1, None, Some(&1))
        );
    }
}
