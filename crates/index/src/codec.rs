//! Compact binary encodings of what the tables hold.
//!
//! Strings (identifiers, vocabulary URIs, organisations) are interned to
//! u64 ids (`schema::STRINGS`), so a record or key never repeats a long URI.
//! Integers are LEB128 varints except where a fixed width keeps a value
//! rewritable in place or sortable.

use crate::error::{IndexError, corrupt};
use crate::model::{Role, RoleSet};

/// Event types, by stable on-disk code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Object = 0,
    Aggregation = 1,
    Transaction = 2,
    Transformation = 3,
    Association = 4,
}

impl Kind {
    pub(crate) const ALL: [Kind; 5] = [
        Kind::Object,
        Kind::Aggregation,
        Kind::Transaction,
        Kind::Transformation,
        Kind::Association,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Object => "ObjectEvent",
            Kind::Aggregation => "AggregationEvent",
            Kind::Transaction => "TransactionEvent",
            Kind::Transformation => "TransformationEvent",
            Kind::Association => "AssociationEvent",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_code(code: u8) -> Option<Kind> {
        Kind::ALL.get(usize::from(code)).copied()
    }
}

/// EPCIS `action`, by stable on-disk code (0 = none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ActionCode {
    Add = 1,
    Observe = 2,
    Delete = 3,
}

impl ActionCode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ActionCode::Add => "ADD",
            ActionCode::Observe => "OBSERVE",
            ActionCode::Delete => "DELETE",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<ActionCode> {
        match name {
            "ADD" => Some(ActionCode::Add),
            "OBSERVE" => Some(ActionCode::Observe),
            "DELETE" => Some(ActionCode::Delete),
            _ => None,
        }
    }

    pub(crate) fn code(action: Option<ActionCode>) -> u8 {
        action.map_or(0, |a| a as u8)
    }

    pub(crate) fn from_code(code: u8) -> Result<Option<ActionCode>, IndexError> {
        match code {
            0 => Ok(None),
            1 => Ok(Some(ActionCode::Add)),
            2 => Ok(Some(ActionCode::Observe)),
            3 => Ok(Some(ActionCode::Delete)),
            _ => Err(corrupt(format!("action code {code}"))),
        }
    }
}

// ---- interned names ---------------------------------------------------------

/// Prefixes most interned strings start with (canonical Digital Links, CBV
/// web URIs), stored as one control character. Never reorder: the code is
/// the index in this list plus one.
const NAME_PREFIXES: [&str; 2] = ["https://id.gs1.org/", "https://ref.gs1.org/cbv/"];
const NAME_ESCAPE: char = '\u{0}';

/// The stored form of an interned string: a known prefix becomes one
/// control character; a string that itself starts with such a character
/// (never a URI, but organisation ids are free text) is escaped.
pub(crate) fn encode_name(s: &str) -> String {
    for (i, prefix) in NAME_PREFIXES.iter().enumerate() {
        if let Some(rest) = s.strip_prefix(prefix) {
            let mut out = String::with_capacity(rest.len() + 1);
            out.push(char::from(i as u8 + 1));
            out.push_str(rest);
            return out;
        }
    }
    if s.starts_with(|c: char| c <= '\u{8}') {
        let mut out = String::with_capacity(s.len() + 1);
        out.push(NAME_ESCAPE);
        out.push_str(s);
        return out;
    }
    s.to_owned()
}

pub(crate) fn decode_name(stored: &str) -> String {
    let mut chars = stored.chars();
    match chars.next() {
        Some(NAME_ESCAPE) => chars.as_str().to_owned(),
        Some(c) if c <= '\u{8}' => {
            let prefix = NAME_PREFIXES
                .get(usize::from(c as u8) - 1)
                .copied()
                .unwrap_or("");
            let mut out = String::with_capacity(prefix.len() + stored.len());
            out.push_str(prefix);
            out.push_str(chars.as_str());
            out
        }
        _ => stored.to_owned(),
    }
}

// ---- lookup keys ---------------------------------------------------------

/// The `STRINGS` key of a stored name: the first 8 bytes of its SHA-256.
/// Short fixed keys keep the table a third of its size with the names in
/// it; a cryptographic hash keeps a client from choosing identifiers that
/// pile up under one key (each candidate costs a name comparison).
pub(crate) fn name_key(stored: &str) -> u64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(stored.as_bytes());
    u64::from_be_bytes(prefix8(digest.as_slice())) >> KEY_SHIFT
}

