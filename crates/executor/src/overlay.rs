//! Buffered writes over a store, committed all at once or dropped.
//!
//! A capture document is all-or-nothing and later events may read what
//! earlier ones wrote; the overlay gives both: reads see the buffered
//! writes, and nothing reaches the real store unless `commit` is called.

use std::collections::BTreeMap;
use tracechain_state::{StateRead, Store, StoreError, db::MAX_STATE_VALUE_BYTES};
use tracechain_types::{Digest, LogRecord};

pub struct Overlay<'a, S: Store> {
    inner: &'a mut S,
    writes: BTreeMap<Digest, Vec<u8>>,
    /// Writes to the lookup database (ADR 0019); its keys never meet the
    /// state's (other namespaces), but they go to another database.
    lookups: BTreeMap<Digest, Vec<u8>>,
    log: Vec<LogRecord>,
    /// The largest write over the state's value limit, if any.
    oversized: Option<usize>,
}

impl<'a, S: Store> Overlay<'a, S> {
    pub fn new(inner: &'a mut S) -> Self {
        Self {
            inner,
            writes: BTreeMap::new(),
            lookups: BTreeMap::new(),
            log: Vec::new(),
            oversized: None,
        }
    }

    /// The size of the largest value written that the state could not
    /// hold (more than `MAX_STATE_VALUE_BYTES`); such writes must not be
    /// committed, or the value could never be read back.
    pub fn oversized(&self) -> Option<usize> {
        self.oversized
    }

    /// Applies every buffered write and log record, in the order made.
    pub fn commit(self) -> Vec<LogRecord> {
        for (key, value) in self.writes {
            self.inner.put(key, value);
        }
        for (key, value) in self.lookups {
            self.inner.put_lookup(key, value);
        }
        self.log
    }
}

impl<S: Store> Overlay<'_, S> {
    fn note_size(&mut self, value: &[u8]) {
        if value.len() > MAX_STATE_VALUE_BYTES {
            self.oversized = self.oversized.max(Some(value.len()));
        }
    }
}

impl<S: Store> StateRead for Overlay<'_, S> {
    async fn get(&self, key: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(value) = self.writes.get(key) {
            return Ok(Some(value.clone()));
        }
        self.inner.get(key).await
    }

    async fn get_lookup(&self, key: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(value) = self.lookups.get(key) {
            return Ok(Some(value.clone()));
        }
        self.inner.get_lookup(key).await
    }
}

impl<S: Store> Store for Overlay<'_, S> {
    fn put(&mut self, key: Digest, value: Vec<u8>) {
        self.note_size(&value);
        self.writes.insert(key, value);
    }

    fn put_lookup(&mut self, key: Digest, value: Vec<u8>) {
        self.note_size(&value);
        self.lookups.insert(key, value);
    }

    /// Log records are handed back by `commit` (the caller appends them
    /// after its own checks), never written directly.
    fn append(&mut self, record: LogRecord) {
        self.log.push(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use tracechain_state::MemoryStore;
    use tracechain_types::hash;

    #[test]
    fn reads_see_writes_and_drop_discards() {
        block_on(async {
            let mut store = MemoryStore::default();
            {
                let mut overlay = Overlay::new(&mut store);
                overlay.put(hash(b"k"), b"v".to_vec());
                assert_eq!(overlay.get(&hash(b"k")).await.unwrap(), Some(b"v".to_vec()));
            }
            assert!(store.state.is_empty());
            let mut overlay = Overlay::new(&mut store);
            overlay.put(hash(b"k"), b"v".to_vec());
            overlay.commit();
            assert_eq!(store.state.len(), 1);
        });
    }

    #[test]
    fn values_the_state_cannot_hold_are_flagged() {
        let mut store = MemoryStore::default();
        let mut overlay = Overlay::new(&mut store);
        overlay.put(hash(b"a"), vec![0; MAX_STATE_VALUE_BYTES]);
        assert_eq!(overlay.oversized(), None);
        overlay.put(hash(b"b"), vec![0; MAX_STATE_VALUE_BYTES + 1]);
        assert_eq!(overlay.oversized(), Some(MAX_STATE_VALUE_BYTES + 1));
    }

    /// A store that keeps the lookup database apart, as the node does.
    #[derive(Default)]
    struct TwoDatabases {
        state: MemoryStore,
        lookup: BTreeMap<Digest, Vec<u8>>,
    }

    impl StateRead for TwoDatabases {
        async fn get(&self, key: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
            self.state.get(key).await
        }

        async fn get_lookup(&self, key: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(self.lookup.get(key).cloned())
        }
    }

    impl Store for TwoDatabases {
        fn put(&mut self, key: Digest, value: Vec<u8>) {
            self.state.put(key, value);
        }

        fn append(&mut self, record: LogRecord) {
            self.state.append(record);
        }

        fn put_lookup(&mut self, key: Digest, value: Vec<u8>) {
            self.lookup.insert(key, value);
        }
    }

    #[test]
    fn lookup_writes_are_read_back_and_committed_to_the_lookup_database() {
        block_on(async {
            let mut store = TwoDatabases::default();
            let mut overlay = Overlay::new(&mut store);
            overlay.put_lookup(hash(b"receipt"), b"r".to_vec());
            overlay.put(hash(b"item"), b"i".to_vec());
            let read = overlay.get_lookup(&hash(b"receipt")).await.unwrap();
            assert_eq!(read, Some(b"r".to_vec()));
            assert_eq!(overlay.get(&hash(b"receipt")).await.unwrap(), None);
            overlay.commit();
            assert_eq!(store.lookup.len(), 1);
            assert!(store.lookup.contains_key(&hash(b"receipt")));
            assert_eq!(store.state.state.len(), 1);
            assert!(store.state.state.contains_key(&hash(b"item")));
        });
    }
}
