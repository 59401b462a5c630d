//! Paged event queries mirroring the EPCIS 2.0 query parameters.
//!
//! Each parameter is a list (values OR-ed, as in EPCIS); parameters are
//! AND-ed. Every indexed parameter is a stream of event `seq`s in chain
//! order (a range scan of its `(value, seq)` table; a list is the union of
//! its values' scans); the streams are intersected by leapfrogging: each
//! stream seeks to the largest candidate until all agree. The time window
//! joins as a stream when it holds few events, and is checked on each
//! candidate otherwise (alone, a large window is one pass keeping the first
//! events of the page).

use std::rc::Rc;

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
const TIME_STREAM_CAP: usize = if cfg!(test) { 4 } else { 20_000 };
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
    /// An identifier: its first postings' seqs, then `by_ident`.
    Ident(u64, Vec<u64>),
    Sorted(Vec<u64>),
    All,
}

impl Source {
    /// The smallest seq ≥ `target` this source holds.
    fn seek(&self, snap: &Snapshot, target: u64) -> Result<Option<u64>, IndexError> {
        Ok(match self {
            Source::Keyed(table, key) => crate::runs::seek(table.as_ref(), *key, target)?,
            Source::Ident(key, first) => match first.iter().find(|&&s| s >= target) {
                Some(&seq) => Some(seq),
                None => snap
                    .by_ident
                    .range((*key, target)..=(*key, u64::MAX))?
                    .next()
                    .transpose()?
                    .map(|(k, _)| k.value().1),
            },
            Source::Sorted(seqs) => {
                let i = seqs.partition_point(|s| *s < target);
                seqs.get(i).copied()
            }
            Source::All => (target < snap.next_seq).then_some(target),
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
    /// `[ge, lt)`, `lt` `None` for no upper bound.
    residual_time: Option<(i64, Option<i64>)>,
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
    let Some(plan) = plan(snap, q, start, q.limit + 1)? else {
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
fn plan(
    snap: &Snapshot,
    q: &EventQuery,
    start: u64,
    want: usize,
) -> Result<Option<Plan>, IndexError> {
    let mut streams = Vec::new();

    if !q.match_epc.is_empty() {
        let by_class = Rc::new(snap.seq_table(BY_CLASS)?);
        let mut sources = Vec::new();
        for value in &q.match_epc {
            let canonical = canon::identifier(value);
            if let Some(id) = snap.id_of(&canonical)? {
                let first = snap.first_postings(id)?.iter().map(|p| p.seq).collect();
                sources.push(Source::Ident(id, first));
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
        let table = Rc::new(snap.seq_table(BY_TYPE)?);
        let mut sources = Vec::new();
        for name in &q.event_types {
            let kind = Kind::from_name(name)
                .ok_or_else(|| IndexError::InvalidQuery(format!("unknown eventType '{name}'")))?;
            sources.push(Source::Keyed(table.clone(), kind.code().into()));
        }
        streams.push(Stream(sources));
    }
    if !q.actions.is_empty() {
        let table = Rc::new(snap.seq_table(BY_ACTION)?);
        let mut sources = Vec::new();
        for name in &q.actions {
            let action = ActionCode::from_name(name)
                .ok_or_else(|| IndexError::InvalidQuery(format!("unknown action '{name}'")))?;
            sources.push(Source::Keyed(
                table.clone(),
                ActionCode::code(Some(action)).into(),
            ));
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
            // The window alone: its first events in chain order are the
            // page, found in one pass over the window.
            None if streams.is_empty() => {
                let seqs = first_seqs_in_window(snap, ge, lt, start, want)?;
                streams.push(Stream(vec![Source::Sorted(seqs)]));
            }
            None => residual_time = Some((ge, lt)),
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
    let (mut seqs, mut seen) = (Vec::new(), 0usize);
    crate::time_runs::for_each_in(&table, ge, lt, |seq| {
        seen += 1;
        if seq >= start {
            seqs.push(seq);
        }
        seen <= TIME_STREAM_CAP
    })?;
    if seen > TIME_STREAM_CAP {
        return Ok(None);
    }
    seqs.sort_unstable();
    Ok(Some(seqs))
}

/// The `want` smallest seqs ≥ `start` of events in `[ge, lt)`, sorted.
fn first_seqs_in_window(
    snap: &Snapshot,
    ge: i64,
    lt: Option<i64>,
    start: u64,
    want: usize,
) -> Result<Vec<u64>, IndexError> {
    let table = snap.time_table()?;
    // A max-heap of the smallest seen so far.
    let mut smallest = std::collections::BinaryHeap::with_capacity(want + 1);
    crate::time_runs::for_each_in(&table, ge, lt, |seq| {
        if seq >= start {
            smallest.push(seq);
            if smallest.len() > want {
                smallest.pop();
            }
        }
        true
    })?;
    Ok(smallest.into_sorted_vec())
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
        let in_window = plan.residual_time.is_none_or(|(ge, lt)| {
            record.event_time_ms >= ge && lt.is_none_or(|lt| record.event_time_ms < lt)
        });
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::testkit::*;
    use crate::{BlockUpdate, IndexedEvent, Role};

    const T0: i64 = 1_709_280_000_000; // 2024-03-01T08:00:00Z

    fn documented() -> TestIndex {
        index_document(EPCIS_DOC)
    }

    /// Positions (0-based, document order) of the events a query returns.
    fn positions(t: &TestIndex, q: EventQuery) -> Vec<usize> {
        let page = t.index.query(&q).expect("query");
        let all = t
            .index
            .query(&EventQuery {
                limit: MAX_LIMIT,
                ..EventQuery::default()
            })
            .expect("all");
        page.events
            .iter()
            .map(|e| {
                all.events
                    .iter()
                    .position(|a| a.hash == e.hash)
                    .expect("known")
            })
            .collect()
    }

    fn q() -> EventQuery {
        EventQuery::default()
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn from_epcis_maps_roles_and_canonical_forms() {
        let t = documented();
        let page = t.index.query(&q()).expect("query");
        assert_eq!(page.events.len(), 4);
        let shipping = &page.events[2];
        assert_eq!(
            shipping.biz_step.as_deref(),
            Some("https://ref.gs1.org/cbv/BizStep-shipping")
        );
        assert_eq!(shipping.event_time_ms, T0 + 2 * 3_600_000);
        assert_eq!(shipping.action.as_deref(), Some("OBSERVE"));
        assert!(shipping.event_id.starts_with("ni:///sha-256;"));
        assert!(shipping.identifiers.contains(&(
            Role::Destination,
            "https://id.gs1.org/414/0012345111112".into()
        )));
        let transformation = &page.events[3];
        assert_eq!(
            transformation.identifiers,
            vec![
                (
                    Role::Output,
                    "https://id.gs1.org/01/10614141073464/21/3000".into()
                ),
                (
                    Role::InputQuantity,
                    "https://id.gs1.org/01/04012345111118/10/4444".into()
                ),
            ]
        );
        assert!(
            std::str::from_utf8(&transformation.json)
                .expect("utf-8")
                .contains("TransformationEvent")
        );
    }

    #[test]
    fn each_filter_alone() {
        let t = documented();
        let bs = |v| {
            positions(
                &t,
                EventQuery {
                    biz_steps: s(&[v]),
                    ..q()
                },
            )
        };
        assert_eq!(bs("shipping"), vec![2]);
        assert_eq!(bs("urn:epcglobal:cbv:bizstep:shipping"), vec![2]);
        assert_eq!(
            bs("https://ref.gs1.org/cbv/BizStep-commissioning"),
            vec![0, 3]
        );
        assert_eq!(bs("receiving"), Vec::<usize>::new());

        let epc = |v| {
            positions(
                &t,
                EventQuery {
                    match_epc: s(&[v]),
                    ..q()
                },
            )
        };
        assert_eq!(epc("urn:epc:id:sgtin:0614141.107346.2017"), vec![0, 1]);
        assert_eq!(
            epc("https://example.com/01/10614141073464/21/2017"),
            vec![0, 1]
        );
        assert_eq!(epc("urn:epc:id:sscc:0614141.1234567890"), vec![1, 2]);
        assert_eq!(epc("urn:epc:class:lgtin:4012345.011111.4444"), vec![3]);
        // A GTIN class finds its instances (and lots).
        assert_eq!(epc("urn:epc:idpat:sgtin:0614141.107346.*"), vec![0, 1, 3]);
        assert_eq!(epc("https://id.gs1.org/01/04012345111118"), vec![3]);
        // Any role: a destination.
        assert_eq!(epc("urn:epc:id:sgln:0012345.11111.0"), vec![2]);

        let loc = |v| {
            positions(
                &t,
                EventQuery {
                    biz_locations: s(&[v]),
                    ..q()
                },
            )
        };
        assert_eq!(loc("urn:epc:id:sgln:0614141.00888.0"), vec![0, 1]);
        let rp = |v| {
            positions(
                &t,
                EventQuery {
                    read_points: s(&[v]),
                    ..q()
                },
            )
        };
        assert_eq!(rp("urn:epc:id:sgln:0614141.00888.0"), vec![2]);
        assert_eq!(rp("urn:epc:id:sgln:0614141.00777.0"), vec![0]);

        let ty = |v| {
            positions(
                &t,
                EventQuery {
                    event_types: s(&[v]),
                    ..q()
                },
            )
        };
        assert_eq!(ty("ObjectEvent"), vec![0, 2]);
        assert_eq!(ty("TransformationEvent"), vec![3]);
        assert_eq!(ty("AssociationEvent"), Vec::<usize>::new());

        let act = |v| {
            positions(
                &t,
                EventQuery {
                    actions: s(&[v]),
                    ..q()
                },
            )
        };
        assert_eq!(act("ADD"), vec![0, 1]);
        assert_eq!(act("OBSERVE"), vec![2]);
        assert_eq!(act("DELETE"), Vec::<usize>::new());

        let org = |v| {
            positions(
                &t,
                EventQuery {
                    organisations: s(&[v]),
                    ..q()
                },
            )
        };
        assert_eq!(org("org:maker"), vec![0, 1]);
        assert_eq!(org("org:carrier"), vec![2, 3]);
        assert_eq!(org("org:nobody"), Vec::<usize>::new());
    }

    #[test]
    fn time_window_is_ge_inclusive_lt_exclusive() {
        let t = documented();
        let hour = 3_600_000;
        let win = |ge: Option<i64>, lt: Option<i64>| {
            positions(
                &t,
                EventQuery {
                    ge_event_time_ms: ge,
                    lt_event_time_ms: lt,
                    ..q()
                },
            )
        };
        assert_eq!(win(Some(T0 + hour), None), vec![1, 2, 3]);
        assert_eq!(win(None, Some(T0 + hour)), vec![0]);
        assert_eq!(win(Some(T0 + hour), Some(T0 + 2 * hour)), vec![1]);
        assert_eq!(win(Some(T0 + hour), Some(T0 + hour)), Vec::<usize>::new());
        assert_eq!(win(Some(T0 + hour + 1), Some(T0 + 2 * hour + 1)), vec![2]);
        assert_eq!(win(Some(T0 + 5 * hour), None), Vec::<usize>::new());
    }

    #[test]
    fn filters_combine_with_and_values_with_or() {
        let t = documented();
        let got = positions(
            &t,
            EventQuery {
                biz_steps: s(&["commissioning", "shipping"]),
                event_types: s(&["ObjectEvent"]),
                ..q()
            },
        );
        assert_eq!(got, vec![0, 2]);
        let got = positions(
            &t,
            EventQuery {
                match_epc: s(&[
                    "urn:epc:id:sgtin:0614141.107346.2017",
                    "urn:epc:id:sscc:0614141.1234567890",
                ]),
                actions: s(&["ADD"]),
                organisations: s(&["org:maker"]),
                ge_event_time_ms: Some(T0 + 1),
                ..q()
            },
        );
        assert_eq!(got, vec![1]);
        let got = positions(
            &t,
            EventQuery {
                match_epc: s(&["urn:epc:id:sgtin:0614141.107346.2017", "urn:t:unknown"]),
                biz_locations: s(&["urn:epc:id:sgln:0614141.00888.0"]),
                ..q()
            },
        );
        assert_eq!(got, vec![0, 1]);
    }

    #[test]
    fn bad_queries_are_typed_errors() {
        let t = documented();
        let err = |q: EventQuery| t.index.query(&q).err();
        assert!(matches!(
            err(EventQuery { limit: 0, ..q() }),
            Some(IndexError::InvalidQuery(_))
        ));
        assert!(matches!(
            err(EventQuery {
                limit: MAX_LIMIT + 1,
                ..q()
            }),
            Some(IndexError::InvalidQuery(_))
        ));
        assert!(matches!(
            err(EventQuery {
                event_types: s(&["PartyEvent"]),
                ..q()
            }),
            Some(IndexError::InvalidQuery(_))
        ));
        assert!(matches!(
            err(EventQuery {
                actions: s(&["add"]),
                ..q()
            }),
            Some(IndexError::InvalidQuery(_))
        ));
        assert!(matches!(
            err(EventQuery {
                page_token: Some("12".into()),
                ..q()
            }),
            Some(IndexError::InvalidPageToken)
        ));
    }

    #[test]
    fn pages_have_no_gaps_and_no_duplicates() {
        let mut t = TestIndex::new();
        let mut n = 0;
        for block in 0..10 {
            let mut updates = Vec::new();
            for i in 0..7 {
                n += 1;
                let mut e = observe(
                    n,
                    (n % 9) as i64,
                    &[if i % 2 == 0 {
                        "urn:t:even"
                    } else {
                        "urn:t:odd"
                    }],
                );
                e.height = block;
                updates.push(BlockUpdate::Event(e));
            }
            t.block(updates);
        }
        for query in [
            q(),
            EventQuery {
                match_epc: s(&["urn:t:even"]),
                ..q()
            },
            EventQuery {
                ge_event_time_ms: Some(3),
                lt_event_time_ms: Some(5),
                ..q()
            },
            EventQuery {
                ge_event_time_ms: Some(3),
                match_epc: s(&["urn:t:odd"]),
                ..q()
            },
        ] {
            let full = t
                .index
                .query(&EventQuery {
                    limit: MAX_LIMIT,
                    ..query.clone()
                })
                .expect("full");
            assert!(full.next_page_token.is_none());
            for limit in [1, 2, 3, 7, 100] {
                let mut got = Vec::new();
                let mut token = None;
                loop {
                    let page = t
                        .index
                        .query(&EventQuery {
                            limit,
                            page_token: token,
                            ..query.clone()
                        })
                        .expect("page");
                    assert!(page.events.len() <= limit);
                    got.extend(page.events.iter().map(|e| e.hash));
                    token = page.next_page_token;
                    if token.is_none() {
                        break;
                    }
                    assert_eq!(page.events.len(), limit, "only a last page may be short");
                }
                let want: Vec<_> = full.events.iter().map(|e| e.hash).collect();
                assert_eq!(got, want, "limit {limit}, query {query:?}");
            }
        }
    }

    // ---- property: the index answers like a naive model ------------------

    const TYPES: [&str; 5] = [
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    ];
    const ACTIONS: [Option<&str>; 4] = [None, Some("ADD"), Some("OBSERVE"), Some("DELETE")];
    const STEPS: [&str; 3] = [
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "https://ref.gs1.org/cbv/BizStep-receiving",
        "https://ref.gs1.org/cbv/BizStep-packing",
    ];
    const PLACES: [&str; 3] = ["urn:t:place:0", "urn:t:place:1", "urn:t:place:2"];
    const IDS: [&str; 5] = [
        "urn:t:id:0",
        "urn:t:id:1",
        "urn:t:id:2",
        "https://id.gs1.org/01/09521234543213/21/a",
        "https://id.gs1.org/01/09521234543213/10/L1",
    ];
    const ORGS: [&str; 2] = ["org:a", "org:b"];

    type Spec = (
        usize,
        usize,
        Option<usize>,
        Option<usize>,
        Option<usize>,
        usize,
        i64,
        Vec<(usize, usize)>,
    );

    fn spec() -> impl Strategy<Value = Spec> {
        (
            0..5usize,
            0..4usize,
            proptest::option::of(0..3usize),
            proptest::option::of(0..3usize),
            proptest::option::of(0..3usize),
            0..2usize,
            0..12i64,
            proptest::collection::vec((0..13usize, 0..5usize), 0..4),
        )
    }

    fn build(n: u64, s: &Spec) -> IndexedEvent {
        let (ty, action, step, loc, rp, org, time, ids) = s;
        let mut e = event(n, TYPES[*ty], *time, ACTIONS[*action], &[]);
        e.biz_step = step.map(|i| STEPS[i].to_owned());
        e.biz_location = loc.map(|i| PLACES[i].to_owned());
        e.read_point = rp.map(|i| PLACES[i].to_owned());
        e.organisation = ORGS[*org].to_owned();
        e.identifiers = ids
            .iter()
            .map(|(r, i)| (Role::ALL[*r], IDS[*i].to_owned()))
            .collect();
        e
    }

    /// Mostly no constraint (so that AND-ed filters still match things),
    /// else one or two values, sometimes one the index never saw.
    fn pick(all: &[&str]) -> impl Strategy<Value = Vec<String>> + use<> {
        let mut all: Vec<String> = all.iter().map(|s| (*s).to_owned()).collect();
        all.push("urn:t:never".to_owned());
        prop_oneof![
            4 => Just(Vec::new()),
            1 => proptest::collection::vec(proptest::sample::select(all), 1..3),
        ]
    }

    fn maybe(range: std::ops::Range<i64>) -> impl Strategy<Value = Option<i64>> {
        prop_oneof![1 => Just(None), 1 => range.prop_map(Some)]
    }

    fn query_strategy() -> impl Strategy<Value = EventQuery> {
        let steps = ["shipping", STEPS[1], "urn:epcglobal:cbv:bizstep:packing"];
        (
            pick(&TYPES),
            pick(&["ADD", "OBSERVE", "DELETE"]),
            pick(&steps),
            pick(&PLACES),
            pick(&PLACES),
            pick(&[
                IDS[0],
                IDS[1],
                IDS[2],
                IDS[3],
                IDS[4],
                "https://id.gs1.org/01/09521234543213",
            ]),
            pick(&ORGS),
            maybe(0..12),
            maybe(0..13),
            1..6usize,
        )
            .prop_map(
                |(
                    event_types,
                    actions,
                    biz_steps,
                    biz_locations,
                    read_points,
                    match_epc,
                    organisations,
                    ge,
                    lt,
                    limit,
                )| {
                    let event_types = event_types
                        .into_iter()
                        .filter(|t| t != "urn:t:never")
                        .collect();
                    let actions = actions.into_iter().filter(|t| t != "urn:t:never").collect();
                    EventQuery {
                        event_types,
                        actions,
                        biz_steps,
                        biz_locations,
                        read_points,
                        match_epc,
                        organisations,
                        ge_event_time_ms: ge,
                        lt_event_time_ms: lt,
                        limit,
                        page_token: None,
                    }
                },
            )
    }

    fn model_matches(e: &IndexedEvent, q: &EventQuery) -> bool {
        let steps: Vec<String> = q
            .biz_steps
            .iter()
            .map(|s| canon::vocabulary(VocabularyKind::BizStep, s))
            .collect();
        let any = |vals: &[String], v: Option<&String>| {
            vals.is_empty() || v.is_some_and(|v| vals.contains(v))
        };
        let epc_ok = q.match_epc.is_empty()
            || e.identifiers.iter().any(|(_, id)| {
                q.match_epc.iter().any(|m| {
                    m == id
                        || (m == "https://id.gs1.org/01/09521234543213"
                            && id.starts_with("https://id.gs1.org/01/09521234543213/"))
                })
            });
        any(&q.event_types, Some(&e.event_type))
            && any(&q.actions, e.action.as_ref())
            && any(&steps, e.biz_step.as_ref())
            && any(&q.biz_locations, e.biz_location.as_ref())
            && any(&q.read_points, e.read_point.as_ref())
            && any(&q.organisations, Some(&e.organisation))
            && epc_ok
            && q.ge_event_time_ms.is_none_or(|ge| e.event_time_ms >= ge)
            && q.lt_event_time_ms.is_none_or(|lt| e.event_time_ms < lt)
    }

    #[test]
    fn queries_agree_with_a_naive_model() {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 64,
            ..ProptestConfig::default()
        });
        // Events the model matched over all cases: the property must not
        // pass by comparing empty results.
        let matched = std::cell::Cell::new(0usize);
        let strategy = (
            proptest::collection::vec(proptest::collection::vec(spec(), 0..6), 1..8),
            proptest::collection::vec(any::<proptest::sample::Index>(), 0..3),
            proptest::collection::vec(query_strategy(), 1..8),
        );
        let result = runner.run(&strategy, |(blocks, replay, queries)| {
            let t = TestIndex::new();
            let mut model: Vec<IndexedEvent> = Vec::new();
            let mut applied: Vec<Vec<BlockUpdate>> = Vec::new();
            let mut n = 0;
            for (h, specs) in blocks.iter().enumerate() {
                let updates: Vec<BlockUpdate> = specs
                    .iter()
                    .map(|s| {
                        n += 1;
                        BlockUpdate::Event(build(n, s))
                    })
                    .collect();
                t.index.apply_block(h as u64 + 1, &updates).expect("apply");
                for u in &updates {
                    if let BlockUpdate::Event(e) = u {
                        model.push(e.clone());
                    }
                }
                applied.push(updates);
                // A crash-and-replay of an earlier height changes nothing.
                for r in &replay {
                    let i = r.index(applied.len());
                    t.index
                        .apply_block(i as u64 + 1, &applied[i])
                        .expect("replay");
                }
            }
            for query in queries {
                let want: Vec<[u8; 32]> = model
                    .iter()
                    .filter(|e| model_matches(e, &query))
                    .map(|e| e.hash)
                    .collect();
                matched.set(matched.get() + want.len());
                let mut got = Vec::new();
                let mut token = None;
                loop {
                    let page = t
                        .index
                        .query(&EventQuery {
                            page_token: token,
                            ..query.clone()
                        })
                        .expect("query");
                    got.extend(page.events.iter().map(|e| e.hash));
                    token = page.next_page_token;
                    if token.is_none() {
                        break;
                    }
                }
                prop_assert_eq!(got, want, "query {:?}", query);
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        assert!(
            matched.get() > 300,
            "only {} matches compared",
            matched.get()
        );
    }
}