/// The `EVENT_BY_HASH` key of an event hash (already a SHA-256): its
/// first 8 bytes.
pub(crate) fn hash_key(hash: &[u8; 32]) -> u64 {
    u64::from_be_bytes(prefix8(hash)) >> KEY_SHIFT
}

/// The unit tests keep 6 bits of each key, so nearly every lookup meets
/// other names' and events' entries under its key and must tell them apart.
#[cfg(not(test))]
const KEY_SHIFT: u32 = 0;
#[cfg(test)]
const KEY_SHIFT: u32 = 58;

fn prefix8(bytes: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&bytes[..8]);
    out
}

// ---- varints -------------------------------------------------------------

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A cursor over encoded bytes that reports truncation as corruption.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Reader { bytes, what }
    }

    fn truncated(&self) -> IndexError {
        corrupt(format!("{} truncated", self.what))
    }

    pub(crate) fn u8(&mut self) -> Result<u8, IndexError> {
        let (&b, rest) = self.bytes.split_first().ok_or_else(|| self.truncated())?;
        self.bytes = rest;
        Ok(b)
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], IndexError> {
        if self.bytes.len() < n {
            return Err(self.truncated());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], IndexError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub(crate) fn i64(&mut self) -> Result<i64, IndexError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    pub(crate) fn varint(&mut self) -> Result<u64, IndexError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt(format!("{}: varint too long", self.what)))
    }

    pub(crate) fn len(&mut self) -> Result<usize, IndexError> {
        usize::try_from(self.varint()?).map_err(|_| corrupt(format!("{}: length", self.what)))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bytes not read yet.
    pub(crate) fn rest_len(&self) -> usize {
        self.bytes.len()
    }
}

// ---- event records ----------------------------------------------------------

const FLAG_IN_ERROR: u8 = 1;
const FLAG_HASH_EVENT_ID: u8 = 2;

/// An event without its JSON: what traces and query filters read. String
/// fields are interned ids, 0 meaning absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventRecord {
    pub(crate) in_error: bool,
    pub(crate) hash: [u8; 32],
    pub(crate) kind: Kind,
    pub(crate) action: Option<ActionCode>,
    pub(crate) event_time_ms: i64,
    pub(crate) height: u64,
    pub(crate) block_time_ms: u64,
    pub(crate) tx: [u8; 32],
    pub(crate) biz_step: u64,
    pub(crate) disposition: u64,
    pub(crate) read_point: u64,
    pub(crate) biz_location: u64,
    pub(crate) organisation: u64,
    pub(crate) transformation_id: u64,
    /// `None` when the event id is the event's hash id (recomputed on read).
    pub(crate) event_id: Option<String>,
    pub(crate) identifiers: Vec<(Role, u64)>,
}

