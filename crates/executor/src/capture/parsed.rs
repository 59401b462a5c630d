//! Parsed capture documents, remembered by their content hash.
//!
//! One document is parsed at the API that accepts it, again when its block
//! executes, and again when the query index and the event feed read the
//! finalized block — on every node. Parsing is a pure function of the
//! bytes, so the result can be shared; the cache only holds documents seen
//! in the last few seconds of blocks.

use crate::payload::Failure;
use std::sync::{Arc, OnceLock};
use tracechain_epcis::Event;
use tracechain_types::recent::Recent;

/// Documents kept: a second or two at full load, from admission until the
/// query indexer has prepared the block (it does so when the block is
/// finalized, but not while it writes the previous ones: up to half a
/// second more under load). Each costs a few KB; a catching-up full node
/// needs the memory.
const CAPACITY: usize = 24_576;

fn cache() -> &'static Recent<[u8; 32], Arc<[Event]>> {
    static CACHE: OnceLock<Recent<[u8; 32], Arc<[Event]>>> = OnceLock::new();
    CACHE.get_or_init(|| Recent::new(CAPACITY))
}

/// The events of `document`, parsed by `parse` only if not seen recently.
/// Failures are not kept (a bad document never reaches a block twice).
pub(crate) fn get_or_parse(
    document: &[u8],
    parse: impl FnOnce() -> Result<Vec<Event>, Failure>,
) -> Result<Arc<[Event]>, Failure> {
    let key = tracechain_types::hash(document).0;
    if let Some(events) = cache().get(&key) {
        return Ok(events);
    }
    let events: Arc<[Event]> = parse()?.into();
    cache().insert(key, events.clone());
    Ok(events)
}

/// Whether `document` is in the cache.
pub(crate) fn is_cached(document: &[u8]) -> bool {
    cache().get(&tracechain_types::hash(document).0).is_some()
}

/// Parses `document` into the cache unless it is there already; `false`
/// when it was (the caller may stop: someone else got there first).
pub(crate) fn parse_if_absent(
    document: &[u8],
    parse: impl FnOnce() -> Result<Vec<Event>, Failure>,
) -> bool {
    let key = tracechain_types::hash(document).0;
    if cache().get(&key).is_some() {
        return false;
    }
    if let Ok(events) = parse() {
        cache().insert(key, events.into());
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_parsed_once_and_failures_every_time() {
        let document = b"tracechain parsed-cache test document";
        let mut parses = 0;
        for _ in 0..3 {
            let events = get_or_parse(document, || {
                parses += 1;
                Ok(Vec::new())
            })
            .expect("parsed");
            assert!(events.is_empty());
        }
        assert_eq!(parses, 1);
        let bad = b"tracechain parsed-cache test: bad document";
        for _ in 0..2 {
            let failed = get_or_parse(bad, || Err(Failure::new("invalid_epcis", "bad")));
            assert!(failed.is_err());
        }
    }
}

#[cfg(test)]
mod prewarm_tests {
    use crate::{
        capture::{is_parsed, prewarm_backwards},
        domain_tests,
    };

    fn document(serial: u32) -> Vec<u8> {
        let epc = format!("urn:epc:id:sgtin:0614141.107346.prewarm{serial}");
        domain_tests::document(&[domain_tests::object("ADD", "commissioning", &[&epc], 0, "")])
    }

    #[test]
    fn prewarming_parses_backwards_until_a_cached_document() {
        let block: Vec<Vec<u8>> = (0..4).map(document).collect();
        // Execution got as far as the second document.
        assert!(crate::capture::parse_document(&block[1]).is_ok());
        prewarm_backwards(&block);
        assert!(!is_parsed(&block[0]), "stops at the cached one");
        assert!(is_parsed(&block[2]) && is_parsed(&block[3]));

        // Nothing to do when the last one is there already.
        let other: Vec<Vec<u8>> = (10..13).map(document).collect();
        assert!(crate::capture::parse_document(&other[2]).is_ok());
        prewarm_backwards(&other);
        assert!(!is_parsed(&other[0]) && !is_parsed(&other[1]));
    }
}
