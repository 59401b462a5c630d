//! Traceability records kept in the authenticated state: organisations,
//! agents, membership proposals, captured events, item state and recalls.
//!
//! Records are serde structs encoded with postcard, which is deterministic
//! for a given value (field order is the struct's; collections are ordered
//! types), so every validator writes the same bytes.

use crate::{StateKey, StateRead, Store, keys::Namespace, records::RecordError, stored_item};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::BTreeSet;
use tracechain_types::{Digest, MembershipChange, OrganisationSpec, PublicKey, to_hex};

pub(crate) async fn get<T: DeserializeOwned>(
    store: &impl StateRead,
    key: Digest,
    what: &'static str,
) -> Result<Option<T>, RecordError> {
    decode(store.get(&key).await?, what)
}

fn decode<T: DeserializeOwned>(
    raw: Option<Vec<u8>>,
    what: &'static str,
) -> Result<Option<T>, RecordError> {
    decode_with(raw, what, |raw| postcard::from_bytes(raw).ok())
}

/// A stored record read with `parse`, `None` meaning corrupt.
fn decode_with<T>(
    raw: Option<Vec<u8>>,
    what: &'static str,
    parse: impl FnOnce(&[u8]) -> Option<T>,
) -> Result<Option<T>, RecordError> {
    match raw {
        None => Ok(None),
        Some(raw) => parse(&raw).map(Some).ok_or(RecordError::Corrupt { what }),
    }
}

pub(crate) fn put<T: Serialize>(store: &mut impl Store, key: Digest, value: &T) {
    store.put(key, encode(value));
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain structs into a Vec cannot fail.
    postcard::to_allocvec(value).unwrap_or_default()
}

fn key(namespace: Namespace, logical: &[u8]) -> Digest {
    StateKey::derive(namespace, logical)
}

// ---------------------------------------------------------------- members

/// A member organisation. Never deleted: a removed member is inactive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationRecord {
    pub id: String,
    pub name: String,
    pub company_prefixes: Vec<String>,
    pub glns: Vec<String>,
    /// Hex ed25519 key of the admin.
    pub admin: String,
    pub encryption_key: [u8; 32],
    pub regulator: bool,
    pub active: bool,
    pub joined_height: u64,
    pub left_height: Option<u64>,
}

impl OrganisationRecord {
    pub fn new(spec: &OrganisationSpec, height: u64) -> Self {
        Self {
            id: spec.id.clone(),
            name: spec.name.clone(),
            company_prefixes: spec.company_prefixes.clone(),
            glns: spec.glns.clone(),
            admin: to_hex(&spec.admin),
            encryption_key: spec.encryption_key,
            regulator: spec.regulator,
            active: true,
            joined_height: height,
            left_height: None,
        }
    }
}

pub async fn organisation(
    store: &impl StateRead,
    id: &str,
) -> Result<Option<OrganisationRecord>, RecordError> {
    get(
        store,
        key(Namespace::Organisation, id.as_bytes()),
        "organisation",
    )
    .await
}

pub fn put_organisation(store: &mut impl Store, record: &OrganisationRecord) {
    put(
        store,
        key(Namespace::Organisation, record.id.as_bytes()),
        record,
    );
}

/// The ids of every active member, sorted.
pub async fn members(store: &impl StateRead) -> Result<BTreeSet<String>, RecordError> {
    Ok(get(store, key(Namespace::Members, b""), "members")
        .await?
        .unwrap_or_default())
}

pub fn put_members(store: &mut impl Store, members: &BTreeSet<String>) {
    put(store, key(Namespace::Members, b""), members);
}

/// Which organisation owns a GS1 company prefix or a GLN.
pub async fn owner_of_prefix(
    store: &impl StateRead,
    prefix: &str,
) -> Result<Option<String>, RecordError> {
    get(
        store,
        key(Namespace::PrefixOwner, prefix.as_bytes()),
        "prefix owner",
    )
    .await
}

pub fn put_prefix_owner(store: &mut impl Store, prefix: &str, organisation: &str) {
    put(
        store,
        key(Namespace::PrefixOwner, prefix.as_bytes()),
        &organisation.to_string(),
    );
}