impl EventRecord {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96 + self.identifiers.len() * 4);
        let mut flags = 0;
        if self.in_error {
            flags |= FLAG_IN_ERROR;
        }
        if self.event_id.is_none() {
            flags |= FLAG_HASH_EVENT_ID;
        }
        out.push(flags);
        out.extend_from_slice(&self.hash);
        out.push(self.kind.code());
        out.push(ActionCode::code(self.action));
        out.extend_from_slice(&self.event_time_ms.to_le_bytes());
        put_varint(&mut out, self.height);
        put_varint(&mut out, self.block_time_ms);
        out.extend_from_slice(&self.tx);
        for id in [
            self.biz_step,
            self.disposition,
            self.read_point,
            self.biz_location,
            self.organisation,
            self.transformation_id,
        ] {
            put_varint(&mut out, id);
        }
        if let Some(event_id) = &self.event_id {
            put_varint(&mut out, event_id.len() as u64);
            out.extend_from_slice(event_id.as_bytes());
        }
        put_varint(&mut out, self.identifiers.len() as u64);
        for (role, id) in &self.identifiers {
            out.push(role.code());
            put_varint(&mut out, *id);
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<EventRecord, IndexError> {
        let mut r = Reader::new(bytes, "event record");
        let flags = r.u8()?;
        let hash = r.array()?;
        let kind_code = r.u8()?;
        let kind = Kind::from_code(kind_code)
            .ok_or_else(|| corrupt(format!("event type code {kind_code}")))?;
        let action = ActionCode::from_code(r.u8()?)?;
        let event_time_ms = r.i64()?;
        let height = r.varint()?;
        let block_time_ms = r.varint()?;
        let tx = r.array()?;
        let biz_step = r.varint()?;
        let disposition = r.varint()?;
        let read_point = r.varint()?;
        let biz_location = r.varint()?;
        let organisation = r.varint()?;
        let transformation_id = r.varint()?;
        let event_id = if flags & FLAG_HASH_EVENT_ID != 0 {
            None
        } else {
            let len = r.len()?;
            let text =
                std::str::from_utf8(r.take(len)?).map_err(|_| corrupt("event id is not UTF-8"))?;
            Some(text.to_owned())
        };
        let count = r.len()?;
        let mut identifiers = Vec::with_capacity(count.min(4096));
        for _ in 0..count {
            let code = r.u8()?;
            let role = Role::from_code(code).ok_or_else(|| corrupt(format!("role code {code}")))?;
            identifiers.push((role, r.varint()?));
        }
        if !r.is_empty() {
            return Err(corrupt("event record has trailing bytes"));
        }
        Ok(EventRecord {
            in_error: flags & FLAG_IN_ERROR != 0,
            hash,
            kind,
            action,
            event_time_ms,
            height,
            block_time_ms,
            tx,
            biz_step,
            disposition,
            read_point,
            biz_location,
            organisation,
            transformation_id,
            event_id,
            identifiers,
        })
    }

    /// Mark an encoded record as declared in error, in place.
    pub(crate) fn mark_in_error(bytes: &mut [u8]) -> Result<(), IndexError> {
        let flags = bytes
            .first_mut()
            .ok_or_else(|| corrupt("empty event record"))?;
        *flags |= FLAG_IN_ERROR;
        Ok(())
    }
}

// ---- postings -----------------------------------------------------------------

pub(crate) const POSTING_LEN: usize = 12;
const POSTING_IN_ERROR: u8 = 0b0100;
const POSTING_LISTS_CHILDREN: u8 = 0b1000;

/// One event of an identifier as `BY_IDENT` stores it: enough to compute
/// containment windows and pick trace edges without reading the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Posting {
    pub(crate) seq: u64,
    pub(crate) roles: RoleSet,
    pub(crate) time: i64,
    pub(crate) kind: Kind,
    pub(crate) action: Option<ActionCode>,
    pub(crate) in_error: bool,
    /// The event names children (a DELETE without children empties the
    /// parent).
    pub(crate) lists_children: bool,
}

impl Posting {
    pub(crate) fn encode(&self) -> [u8; POSTING_LEN] {
        let mut v = [0u8; POSTING_LEN];
        v[0..2].copy_from_slice(&self.roles.0.to_le_bytes());
        v[2..10].copy_from_slice(&self.time.to_le_bytes());
        v[10] = self.kind.code();
        let mut flags = ActionCode::code(self.action);
        if self.in_error {
            flags |= POSTING_IN_ERROR;
        }
        if self.lists_children {
            flags |= POSTING_LISTS_CHILDREN;
        }
        v[11] = flags;
        v
    }

    pub(crate) fn decode(seq: u64, v: &[u8; POSTING_LEN]) -> Result<Posting, IndexError> {
        let kind = Kind::from_code(v[10]).ok_or_else(|| corrupt("posting event type"))?;
        let mut time = [0u8; 8];
        time.copy_from_slice(&v[2..10]);
        Ok(Posting {
            seq,
            roles: RoleSet(u16::from_le_bytes([v[0], v[1]])),
            time: i64::from_le_bytes(time),
            kind,
            action: ActionCode::from_code(v[11] & 0b11)?,
            in_error: v[11] & POSTING_IN_ERROR != 0,
            lists_children: v[11] & POSTING_LISTS_CHILDREN != 0,
        })
    }

    pub(crate) fn mark_in_error(v: &mut [u8; POSTING_LEN]) {
        v[11] |= POSTING_IN_ERROR;
    }
}

// ---- first postings -------------------------------------------------------

/// Appends a posting to an identifier's `FIRST_POSTINGS` item: its seq
/// (varint), then the encoded posting.
pub(crate) fn push_first_posting(item: &mut Vec<u8>, p: &Posting) {
    put_varint(item, p.seq);
    item.extend_from_slice(&p.encode());
}

