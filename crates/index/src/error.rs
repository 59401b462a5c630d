//! Typed errors of the index.

use redb::{
    CommitError, DatabaseError, SetDurabilityError, StorageError, TableError, TransactionError,
};

/// Everything that can go wrong opening, updating or reading the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The embedded store failed (I/O, corruption, lock held by another
    /// process, …). The index is derived data: deleting the file and
    /// re-feeding the finalized blocks rebuilds it.
    #[error("index store: {0}")]
    Store(#[from] redb::Error),
    /// A stored record could not be decoded (corrupt or foreign file).
    #[error("index record corrupt: {0}")]
    Corrupt(String),
    /// The file was written by an incompatible version of this crate.
    #[error("index schema version {found} is not {expected}: delete the file and rebuild")]
    SchemaMismatch { found: u64, expected: u64 },
    /// An update carried a value the index cannot represent. Nothing of the
    /// block was applied.
    #[error("invalid event {hash}: {reason}")]
    InvalidEvent { hash: String, reason: String },
    /// A query was malformed (zero limit, unknown event type, …).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The page token was not produced by this index.
    #[error("invalid page token")]
    InvalidPageToken,
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for IndexError {
            fn from(e: $t) -> Self {
                IndexError::Store(e.into())
            }
        }
    )*};
}

from_redb!(
    CommitError,
    DatabaseError,
    StorageError,
    TableError,
    TransactionError,
    SetDurabilityError
);

pub(crate) fn corrupt(what: impl Into<String>) -> IndexError {
    IndexError::Corrupt(what.into())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}
