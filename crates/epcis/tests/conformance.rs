//! OpenEPCIS capture conformance data: every valid document and event is
//! accepted, every invalid one is rejected with errors naming the offending
//! fields.

mod common;

use tracechain_epcis::{Capture, parse_capture, parse_document, parse_event};

#[test]
fn every_valid_document_is_accepted() {
    let mut events = 0;
    for path in common::files("openepcis/Capture/Documents", "json") {
        let doc = parse_document(&common::read(&path))
            .unwrap_or_else(|e| panic!("{} rejected: {e}", common::name(&path)));
        assert!(
            !doc.events.is_empty(),
            "{} has no events",
            common::name(&path)
        );
        for event in &doc.events {
            // The hash must be computable for everything we accept.
            assert!(event.hash_id().starts_with("ni:///sha-256;"));
        }
        events += doc.events.len();
    }
    assert!(
        events > 50,
        "only {events} events in the conformance documents"
    );
}

#[test]
fn every_valid_bare_event_is_accepted() {
    for path in common::files("openepcis/Capture/Events", "json") {
        let text = common::read(&path);
        let event =
            parse_event(&text).unwrap_or_else(|e| panic!("{} rejected: {e}", common::name(&path)));
        assert!(
            common::name(&path).starts_with(event.event_type.as_str()),
            "{} parsed as {}",
            common::name(&path),
            event.event_type
        );
        // parse_capture recognises a bare event too.
        match parse_capture(&text) {
            Ok(Capture::Event(e)) => assert_eq!(*e, event),
            other => panic!("{}: parse_capture gave {other:?}", common::name(&path)),
        }
    }
}

/// For each invalid file: the JSON pointers that the errors must name.
const INVALID: &[(&str, &[&str])] = &[
    (
        "Combination_of_events_with_missing_mandatory_fields.json",
        &[
            "/epcisBody/eventList/0/action",
            "/epcisBody/eventList/1/eventTimeZoneOffset",
            "/epcisBody/eventList/1/action",
        ],
    ),
    (
        "Combination_of_multiple_invalid_fields.json",
        &[
            "/epcisBody/eventList/0/bizStep",
            "/epcisBody/eventList/1/disposition",
            "/epcisBody/eventList/2/sourceList/0/type",
            "/epcisBody/eventList/3/ilmd/materialType",
            "/epcisBody/eventList/4/eventTime",
            "/epcisBody/eventList/4/action",
        ],
    ),
    (
        "Combination_of_non_standard_bizStep_and_disposition.json",
        &[
            "/epcisBody/eventList/0/bizStep",
            "/epcisBody/eventList/1/disposition",
        ],
    ),
    ("EPCISDocument_without_context.json", &["/@context"]),
    (
        "ObjectEvent_with_ilmd_field_without_namespace.json",
        &["/epcisBody/eventList/0/ilmd/materialType"],
    ),
    (
        "ObjectEvent_with_invalid_action.json",
        &["/epcisBody/eventList/0/action"],
    ),
    (
        "ObjectEvent_with_invalid_certificationInfo.json",
        &["/epcisBody/eventList/0/certificationInfo"],
    ),
    (
        "ObjectEvent_with_invalid_eventTime_format.json",
        &["/epcisBody/eventList/0/eventTime"],
    ),
    (
        "ObjectEvent_with_non_standard_bizStep.json",
        &["/epcisBody/eventList/0/bizStep"],
    ),
    (
        "ObjectEvent_with_non_standard_bizStep_in_second_event.json",
        &["/epcisBody/eventList/1/bizStep"],
    ),
    (
        "ObjectEvent_with_non_standard_disposition.json",
        &["/epcisBody/eventList/0/disposition"],
    ),
    (
        "ObjectEvent_with_quantity_as_text.json",
        &["/epcisBody/eventList/0/quantityList/0/quantity"],
    ),
    (
        "ObjectEvent_with_unknown_field_in_quantityList.json",
        &["/epcisBody/eventList/0/quantityList/0/weight"],
    ),
    (
        "ObjectEvent_without_action_and_eventTime.json",
        &[
            "/epcisBody/eventList/0/eventTime",
            "/epcisBody/eventList/0/eventTimeZoneOffset",
            "/epcisBody/eventList/0/action",
        ],
    ),
    (
        "ObjectEvent_without_identifier_list.json",
        &["/epcisBody/eventList/0/epcList"],
    ),
];

#[test]
fn every_invalid_document_is_rejected_naming_the_field() {
    let files = common::files("openepcis/Capture/Invalid", "json");
    // Every file in the folder has an expectation here, and vice versa.
    let names: Vec<String> = files.iter().map(|p| common::name(p)).collect();
    let expected: Vec<&str> = INVALID.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names, expected,
        "Invalid/ folder and the expectations differ"
    );

    for (path, (name, want_paths)) in files.iter().zip(INVALID) {
        let errors = match parse_capture(&common::read(path)) {
            Ok(c) => panic!("{name} was accepted: {c:?}"),
            Err(e) => e,
        };
        for want in *want_paths {
            assert!(
                errors.has_path(want),
                "{name}: no error at {want}; got: {errors}"
            );
        }
        // And no error points somewhere unrelated to the expected fields.
        for e in errors.errors() {
            assert!(
                want_paths
                    .iter()
                    .any(|w| e.path == *w || e.path.starts_with(&format!("{w}/"))),
                "{name}: unexpected error {e}"
            );
            assert!(!e.reason.is_empty());
        }
    }
}

#[test]
fn a_wrong_check_digit_names_the_field() {
    let doc = r#"{
      "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
      "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-01-01T00:00:00Z",
      "epcisBody": {"eventList": [{
        "type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "epcList": ["https://id.gs1.org/01/09521234543213/21/1", "https://id.gs1.org/01/09521234543214/21/1"],
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.0"},
        "bizLocation": {"id": "https://id.gs1.org/414/4012345000116"}
      }]}
    }"#;
    let errors = parse_document(doc).unwrap_err();
    assert!(
        errors.has_path("/epcisBody/eventList/0/epcList/1"),
        "{errors}"
    );
    assert!(
        errors.has_path("/epcisBody/eventList/0/bizLocation/id"),
        "{errors}"
    );
    assert_eq!(errors.errors().len(), 2, "{errors}");
    assert!(errors.first().reason.contains("check digit"), "{errors}");
}
