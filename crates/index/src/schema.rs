//! The tables of `index.redb`.
//!
//! Every event gets a sequence number `seq` in the order the chain
//! finalized it (height, then position in the block): it is the event's
//! primary key and the order of every query result. Each secondary index
//! holds a value's seqs in order (`(value, seq)` keys, or runs of seqs under
//! `(value, first seq)` for the filter tables), so one filter is one ordered
//! scan, and several filters intersect by seeking (leapfrog join).

use redb::{ReadableTable, TableDefinition};

use crate::codec::POSTING_LEN;
use crate::error::IndexError;

/// Bump when the layout changes: an old file must be deleted and rebuilt.
/// 2: event pages carry a kind byte; full event-JSON pages are compressed.
/// 3: the filter tables hold runs of seqs (`runs`).
/// 4: interned names by id are packed (`pages`).
/// 5: names and event hashes are found by an 8-byte key (`codec::name_key`,
///    `codec::hash_key`); the time table holds runs (`time_runs`); an
///    identifier's postings from the transaction that interned it are
///    packed by id (`FIRST_POSTINGS`).
pub(crate) const SCHEMA_VERSION: u64 = 5;

/// `schema_version`, `indexed_height`, and the id counters.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
pub(crate) const META_SCHEMA: &str = "schema_version";
pub(crate) const META_HEIGHT: &str = "indexed_height";
pub(crate) const META_NEXT_SEQ: &str = "next_seq";
pub(crate) const META_NEXT_STRING: &str = "next_string";
pub(crate) const META_NEXT_RECALL: &str = "next_recall";

/// Interned strings (identifiers, vocabulary URIs, organisations,
/// transformation ids) → id, and back. Ids start at 1; 0 means "absent".
/// Stored prefix-compressed (`codec::encode_name`). Found by
/// (`codec::name_key` of the stored name, id): 16 fixed bytes instead of
/// the name, and each candidate's name is compared in `STRING_BY_ID`
/// (names sharing a key both stay).
pub(crate) const STRINGS: TableDefinition<(u64, u64), ()> = TableDefinition::new("strings");
/// By id: consecutive ids packed into values of about a page, keyed by the
/// first (`pages`), since ids only append.
pub(crate) const STRING_BY_ID: TableDefinition<u64, &[u8]> = TableDefinition::new("string_by_id");

/// Encoded `EventRecord`s (everything but the JSON), packed several to a
/// value keyed by the first one's seq (`pages`).
pub(crate) const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
/// The events as captured, packed the same way. Apart from `EVENTS` so
/// filters and traces read small records.
pub(crate) const EVENT_JSON: TableDefinition<u64, &[u8]> = TableDefinition::new("event_json");
/// (`codec::hash_key` of the event hash, seq): the candidates' records
/// hold the full hash.
pub(crate) const EVENT_BY_HASH: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("event_by_hash");

/// What `STRINGS` or `EVENT_BY_HASH` holds under `key`: the ids or seqs a
/// lookup compares.
pub(crate) fn candidates(
    table: &impl ReadableTable<(u64, u64), ()>,
    key: u64,
) -> Result<Vec<u64>, IndexError> {
    let mut out = Vec::new();
    for entry in table.range((key, 0)..=(key, u64::MAX))? {
        out.push(entry?.0.value().1);
    }
    Ok(out)
}

/// By string id, packed like `STRING_BY_ID`: the postings of the
/// identifier's events in the write transaction that interned it (seq, then
/// the encoded posting; empty for most names). Nearly every identifier is
/// named first by the event that makes it, and often never again: as
/// `(id, seq)` entries those appended to `BY_IDENT` and left its leaves
/// half full.
pub(crate) const FIRST_POSTINGS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("first_postings");
/// (identifier id, seq) → encoded `Posting` (roles, time, type, action,
/// flags): the events of an identifier in any role written after the
/// transaction that interned it (`FIRST_POSTINGS` has those).
pub(crate) const BY_IDENT: TableDefinition<(u64, u64), [u8; POSTING_LEN]> =
    TableDefinition::new("by_ident");
/// A filter table: (term, first seq of a run) → the run's other seqs
/// (`runs`). Event type and action terms are their codes.
pub(crate) type RunTable = TableDefinition<'static, (u64, u64), &'static [u8]>;

/// (GTIN class id, seq): events naming an SGTIN/LGTIN/… of that GTIN, so a
/// class `MATCH_epc` is one range scan.
pub(crate) const BY_CLASS: RunTable = TableDefinition::new("by_class");
pub(crate) const BY_BIZ_STEP: RunTable = TableDefinition::new("by_biz_step");
pub(crate) const BY_BIZ_LOCATION: RunTable = TableDefinition::new("by_biz_location");
pub(crate) const BY_READ_POINT: RunTable = TableDefinition::new("by_read_point");
pub(crate) const BY_ORG: RunTable = TableDefinition::new("by_org");
/// (transformationID id, seq): the events that make up one transformation.
pub(crate) const BY_TRANSFORMATION: RunTable = TableDefinition::new("by_transformation");
pub(crate) const BY_TYPE: RunTable = TableDefinition::new("by_type");
pub(crate) const BY_ACTION: RunTable = TableDefinition::new("by_action");
/// (eventTime UTC ms, seq) pairs as runs: (first time, first seq) → the
/// run's later pairs (`time_runs`).
pub(crate) type TimeTable = TableDefinition<'static, (i64, u64), &'static [u8]>;
pub(crate) const BY_TIME: TimeTable = TableDefinition::new("by_time");

/// original event hash → hash of the declaration that declared it in error.
pub(crate) const ERRORS: TableDefinition<&[u8; 32], &[u8; 32]> = TableDefinition::new("errors");
/// (identifier id, recall number) → encoded `RecallRecord`.
pub(crate) const RECALLS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("recalls");
