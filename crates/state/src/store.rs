//! The read/write surface execution sees.

use crate::{
    StateValue,
    db::{LogDb, LookupDb, StateDb},
};
use commonware_glue::stateful::db::{ManagedDb, Merkleized as _, Unmerkleized as _};
use commonware_runtime::{Clock, Metrics, Spawner, Storage};
use std::{collections::BTreeMap, future::Future};
use tracechain_types::{Digest, LogRecord};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state read failed: {0}")]
    Read(String),
    #[error("merkleization failed: {0}")]
    Merkleize(String),
    #[error("pruning failed: {0}")]
    Prune(String),
}

/// Reading state by key.
pub trait StateRead: Send + Sync {
    fn get(&self, key: &Digest)
    -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// A record of the lookup database (receipts, event records; ADR
    /// 0019). Stores that keep one key space answer from it.
    fn get_lookup(
        &self,
        key: &Digest,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send {
        self.get(key)
    }
}

/// What block execution may do with storage: read state, write state,
/// append to the event log. Nothing else.
pub trait Store: StateRead {
    fn put(&mut self, key: Digest, value: Vec<u8>);
    fn append(&mut self, record: LogRecord);

    /// Writes a record of the lookup database (ADR 0019). Keys of the two
    /// databases come from different namespaces, so a store with one key
    /// space keeps both in it.
    fn put_lookup(&mut self, key: Digest, value: Vec<u8>) {
        self.put(key, value);
    }
}

/// An in-memory store for executor unit tests and tools.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    pub state: BTreeMap<Digest, Vec<u8>>,
    pub log: Vec<LogRecord>,
}

impl StateRead for MemoryStore {
    async fn get(&self, key: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.state.get(key).cloned())
    }
}

impl Store for MemoryStore {
    fn put(&mut self, key: Digest, value: Vec<u8>) {
        self.state.insert(key, value);
    }

    fn append(&mut self, record: LogRecord) {
        self.log.push(record);
    }
}

type StateBatch<E> = <StateDb<E> as ManagedDb<E>>::Unmerkleized;
type LogBatch<E> = <LogDb<E> as ManagedDb<E>>::Unmerkleized;
type LookupBatch<E> = <LookupDb<E> as ManagedDb<E>>::Unmerkleized;
pub type StateMerkleized<E> = <StateDb<E> as ManagedDb<E>>::Merkleized;
pub type LogMerkleized<E> = <LogDb<E> as ManagedDb<E>>::Merkleized;
pub type LookupMerkleized<E> = <LookupDb<E> as ManagedDb<E>>::Merkleized;

/// Merkleized batches of one block, in the order of [`crate::Databases`].
pub type MerkleizedBatches<E> = (StateMerkleized<E>, LogMerkleized<E>, LookupMerkleized<E>);

/// Speculative batches over the real databases for one block.
pub struct BlockBatches<E: StorageContext> {
    // Batches are consumed by value on every write; `None` only transiently.
    state: Option<StateBatch<E>>,
    log: Option<LogBatch<E>>,
    lookup: Option<LookupBatch<E>>,
}

/// The runtime capabilities the databases need.
pub trait StorageContext: Spawner + Storage + Clock + Metrics + Send + Sync + 'static {}
impl<T: Spawner + Storage + Clock + Metrics + Send + Sync + 'static> StorageContext for T {}

/// The roots and bounds a block header records after execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roots {
    pub state_root: Digest,
    pub state_ops_root: Digest,
    pub state_floor: u64,
    pub state_size: u64,
    pub log_root: Digest,
    pub log_floor: u64,
    pub log_size: u64,
    pub lookup_root: Digest,
    pub lookup_floor: u64,
    pub lookup_size: u64,
}

impl<E: StorageContext> BlockBatches<E> {
    pub fn new(batches: (StateBatch<E>, LogBatch<E>, LookupBatch<E>)) -> Self {
        Self {
            state: Some(batches.0),
            log: Some(batches.1),
            lookup: Some(batches.2),
        }
    }

    /// Seals the batches, computing their roots.
    pub async fn merkleize(mut self) -> Result<(MerkleizedBatches<E>, Roots), StoreError> {
        let state = self.state.take().ok_or_else(lost)?;
        let log = self.log.take().ok_or_else(lost)?;
        let lookup = self.lookup.take().ok_or_else(lost)?;
        let state = state.merkleize().await.map_err(merkleize_failed)?;
        let log = log.merkleize().await.map_err(merkleize_failed)?;
        let lookup = lookup.merkleize().await.map_err(merkleize_failed)?;
        let batches = (state, log, lookup);
        let roots = roots_of(&batches);
        Ok((batches, roots))
    }
}

fn merkleize_failed(error: impl std::fmt::Display) -> StoreError {
    StoreError::Merkleize(error.to_string())
}

fn lost() -> StoreError {
    StoreError::Merkleize("batch already consumed".into())
}

/// Roots and bounds of merkleized batches.
pub fn roots_of<E: StorageContext>((state, log, lookup): &MerkleizedBatches<E>) -> Roots {
    let log_bounds = log.bounds();
    Roots {
        state_root: state.root(),
        state_ops_root: state.ops_root(),
        state_floor: *state.sync_boundary(),
        state_size: *state.bounds().tip.size,
        log_root: log.root(),
        log_floor: *log_bounds.inactivity_floor,
        log_size: *log_bounds.tip.size,
        lookup_root: lookup.root(),
        lookup_floor: *lookup.bounds().inactivity_floor,
        lookup_size: *lookup.bounds().tip.size,
    }
}

/// A database read as the [`StateRead`] traits answer it: the value's
/// bytes, or the database's error as a read failure.
pub fn read_value<E: std::fmt::Display>(
    read: Result<Option<StateValue>, E>,
) -> Result<Option<Vec<u8>>, StoreError> {
    read.map(|value| value.map(|v| v.0))
        .map_err(|e| StoreError::Read(e.to_string()))
}

impl<E: StorageContext> StateRead for BlockBatches<E> {
    async fn get(&self, key: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        let state = self.state.as_ref().ok_or_else(lost)?;
        read_value(state.get(key).await)
    }

    async fn get_lookup(&self, key: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        let lookup = self.lookup.as_ref().ok_or_else(lost)?;
        read_value(lookup.get(key).await)
    }
}

impl<E: StorageContext> Store for BlockBatches<E> {
    fn put(&mut self, key: Digest, value: Vec<u8>) {
        if let Some(batch) = self.state.take() {
            self.state = Some(batch.write(key, Some(StateValue(value))));
        }
    }

    fn append(&mut self, record: LogRecord) {
        if let Some(batch) = self.log.take() {
            self.log = Some(batch.append(record));
        }
    }

    fn put_lookup(&mut self, key: Digest, value: Vec<u8>) {
        if let Some(batch) = self.lookup.take() {
            self.lookup = Some(batch.write(key, Some(StateValue(value))));
        }
    }
}
