//! Index ingest rate as the index grows: the indexer's share of a node's
//! work, measured without the node around it.
//!
//! ```sh
//! cargo run --release -p tracechain-index --example ingest_bench
//! # options: --events N (1,000,000)  --block N (events per block, 500)
//! #          --batch N (blocks per write transaction, 1)  --dir PATH
//! #          --cache-mib N (page cache; otherwise `Index::open`'s 256)
//! ```
//!
//! Every event has the shape `tracechain bench capture` submits: one
//! ObjectEvent commissioning one new SGTIN, so every event interns a new
//! identifier. Events are parsed and mapped before the clock starts; the
//! rate printed is `Index::apply_blocks` alone, per 100,000 events.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sha2::Digest;
use tracechain_index::{BlockUpdate, EventMeta, Index, IndexedEvent};

struct Options {
    events: u64,
    block: u64,
    batch: u64,
    cache_mib: Option<usize>,
    dir: Option<PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        events: 1_000_000,
        block: 500,
        batch: 1,
        cache_mib: None,
        dir: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        let mut number =
            || -> Result<u64, String> { value()?.parse().map_err(|e| format!("{a}: {e}")) };
        match a.as_str() {
            "--events" => o.events = number()?,
            "--block" => o.block = number()?.max(1),
            "--batch" => o.batch = number()?.max(1),
            "--cache-mib" => o.cache_mib = Some(number()? as usize),
            "--dir" => o.dir = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// One block of bench-shaped events, `first` being the first item serial.
fn block(height: u64, first: u64, count: u64) -> Result<Vec<BlockUpdate>, String> {
    let events: Vec<String> = (first..first + count)
        .map(|i| {
            format!(
                r#"{{"type":"ObjectEvent","eventTime":"2025-06-01T12:00:00.000Z","eventTimeZoneOffset":"+02:00","epcList":["urn:epc:id:sgtin:4023456.000022.N{i}"],"action":"ADD","bizStep":"commissioning","disposition":"active","readPoint":{{"id":"urn:epc:id:sgln:4023456.00001.0"}},"bizLocation":{{"id":"urn:epc:id:sgln:4023456.00001.0"}}}}"#
            )
        })
        .collect();
    let doc = format!(
        r#"{{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2025-06-01T12:00:00Z","epcisBody":{{"eventList":[{}]}}}}"#,
        events.join(",")
    );
    let parsed = tracechain_epcis::parse_capture(&doc)
        .map_err(|e| format!("generated event rejected: {e:?}"))?
        .into_events();
    Ok(parsed
        .iter()
        .enumerate()
        .map(|(i, e)| {
            // Transaction ids are hashes: as incompressible as the real ones.
            let mut tx = [0u8; 32];
            tx.copy_from_slice(&sha2::Sha256::digest(format!("{height}/{i}")));
            let meta = EventMeta {
                organisation: "Bakery".to_owned(),
                height,
                block_time_ms: 1_748_779_200_000 + height * 100,
                tx,
            };
            BlockUpdate::Event(IndexedEvent::from_epcis(e, meta))
        })
        .collect())
}

fn main() -> Result<(), String> {
    let o = options()?;
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = o.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("ingest.redb");
    let _ = std::fs::remove_file(&path);
    let index = match o.cache_mib {
        Some(mib) => Index::open_with_cache(&path, mib << 20),
        None => Index::open(&path),
    }
    .map_err(|e| e.to_string())?;

    let blocks = o.events.div_ceil(o.block);
    let (mut height, mut applied, mut window) = (0u64, Duration::ZERO, Duration::ZERO);
    let mut window_events = 0u64;
    let start = Instant::now();
    while height < blocks {
        let upto = (height + o.batch).min(blocks);
        let batch: Vec<(u64, Vec<BlockUpdate>)> = (height + 1..=upto)
            .map(|h| block(h, (h - 1) * o.block, o.block).map(|b| (h, b)))
            .collect::<Result<_, _>>()?;
        let t = Instant::now();
        index.apply_blocks(batch).map_err(|e| e.to_string())?;
        let took = t.elapsed();
        applied += took;
        window += took;
        window_events += (upto - height) * o.block;
        height = upto;
        if window_events >= 100_000 || height == blocks {
            println!(
                "{:>9} events  {:>8.0} events/s  (file {} MB)",
                height * o.block,
                window_events as f64 / window.as_secs_f64(),
                std::fs::metadata(&path)
                    .map(|m| m.len() / 1_000_000)
                    .unwrap_or(0)
            );
            (window, window_events) = (Duration::ZERO, 0);
        }
    }
    let total = blocks * o.block;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{{\"events\":{total},\"apply_s\":{:.2},\"events_per_s\":{:.0},\"bytes_per_event\":{:.0},\"wall_s\":{:.1}}}",
        applied.as_secs_f64(),
        total as f64 / applied.as_secs_f64(),
        size as f64 / total as f64,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
