//! Read access to the applied (finalized) state for the API and tools.

use commonware_glue::stateful::db::Shared;
use tracechain_state::{Databases, LogDb, StateDb, StateRead, StoreError, store::StorageContext};
use tracechain_types::{Digest, LogRecord};

/// Reads the node's finalized state. Cheap to clone.
pub struct StateReader<E: StorageContext> {
    state: Shared<StateDb<E>>,
    log: Shared<LogDb<E>>,
}

impl<E: StorageContext> Clone for StateReader<E> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            log: self.log.clone(),
        }
    }
}

/// Roots of the applied state, read directly from the databases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppliedRoots {
    pub state_root: Digest,
    pub log_root: Digest,
    pub log_size: u64,
}

impl<E: StorageContext> StateReader<E> {
    pub fn new(databases: Databases<E>) -> Self {
        Self {
            state: databases.0,
            log: databases.1,
        }
    }

    /// Roots of what is applied right now.
    pub async fn roots(&self) -> AppliedRoots {
        let state_root = self.state.read().await.root();
        let log = self.log.read().await;
        AppliedRoots {
            state_root,
            log_root: log.root(),
            log_size: *log.bounds().end,
        }
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

impl<E: StorageContext> StateRead for StateReader<E> {
    async fn get(&self, key: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        let db = self.state.read().await;
        db.get(key)
            .await
            .map(|value| value.map(|v| v.0))
            .map_err(|e| StoreError::Read(e.to_string()))
    }
}
