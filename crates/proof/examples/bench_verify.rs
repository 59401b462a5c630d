//! Offline verification time and size of saved bundles.
//!
//! cargo run --release -p tracechain-proof --example bench_verify -- GENESIS BUNDLE...
//! (a bundle file may also be an answer with the bundle under `proof`)

use std::time::Instant;
use tracechain_proof::{Bundle, Trust, verify};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let genesis = args.next().ok_or("usage: bench_verify GENESIS BUNDLE...")?;
    let genesis: tracechain_types::Genesis =
        serde_json::from_str(&std::fs::read_to_string(genesis)?)?;
    let trust = Trust::from_genesis(&genesis);
    for path in args {
        let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        let value = value.get("proof").cloned().unwrap_or(value);
        let bytes = serde_json::to_vec(&value)?.len();
        let bundle: Bundle = serde_json::from_value(value)?;
        let mut times = Vec::new();
        for _ in 0..200 {
            let start = Instant::now();
            verify(&bundle, &trust, rand::random())?;
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{path}: {} events, {} states, {bytes} bytes JSON; verify p50 {:.3} ms, p99 {:.3} ms",
            bundle.events.len(),
            bundle.states.len(),
            times[times.len() / 2],
            times[times.len() * 99 / 100],
        );
    }
    Ok(())
}
