//! The bundle format: JSON with every binary part as hex of its canonical
//! (commonware-codec) encoding, so it can be saved, mailed and checked
//! later by anyone holding the chain's genesis.

use serde::{Deserialize, Serialize};

/// Current bundle format.
pub const BUNDLE_VERSION: u32 = 1;

/// Proofs, the certified block they verify against, and the validator set
/// the certificate was checked against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub version: u32,
    pub chain_id: String,
    /// Validators' ed25519 public keys (hex); must be the genesis set.
    pub validators: Vec<String>,
    pub anchor: Anchor,
    /// Event log entries proven against the anchor's log root.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventProof>,
    /// State entries (present or absent) proven against its state root.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub states: Vec<StateProof>,
    /// The anchor's log extends an older certified log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<ConsistencyProof>,
}

/// A block header and the finality certificate that authenticates it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Anchor {
    /// The encoded header whose roots the proofs verify against (hex).
    pub header: String,
    /// Encoded headers of descendants, in height order, when the certificate
    /// is of a later block (finality of a block finalizes its ancestors).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub descendants: Vec<String>,
    /// The encoded finalization of the last header (hex).
    pub certificate: String,
}

/// One event log entry: an applied EPCIS event's canonical hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventProof {
    /// The canonical event hash (hex) this entry records.
    pub event_hash: String,
    /// Position of the entry in the log.
    pub location: u64,
    /// The encoded log record (hex).
    pub record: String,
    /// Merkle inclusion proof of the entry (hex).
    pub proof: String,
}

/// One state entry: its logical key, and its value or its absence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateProof {
    /// What the entry is, for people (e.g. "item urn:epc:id:sgtin:…").
    pub label: String,
    /// The key namespace byte and the logical key bytes (hex): the verifier
    /// derives the state key from them, so a proof of another key fails.
    pub namespace: u8,
    pub logical: String,
    /// The stored value (hex); absent for an exclusion proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Key-value or exclusion proof (hex).
    pub proof: String,
}

/// Proof that the log at an older certified block is a prefix of the log
/// at the bundle's anchor: nothing earlier was rewritten.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsistencyProof {
    pub from: Anchor,
    /// Peaks of the older log (hex digests).
    pub pins: Vec<String>,
    /// Inclusion proof of the first entry after the older log (hex) …
    pub proof: String,
    /// … and that entry, encoded (hex). Both empty when the sizes are equal.
    pub operation: String,
}
