//! Throughput of parse + validate + hash, single thread.
//!
//! `cargo run --release -p tracechain-epcis --example bench_hash [seconds]`
//!
//! Prints events per second for a typical ObjectEvent (three EPCs, no
//! sensors) and for a larger event (many EPCs, quantities, sensor data,
//! extensions), each captured as a bare event.

use std::hint::black_box;
use std::time::{Duration, Instant};

const SIMPLE: &str = r#"{
  "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
  "type": "ObjectEvent",
  "eventTime": "2024-03-04T11:00:30.123+01:00",
  "eventTimeZoneOffset": "+01:00",
  "epcList": [
    "urn:epc:id:sgtin:4012345.011111.9876",
    "urn:epc:id:sgtin:4012345.011111.9877",
    "https://id.gs1.org/01/04012345111118/21/9878"
  ],
  "action": "OBSERVE",
  "bizStep": "shipping",
  "disposition": "in_transit",
  "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.987"},
  "bizLocation": {"id": "urn:epc:id:sgln:4012345.00011.0"}
}"#;

fn large_event() -> String {
    let epcs: Vec<String> = (0..40)
        .map(|i| format!("\"urn:epc:id:sgtin:4012345.011111.{}\"", 10_000 + i))
        .collect();
    let reports: Vec<String> = (0..6)
        .map(|i| {
            format!(
                r#"{{"type": "Temperature", "value": {}.5, "minValue": 2.0, "maxValue": 8.25, "uom": "CEL", "time": "2024-03-04T10:0{i}:00Z"}}"#,
                i + 2
            )
        })
        .collect();
    format!(
        r#"{{
  "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {{"ex": "https://ns.example.com/ext/"}}],
  "type": "ObjectEvent",
  "eventTime": "2024-03-04T11:00:30.123+01:00",
  "eventTimeZoneOffset": "+01:00",
  "epcList": [{}],
  "quantityList": [
    {{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200, "uom": "KGM"}},
    {{"epcClass": "https://id.gs1.org/01/04012345123456/10/ABC", "quantity": 12.5, "uom": "KGM"}}
  ],
  "action": "ADD",
  "bizStep": "urn:epcglobal:cbv:bizstep:commissioning",
  "disposition": "active",
  "readPoint": {{"id": "urn:epc:id:sgln:4012345.00011.987", "ex:dock": "7"}},
  "bizTransactionList": [{{"type": "po", "bizTransaction": "urn:epc:id:gdti:4012345.11111.123"}}],
  "sourceList": [{{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}}],
  "destinationList": [{{"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00000"}}],
  "sensorElementList": [{{
    "sensorMetadata": {{"deviceID": "urn:epc:id:giai:4000001.111", "time": "2024-03-04T10:00:00Z"}},
    "sensorReport": [{}]
  }}],
  "ilmd": {{"ex:bestBefore": "2025-01-01", "ex:origin": {{"ex:country": "DE", "ex:farm": "F-12"}}}},
  "ex:note": "large benchmark event"
}}"#,
        epcs.join(", "),
        reports.join(", ")
    )
}

fn measure(name: &str, input: &str, budget: Duration) {
    // Check once that the input is valid, so the loop measures real work.
    let event = tracechain_epcis::parse_event(input).expect("benchmark event is valid");
    let id = event.hash_id();
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < budget {
        for _ in 0..100 {
            let event = tracechain_epcis::parse_event(black_box(input)).expect("valid");
            black_box(event.hash());
        }
        n += 100;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name:<14} {:>9.0} events/s  ({:>6.1} µs/event, {} bytes, {id})",
        n as f64 / secs,
        secs * 1e6 / n as f64,
        input.len()
    );
}

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let budget = Duration::from_secs(seconds);
    println!("parse + validate + hash, one thread, {seconds} s each:");
    measure("simple (3 EPCs)", SIMPLE, budget);
    measure("large", &large_event(), budget);
}
