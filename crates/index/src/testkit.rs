//! Helpers for the unit tests: events built by hand, a fresh index in a
//! temporary directory.

use tempfile::TempDir;

use crate::{BlockUpdate, EventMeta, Index, IndexedEvent, Role};

pub(crate) struct TestIndex {
    pub(crate) index: Index,
    pub(crate) dir: TempDir,
    next_height: u64,
}

impl TestIndex {
    pub(crate) fn new() -> TestIndex {
        let dir = tempfile::tempdir().expect("temp dir");
        let index = Index::open(dir.path().join("index.redb")).expect("open index");
        TestIndex {
            index,
            dir,
            next_height: 1,
        }
    }

    /// Apply one block at the next height.
    pub(crate) fn block(&mut self, updates: Vec<BlockUpdate>) {
        let height = self.next_height;
        self.next_height += 1;
        self.index
            .apply_block(height, &updates)
            .expect("apply block");
    }

    /// Each event in its own block.
    pub(crate) fn events(&mut self, events: Vec<IndexedEvent>) {
        for e in events {
            self.block(vec![BlockUpdate::Event(e)]);
        }
    }
}

pub(crate) fn hash(n: u64) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&n.to_be_bytes());
    h[31] = 0xEE;
    h
}

/// An event with the given identity, type, time and identifiers.
pub(crate) fn event(
    n: u64,
    event_type: &str,
    time: i64,
    action: Option<&str>,
    identifiers: &[(Role, &str)],
) -> IndexedEvent {
    IndexedEvent {
        hash: hash(n),
        event_id: format!("urn:uuid:test-{n}"),
        event_type: event_type.to_owned(),
        event_time_ms: time,
        action: action.map(str::to_owned),
        biz_step: None,
        disposition: None,
        read_point: None,
        biz_location: None,
        transformation_id: None,
        identifiers: identifiers
            .iter()
            .map(|(r, s)| (*r, (*s).to_owned()))
            .collect(),
        organisation: "org:a".to_owned(),
        height: 0,
        block_time_ms: 0,
        tx: [n as u8; 32],
        json: format!("{{\"n\":{n}}}").into_bytes(),
    }
}

pub(crate) fn observe(n: u64, time: i64, epcs: &[&str]) -> IndexedEvent {
    let ids: Vec<(Role, &str)> = epcs.iter().map(|e| (Role::Epc, *e)).collect();
    event(n, "ObjectEvent", time, Some("OBSERVE"), &ids)
}

pub(crate) fn aggregate(
    n: u64,
    time: i64,
    action: &str,
    parent: &str,
    children: &[&str],
) -> IndexedEvent {
    let mut ids = vec![(Role::Parent, parent)];
    ids.extend(children.iter().map(|c| (Role::Child, *c)));
    event(n, "AggregationEvent", time, Some(action), &ids)
}

pub(crate) fn associate(
    n: u64,
    time: i64,
    action: &str,
    parent: &str,
    children: &[&str],
) -> IndexedEvent {
    let mut ids = vec![(Role::Parent, parent)];
    ids.extend(children.iter().map(|c| (Role::Child, *c)));
    event(n, "AssociationEvent", time, Some(action), &ids)
}

/// A transformation with instance-level or class-level inputs and outputs
/// (`Role::Input`/`InputQuantity`, `Role::Output`/`OutputQuantity`).
pub(crate) fn transform(n: u64, time: i64, ids: &[(Role, &str)]) -> IndexedEvent {
    event(n, "TransformationEvent", time, None, ids)
}

/// A small real capture: commissioning, packing, shipping of the case,
/// and a transformation from a flour lot (class level) into an item.
pub(crate) const EPCIS_DOC: &str = r#"{
  "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
  "type": "EPCISDocument", "schemaVersion": "2.0",
  "creationDate": "2024-03-01T08:00:00Z",
  "epcisBody": { "eventList": [
    { "type": "ObjectEvent", "eventTime": "2024-03-01T08:00:00Z", "eventTimeZoneOffset": "+00:00",
      "action": "ADD", "bizStep": "commissioning", "disposition": "active",
      "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
      "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
      "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0"} },
    { "type": "AggregationEvent", "eventTime": "2024-03-01T09:00:00Z", "eventTimeZoneOffset": "+00:00",
      "action": "ADD", "bizStep": "packing",
      "parentID": "urn:epc:id:sscc:0614141.1234567890",
      "childEPCs": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
      "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0"} },
    { "type": "ObjectEvent", "eventTime": "2024-03-01T10:00:00Z", "eventTimeZoneOffset": "+01:00",
      "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
      "epcList": ["urn:epc:id:sscc:0614141.1234567890"],
      "readPoint": {"id": "urn:epc:id:sgln:0614141.00888.0"},
      "destinationList": [{"type": "location", "destination": "urn:epc:id:sgln:0012345.11111.0"}] },
    { "type": "TransformationEvent", "eventTime": "2024-03-01T11:00:00Z", "eventTimeZoneOffset": "+00:00",
      "bizStep": "commissioning",
      "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.011111.4444", "quantity": 10, "uom": "KGM"}],
      "outputEPCList": ["urn:epc:id:sgtin:0614141.107346.3000"] }
  ] }
}"#;

/// A fresh index holding `doc`'s events in one block, the first two
/// captured by `org:maker`, the rest by `org:carrier`.
pub(crate) fn index_document(doc: &str) -> TestIndex {
    let mut t = TestIndex::new();
    let events = tracechain_epcis::parse_capture(doc)
        .expect("valid document")
        .into_events();
    let updates = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let org = if i < 2 { "org:maker" } else { "org:carrier" };
            BlockUpdate::Event(IndexedEvent::from_epcis(
                e,
                EventMeta {
                    organisation: org.into(),
                    height: 1,
                    block_time_ms: 5,
                    tx: [i as u8; 32],
                },
            ))
        })
        .collect();
    t.block(updates);
    t
}
