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
    /// How many entries of each kind the parcel's history holds; the
    /// entries are separate state values, so a parcel may be handed over
    /// any number of times without its record outgrowing a state value.
    pub handoff_count: u32,
    pub closed_count: u32,
    pub exception_count: u32,
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

/// The kinds of entries in a parcel's history.
#[derive(Clone, Copy)]
enum Entry {
    Handoff = 0,
    Closed = 1,
    Exception = 2,
}

fn entry_key(parcel: &str, entry: Entry, index: u32) -> Digest {
    let mut logical = vec![entry as u8];
    logical.extend_from_slice(&index.to_be_bytes());
    logical.extend_from_slice(parcel.as_bytes());
    StateKey::derive(Namespace::ParcelEntry, &logical)
}

async fn entries<T: serde::de::DeserializeOwned>(
    store: &impl StateRead,
    parcel: &ParcelRecord,
    entry: Entry,
    count: u32,
    what: &'static str,
) -> Result<Vec<T>, RecordError> {
    let mut out = Vec::with_capacity(count as usize);
    for index in 0..count {
        match get(store, entry_key(&parcel.id, entry, index), what).await? {
            Some(value) => out.push(value),
            None => return Err(RecordError::Corrupt { what }),
        }
    }
    Ok(out)
}

/// Records a completed hand-off (the caller then stores `parcel`).
pub fn push_handoff(store: &mut impl Store, parcel: &mut ParcelRecord, record: &HandoffRecord) {
    put(
        store,
        StateKey::derive(Namespace::Handoff, &record.proposal.id),
        record,
    );
    let key = entry_key(&parcel.id, Entry::Handoff, parcel.handoff_count);
    put(store, key, &record.proposal.id);
    parcel.handoff_count += 1;
}

/// The completed hand-off that `proposal` started.
pub async fn handoff(
    store: &impl StateRead,
    proposal: &[u8; 32],
) -> Result<Option<HandoffRecord>, RecordError> {
    get(
        store,
        StateKey::derive(Namespace::Handoff, proposal),
        "hand-off",
    )
    .await
}

/// Every completed hand-off of `parcel`, in order.
pub async fn handoffs(
    store: &impl StateRead,
    parcel: &ParcelRecord,
) -> Result<Vec<HandoffRecord>, RecordError> {
    let ids: Vec<[u8; 32]> = entries(
        store,
        parcel,
        Entry::Handoff,
        parcel.handoff_count,
        "hand-off entry",
    )
    .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(
            handoff(store, &id)
                .await?
                .ok_or(RecordError::Corrupt { what: "hand-off" })?,
        );
    }
    Ok(out)
}

/// Records a rejected or cancelled proposal (the caller then stores `parcel`).
pub fn push_closed(store: &mut impl Store, parcel: &mut ParcelRecord, record: &ClosedProposal) {
    let key = entry_key(&parcel.id, Entry::Closed, parcel.closed_count);
    put(store, key, record);
    parcel.closed_count += 1;
}

pub async fn closed_proposals(
    store: &impl StateRead,
    parcel: &ParcelRecord,
) -> Result<Vec<ClosedProposal>, RecordError> {
    entries(
        store,
        parcel,
        Entry::Closed,
        parcel.closed_count,
        "closed proposal",
    )
    .await
}

/// Records a declared exception (the caller then stores `parcel`).
pub fn push_exception(store: &mut impl Store, parcel: &mut ParcelRecord, record: &ExceptionRecord) {
    let key = entry_key(&parcel.id, Entry::Exception, parcel.exception_count);
    put(store, key, record);
    parcel.exception_count += 1;
}

pub async fn exceptions(
    store: &impl StateRead,
    parcel: &ParcelRecord,
) -> Result<Vec<ExceptionRecord>, RecordError> {
    entries(
        store,
        parcel,
        Entry::Exception,
        parcel.exception_count,
        "exception",
    )
    .await
}
