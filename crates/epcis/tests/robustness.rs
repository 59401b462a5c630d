//! Never panic, whatever the input; and the properties the node relies on:
//! canonical JSON round-trips to the same hash, identifiers agree with the
//! hash's normalisation.

mod common;

use proptest::prelude::*;
use tracechain_epcis::hash::normalise_gs1_uri;
use tracechain_epcis::{Identifier, IdentifierKind, parse_capture, parse_document, parse_event};

fn conformance_texts() -> Vec<String> {
    let mut files = common::files("openepcis/Capture/Documents", "json");
    files.extend(common::files("openepcis/Capture/Events", "json"));
    files.extend(common::files("openepcis/Capture/Invalid", "json"));
    files.extend(common::files("event-hash", "jsonld"));
    files.iter().map(|p| common::read(p)).collect()
}

/// Mutations that keep the input close to real documents, so the parser is
/// exercised far beyond the JSON syntax check.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteRange(usize, usize),
    InsertText(usize, String),
    ReplaceByte(usize, u8),
    SwapStringValue(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippets = prop::sample::select(vec![
        "\"",
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "null",
        "true",
        "1e999",
        "-0.0",
        "\"\\ud800\"",
        "\"urn:epc:id:sgtin:0614141.107346.\"",
        "\"https://id.gs1.org/01/1/21/x\"",
        "\"ex:x\"",
        "\"2020-02-30T00:00:00Z\"",
        "\"+99:99\"",
        "[[[[[[[[",
        "\u{0}",
        "é",
        "\"type\":\"ObjectEvent\"",
    ]);
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(a, n)| Mutation::DeleteRange(a, n)),
        (any::<usize>(), snippets.clone()).prop_map(|(a, s)| Mutation::InsertText(a, s.to_owned())),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::ReplaceByte(a, b)),
        (any::<usize>(), snippets).prop_map(|(a, s)| Mutation::SwapStringValue(a, s.to_owned())),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let len = bytes.len().max(1);
    match m {
        Mutation::DeleteRange(at, n) => {
            let at = at % len;
            let end = (at + n).min(bytes.len());
            if at < end {
                bytes.drain(at..end);
            }
        }
        Mutation::InsertText(at, s) => {
            let at = at % len;
            bytes.splice(at..at, s.bytes());
        }
        Mutation::ReplaceByte(at, b) => {
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] = *b;
            }
        }
        Mutation::SwapStringValue(at, s) => {
            // Replace the string value after the n-th ':' by the snippet.
            let colons: Vec<usize> = bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b':')
                .map(|(i, _)| i)
                .collect();
            if !colons.is_empty() {
                let c = colons[at % colons.len()];
                let start = bytes[c..].iter().position(|b| *b == b'"').map(|p| c + p);
                if let Some(start) = start {
                    let end = bytes[start + 1..]
                        .iter()
                        .position(|b| *b == b'"')
                        .map(|p| start + 2 + p);
                    if let Some(end) = end {
                        bytes.splice(start..end, s.bytes());
                    }
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Everything the node may call on an input must return, never panic.
fn exercise(text: &str) {
    if let Ok(capture) = parse_capture(text) {
        for event in capture.into_events() {
            let _ = event.hash_id();
            let canonical = event.canonical_json();
            let again =
                parse_event(std::str::from_utf8(&canonical).expect("canonical JSON is UTF-8"))
                    .expect("canonical JSON of a valid event is valid");
            assert_eq!(again.hash_id(), event.hash_id());
            let _ = event.identifiers();
        }
    }
    let _ = parse_document(text);
    let _ = parse_event(text);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_conformance_documents_never_panic(
        which in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let texts = conformance_texts();
        let mut text = texts[which % texts.len()].clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        exercise(&text);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,400}") {
        exercise(&s);
        let _ = Identifier::parse(&s);
        let _ = Identifier::from_digital_link_path(&s);
        let _ = normalise_gs1_uri(&s);
        let _ = tracechain_epcis::hash::canonize(&s);
        let _ = tracechain_epcis::Timestamp::parse(&s);
    }

    #[test]
    fn identifier_like_strings_never_panic(
        prefix in prop::sample::select(vec![
            "urn:epc:id:sgtin:", "urn:epc:id:sscc:", "urn:epc:id:sgln:", "urn:epc:id:grai:",
            "urn:epc:id:giai:", "urn:epc:id:gdti:", "urn:epc:id:cpi:", "urn:epc:id:itip:",
            "urn:epc:class:lgtin:", "urn:epc:idpat:sgtin:", "https://id.gs1.org/01/",
            "https://example.com/8006/", "http://x.y/00/", "https://a.b/8010/", "/01/", "/414/",
        ]),
        body in "[0-9.*%A-Za-z/!:_-]{0,40}",
    ) {
        let s = format!("{prefix}{body}");
        let _ = Identifier::parse(&s);
        let _ = Identifier::from_digital_link_path(&s);
        let _ = normalise_gs1_uri(&s);
    }

    /// A valid GS1 identifier's canonical form is what the event hash writes
    /// for it, whichever form it was given in.
    #[test]
    fn identifier_canonical_form_agrees_with_the_hash(
        cp_len in 6usize..=12,
        digits in "[0-9]{13}",
        serial in "[A-Za-z0-9_.-]{1,20}",
        form in 0usize..6,
    ) {
        let cp = &digits[..cp_len];
        let item_ref = &digits[cp_len..13];
        let urn = match form {
            0 => format!("urn:epc:id:sgtin:{cp}.{item_ref}.{serial}"),
            1 => format!("urn:epc:class:lgtin:{cp}.{item_ref}.{serial}"),
            2 => format!("urn:epc:id:sscc:{cp}.{}{}", &digits[cp_len..], "0000"),
            3 => format!("urn:epc:id:sgln:{cp}.{}.{serial}", &digits[cp_len..12]),
            4 => format!("urn:epc:id:giai:{cp}.{}", &serial[..serial.len().min(30 - cp_len)]),
            _ => format!("urn:epc:idpat:sgtin:{cp}.{item_ref}.*"),
        };
        let id = Identifier::parse(&urn).expect("valid URN");
        prop_assert!(id.kind() != IdentifierKind::Other);
        let for_hash = normalise_gs1_uri(&urn);
        prop_assert_eq!(for_hash.as_deref(), Some(id.canonical()));
        // The canonical Digital Link parses back to the same identifier.
        let dl = Identifier::parse(id.canonical()).expect("canonical DL is valid");
        prop_assert_eq!(dl.canonical(), id.canonical());
        prop_assert_eq!(dl.kind(), id.kind());
        let path = id.digital_link_path().expect("GS1 key");
        let from_path = Identifier::from_digital_link_path(path).expect("path");
        prop_assert_eq!(from_path.canonical(), id.canonical());
    }
}

#[test]
fn canonical_json_is_sorted_compact_and_self_contained() {
    let doc = r#"{
      "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://ns.example.com/ext/"}],
      "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-01-01T00:00:00Z",
      "epcisBody": {"eventList": [{
        "type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00.50Z", "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:0614141.107346.2018"],
        "ex:weight": 1.50
      }]}
    }"#;
    let event = &parse_document(doc).expect("valid").events[0];
    let canonical = String::from_utf8(event.canonical_json()).expect("utf-8");
    assert_eq!(
        canonical,
        r#"{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"ex":"https://ns.example.com/ext/"}],"action":"OBSERVE","epcList":["urn:epc:id:sgtin:0614141.107346.2018"],"eventTime":"2024-01-01T00:00:00.50Z","eventTimeZoneOffset":"+00:00","ex:weight":1.50,"type":"ObjectEvent"}"#
    );
    let standalone = parse_event(&canonical).expect("self-contained");
    assert_eq!(standalone.hash_id(), event.hash_id());
    assert!(
        event
            .original_json()
            .starts_with("{\n        \"type\": \"ObjectEvent\"")
    );
    assert_eq!(event.event_time_millis(), 1_704_067_200_500);
}
