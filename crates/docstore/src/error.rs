//! The one error type of this crate.
//!
//! Decryption failures are deliberately not split into "wrong key" and
//! "tampered ciphertext": an AEAD cannot tell them apart, and guessing would
//! only mislead an operator.

use std::path::PathBuf;

/// Everything that can go wrong sealing, opening, decoding or storing a
/// document.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// The bytes are not a well-formed envelope of a version we read.
    #[error("malformed envelope: {0}")]
    Malformed(&'static str),

    /// A length exceeds the limit this crate accepts (decoding never
    /// allocates more than these limits allow).
    #[error("{what} is {len} bytes/entries, more than the limit of {max}")]
    TooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },

    /// `seal` was given no readers; use `seal_public` for public documents.
    #[error(
        "a confidential document needs at least one reader (use seal_public for public documents)"
    )]
    NoReaders,

    /// A reader id is empty or longer than `MAX_READER_ID_BYTES`.
    #[error("reader id {0:?} is empty or too long")]
    InvalidReaderId(String),

    /// The same reader id appears twice.
    #[error("reader {0:?} appears more than once")]
    DuplicateReader(String),

    /// HPKE refused the reader's public key (a low-order X25519 point, which
    /// would make the shared secret predictable).
    #[error("reader {0:?} has an invalid X25519 public key")]
    InvalidPublicKey(String),

    /// The envelope is not addressed to this reader.
    #[error("the envelope is not addressed to reader {0:?}")]
    NotAReader(String),

    /// Wrong secret key, or an envelope modified after sealing.
    #[error("decryption failed: wrong key or modified envelope")]
    DecryptionFailed,

    /// A public document was opened with `open`, or a confidential one with
    /// `open_public`.
    #[error("expected a {expected} envelope, found a {found} one")]
    WrongKind {
        expected: &'static str,
        found: &'static str,
    },

    /// The payload is not JSON.
    #[error("payload is not JSON: {0}")]
    InvalidJson(#[from] serde_json::Error),

    /// The payload is JSON but not in canonical form, so its hash would not
    /// be the fingerprint everybody else computes.
    #[error("payload is not canonical JSON")]
    NotCanonical,

    /// The document contains a number whose canonical text serde_json reads
    /// back as a different number (some floats beyond 2^53), so it could
    /// not be opened and re-fingerprinted. Write such values as strings.
    #[error(
        "document does not survive a JSON round trip (a float that does not read back exactly)"
    )]
    NotRoundTrip,

    /// A JSON value nests deeper than `MAX_JSON_DEPTH`, which the decoder
    /// (serde_json) would refuse to read back.
    #[error("JSON nests deeper than {max} levels")]
    TooDeep { max: usize },

    /// The document's fingerprint is not the one expected (the one on chain,
    /// or the one the envelope claims).
    #[error("fingerprint mismatch: expected {}, found {}", hex::encode(.expected), hex::encode(.found))]
    FingerprintMismatch { expected: [u8; 32], found: [u8; 32] },

    /// A stored file's bytes no longer hash to its name.
    #[error("stored document {} was modified: its bytes hash to {}", hex::encode(.expected), hex::encode(.found))]
    Tampered { expected: [u8; 32], found: [u8; 32] },

    /// No document with this content address is stored.
    #[error("no stored document {}", hex::encode(.0))]
    NotFound([u8; 32]),

    /// A file-system operation failed.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl DocError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> DocError {
        let path = path.into();
        move |source| DocError::Io { path, source }
    }
}