/// Each posting of a `FIRST_POSTINGS` item, in seq order: its seq and
/// where its encoded posting starts.
fn first_posting_offsets(item: &[u8]) -> Result<Vec<(u64, usize)>, IndexError> {
    let mut out = Vec::new();
    let mut r = Reader::new(item, "first postings");
    while !r.is_empty() {
        let seq = r.varint()?;
        out.push((seq, item.len() - r.rest_len()));
        r.take(POSTING_LEN)?;
    }
    Ok(out)
}

/// The postings of a `FIRST_POSTINGS` item, in seq order.
pub(crate) fn first_postings(item: &[u8]) -> Result<Vec<Posting>, IndexError> {
    first_posting_offsets(item)?
        .into_iter()
        .map(|(seq, at)| Posting::decode(seq, &posting_at(item, at)?))
        .collect()
}

/// Marks the posting of event `seq` in a `FIRST_POSTINGS` item as declared
/// in error; `false` if the item has none.
pub(crate) fn mark_first_posting_in_error(item: &mut [u8], seq: u64) -> Result<bool, IndexError> {
    let Some(&(_, at)) = first_posting_offsets(item)?.iter().find(|(s, _)| *s == seq) else {
        return Ok(false);
    };
    let mut posting = posting_at(item, at)?;
    Posting::mark_in_error(&mut posting);
    item[at..at + POSTING_LEN].copy_from_slice(&posting);
    Ok(true)
}

fn posting_at(item: &[u8], at: usize) -> Result<[u8; POSTING_LEN], IndexError> {
    item.get(at..at + POSTING_LEN)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt("first postings truncated"))
}

// ---- recalls ------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecallRecord {
    pub(crate) height: u64,
    pub(crate) by_tx: [u8; 32],
    pub(crate) reason: String,
}

impl RecallRecord {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40 + self.reason.len());
        put_varint(&mut out, self.height);
        out.extend_from_slice(&self.by_tx);
        out.extend_from_slice(self.reason.as_bytes());
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<RecallRecord, IndexError> {
        let mut r = Reader::new(bytes, "recall record");
        let height = r.varint()?;
        let by_tx = r.array()?;
        let reason = std::str::from_utf8(r.rest())
            .map_err(|_| corrupt("recall reason is not UTF-8"))?
            .to_owned();
        Ok(RecallRecord {
            height,
            by_tx,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for v in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(Reader::new(&out, "t").varint().ok(), Some(v));
        }
    }

    #[test]
    fn truncated_record_is_corrupt_not_a_panic() {
        let rec = EventRecord {
            in_error: false,
            hash: [7; 32],
            kind: Kind::Aggregation,
            action: Some(ActionCode::Delete),
            event_time_ms: -5,
            height: 9,
            block_time_ms: 10,
            tx: [1; 32],
            biz_step: 3,
            disposition: 0,
            read_point: 4,
            biz_location: 5,
            organisation: 6,
            transformation_id: 0,
            event_id: Some("urn:uuid:x".into()),
            identifiers: vec![(Role::Parent, 1), (Role::Child, 300)],
        };
        let bytes = rec.encode();
        assert_eq!(EventRecord::decode(&bytes).ok(), Some(rec));
        for n in 0..bytes.len() {
            assert!(EventRecord::decode(&bytes[..n]).is_err());
        }
    }

    #[test]
    fn names_round_trip_and_shrink() {
        for s in [
            "https://id.gs1.org/01/09521234543213/21/1",
            "https://ref.gs1.org/cbv/BizStep-shipping",
            "urn:t:x",
            "",
            "\u{0}odd",
            "\u{2}odd",
            "https://id.gs1.org",
        ] {
            assert_eq!(decode_name(&encode_name(s)), s);
        }
        assert_eq!(encode_name("https://id.gs1.org/01/1").len(), 5);
    }

    #[test]
    fn recall_round_trip() {
        let r = RecallRecord {
            height: 77,
            by_tx: [3; 32],
            reason: "listeria".into(),
        };
        assert_eq!(RecallRecord::decode(&r.encode()).ok(), Some(r));
    }

    #[test]
    fn role_codes_match_declaration_order() {
        for (i, role) in Role::ALL.iter().enumerate() {
            assert_eq!(usize::from(role.code()), i);
            assert_eq!(RoleSet::of(&[*role]).0, 1 << i);
        }
    }
}
