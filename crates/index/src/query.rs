//! Paged event queries mirroring the EPCIS 2.0 query parameters.
//!
//! Each parameter is a list (values OR-ed, as in EPCIS); parameters are
//! AND-ed. Every indexed parameter is a stream of event `seq`s in chain
//! order (a range scan of its `(value, seq)` table; a list is the union of
//! its values' scans); the streams are intersected by leapfrogging: each
//! stream seeks to the largest candidate until all agree. The time window
//! joins as a stream when it holds few events, and is checked on each
//! candidate otherwise.

use std::rc::Rc;

use redb::ReadOnlyTable;
use tracechain_epcis::vocabulary::VocabularyKind;

use crate::canon;
use crate::codec::{ActionCode, Kind};
use crate::error::IndexError;
use crate::model::StoredEvent;
use crate::schema::*;
use crate::snapshot::{SeqTable, Snapshot};

/// Most events one page may ask for.
pub const MAX_LIMIT: usize = 10_000;
/// A time window with at most this many events is materialised and joined
/// as a stream; a larger one is checked per candidate.
const TIME_STREAM_CAP: usize = 20_000;
const TOKEN_PREFIX: &str = "ti1.";

/// An event query. Empty lists and `None` mean "no constraint".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// `eventType`: `ObjectEvent`, `AggregationEvent`, ….
    pub event_types: Vec<String>,
    /// `EQ_action`: `ADD`, `OBSERVE`, `DELETE`.
    pub actions: Vec<String>,
    /// `EQ_bizStep`: bare CBV term, CBV URN or web URI.
    pub biz_steps: Vec<String>,
    /// `EQ_bizLocation` (the business location only).
    pub biz_locations: Vec<String>,
    /// `EQ_readPoint`.
    pub read_points: Vec<String>,
    /// `MATCH_epc`: an identifier in any role (EPC, parent, child, input,
    /// output, quantity class, source, destination, business transaction).
    /// A GTIN class (`https://id.gs1.org/01/<gtin>` or
    /// `urn:epc:idpat:sgtin:<cp>.<ref>.*`) also matches every SGTIN, LGTIN
    /// and UPUI of that GTIN.
    pub match_epc: Vec<String>,
    /// Capturing organisation ids.
    pub organisations: Vec<String>,
    /// `GE_eventTime` (inclusive), UTC ms.
    pub ge_event_time_ms: Option<i64>,
    /// `LT_eventTime` (exclusive), UTC ms.
    pub lt_event_time_ms: Option<i64>,
    /// Page size, 1..=[`MAX_LIMIT`].
    pub limit: usize,
    /// `next_page_token` of the previous page.
    pub page_token: Option<String>,
}

impl Default for EventQuery {
    fn default() -> Self {
        EventQuery {
            event_types: Vec::new(),
            actions: Vec::new(),
            biz_steps: Vec::new(),
            biz_locations: Vec::new(),
            read_points: Vec::new(),
            match_epc: Vec::new(),
            organisations: Vec::new(),
            ge_event_time_ms: None,
            lt_event_time_ms: None,
            limit: 100,
            page_token: None,
        }
    }
}

/// One page of results, in chain order (block height, then position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    pub events: Vec<StoredEvent>,
    /// Present when more events match: pass it back as `page_token`.
    pub next_page_token: Option<String>,
}

fn encode_token(last_seq: u64) -> String {
    format!("{TOKEN_PREFIX}{last_seq}")
}

fn decode_token(token: &str) -> Result<u64, IndexError> {
    token
        .strip_prefix(TOKEN_PREFIX)
        .and_then(|s| s.parse().ok())
        .ok_or(IndexError::InvalidPageToken)
}

/// One sorted source of seqs.
enum Source {
    Keyed(Rc<SeqTable>, u64),
    Small(Rc<ReadOnlyTable<(u8, u64), ()>>, u8),
    Ident(u64),
    Sorted(Vec<u64>),
    All,
}

