//! State key layout.
//!
//! Every logical key is a namespace byte plus the key's own bytes, hashed to
//! 32 bytes. Hashing gives the ordered database uniformly spread fixed-size
//! keys (cheap index, exclusion proofs still work: a verifier hashes the
//! logical key the same way), and the namespace byte keeps kinds apart.

use tracechain_types::{Digest, PublicKey, hash_parts};

/// The kinds of things the state holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Namespace {
    /// sender key -> next nonce (u64, big-endian)
    Nonce = 1,
    /// key -> registered account name
    AccountByKey = 2,
    /// account name -> key
    AccountByName = 3,
    /// transaction id -> receipt (in the lookup database, ADR 0019)
    Receipt = 4,
    /// anchored hash -> first note anchoring it
    Note = 5,
    /// organisation id -> organisation record
    Organisation = 6,
    /// (single key) -> ids of active members
    Members = 7,
    /// GS1 company prefix -> owning organisation id
    PrefixOwner = 8,
    /// GLN -> owning organisation id
    GlnOwner = 9,
    /// agent key -> agent record
    Agent = 10,
    /// proposal id -> proposal record
    Proposal = 11,
    /// canonical EPCIS event hash -> event record (in the lookup database)
    Event = 12,
    /// canonical identifier -> item state
    Item = 13,
    /// canonical identifier -> recall record
    Recall = 14,
    /// document fingerprint -> anchored document
    Document = 15,
    /// canonical parcel id -> parcel record
    Parcel = 16,
    /// (entry kind, index, parcel id) -> one entry of a parcel's history
    ParcelEntry = 17,
    /// proposing transaction id -> completed hand-off
    Handoff = 18,
}

/// A namespaced state key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateKey;

impl StateKey {
    /// The database key for `bytes` in `namespace`.
    pub fn derive(namespace: Namespace, bytes: &[u8]) -> Digest {
        hash_parts(&[&[namespace as u8], bytes])
    }

    pub fn nonce(sender: &PublicKey) -> Digest {
        Self::derive(Namespace::Nonce, sender.as_ref())
    }

    pub fn account_by_key(key: &PublicKey) -> Digest {
        Self::derive(Namespace::AccountByKey, key.as_ref())
    }

    pub fn account_by_name(name: &str) -> Digest {
        Self::derive(Namespace::AccountByName, name.as_bytes())
    }

    pub fn receipt(tx: &Digest) -> Digest {
        Self::derive(Namespace::Receipt, tx.as_ref())
    }

    pub fn note(anchored: &Digest) -> Digest {
        Self::derive(Namespace::Note, anchored.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracechain_types::hash;

    #[test]
    fn namespaces_never_collide_on_equal_bytes() {
        let bytes = hash(b"same");
        assert_ne!(
            StateKey::derive(Namespace::Receipt, bytes.as_ref()),
            StateKey::derive(Namespace::Note, bytes.as_ref())
        );
    }
}
