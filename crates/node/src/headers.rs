//! Recently read finalized headers, by height.
//!
//! A proof needs the headers around its event (the log bounds of its block,
//! the anchor, the block whose state root matches), but marshal returns
//! whole blocks: decompressing and decoding a block of thousands of
//! captures to read its header made a verification with proof take
//! 12 ms. Finalized headers never change, so they are kept here.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};
use tracechain_types::Header;

/// Headers kept (a few hundred bytes each).
const CAPACITY: usize = 8_192;

pub type HeaderCache = Recent<Header>;

/// The last [`CAPACITY`] values added, by height.
pub struct Recent<V> {
    inner: Mutex<Entries<V>>,
}

struct Entries<V> {
    by_height: HashMap<u64, V>,
    /// Heights in the order they were added; the oldest leaves first.
    order: VecDeque<u64>,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Recent {
            inner: Mutex::new(Entries {
                by_height: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }
}

impl<V: Clone> Recent<V> {
    pub fn get(&self, height: u64) -> Option<V> {
        let entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        entries.by_height.get(&height).cloned()
    }

    /// Keeps the value of finalized `height`.
    pub fn insert(&self, height: u64, value: V) {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if entries.by_height.insert(height, value).is_some() {
            return;
        }
        entries.order.push_back(height);
        while entries.order.len() > CAPACITY {
            if let Some(oldest) = entries.order.pop_front() {
                entries.by_height.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_capacity_values() {
        let cache = Recent::<u64>::default();
        for height in 0..(CAPACITY as u64 + 10) {
            cache.insert(height, height * 2);
        }
        assert!(cache.get(9).is_none());
        assert_eq!(cache.get(10), Some(20));
        cache.insert(10, 20);
        assert_eq!(
            cache.inner.lock().map(|e| e.order.len()).ok(),
            Some(CAPACITY)
        );
    }
}