impl Source {
    /// The smallest seq ≥ `target` this source holds.
    fn seek(&self, snap: &Snapshot, target: u64) -> Result<Option<u64>, IndexError> {
        Ok(match self {
            Source::Keyed(table, key) => table
                .range((*key, target)..=(*key, u64::MAX))?
                .next()
                .transpose()?
                .map(|(k, _)| k.value().1),
            Source::Small(table, key) => table
                .range((*key, target)..=(*key, u64::MAX))?
                .next()
                .transpose()?
                .map(|(k, _)| k.value().1),
            Source::Ident(key) => snap
                .by_ident
                .range((*key, target)..=(*key, u64::MAX))?
                .next()
                .transpose()?
                .map(|(k, _)| k.value().1),
            Source::Sorted(seqs) => {
                let i = seqs.partition_point(|s| *s < target);
                seqs.get(i).copied()
            }
            Source::All => snap
                .events
                .range(target..)?
                .next()
                .transpose()?
                .map(|(k, _)| k.value()),
        })
    }
}

/// The union of some sources (one query parameter's values).
struct Stream(Vec<Source>);

impl Stream {
    fn seek(&self, snap: &Snapshot, target: u64) -> Result<Option<u64>, IndexError> {
        let mut best = None;
        for s in &self.0 {
            if let Some(x) = s.seek(snap, target)? {
                if x == target {
                    return Ok(Some(x));
                }
                best = Some(best.map_or(x, |b: u64| b.min(x)));
            }
        }
        Ok(best)
    }
}

/// What the planner made of a query: streams to intersect, and the time
/// window when it must be checked per event.
struct Plan {
    streams: Vec<Stream>,
    residual_time: Option<(i64, i64)>,
}

pub(crate) fn run(snap: &Snapshot, q: &EventQuery) -> Result<EventPage, IndexError> {
    if q.limit == 0 || q.limit > MAX_LIMIT {
        return Err(IndexError::InvalidQuery(format!(
            "limit must be 1..={MAX_LIMIT}, not {}",
            q.limit
        )));
    }
    let after = match &q.page_token {
        None => None,
        Some(t) => Some(decode_token(t)?),
    };
    let start = match after {
        None => 0,
        Some(s) => match s.checked_add(1) {
            Some(s) => s,
            None => return Ok(empty()),
        },
    };
    let Some(plan) = plan(snap, q, start)? else {
        return Ok(empty());
    };
    let mut found = leapfrog(snap, &plan, start, q.limit + 1)?;
    // One more than a page was asked for, to know whether another follows.
    let more = found.len() > q.limit;
    found.truncate(q.limit);
    let next_page_token = if more {
        found.last().map(|(seq, _)| encode_token(*seq))
    } else {
        None
    };
    let mut events = Vec::with_capacity(found.len());
    for (seq, record) in found {
        events.push(snap.stored_from_record(seq, record)?);
    }
    Ok(EventPage {
        events,
        next_page_token,
    })
}

fn empty() -> EventPage {
    EventPage {
        events: Vec::new(),
        next_page_token: None,
    }
}

