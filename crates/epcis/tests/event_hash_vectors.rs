//! The event-hash test vectors: every line of every `.prehashes` and
//! `.hashes` file must be reproduced exactly, in document order.

mod common;

use tracechain_epcis::{event_hash_id, parse_document, pre_hash_string};

#[test]
fn reproduces_every_prehash_and_hash_line() {
    let docs = common::files("event-hash", "jsonld");
    assert!(docs.len() >= 3);
    let mut checked = 0;
    for doc_path in docs {
        let doc = parse_document(&common::read(&doc_path))
            .unwrap_or_else(|e| panic!("{}: {e}", common::name(&doc_path)));
        let prehashes = common::read(&doc_path.with_extension("prehashes"));
        let hashes = common::read(&doc_path.with_extension("hashes"));
        let want_pre: Vec<&str> = prehashes.lines().filter(|l| !l.is_empty()).collect();
        let want_hash: Vec<&str> = hashes.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(
            doc.events.len(),
            want_pre.len(),
            "{}",
            common::name(&doc_path)
        );
        assert_eq!(
            doc.events.len(),
            want_hash.len(),
            "{}",
            common::name(&doc_path)
        );
        for (i, event) in doc.events.iter().enumerate() {
            assert_eq!(
                pre_hash_string(event),
                want_pre[i],
                "{} event {i}",
                common::name(&doc_path)
            );
            assert_eq!(
                event_hash_id(event),
                want_hash[i],
                "{} event {i}",
                common::name(&doc_path)
            );
            checked += 1;
        }
    }
    assert!(checked >= 3);
}
