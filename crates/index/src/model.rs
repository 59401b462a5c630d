//! What the node feeds the index and what the index gives back.

use std::ops::Deref;

/// Where an identifier appears in an event. Read points and business
/// locations are not roles: they have their own fields (and indexes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Epc,
    Parent,
    Child,
    Input,
    Output,
    /// `epcClass` of a `quantityList` element.
    Quantity,
    ChildQuantity,
    InputQuantity,
    OutputQuantity,
    Source,
    Destination,
    BizTransaction,
    /// Anything else the node wants findable by `MATCH_epc`.
    Other,
}

impl Role {
    pub const ALL: [Role; 13] = [
        Role::Epc,
        Role::Parent,
        Role::Child,
        Role::Input,
        Role::Output,
        Role::Quantity,
        Role::ChildQuantity,
        Role::InputQuantity,
        Role::OutputQuantity,
        Role::Source,
        Role::Destination,
        Role::BizTransaction,
        Role::Other,
    ];

    /// Stable code used on disk (never reorder).
    pub(crate) fn code(self) -> u8 {
        match self {
            Role::Epc => 0,
            Role::Parent => 1,
            Role::Child => 2,
            Role::Input => 3,
            Role::Output => 4,
            Role::Quantity => 5,
            Role::ChildQuantity => 6,
            Role::InputQuantity => 7,
            Role::OutputQuantity => 8,
            Role::Source => 9,
            Role::Destination => 10,
            Role::BizTransaction => 11,
            Role::Other => 12,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Role> {
        Role::ALL.get(usize::from(code)).copied()
    }
}

/// A set of roles, one bit per [`Role::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct RoleSet(pub(crate) u16);

impl RoleSet {
    pub(crate) const fn of(roles: &[Role]) -> RoleSet {
        let mut bits = 0u16;
        let mut i = 0;
        while i < roles.len() {
            bits |= 1 << roles[i] as u16;
            i += 1;
        }
        RoleSet(bits)
    }

    pub(crate) fn insert(&mut self, role: Role) {
        self.0 |= 1 << role.code();
    }

    pub(crate) fn intersects(self, other: RoleSet) -> bool {
        self.0 & other.0 != 0
    }

    /// True when every role of `self` is in `other` (and `self` is not empty).
    pub(crate) fn within(self, other: RoleSet) -> bool {
        self.0 != 0 && self.0 & !other.0 == 0
    }
}

pub(crate) const CHILD_ROLES: RoleSet = RoleSet::of(&[Role::Child, Role::ChildQuantity]);
pub(crate) const INPUT_ROLES: RoleSet = RoleSet::of(&[Role::Input, Role::InputQuantity]);
pub(crate) const OUTPUT_ROLES: RoleSet = RoleSet::of(&[Role::Output, Role::OutputQuantity]);
pub(crate) const PARENT_ROLES: RoleSet = RoleSet::of(&[Role::Parent]);

/// One finalized EPCIS event, as the node hands it to the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedEvent {
    /// Canonical CBV 2.0 event hash: the event's identity on chain.
    pub hash: [u8; 32],
    /// `eventID` as captured, or the `ni:///sha-256;…` hash id.
    pub event_id: String,
    /// `ObjectEvent`, `AggregationEvent`, `TransformationEvent`,
    /// `TransactionEvent` or `AssociationEvent`.
    pub event_type: String,
    /// `eventTime` in UTC milliseconds.
    pub event_time_ms: i64,
    /// `ADD`, `OBSERVE` or `DELETE`.
    pub action: Option<String>,
    /// Canonical web URI, e.g. `https://ref.gs1.org/cbv/BizStep-shipping`.
    pub biz_step: Option<String>,
    pub disposition: Option<String>,
    /// Canonical identifier of the read point.
    pub read_point: Option<String>,
    pub biz_location: Option<String>,
    /// `transformationID`: events sharing one are one transformation (its
    /// inputs and outputs may be recorded in different events).
    pub transformation_id: Option<String>,
    /// Canonical identifiers with their role in the event.
    pub identifiers: Vec<(Role, String)>,
    /// Id of the capturing organisation.
    pub organisation: String,
    pub height: u64,
    pub block_time_ms: u64,
    /// Transaction that carried the event.
    pub tx: [u8; 32],
    /// The event as captured (returned by queries).
    pub json: Vec<u8>,
}

/// Where an event sits on chain: what [`IndexedEvent::from_epcis`] needs
/// besides the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    pub organisation: String,
    pub height: u64,
    pub block_time_ms: u64,
    pub tx: [u8; 32],
}

/// One change a finalized block makes to the index, in block order.
// Nearly every update is an event: boxing it would cost an allocation each
// for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockUpdate {
    /// A recorded event. Each hash comes at most once over the whole
    /// chain, as the executor guarantees: the index does not look first.
    Event(IndexedEvent),
    /// `declaration` (an EPCIS `errorDeclaration` event) declares `original`
    /// erroneous. Both stay visible; the original no longer links things in
    /// traces, recalls or containment.
    DeclaredInError {
        original: [u8; 32],
        declaration: [u8; 32],
    },
    /// `identifier` (a batch, an item, a container, …) is recalled; every
    /// thing derived from it is affected.
    Recalled {
        identifier: String,
        by_tx: [u8; 32],
        reason: String,
    },
}

/// An indexed event with what the chain said about it later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub event: IndexedEvent,
    /// Hash of the event that declared this one erroneous.
    pub declared_in_error: Option<[u8; 32]>,
}

impl Deref for StoredEvent {
    type Target = IndexedEvent;

    fn deref(&self) -> &IndexedEvent {
        &self.event
    }
}

/// A recall that applies to an identifier (directly or through something it
/// was made from or packed in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recall {
    /// The identifier the recall names.
    pub identifier: String,
    pub by_tx: [u8; 32],
    pub reason: String,
    /// Height of the block that recorded the recall.
    pub height: u64,
}
