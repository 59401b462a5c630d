//! Off-chain documents for tracechain.
//!
//! Large or confidential payloads stay off chain (ARCHITECTURE.md, decision
//! 7): the chain records a document's fingerprint, and the document itself
//! travels and rests as an [`Envelope`] — encrypted to the organisations
//! entitled to read it, or public — in a content-addressed
//! [`DocumentStore`].
//!
//! - [`canonical_json`] / [`fingerprint`]: the canonical form and its SHA-256.
//! - [`seal`] / [`open`]: multi-recipient envelopes (ChaCha20-Poly1305 for the
//!   content, HPKE RFC 9180 base mode with DHKEM(X25519, HKDF-SHA256),
//!   HKDF-SHA256, ChaCha20-Poly1305 to wrap the content key per reader).
//! - [`seal_public`] / [`open_public`]: the same container, unencrypted.
//! - [`DocumentStore`]: files named by [`ciphertext_hash`], verified on read.
//!
//! The exact construction is specified in this crate's README.md.

mod canonical;
mod codec;
mod envelope;
mod error;
pub mod rng;
mod store;
mod suite;
#[cfg(test)]
mod test_util;
#[cfg(test)]
mod vectors;

pub use canonical::{MAX_JSON_DEPTH, canonical_json, fingerprint};
pub use codec::{FORMAT_VERSION, MAGIC, MAX_ENVELOPE_BYTES};
pub use envelope::{
    Envelope, MAX_DOCUMENT_BYTES, MAX_READER_ID_BYTES, MAX_READERS, Reader, ciphertext_hash, open,
    open_public, seal, seal_public,
};
pub use error::DocError;
pub use store::DocumentStore;
pub use suite::{
    CONTENT_KEY_LEN, CONTENT_NONCE_LEN, DOMAIN, ENCAPPED_KEY_LEN, HPKE_AEAD_ID, HPKE_KDF_ID,
    HPKE_KEM_ID, WRAPPED_KEY_LEN, hpke_info,
};
