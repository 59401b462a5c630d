//! A map that keeps the values added last, up to a bound.
//!
//! For caches of values that never change once known (parsed documents by
//! content hash, finalized headers by height): a lookup under a mutex, the
//! oldest entry evicted first.

use std::{
    collections::{HashMap, VecDeque},
    hash::Hash,
    sync::{Mutex, MutexGuard},
};

pub struct Recent<K, V> {
    capacity: usize,
    inner: Mutex<Entries<K, V>>,
}

struct Entries<K, V> {
    values: HashMap<K, V>,
    /// Keys in the order they were added; the oldest leaves first.
    order: VecDeque<K>,
}

impl<K: Eq + Hash + Clone, V: Clone> Recent<K, V> {
    /// Keeps at most `capacity` values.
    pub fn new(capacity: usize) -> Self {
        Recent {
            capacity,
            inner: Mutex::new(Entries {
                values: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.lock().values.get(key).cloned()
    }

    /// Keeps `value` under `key` (replacing one already there, which keeps
    /// its place in the order), evicting the oldest beyond the bound.
    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.lock();
        if entries.values.insert(key.clone(), value).is_some() {
            return;
        }
        entries.order.push_back(key);
        while entries.order.len() > self.capacity {
            if let Some(oldest) = entries.order.pop_front() {
                entries.values.remove(&oldest);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Entries<K, V>> {
        // The map holds plain values; a panic elsewhere leaves it usable.
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_values_up_to_the_bound() {
        let recent = Recent::<u64, u64>::new(100);
        for key in 0..110 {
            recent.insert(key, key * 2);
        }
        assert!(recent.get(&9).is_none());
        assert_eq!(recent.get(&10), Some(20));
        recent.insert(10, 21);
        assert_eq!(recent.get(&10), Some(21));
        assert_eq!(recent.lock().order.len(), 100);
        assert_eq!(recent.lock().values.len(), 100);
    }
}
