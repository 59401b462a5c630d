//! Seal/open throughput for a ~2 KB JSON document sealed to 4 readers.
//!
//! Run: `cargo run --release -p tracechain-docstore --example bench_seal [iterations]`
//!
//! A program that prints figures, not a timed test: numbers depend on the
//! machine and are for comparison between changes on the same machine.

use rand_core::Rng;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tracechain_docstore::{Envelope, Reader, canonical_json, fingerprint, open, rng::os_rng, seal};
use x25519_dalek::{PublicKey, StaticSecret};

fn document() -> Value {
    let items: Vec<Value> = (0..16)
        .map(|i| {
            json!({
                "epc": format!("urn:epc:id:sgtin:0614141.107346.{i:04}"),
                "description": "carton of assorted widgets",
                "weight_g": 1200 + i,
                "hs_code": "8479.89"
            })
        })
        .collect();
    json!({
        "parcel": "urn:epc:id:sscc:0614141.1234567890",
        "sender": {"name": "Acme GmbH", "address": "Hauptstraße 1, 10115 Berlin, DE"},
        "recipient": {"name": "Bolt & Co", "address": "1 Main St, Springfield, US"},
        "declared_value": {"amount": 125000, "currency": "EUR"},
        "items": items
    })
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let doc = document();
    let size = canonical_json(&doc).len();

    let mut rng = os_rng();
    let keys: Vec<(String, [u8; 32])> = (0..4)
        .map(|i| {
            let mut secret = [0u8; 32];
            rng.fill_bytes(&mut secret);
            (format!("org-{i}"), secret)
        })
        .collect();
    let readers: Vec<Reader> = keys
        .iter()
        .map(|(id, secret)| Reader {
            id: id.clone(),
            public_key: PublicKey::from(&StaticSecret::from(*secret)).to_bytes(),
        })
        .collect();

    // Warm up, and keep one envelope to open.
    let envelope = seal(&doc, &readers, &mut rng).expect("seal");
    let bytes = envelope.to_bytes();

    let start = Instant::now();
    for _ in 0..iterations {
        let sealed = seal(&doc, &readers, &mut rng).expect("seal");
        std::hint::black_box(sealed.to_bytes());
    }
    let seal_time = start.elapsed();

    let (reader_id, secret) = &keys[2];
    let start = Instant::now();
    for _ in 0..iterations {
        let decoded = Envelope::from_bytes(&bytes).expect("decode");
        std::hint::black_box(open(&decoded, reader_id, secret).expect("open"));
    }
    let open_time = start.elapsed();

    let start = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(fingerprint(&doc));
    }
    let fingerprint_time = start.elapsed();

    let mib = |n: f64| n * size as f64 / (1024.0 * 1024.0);
    println!(
        "document {size} B canonical JSON, 4 readers, envelope {} B, {iterations} iterations",
        bytes.len()
    );
    for (name, time) in [
        ("seal + encode (4 HPKE wraps)", seal_time),
        ("decode + open (1 HPKE unwrap)", open_time),
        ("fingerprint (canonical + SHA-256)", fingerprint_time),
    ] {
        let rate = per_second(iterations, time);
        println!(
            "{name:<34} {rate:>9.0} ops/s  {:>7.1} µs/op  {:>6.1} MiB/s of plaintext",
            1e6 / rate,
            mib(rate)
        );
    }
}
