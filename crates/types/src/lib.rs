//! tracechain's shared data types: transactions, blocks, receipts, log
//! records and genesis. Everything here is plain data with canonical
//! encodings (commonware-codec); nothing does I/O.

pub mod block;
pub mod domain;
pub mod genesis;
pub mod key_cache;
pub mod parcel;
pub mod receipt;
pub mod recent;
pub mod state_value;
pub mod transaction;

pub use block::{Block, Header, consensus_namespace};
pub use domain::{MembershipChange, OrganisationSpec};
pub use genesis::{Genesis, GenesisValidator};
pub use receipt::{LogRecord, Outcome, Receipt, RecordKind};
pub use state_value::{MAX_STATE_VALUE_BYTES, StateValue};
pub use transaction::{Payload, Transaction, UnsignedTransaction};

use commonware_cryptography::{Hasher, Sha256, ed25519, sha256};

/// The digest used everywhere on chain (SHA-256).
pub type Digest = sha256::Digest;
/// Keys of validators, organisations' agents and every transaction sender.
pub type PublicKey = ed25519::PublicKey;
pub type PrivateKey = ed25519::PrivateKey;
pub type Signature = ed25519::Signature;

/// SHA-256 of `data`.
pub fn hash(data: &[u8]) -> Digest {
    Sha256::hash(&[data])
}

/// SHA-256 over several parts, as if concatenated.
pub fn hash_parts(parts: &[&[u8]]) -> Digest {
    Sha256::hash(parts)
}

/// Lower-case hex of any byte string (ids, keys and roots in the API and CLI).
pub fn to_hex(bytes: impl AsRef<[u8]>) -> String {
    hex::encode(bytes)
}

/// Parses a 32-byte digest from hex (with or without `0x`).
pub fn digest_from_hex(text: &str) -> Option<Digest> {
    let raw = hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok()?;
    let array: [u8; 32] = raw.try_into().ok()?;
    Some(sha256::Digest(array))
}

/// Parses an ed25519 public key from hex.
pub fn public_key_from_hex(text: &str) -> Option<PublicKey> {
    let raw = hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok()?;
    if raw.len() != <PublicKey as commonware_codec::FixedSize>::SIZE {
        return None;
    }
    // Signed captures name their signer in a header: one per request.
    key_cache::read_public_key(&mut commonware_codec::Copying(raw.as_slice())).ok()
}