pub async fn owner_of_gln(
    store: &impl StateRead,
    gln: &str,
) -> Result<Option<String>, RecordError> {
    get(store, key(Namespace::GlnOwner, gln.as_bytes()), "gln owner").await
}

pub fn put_gln_owner(store: &mut impl Store, gln: &str, organisation: &str) {
    put(
        store,
        key(Namespace::GlnOwner, gln.as_bytes()),
        &organisation.to_string(),
    );
}

// ----------------------------------------------------------------- agents

/// An agent: a key acting for one organisation, with its roles. An
/// organisation's admin key is registered as an agent holding `org:admin`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub organisation: String,
    pub display_name: String,
    pub roles: BTreeSet<String>,
    pub registered_height: u64,
}

pub async fn agent(
    store: &impl StateRead,
    agent: &PublicKey,
) -> Result<Option<AgentRecord>, RecordError> {
    get(store, key(Namespace::Agent, agent.as_ref()), "agent").await
}

pub fn put_agent(store: &mut impl Store, agent: &PublicKey, record: &AgentRecord) {
    put(store, key(Namespace::Agent, agent.as_ref()), record);
}

// -------------------------------------------------------------- proposals

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProposalStatus {
    Pending,
    Applied {
        height: u64,
    },
    /// The change could no longer apply when the threshold was reached
    /// (e.g. the id was taken meanwhile).
    Rejected {
        height: u64,
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProposedChange {
    Add {
        id: String,
        name: String,
        company_prefixes: Vec<String>,
        glns: Vec<String>,
        admin: [u8; 32],
        encryption_key: [u8; 32],
        regulator: bool,
    },
    Remove {
        organisation: String,
    },
}

impl ProposedChange {
    pub fn from_change(change: &MembershipChange) -> Self {
        match change {
            MembershipChange::Add(spec) => {
                let mut admin = [0u8; 32];
                admin.copy_from_slice(spec.admin.as_ref());
                ProposedChange::Add {
                    id: spec.id.clone(),
                    name: spec.name.clone(),
                    company_prefixes: spec.company_prefixes.clone(),
                    glns: spec.glns.clone(),
                    admin,
                    encryption_key: spec.encryption_key,
                    regulator: spec.regulator,
                }
            }
            MembershipChange::Remove { organisation } => ProposedChange::Remove {
                organisation: organisation.clone(),
            },
        }
    }

    /// Back to the wire form (the admin key was valid when proposed).
    pub fn to_change(&self) -> Option<MembershipChange> {
        use commonware_codec::DecodeExt;
        Some(match self {
            ProposedChange::Add {
                id,
                name,
                company_prefixes,
                glns,
                admin,
                encryption_key,
                regulator,
            } => MembershipChange::Add(Box::new(OrganisationSpec {
                id: id.clone(),
                name: name.clone(),
                company_prefixes: company_prefixes.clone(),
                glns: glns.clone(),
                admin: PublicKey::decode(commonware_codec::Copying(admin.as_slice())).ok()?,
                encryption_key: *encryption_key,
                regulator: *regulator,
            })),
            ProposedChange::Remove { organisation } => MembershipChange::Remove {
                organisation: organisation.clone(),
            },
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalRecord {
    pub change: ProposedChange,
    pub proposer: String,
    pub approvals: BTreeSet<String>,
    pub created_height: u64,
    pub status: ProposalStatus,
}

pub async fn proposal(
    store: &impl StateRead,
    id: &Digest,
) -> Result<Option<ProposalRecord>, RecordError> {
    get(store, key(Namespace::Proposal, id.as_ref()), "proposal").await
}

pub fn put_proposal(store: &mut impl Store, id: &Digest, record: &ProposalRecord) {
    put(store, key(Namespace::Proposal, id.as_ref()), record);
}

// ----------------------------------------------------------------- events

/// A captured EPCIS event, by its canonical hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    pub height: u64,
    pub tx: [u8; 32],
    /// Position of the event in its capture document.
    pub position: u32,
    pub organisation: String,
    pub event_time_ms: i64,
    /// The transaction that declared this event in error, if any.
    pub declared_in_error: Option<[u8; 32]>,
}

/// Event records live in the lookup database (ADR 0019): found by hash,
/// never proven from state (an event is proven by its log entry).
pub async fn event(
    store: &impl StateRead,
    hash: &[u8; 32],
) -> Result<Option<EventRecord>, RecordError> {
    let raw = store.get_lookup(&key(Namespace::Event, hash)).await?;
    decode(raw, "event")
}

pub fn put_event(store: &mut impl Store, hash: &[u8; 32], record: &EventRecord) {
    store.put_lookup(key(Namespace::Event, hash), encode(record));
}

// ------------------------------------------------------------------ items

/// What the chain knows of one identifier (an item, a batch or class, a
/// logistic unit, an asset).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemState {
    /// The organisation that commissioned or first created it.
    pub created_by: String,
    pub created_event: [u8; 32],
    /// The organisation holding it, unless it is inside a container (then
    /// the container's custodian holds it; see `parent`).
    pub custodian: String,
    /// The owning party (organisation id or party identifier), when a
    /// transaction event named one.
    pub owner: Option<String>,
    pub location: Option<String>,
    pub read_point: Option<String>,
    pub disposition: Option<String>,
    /// The container it is packed in.
    pub parent: Option<String>,
    /// What is packed in it (when it is a container), in packing order.
    pub children: Vec<String>,
    /// Destinations named when it was last shipped and not yet received.
    pub in_transit_to: Vec<String>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub last_event: [u8; 32],
    pub event_count: u64,
    pub sold_count: u32,
    /// The transformation that consumed it.
    pub consumed_by: Option<[u8; 32]>,
}

pub async fn item(store: &impl StateRead, id: &str) -> Result<Option<ItemState>, RecordError> {
    let raw = store.get(&key(Namespace::Item, id.as_bytes())).await?;
    decode_with(raw, "item", stored_item::decode)
}

/// Items are stored in a compact form of their own (ADR 0020).
pub fn put_item(store: &mut impl Store, id: &str, state: &ItemState) {
    store.put(
        key(Namespace::Item, id.as_bytes()),
        stored_item::encode(state),
    );
}

// ---------------------------------------------------------------- recalls

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallRecord {
    pub organisation: String,
    pub tx: [u8; 32],
    pub height: u64,
    pub timestamp_ms: u64,
    pub reason: String,
}

pub async fn recall(store: &impl StateRead, id: &str) -> Result<Option<RecallRecord>, RecordError> {
    get(store, key(Namespace::Recall, id.as_bytes()), "recall").await
}

pub fn put_recall(store: &mut impl Store, id: &str, record: &RecallRecord) {
    put(store, key(Namespace::Recall, id.as_bytes()), record);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;
    use futures::executor::block_on;

    #[test]
    fn records_roundtrip() {
        block_on(async {
            let mut store = MemoryStore::default();
            let item_state = ItemState {
                created_by: "farm".into(),
                custodian: "mill".into(),
                parent: Some("https://id.gs1.org/00/106141411234567897".into()),
                event_count: 3,
                ..Default::default()
            };
            put_item(&mut store, "x", &item_state);
            assert_eq!(item(&store, "x").await.unwrap(), Some(item_state));
            assert_eq!(item(&store, "y").await.unwrap(), None);

            let mut set = BTreeSet::new();
            set.insert("farm".to_string());
            put_members(&mut store, &set);
            assert_eq!(members(&store).await.unwrap(), set);
        });
    }

    #[test]
    fn encoding_is_deterministic() {
        let mut roles = BTreeSet::new();
        roles.insert("capture:shipping".to_string());
        roles.insert("capture:receiving".to_string());
        let record = AgentRecord {
            organisation: "carrier".into(),
            display_name: "driver".into(),
            roles,
            registered_height: 4,
        };
        let a = postcard::to_allocvec(&record).unwrap();
        let b = postcard::to_allocvec(&record.clone()).unwrap();
        assert_eq!(a, b);
    }
}
