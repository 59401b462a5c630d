//! Parsed capture documents, remembered by their transaction's id.
//!
//! One document is parsed at the API that accepts it, again when its block
//! executes, and again when the query index and the event feed read the
//! finalized block — on every node. Parsing is a pure function of the
//! bytes, so the result can be shared; the cache only holds documents seen
//! in the last few seconds of blocks. The key is the transaction id, the
//! SHA-256 of the signed content that holds the document: every reader has
//! the transaction (its id computed once, when it was decoded), so none
//! hashes the document again to look it up.

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

/// The events under `key` (a transaction id), parsed by `parse` only if not
/// seen recently. Failures are not kept (a bad document never reaches a
/// block twice).
pub(crate) fn get_or_parse(
    key: [u8; 32],
    parse: impl FnOnce() -> Result<Vec<Event>, Failure>,
) -> Result<Arc<[Event]>, Failure> {
    if let Some(events) = cache().get(&key) {
        return Ok(events);
    }
    let events: Arc<[Event]> = parse()?.into();
    cache().insert(key, events.clone());
    Ok(events)
}

/// Whether the document under `key` is in the cache.
pub(crate) fn is_cached(key: &[u8; 32]) -> bool {
    cache().get(key).is_some()
}

/// Parses into the cache under `key` unless it is there already; `false`
/// when it was (the caller may stop: someone else got there first).
pub(crate) fn parse_if_absent(
    key: [u8; 32],
    parse: impl FnOnce() -> Result<Vec<Event>, Failure>,
) -> bool {
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
        let key = [0x5a; 32];
        let mut parses = 0;
        for _ in 0..3 {
            let events = get_or_parse(key, || {
                parses += 1;
                Ok(Vec::new())
            })
            .expect("parsed");
            assert!(events.is_empty());
        }
        assert_eq!(parses, 1);
        let bad = [0xa5; 32];
        for _ in 0..2 {
            let failed = get_or_parse(bad, || Err(Failure::new("invalid_epcis", "bad")));
            assert!(failed.is_err());
        }
    }
}

#[cfg(test)]
mod prewarm_tests {
    use crate::{
        capture::{capture_events, is_parsed, prewarm_backwards},
        domain_tests,
    };
    use commonware_cryptography::Signer as _;
    use tracechain_types::{Payload, Transaction, UnsignedTransaction};

    fn capture(serial: u32) -> Transaction {
        let epc = format!("urn:epc:id:sgtin:0614141.107346.prewarm{serial}");
        let document =
            domain_tests::document(&[domain_tests::object("ADD", "commissioning", &[&epc], 0, "")]);
        let key = domain_tests::key(7);
        UnsignedTransaction {
            chain_id: "prewarm-test".into(),
            sender: key.public_key(),
            nonce: u64::from(serial),
            payload: Payload::Capture { document },
        }
        .sign(&key)
    }

    #[test]
    fn prewarming_parses_backwards_until_a_cached_document() {
        let block: Vec<Transaction> = (0..4).map(capture).collect();
        // Execution got as far as the second document.
        assert!(capture_events(&block[1]).is_ok());
        prewarm_backwards(&block);
        assert!(!is_parsed(&block[0]), "stops at the cached one");
        assert!(is_parsed(&block[2]) && is_parsed(&block[3]));

        // Nothing to do when the last one is there already.
        let other: Vec<Transaction> = (10..13).map(capture).collect();
        assert!(capture_events(&other[2]).is_ok());
        prewarm_backwards(&other);
        assert!(!is_parsed(&other[0]) && !is_parsed(&other[1]));
    }
}
