//! Read access to the applied (finalized) state for the API and tools.

use commonware_glue::stateful::db::Shared;
use tracechain_state::{
    Databases, LogDb, LookupDb, StateDb, StateRead, StoreError,
    store::{StorageContext, read_value},
};
use tracechain_types::{Digest, LogRecord};

/// Reads the node's finalized state. Cheap to clone.
pub struct StateReader<E: StorageContext> {
    state: Shared<StateDb<E>>,
    log: Shared<LogDb<E>>,
    lookup: Shared<LookupDb<E>>,
}

impl<E: StorageContext> Clone for StateReader<E> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            log: self.log.clone(),
            lookup: self.lookup.clone(),
        }
    }
}

/// Roots of the applied state, read directly from the databases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppliedRoots {
    pub state_root: Digest,
    pub log_root: Digest,
    pub log_size: u64,
    pub lookup_root: Digest,
}

impl<E: StorageContext> StateReader<E> {
    pub fn new(databases: Databases<E>) -> Self {
        Self {
            state: databases.0,
            log: databases.1,
            lookup: databases.2,
        }
    }

    /// Roots of what is applied right now.
    pub async fn roots(&self) -> AppliedRoots {
        let state_root = self.state.read().await.root();
        let lookup_root = self.lookup.read().await.root();
        let log = self.log.read().await;
        AppliedRoots {
            state_root,
            log_root: log.root(),
            log_size: *log.bounds().end,
            lookup_root,
        }
    }

    /// The first state operation still on disk, and the live floor.
    pub async fn state_retained(&self) -> (u64, u64) {
        let db = self.state.read().await;
        (*db.bounds().start, *db.sync_boundary())
    }

    /// Drops the state database's operations below `floor` (capped at its
    /// live floor). Returns the location pruned to. On an error the
    /// database is lost to this process (the next access panics).
    pub async fn prune_state(&self, floor: u64) -> Result<u64, StoreError> {
        use commonware_storage::mmr::Location;
        let (slot, db) = self.state.write().await;
        let at = floor.min(*db.sync_boundary());
        let db = db
            .prune(Location::new(at))
            .await
            .map_err(|e| StoreError::Prune(e.to_string()))?;
        slot.put(db);
        Ok(at)
    }

    /// The event log entry at `location`, if it is a record (not a commit).
    pub async fn log_record(&self, location: u64) -> Result<Option<LogRecord>, StoreError> {
        use commonware_storage::mmr::Location;
        let log = self.log.read().await;
        log.get(Location::new(location))
            .await
            .map_err(|e| StoreError::Read(e.to_string()))
    }
}

/// A state entry's proof, against the state as applied when it was made.
#[derive(Clone, Debug)]
pub enum EntryProof {
    Present { value: Vec<u8>, proof: Vec<u8> },
    Absent { proof: Vec<u8> },
}

/// Inclusion of one log operation: its encoding and the Merkle path.
#[derive(Clone, Debug)]
pub struct LogProof {
    pub operation: Vec<u8>,
    pub proof: Vec<u8>,
}

fn read_error(err: impl std::fmt::Display) -> StoreError {
    StoreError::Read(err.to_string())
}

impl<E: StorageContext> StateReader<E> {
    /// Proofs of `keys` (value or absence) and the state root they verify
    /// against, all under one read of the state.
    pub async fn prove_state(
        &self,
        keys: &[Digest],
    ) -> Result<(Digest, Vec<EntryProof>), StoreError> {
        use commonware_codec::Encode;
        let db = self.state.read().await;
        let root = db.root();
        let mut proofs = Vec::with_capacity(keys.len());
        for key in keys {
            let proof = match db.get(key).await.map_err(read_error)? {
                Some(value) => EntryProof::Present {
                    proof: db
                        .key_value_proof(*key)
                        .await
                        .map_err(read_error)?
                        .encode()
                        .to_vec(),
                    value: value.0,
                },
                None => EntryProof::Absent {
                    proof: db
                        .exclusion_proof(key)
                        .await
                        .map_err(read_error)?
                        .encode()
                        .to_vec(),
                },
            };
            proofs.push(proof);
        }
        Ok((root, proofs))
    }

    /// Inclusion of the log operation at `location` in the log as it was
    /// with `size` operations (a block's `log_size`).
    pub async fn prove_log(&self, location: u64, size: u64) -> Result<LogProof, StoreError> {
        use commonware_codec::Encode;
        use commonware_storage::mmr::Location;
        use commonware_utils::NZU64;
        let log = self.log.read().await;
        let (proof, operations) = log
            .historical_proof(Location::new(size), Location::new(location), NZU64!(1))
            .await
            .map_err(read_error)?;
        let operation = operations
            .first()
            .ok_or_else(|| read_error("no operation at that location"))?;
        Ok(LogProof {
            operation: operation.encode().to_vec(),
            proof: proof.encode().to_vec(),
        })
    }

    /// The peaks of the log when it had `size` operations.
    pub async fn log_peaks(&self, size: u64) -> Result<Vec<Digest>, StoreError> {
        use commonware_storage::mmr::Location;
        let log = self.log.read().await;
        log.pinned_nodes_at(Location::new(size))
            .await
            .map_err(read_error)
    }
}

impl<E: StorageContext> StateRead for StateReader<E> {
    async fn get(&self, key: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        let db = self.state.read().await;
        read_value(db.get(key).await)
    }

    async fn get_lookup(&self, key: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        let db = self.lookup.read().await;
        read_value(db.get(key).await)
    }
}