/// `None` when the query cannot match anything (a value the index never
/// saw, an empty time window).
fn plan(snap: &Snapshot, q: &EventQuery, start: u64) -> Result<Option<Plan>, IndexError> {
    let mut streams = Vec::new();

    if !q.match_epc.is_empty() {
        let by_class = Rc::new(snap.seq_table(BY_CLASS)?);
        let mut sources = Vec::new();
        for value in &q.match_epc {
            let canonical = canon::identifier(value);
            if let Some(id) = snap.id_of(&canonical)? {
                sources.push(Source::Ident(id));
                if canon::is_gtin_class(&canonical) {
                    sources.push(Source::Keyed(by_class.clone(), id));
                }
            }
        }
        streams.push(Stream(sources));
    }
    let keyed = |def, values: &[String], canonical: &dyn Fn(&str) -> String| {
        let table = Rc::new(snap.seq_table(def)?);
        let mut sources = Vec::new();
        for v in values {
            if let Some(id) = snap.id_of(&canonical(v))? {
                sources.push(Source::Keyed(table.clone(), id));
            }
        }
        Ok::<_, IndexError>(Stream(sources))
    };
    if !q.biz_locations.is_empty() {
        streams.push(keyed(
            BY_BIZ_LOCATION,
            &q.biz_locations,
            &canon::identifier,
        )?);
    }
    if !q.read_points.is_empty() {
        streams.push(keyed(BY_READ_POINT, &q.read_points, &canon::identifier)?);
    }
    if !q.biz_steps.is_empty() {
        let biz_step = |s: &str| canon::vocabulary(VocabularyKind::BizStep, s);
        streams.push(keyed(BY_BIZ_STEP, &q.biz_steps, &biz_step)?);
    }
    if !q.organisations.is_empty() {
        streams.push(keyed(BY_ORG, &q.organisations, &|s: &str| s.to_owned())?);
    }
    if !q.event_types.is_empty() {
        let table = Rc::new(snap.small_table(BY_TYPE)?);
        let mut sources = Vec::new();
        for name in &q.event_types {
            let kind = Kind::from_name(name)
                .ok_or_else(|| IndexError::InvalidQuery(format!("unknown eventType '{name}'")))?;
            sources.push(Source::Small(table.clone(), kind.code()));
        }
        streams.push(Stream(sources));
    }
    if !q.actions.is_empty() {
        let table = Rc::new(snap.small_table(BY_ACTION)?);
        let mut sources = Vec::new();
        for name in &q.actions {
            let action = ActionCode::from_name(name)
                .ok_or_else(|| IndexError::InvalidQuery(format!("unknown action '{name}'")))?;
            sources.push(Source::Small(table.clone(), ActionCode::code(Some(action))));
        }
        streams.push(Stream(sources));
    }
    if streams.iter().any(|s| s.0.is_empty()) {
        return Ok(None);
    }

    let mut residual_time = None;
    if q.ge_event_time_ms.is_some() || q.lt_event_time_ms.is_some() {
        let ge = q.ge_event_time_ms.unwrap_or(i64::MIN);
        let lt = q.lt_event_time_ms;
        if lt.is_some_and(|lt| lt <= ge) {
            return Ok(None);
        }
        match time_window_seqs(snap, ge, lt, start)? {
            Some(seqs) if seqs.is_empty() => return Ok(None),
            Some(seqs) => streams.insert(0, Stream(vec![Source::Sorted(seqs)])),
            None => residual_time = Some((ge, lt.unwrap_or(i64::MAX))),
        }
    }
    if streams.is_empty() {
        streams.push(Stream(vec![Source::All]));
    }
    Ok(Some(Plan {
        streams,
        residual_time,
    }))
}

/// The seqs ≥ `start` of events in `[ge, lt)`, sorted, if the window holds
/// at most `TIME_STREAM_CAP` events.
fn time_window_seqs(
    snap: &Snapshot,
    ge: i64,
    lt: Option<i64>,
    start: u64,
) -> Result<Option<Vec<u64>>, IndexError> {
    let table = snap.time_table()?;
    let range = match lt {
        Some(lt) => table.range((ge, 0)..(lt, 0))?,
        None => table.range((ge, 0)..)?,
    };
    let mut seqs = Vec::new();
    for (n, entry) in range.enumerate() {
        if n >= TIME_STREAM_CAP {
            return Ok(None);
        }
        let seq = entry?.0.value().1;
        if seq >= start {
            seqs.push(seq);
        }
    }
    seqs.sort_unstable();
    Ok(Some(seqs))
}

/// Up to `want` matching events from `start` on, with their records.
fn leapfrog(
    snap: &Snapshot,
    plan: &Plan,
    start: u64,
    want: usize,
) -> Result<Vec<(u64, crate::codec::EventRecord)>, IndexError> {
    let mut out = Vec::new();
    let mut target = start;
    'search: while out.len() < want {
        for stream in &plan.streams {
            match stream.seek(snap, target)? {
                None => break 'search,
                Some(x) if x != target => {
                    target = x;
                    continue 'search;
                }
                Some(_) => {}
            }
        }
        // Every stream holds `target`.
        let record = snap.record(target)?;
        let in_window = plan
            .residual_time
            .is_none_or(|(ge, lt)| record.event_time_ms >= ge && record.event_time_ms < lt);
        if in_window {
            out.push((target, record));
        }
        match target.checked_add(1) {
            Some(t) => target = t,
            None => break,
        }
    }
    Ok(out)
}
