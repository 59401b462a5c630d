//! EPCIS 2.0 / CBV 2.0 for tracechain: the event model, JSON-LD parsing and
//! validation, GS1 identifiers and the canonical event hash.
//!
//! Pure library: no I/O, no clocks, no floating point in anything that
//! decides identity, no hash-map iteration order. It runs inside block
//! execution on every validator, so the same bytes must always give the
//! same result.
//!
//! Entry points: [`parse_capture`] / [`parse_document`] / [`parse_event`]
//! give validated [`Event`]s; [`event_hash_id`] (or [`Event::hash_id`])
//! gives the canonical event hash; [`Identifier`] parses and normalises GS1
//! identifiers on its own.

pub mod context;
pub mod error;
pub mod hash;
pub mod identifier;
pub mod json;
pub mod model;
pub mod number;
pub mod parse;
pub mod time;
pub mod uri;
pub mod vocabulary;

pub use error::{EpcisError, EpcisErrors};
pub use hash::{event_hash, event_hash_id, hash_id_from_digest, pre_hash_string};
pub use identifier::{Identifier, IdentifierError, IdentifierKind};
pub use model::{
    Action, BizTransaction, ErrorDeclaration, Event, EventType, Extension, ExtensionValue,
    IdentifierRole, IdentifierValue, Location, Number, PersistentDisposition, QuantityElement,
    SensorElement, SensorMetadata, SensorReport, SourceDestination,
};
pub use parse::{Capture, DocumentType, EpcisDocument, parse_capture, parse_document, parse_event};
pub use time::{TimeZoneOffset, Timestamp};
pub use vocabulary::{VocabularyKind, VocabularyValue};
