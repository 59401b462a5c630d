//! The validated EPCIS 2.0 event model.
//!
//! String values are kept as written (after CURIE expansion), next to their
//! parsed forms: the event hash is defined on the written values, while the
//! node indexes by the parsed ones (canonical identifiers, UTC times).

use std::fmt;

use crate::identifier::Identifier;
use crate::json::JsonValue;
use crate::time::{TimeZoneOffset, Timestamp};
use crate::vocabulary::VocabularyValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    ObjectEvent,
    AggregationEvent,
    TransactionEvent,
    TransformationEvent,
    AssociationEvent,
}

impl EventType {
    pub const ALL: [EventType; 5] = [
        Self::ObjectEvent,
        Self::AggregationEvent,
        Self::TransactionEvent,
        Self::TransformationEvent,
        Self::AssociationEvent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ObjectEvent => "ObjectEvent",
            Self::AggregationEvent => "AggregationEvent",
            Self::TransactionEvent => "TransactionEvent",
            Self::TransformationEvent => "TransformationEvent",
            Self::AssociationEvent => "AssociationEvent",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Add,
    Observe,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "ADD",
            Self::Observe => "OBSERVE",
            Self::Delete => "DELETE",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "ADD" => Some(Self::Add),
            "OBSERVE" => Some(Self::Observe),
            "DELETE" => Some(Self::Delete),
            _ => None,
        }
    }
}

/// An identifier field: the value as written and its parsed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierValue {
    pub written: String,
    pub id: Identifier,
}

/// A URI-valued field that is not an identifier of a thing (device
/// metadata, rules, …).
pub type UriValue = String;

/// A number exactly as captured (JSON number text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number(pub String);

