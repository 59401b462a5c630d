//! tracechain's authenticated storage.
//!
//! Three structures, all rooted in every block header:
//! - the **state**: an ordered QMDB `current` database of 32-byte keys to
//!   byte values, with key-value and exclusion proofs;
//! - the **event log**: an append-only keyless QMDB (a Merkle mountain range
//!   of operations) holding one fixed-size [`LogRecord`] per applied record;
//! - the **lookup** database: an unordered QMDB `any` database of records
//!   found only by id — receipts and event records (ADR 0019).
//!
//! Execution never touches the databases directly: it reads and writes
//! through the [`Store`] trait, so the executor is testable on a
//! [`MemoryStore`] and the ALPHA storage APIs stay behind this crate.

pub mod db;
pub mod domain;
pub mod keys;
pub mod parcels;
pub mod records;
pub mod store;
mod stored_item;

pub use db::{Databases, LogDb, LookupDb, StateDb, StorageConfig, empty_state_root};
pub use keys::StateKey;
pub use store::{BlockBatches, MemoryStore, StateRead, Store, StoreError};
pub use tracechain_types::StateValue;
