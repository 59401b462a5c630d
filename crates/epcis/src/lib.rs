//! EPCIS 2.0 / CBV 2.0 for tracechain: the event model, JSON-LD parsing and
//! validation, GS1 identifiers and the canonical event hash.
//!
//! Pure library: no I/O, no clocks, no floating point in anything that
//! decides identity, no hash-map iteration order. It runs inside block
//! execution on every validator, so the same bytes must always give the
//! same result.

pub mod error;
pub mod identifier;
pub mod json;
pub mod number;
pub mod time;
pub mod uri;
pub mod vocabulary;

pub use error::{EpcisError, EpcisErrors};
pub use identifier::{Identifier, IdentifierError, IdentifierKind};
pub use time::{TimeZoneOffset, Timestamp};
pub use vocabulary::{VocabularyKind, VocabularyValue};