impl Number {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityElement {
    pub epc_class: IdentifierValue,
    pub quantity: Option<Number>,
    pub uom: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub id: IdentifierValue,
    pub extensions: Vec<Extension>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BizTransaction {
    pub id: IdentifierValue,
    pub kind: Option<VocabularyValue>,
}

/// An entry of `sourceList` or `destinationList`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDestination {
    pub id: IdentifierValue,
    pub kind: VocabularyValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersistentDisposition {
    pub set: Vec<VocabularyValue>,
    pub unset: Vec<VocabularyValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDeclaration {
    pub declaration_time: Timestamp,
    pub reason: Option<VocabularyValue>,
    pub corrective_event_ids: Vec<UriValue>,
    pub extensions: Vec<Extension>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SensorElement {
    pub metadata: Option<SensorMetadata>,
    pub reports: Vec<SensorReport>,
    pub extensions: Vec<Extension>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SensorMetadata {
    pub time: Option<Timestamp>,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub device_id: Option<UriValue>,
    pub device_metadata: Option<UriValue>,
    pub raw_data: Option<UriValue>,
    pub data_processing_method: Option<UriValue>,
    pub biz_rules: Option<UriValue>,
    pub extensions: Vec<Extension>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SensorReport {
    pub measurement_type: Option<VocabularyValue>,
    pub exception: Option<VocabularyValue>,
    pub device_id: Option<UriValue>,
    pub device_metadata: Option<UriValue>,
    pub raw_data: Option<UriValue>,
    pub data_processing_method: Option<UriValue>,
    pub time: Option<Timestamp>,
    pub microorganism: Option<UriValue>,
    pub chemical_substance: Option<UriValue>,
    pub value: Option<Number>,
    pub component: Option<VocabularyValue>,
    pub string_value: Option<String>,
    pub boolean_value: Option<bool>,
    pub hex_binary_value: Option<String>,
    pub uri_value: Option<UriValue>,
    pub min_value: Option<Number>,
    pub max_value: Option<Number>,
    pub mean_value: Option<Number>,
    pub s_dev: Option<Number>,
    pub perc_rank: Option<Number>,
    pub perc_value: Option<Number>,
    pub uom: Option<String>,
    pub coordinate_reference_system: Option<UriValue>,
    /// Not a sensorReport field in EPCIS 2.0 (it belongs to sensorMetadata),
    /// but published conformance data puts it here, so it is accepted.
    pub biz_rules: Option<UriValue>,
    pub extensions: Vec<Extension>,
}

/// A user extension element (or ILMD element): its expanded name
/// (`{namespace}localName`, or an absolute IRI) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    pub value: ExtensionValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionValue {
    /// A string (CURIE-expanded where its prefix is declared).
    Text(String),
    Number(Number),
    Bool(bool),
    Object(Vec<Extension>),
    /// Repeated element; items are never arrays themselves.
    Array(Vec<ExtensionValue>),
}

/// A validated EPCIS event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event_type: EventType,
    pub event_time: Timestamp,
    pub event_time_zone_offset: TimeZoneOffset,
    pub record_time: Option<Timestamp>,
    pub event_id: Option<String>,
    pub certification_info: Option<UriValue>,
    pub error_declaration: Option<ErrorDeclaration>,
    pub parent_id: Option<IdentifierValue>,
    pub epc_list: Vec<IdentifierValue>,
    pub child_epcs: Vec<IdentifierValue>,
    pub input_epc_list: Vec<IdentifierValue>,
    pub output_epc_list: Vec<IdentifierValue>,
    pub quantity_list: Vec<QuantityElement>,
    pub child_quantity_list: Vec<QuantityElement>,
    pub input_quantity_list: Vec<QuantityElement>,
    pub output_quantity_list: Vec<QuantityElement>,
    pub action: Option<Action>,
    pub transformation_id: Option<UriValue>,
    pub biz_step: Option<VocabularyValue>,
    pub disposition: Option<VocabularyValue>,
    pub persistent_disposition: Option<PersistentDisposition>,
    pub read_point: Option<Location>,
    pub biz_location: Option<Location>,
    pub biz_transaction_list: Vec<BizTransaction>,
    pub source_list: Vec<SourceDestination>,
    pub destination_list: Vec<SourceDestination>,
    pub sensor_element_list: Vec<SensorElement>,
    /// Instance/lot master data; `Some(vec![])` for an empty `ilmd` object.
    pub ilmd: Option<Vec<Extension>>,
    /// User extension fields at the event level.
    pub extensions: Vec<Extension>,
    /// The event object exactly as captured (its span of the input).
    pub(crate) original_json: String,
    /// The enclosing document's `@context`, if any, so the canonical
    /// encoding of an event from a document is self-contained.
    pub(crate) document_context: Option<JsonValue>,
    /// [`Event::hash`], computed on first use.
    pub(crate) hash_memo: HashMemo,
}

/// A memoised event hash. A node hashes each event where it executes it,
/// indexes it and serves it; events come only from the parser, shared
/// read-only, so one computation serves all. Clones start empty (a clone
/// may be edited) and the memo never makes two events unequal.
#[derive(Debug, Default)]
pub(crate) struct HashMemo(pub(crate) std::sync::OnceLock<[u8; 32]>);

impl Clone for HashMemo {
    fn clone(&self) -> Self {
        HashMemo::default()
    }
}

impl PartialEq for HashMemo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for HashMemo {}

/// Where an identifier appears in an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentifierRole {
    Epc,
    Parent,
    Child,
    Input,
    Output,
    /// `epcClass` of a quantity element (with the list it sits in).
    Quantity,
    ChildQuantity,
    InputQuantity,
    OutputQuantity,
    ReadPoint,
    BizLocation,
    Source,
    Destination,
    BizTransaction,
}

impl Event {
    /// The event object exactly as it was captured (bytes of the input).
    pub fn original_json(&self) -> &str {
        &self.original_json
    }

    /// Compact JSON with sorted object keys and the values as captured: the
    /// same event always yields the same bytes (for signing). An event taken
    /// from a document carries the document's `@context` (merged before its
    /// own), so the bytes parse on their own to the same event.
    pub fn canonical_json(&self) -> Vec<u8> {
        // The tree is parsed again rather than kept: parsed events are
        // cached by the thousand, and this is rarely asked for. The span
        // parsed once already, so it parses again.
        let Ok(JsonValue::Object(source)) = crate::json::parse(&self.original_json) else {
            return self.original_json.as_bytes().to_vec();
        };
        let mut out = Vec::with_capacity(self.original_json.len());
        match &self.document_context {
            None => JsonValue::Object(source).write_canonical(&mut out),
            Some(doc_ctx) => {
                let mut obj = source;
                let mut items: Vec<JsonValue> = match doc_ctx {
                    JsonValue::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                if let Some(pos) = obj.members.iter().position(|(k, _)| k == "@context") {
                    let (_, own) = obj.members.remove(pos);
                    match own {
                        JsonValue::Array(a) => items.extend(a),
                        other => items.push(other),
                    }
                }
                obj.members
                    .push(("@context".to_owned(), JsonValue::Array(items)));
                JsonValue::Object(obj).write_canonical(&mut out);
            }
        }
        out
    }

    /// UTC milliseconds of `eventTime`.
    pub fn event_time_millis(&self) -> i64 {
        self.event_time.utc_millis()
    }

    /// Every identifier of the event with its role, in document order of
    /// the fields (what, then where, then why).
    pub fn identifiers(&self) -> Vec<(IdentifierRole, &Identifier)> {
        use IdentifierRole as R;
        let mut out = Vec::new();
        if let Some(p) = &self.parent_id {
            out.push((R::Parent, &p.id));
        }
        let lists: [(R, &Vec<IdentifierValue>); 4] = [
            (R::Epc, &self.epc_list),
            (R::Child, &self.child_epcs),
            (R::Input, &self.input_epc_list),
            (R::Output, &self.output_epc_list),
        ];
        for (role, list) in lists {
            out.extend(list.iter().map(|v| (role, &v.id)));
        }
        let quantities: [(R, &Vec<QuantityElement>); 4] = [
            (R::Quantity, &self.quantity_list),
            (R::ChildQuantity, &self.child_quantity_list),
            (R::InputQuantity, &self.input_quantity_list),
            (R::OutputQuantity, &self.output_quantity_list),
        ];
        for (role, list) in quantities {
            out.extend(list.iter().map(|q| (role, &q.epc_class.id)));
        }
        if let Some(l) = &self.read_point {
            out.push((R::ReadPoint, &l.id.id));
        }
        if let Some(l) = &self.biz_location {
            out.push((R::BizLocation, &l.id.id));
        }
        out.extend(self.source_list.iter().map(|s| (R::Source, &s.id.id)));
        out.extend(
            self.destination_list
                .iter()
                .map(|d| (R::Destination, &d.id.id)),
        );
        out.extend(
            self.biz_transaction_list
                .iter()
                .map(|b| (R::BizTransaction, &b.id.id)),
        );
        out
    }
}
