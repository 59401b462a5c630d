//! Parcels and anchored off-chain documents, as kept in state.

use crate::{StateKey, StateRead, Store, keys::Namespace, records::RecordError};
use serde::{Deserialize, Serialize};
use tracechain_types::Digest;

use crate::domain::{get, put};

/// An anchored document: its content address, readers and who anchored it.
/// Keyed by fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub ciphertext_hash: [u8; 32],
    /// Reading organisations; empty for a public document.
    pub readers: Vec<String>,
    pub label: String,
    pub anchored_by: String,
    pub tx: [u8; 32],
    pub height: u64,
    pub timestamp_ms: u64,
}

pub async fn document(
    store: &impl StateRead,
    fingerprint: &Digest,
) -> Result<Option<DocumentRecord>, RecordError> {
    get(
        store,
        StateKey::derive(Namespace::Document, fingerprint.as_ref()),
        "document",
    )
    .await
}

pub fn put_document(store: &mut impl Store, fingerprint: &Digest, record: &DocumentRecord) {
    put(
        store,
        StateKey::derive(Namespace::Document, fingerprint.as_ref()),
        record,
    );
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParcelStatus {
    Registered,
    InTransit,
    Delivered,
    Lost,
    Returned,
}

impl ParcelStatus {
    pub fn name(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::InTransit => "in_transit",
            Self::Delivered => "delivered",
            Self::Lost => "lost",
            Self::Returned => "returned",
        }
    }

    /// No more hand-offs once delivered, lost or returned.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Delivered | Self::Lost | Self::Returned)
    }
}

/// A hand-off proposed by the holder and not yet answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingHandoff {
    /// The proposing transaction's id.
    pub id: [u8; 32],
    pub from: String,
    pub from_agent: String,
    pub to: String,
    pub next: Option<String>,
    pub location: Option<String>,
    /// The CBV business step the hand-off event will carry.
    pub step: String,
    pub proposed_ms: u64,
    pub expires_ms: u64,
    /// `to` is not on the planned route (allowed, flagged).
    pub off_route: bool,
}

/// A completed change of custody, signed by both sides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffRecord {
    pub proposal: PendingHandoff,
    pub acceptance: [u8; 32],
    pub to_agent: String,
    pub accepted_ms: u64,
    pub height: u64,
    /// The EPCIS event recorded for this hand-off (canonical hash and the
    /// JSON it was computed from).
    pub event_hash: [u8; 32],
    pub event_json: String,
}

/// A hand-off that did not happen: refused by the receiver or withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedProposal {
    pub proposal: PendingHandoff,
    pub by_agent: String,
    pub at_ms: u64,
    /// `None` when the proposer cancelled it.
    pub rejection_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRecord {
    pub kind: String,
    pub reason: String,
    pub by: String,
    pub at_ms: u64,
    pub tx: [u8; 32],
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelRecord {
    pub id: String,
    pub sender: String,
    pub recipient: String,
    /// Planned stops: (organisation, location).
    pub route: Vec<(String, Option<String>)>,
    /// Fingerprint of the parcel information document.
    pub document: [u8; 32],
    pub registered_tx: [u8; 32],
    pub registered_height: u64,
    pub registered_ms: u64,
    pub custodian: String,
    pub status: ParcelStatus,
    pub damaged: bool,
    pub pending: Option<PendingHandoff>,
    pub handoffs: Vec<HandoffRecord>,
    pub closed: Vec<ClosedProposal>,
    pub exceptions: Vec<ExceptionRecord>,
}

pub async fn parcel(store: &impl StateRead, id: &str) -> Result<Option<ParcelRecord>, RecordError> {
    get(
        store,
        StateKey::derive(Namespace::Parcel, id.as_bytes()),
        "parcel",
    )
    .await
}

pub fn put_parcel(store: &mut impl Store, record: &ParcelRecord) {
    put(
        store,
        StateKey::derive(Namespace::Parcel, record.id.as_bytes()),
        record,
    );
}
