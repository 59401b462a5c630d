//! Trace latency on a realistic 1,000,000-event index.
//!
//! ```sh
//! CARGO_TARGET_DIR=target-index cargo run --release -p tracechain-index --example trace_bench
//! # options: --events N  --samples N  --depth N  --block N  --dir PATH  --keep
//! ```
//!
//! The supply chain (every event is EPCIS 2.0 JSON, parsed and hashed by
//! `tracechain_epcis`, mapped by `IndexedEvent::from_epcis`):
//!
//! ```text
//! farm lots ─T─▶ silo lot ─T─▶ flour lots ─T─▶ dough (+ shared yeast lot) ─T─▶ bread batch ─T─▶ items
//! items ─▶ cases (24) ─▶ pallets (40 cases) ─▶ containers (20 pallets)
//! ```
//!
//! Farm lots are harvested, shipped and received at the mill; three are
//! blended into a silo lot, milled (class-level quantities, partially) into
//! two flour lots, each shipped to the bakery and mixed, with a yeast lot
//! shared by 50 batches, into four doughs, each baked into a bread batch.
//! Each batch commissions 1,200 items, 24 per TransformationEvent, packed 24
//! to a case. Cases go on pallets, pallets into a shipping container, which
//! is shipped, received at a distribution centre and unloaded; pallets are
//! shipped to stores, received and unpacked; cases are unpacked; items are
//! inspected (10 %) and sold (85 %). A trace back from an item crosses five
//! transformation levels (bread, dough, flour, silo, farm lots) and three
//! aggregation levels (case, pallet, container, each limited to the time the
//! item was inside).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tracechain_epcis::time::format_utc_millis;
use tracechain_index::{BlockUpdate, Direction, EventMeta, Index, IndexedEvent};

const CP: &str = "9521234";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const T0: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z

const ITEMS_PER_CASE: u64 = 24;
const CASES_PER_BATCH: u64 = 50;
const CASES_PER_PALLET: u64 = 40;
const PALLETS_PER_CONTAINER: u64 = 20;
const BATCHES_PER_FLOUR_LOT: u64 = 4;
const FLOUR_LOTS_PER_SILO_LOT: u64 = 2;
const FARM_LOTS_PER_SILO_LOT: u64 = 3;
const BATCHES_PER_YEAST_LOT: u64 = 50;
const STORES: u64 = 200;

struct Options {
    events: u64,
    samples: usize,
    depth: u32,
    block: usize,
    dir: Option<PathBuf>,
    keep: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        events: 1_000_000,
        samples: 3_000,
        depth: 5,
        block: 500,
        dir: None,
        keep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--events" => o.events = value()?.parse().map_err(|e| format!("--events: {e}"))?,
            "--samples" => o.samples = value()?.parse().map_err(|e| format!("--samples: {e}"))?,
            "--depth" => o.depth = value()?.parse().map_err(|e| format!("--depth: {e}"))?,
            "--block" => o.block = value()?.parse().map_err(|e| format!("--block: {e}"))?,
            "--dir" => o.dir = Some(PathBuf::from(value()?)),
            "--keep" => o.keep = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// splitmix64: a reproducible random sequence without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---- identifiers ---------------------------------------------------------

fn item(serial: u64) -> String {
    format!("urn:epc:id:sgtin:{CP}.054321.{serial}")
}
fn bread(b: u64) -> String {
    format!("urn:epc:class:lgtin:{CP}.054321.B{b}")
}
fn dough(d: u64) -> String {
    format!("urn:epc:class:lgtin:{CP}.044444.D{d}")
}
fn silo(s: u64) -> String {
    format!("urn:epc:class:lgtin:{CP}.055555.S{s}")
}
fn flour(f: u64) -> String {
    format!("urn:epc:class:lgtin:{CP}.011111.FL{f}")
}
fn farm(l: u64) -> String {
    format!("urn:epc:class:lgtin:{CP}.022222.F{l}")
}
fn yeast(y: u64) -> String {
    format!("urn:epc:class:lgtin:{CP}.033333.Y{y}")
}
fn case(c: u64) -> String {
    format!("urn:epc:id:sscc:{CP}.1{c:09}")
}
fn pallet(p: u64) -> String {
    format!("urn:epc:id:sscc:{CP}.2{p:09}")
}
fn container(k: u64) -> String {
    format!("urn:epc:id:sscc:{CP}.3{k:09}")
}
fn place(n: u64) -> String {
    format!("urn:epc:id:sgln:{CP}.{n:05}.0")
}
const FARM: u64 = 1;
const MILL: u64 = 2;
const BAKERY: u64 = 3;
const DC: u64 = 4;
fn store(s: u64) -> u64 {
    100 + s
}

// ---- events as captured -------------------------------------------------------

/// One event to capture: its JSON and the organisation that captures it.
struct Capture {
    json: String,
    org: &'static str,
}

fn list(ids: &[String]) -> String {
    let quoted: Vec<String> = ids.iter().map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(","))
}

fn quantities(classes: &[(String, u32)]) -> String {
    let q: Vec<String> = classes
        .iter()
        .map(|(c, n)| format!("{{\"epcClass\":\"{c}\",\"quantity\":{n},\"uom\":\"KGM\"}}"))
        .collect();
    format!("[{}]", q.join(","))
}

fn head(kind: &str, time: i64) -> String {
    format!(
        "\"type\":\"{kind}\",\"eventTime\":\"{}\",\"eventTimeZoneOffset\":\"+01:00\"",
        format_utc_millis(time)
    )
}

fn wherewhy(step: &str, disposition: &str, at: u64) -> String {
    format!(
        "\"bizStep\":\"{step}\",\"disposition\":\"{disposition}\",\"readPoint\":{{\"id\":\"{}\"}},\"bizLocation\":{{\"id\":\"{}\"}}",
        place(at),
        place(at)
    )
}

fn object(
    time: i64,
    action: &str,
    epcs: &[String],
    step: &str,
    disp: &str,
    at: u64,
    org: &'static str,
) -> Capture {
    Capture {
        json: format!(
            "{{{},\"action\":\"{action}\",\"epcList\":{},{}}}",
            head("ObjectEvent", time),
            list(epcs),
            wherewhy(step, disp, at)
        ),
        org,
    }
}

fn lot_event(
    time: i64,
    action: &str,
    lot: &str,
    step: &str,
    disp: &str,
    at: u64,
    org: &'static str,
) -> Capture {
    Capture {
        json: format!(
            "{{{},\"action\":\"{action}\",\"epcList\":[],\"quantityList\":{},{}}}",
            head("ObjectEvent", time),
            quantities(&[(lot.to_owned(), 1000)]),
            wherewhy(step, disp, at)
        ),
        org,
    }
}

fn transport(
    time: i64,
    what: &[String],
    step: &str,
    from: u64,
    to: u64,
    org: &'static str,
) -> Capture {
    let (disp, at) = if step == "shipping" {
        ("in_transit", from)
    } else {
        ("in_progress", to)
    };
    Capture {
        json: format!(
            "{{{},\"action\":\"OBSERVE\",\"epcList\":{},{},\"sourceList\":[{{\"type\":\"location\",\"source\":\"{}\"}}],\"destinationList\":[{{\"type\":\"location\",\"destination\":\"{}\"}}]}}",
            head("ObjectEvent", time),
            list(what),
            wherewhy(step, disp, at),
            place(from),
            place(to)
        ),
        org,
    }
}

fn lot_transport(
    time: i64,
    lot: &str,
    step: &str,
    from: u64,
    to: u64,
    org: &'static str,
) -> Capture {
    let (disp, at) = if step == "shipping" {
        ("in_transit", from)
    } else {
        ("in_progress", to)
    };
    Capture {
        json: format!(
            "{{{},\"action\":\"OBSERVE\",\"epcList\":[],\"quantityList\":{},{},\"sourceList\":[{{\"type\":\"location\",\"source\":\"{}\"}}],\"destinationList\":[{{\"type\":\"location\",\"destination\":\"{}\"}}]}}",
            head("ObjectEvent", time),
            quantities(&[(lot.to_owned(), 1000)]),
            wherewhy(step, disp, at),
            place(from),
            place(to)
        ),
        org,
    }
}

fn aggregation(
    time: i64,
    action: &str,
    parent: &str,
    children: &[String],
    step: &str,
    at: u64,
    org: &'static str,
) -> Capture {
    Capture {
        json: format!(
            "{{{},\"action\":\"{action}\",\"parentID\":\"{parent}\",\"childEPCs\":{},{}}}",
            head("AggregationEvent", time),
            list(children),
            wherewhy(step, "in_progress", at)
        ),
        org,
    }
}

fn transformation(
    time: i64,
    inputs: &[(String, u32)],
    outputs_q: &[(String, u32)],
    outputs: &[String],
    at: u64,
    org: &'static str,
) -> Capture {
    let outs = if outputs.is_empty() {
        format!("\"outputQuantityList\":{}", quantities(outputs_q))
    } else {
        format!("\"outputEPCList\":{}", list(outputs))
    };
    Capture {
        json: format!(
            "{{{},\"inputQuantityList\":{},{outs},{}}}",
            head("TransformationEvent", time),
            quantities(inputs),
            wherewhy("commissioning", "active", at)
        ),
        org,
    }
}

// ---- the supply chain --------------------------------------------------------------

/// Emits the events of the supply chain in capture order.
struct Chain {
    rng: Rng,
    out: Vec<Capture>,
    emitted: u64,
    items: u64,
    cases: u64,
    pallets: u64,
    containers: u64,
    /// Packed cases waiting for a pallet.
    pending_cases: Vec<u64>,
    /// Pallets (with their cases) waiting for a container.
    pending_pallets: Vec<(u64, Vec<u64>)>,
    /// (captures emitted, items commissioned) each time a container's whole
    /// journey has been emitted: items below that are complete leaves.
    milestones: Vec<(u64, u64)>,
}

impl Chain {
    fn new(seed: u64) -> Chain {
        Chain {
            rng: Rng(seed),
            out: Vec::new(),
            emitted: 0,
            items: 0,
            cases: 0,
            pallets: 0,
            containers: 0,
            pending_cases: Vec::new(),
            pending_pallets: Vec::new(),
            milestones: Vec::new(),
        }
    }

    fn emit(&mut self, c: Capture) {
        self.emitted += 1;
        self.out.push(c);
    }

    fn batch(&mut self, b: u64) {
        let t = T0 + b as i64 * 10 * 60_000;
        if b.is_multiple_of(BATCHES_PER_FLOUR_LOT * FLOUR_LOTS_PER_SILO_LOT) {
            let sl = b / (BATCHES_PER_FLOUR_LOT * FLOUR_LOTS_PER_SILO_LOT);
            let lots: Vec<u64> = (0..FARM_LOTS_PER_SILO_LOT)
                .map(|i| sl * FARM_LOTS_PER_SILO_LOT + i)
                .collect();
            for &l in &lots {
                let lot = farm(l);
                let harvest = t - 6 * DAY;
                self.emit(lot_event(
                    harvest,
                    "ADD",
                    &lot,
                    "commissioning",
                    "active",
                    FARM,
                    "org:farm",
                ));
                self.emit(lot_transport(
                    harvest + DAY,
                    &lot,
                    "shipping",
                    FARM,
                    MILL,
                    "org:farm",
                ));
                self.emit(lot_transport(
                    harvest + 2 * DAY,
                    &lot,
                    "receiving",
                    FARM,
                    MILL,
                    "org:mill",
                ));
            }
            let inputs: Vec<(String, u32)> = lots.iter().map(|l| (farm(*l), 1000)).collect();
            self.emit(transformation(
                t - 3 * DAY,
                &inputs,
                &[(silo(sl), 3000)],
                &[],
                MILL,
                "org:mill",
            ));
        }
        if b.is_multiple_of(BATCHES_PER_FLOUR_LOT) {
            let f = b / BATCHES_PER_FLOUR_LOT;
            let sl = f / FLOUR_LOTS_PER_SILO_LOT;
            self.emit(transformation(
                t - 2 * DAY,
                &[(silo(sl), 1500)],
                &[(flour(f), 1200)],
                &[],
                MILL,
                "org:mill",
            ));
            self.emit(lot_transport(
                t - 2 * DAY + HOUR,
                &flour(f),
                "shipping",
                MILL,
                BAKERY,
                "org:mill",
            ));
            self.emit(lot_transport(
                t - DAY,
                &flour(f),
                "receiving",
                MILL,
                BAKERY,
                "org:bakery",
            ));
        }
        if b.is_multiple_of(BATCHES_PER_YEAST_LOT) {
            let y = yeast(b / BATCHES_PER_YEAST_LOT);
            self.emit(lot_event(
                t - DAY,
                "OBSERVE",
                &y,
                "receiving",
                "in_progress",
                BAKERY,
                "org:bakery",
            ));
        }
        let inputs = [
            (flour(b / BATCHES_PER_FLOUR_LOT), 300),
            (yeast(b / BATCHES_PER_YEAST_LOT), 5),
        ];
        let mixing = t - 2 * HOUR;
        self.emit(transformation(
            mixing,
            &inputs,
            &[(dough(b), 500)],
            &[],
            BAKERY,
            "org:bakery",
        ));
        self.emit(transformation(
            t,
            &[(dough(b), 500)],
            &[(bread(b), 1200)],
            &[],
            BAKERY,
            "org:bakery",
        ));
        for c in 0..CASES_PER_BATCH {
            let case_no = self.cases;
            self.cases += 1;
            let tc = t + HOUR + c as i64 * 30_000;
            let items: Vec<String> = (0..ITEMS_PER_CASE).map(|i| item(self.items + i)).collect();
            self.items += ITEMS_PER_CASE;
            self.emit(transformation(
                tc,
                &[(bread(b), 24)],
                &[],
                &items,
                BAKERY,
                "org:bakery",
            ));
            self.emit(aggregation(
                tc + 10_000,
                "ADD",
                &case(case_no),
                &items,
                "packing",
                BAKERY,
                "org:bakery",
            ));
            self.pending_cases.push(case_no);
            if self.pending_cases.len() as u64 == CASES_PER_PALLET {
                self.build_pallet(tc + 20_000);
            }
        }
    }

    fn build_pallet(&mut self, time: i64) {
        let p = self.pallets;
        self.pallets += 1;
        let cases = std::mem::take(&mut self.pending_cases);
        let ids: Vec<String> = cases.iter().map(|c| case(*c)).collect();
        self.emit(aggregation(
            time,
            "ADD",
            &pallet(p),
            &ids,
            "packing",
            BAKERY,
            "org:bakery",
        ));
        self.pending_pallets.push((p, cases));
        if self.pending_pallets.len() as u64 == PALLETS_PER_CONTAINER {
            self.ship_container(time + HOUR);
        }
    }

    fn ship_container(&mut self, time: i64) {
        let ctr = container(self.containers);
        self.containers += 1;
        let legs = std::mem::take(&mut self.pending_pallets);
        let ids: Vec<String> = legs.iter().map(|(p, _)| pallet(*p)).collect();
        let one = std::slice::from_ref(&ctr);
        self.emit(aggregation(
            time,
            "ADD",
            &ctr,
            &ids,
            "loading",
            BAKERY,
            "org:carrier",
        ));
        self.emit(transport(
            time + HOUR,
            one,
            "shipping",
            BAKERY,
            DC,
            "org:carrier",
        ));
        self.emit(transport(
            time + DAY,
            one,
            "receiving",
            BAKERY,
            DC,
            "org:dc",
        ));
        self.emit(aggregation(
            time + DAY + HOUR,
            "DELETE",
            &ctr,
            &[],
            "unloading",
            DC,
            "org:dc",
        ));
        for (p, cases) in legs {
            let s = store(self.rng.below(STORES));
            let tp = time + 2 * DAY + self.rng.below(HOUR as u64) as i64;
            let pid = [pallet(p)];
            self.emit(transport(tp, &pid, "shipping", DC, s, "org:carrier"));
            self.emit(transport(tp + DAY, &pid, "receiving", DC, s, "org:retail"));
            self.emit(aggregation(
                tp + DAY + HOUR,
                "DELETE",
                &pid[0],
                &[],
                "unpacking",
                s,
                "org:retail",
            ));
            for c in cases {
                let tcase = tp + DAY + 2 * HOUR;
                self.emit(aggregation(
                    tcase,
                    "DELETE",
                    &case(c),
                    &[],
                    "unpacking",
                    s,
                    "org:retail",
                ));
                for i in 0..ITEMS_PER_CASE {
                    let serial = c * ITEMS_PER_CASE + i;
                    let roll = self.rng.below(100);
                    if roll < 10 {
                        let ti = tcase + HOUR + self.rng.below(DAY as u64) as i64;
                        self.emit(object(
                            ti,
                            "OBSERVE",
                            &[item(serial)],
                            "inspecting",
                            "active",
                            s,
                            "org:retail",
                        ));
                    }
                    if roll < 85 {
                        let ts = tcase + DAY + self.rng.below(7 * DAY as u64) as i64;
                        self.emit(object(
                            ts,
                            "OBSERVE",
                            &[item(serial)],
                            "retail_selling",
                            "retail_sold",
                            s,
                            "org:retail",
                        ));
                    }
                }
            }
        }
        self.milestones.push((self.emitted, self.items));
    }
}

// ---- measuring ----------------------------------------------------------------------

const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

fn tx_id(height: u64, i: usize) -> [u8; 32] {
    let mut tx = [0u8; 32];
    tx[..8].copy_from_slice(&height.to_be_bytes());
    tx[8..16].copy_from_slice(&(i as u64).to_be_bytes());
    tx
}

struct Latency(Histogram<u64>);

impl Latency {
    fn new() -> Latency {
        Latency(Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds"))
    }

    fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        self.0.saturating_record(us);
    }

    fn line(&self, what: &str) -> String {
        let ms = |us: u64| us as f64 / 1000.0;
        format!(
            "{what:<28} p50 {:>7.3} ms   p99 {:>7.3} ms   max {:>7.3} ms   (n = {})",
            ms(self.0.value_at_quantile(0.50)),
            ms(self.0.value_at_quantile(0.99)),
            ms(self.0.max()),
            self.0.len()
        )
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let o = options()?;
    let dir = o.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("trace_bench_{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("index.redb");
    if path.exists() {
        std::fs::remove_file(&path)?;
    }

    // ---- build ----
    let index = Index::open(&path)?;
    let mut chain = Chain::new(0x7ace_c4a1);
    let mut pending: std::collections::VecDeque<Capture> = std::collections::VecDeque::new();
    let mut batch = 0;
    let (mut indexed, mut height) = (0u64, 0u64);
    let (mut parse_time, mut apply_time) = (Duration::ZERO, Duration::ZERO);
    let mut json_bytes = 0usize;
    let started = Instant::now();
    while indexed < o.events {
        while (pending.len() as u64) < (o.block as u64).min(o.events - indexed) {
            chain.batch(batch);
            batch += 1;
            pending.extend(chain.out.drain(..));
        }
        let n = (o.block as u64).min(o.events - indexed) as usize;
        let captures: Vec<Capture> = pending.drain(..n).collect();
        let body: Vec<&str> = captures.iter().map(|c| c.json.as_str()).collect();
        let doc = format!(
            "{{\"@context\":[\"{CONTEXT}\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2024-01-01T00:00:00Z\",\"epcisBody\":{{\"eventList\":[{}]}}}}",
            body.join(",")
        );
        height += 1;
        let t = Instant::now();
        let events = tracechain_epcis::parse_capture(&doc)
            .map_err(|e| format!("generated event rejected: {e:?}"))?
            .into_events();
        let block_time = T0 as u64 + height * 1000;
        let updates: Vec<BlockUpdate> = events
            .iter()
            .zip(&captures)
            .enumerate()
            .map(|(i, (e, c))| {
                let meta = EventMeta {
                    organisation: c.org.to_owned(),
                    height,
                    block_time_ms: block_time,
                    tx: tx_id(height, i),
                };
                BlockUpdate::Event(IndexedEvent::from_epcis(e, meta))
            })
            .collect();
        parse_time += t.elapsed();
        json_bytes += updates
            .iter()
            .map(|u| match u {
                BlockUpdate::Event(e) => e.json.len(),
                _ => 0,
            })
            .sum::<usize>();
        let t = Instant::now();
        index.apply_block(height, &updates)?;
        apply_time += t.elapsed();
        indexed += n as u64;
    }
    let build_wall = started.elapsed();
    drop(index);
    let meta = std::fs::metadata(&path)?;
    let file_bytes = meta.len();
    // redb grows the file ahead of use; what the disk holds is what counts.
    let disk_bytes = {
        use std::os::unix::fs::MetadataExt;
        meta.blocks() * 512
    };

    // Leaves whose whole journey (to the store) is indexed.
    let leaves = chain
        .milestones
        .iter()
        .filter(|(emitted, _)| *emitted <= indexed)
        .map(|(_, items)| *items)
        .max()
        .unwrap_or(chain.items);

    // ---- measure (reopened: nothing cached by the index itself) ----
    let index = Index::open(&path)?;
    let stored = index.stored_bytes()?;
    let mut rng = Rng(0x5eed);
    let sample: Vec<String> = (0..o.samples).map(|_| item(rng.below(leaves))).collect();
    let warmup = sample.len().min(100);
    for id in &sample[..warmup] {
        index.trace(id, Direction::Back, o.depth)?;
    }
    let mut back = Latency::new();
    let mut forward = Latency::new();
    let mut lookup = Latency::new();
    let (mut back_events, mut back_nodes, mut back_depth) = (0usize, 0usize, 0u32);
    let mut forward_events = 0usize;
    for id in &sample {
        let t = Instant::now();
        let tr = index.trace(id, Direction::Back, o.depth)?;
        back.record(t.elapsed());
        back_events += tr.events.len();
        back_nodes += tr.nodes.len();
        back_depth = back_depth.max(tr.nodes.iter().map(|n| n.depth).max().unwrap_or(0));

        let t = Instant::now();
        let tr = index.trace(id, Direction::Forward, o.depth)?;
        forward.record(t.elapsed());
        forward_events += tr.events.len();

        let t = Instant::now();
        let page = index.query(&tracechain_index::EventQuery {
            match_epc: vec![id.clone()],
            limit: 100,
            ..Default::default()
        })?;
        lookup.record(t.elapsed());
        assert!(!page.events.is_empty(), "{id} has events");
    }
    // Time-window queries over the chain's span.
    let mut by_window = Latency::new();
    let mut by_step_window = Latency::new();
    let span = (batch as i64) * 10 * 60_000;
    for _ in 0..o.samples.min(500) {
        let from = T0 + rng.below(span.max(1) as u64) as i64;
        let t = Instant::now();
        index.query(&tracechain_index::EventQuery {
            ge_event_time_ms: Some(from),
            lt_event_time_ms: Some(from + HOUR),
            limit: 100,
            ..Default::default()
        })?;
        by_window.record(t.elapsed());
        let t = Instant::now();
        index.query(&tracechain_index::EventQuery {
            biz_steps: vec!["shipping".into()],
            ge_event_time_ms: Some(from),
            lt_event_time_ms: Some(from + DAY),
            limit: 100,
            ..Default::default()
        })?;
        by_step_window.record(t.elapsed());
    }
    let samples = sample.len().max(1);

    println!(
        "trace_bench: {indexed} events in {height} blocks of {} (release build)",
        o.block
    );
    println!(
        "chain: {} batches, {} items, {} cases, {} pallets, {} containers",
        batch, chain.items, chain.cases, chain.pallets, chain.containers
    );
    println!(
        "build: {:.0} events/s indexing ({:.1} s in apply_block), {:.0} events/s with EPCIS parse+hash ({:.1} s wall)",
        indexed as f64 / apply_time.as_secs_f64(),
        apply_time.as_secs_f64(),
        indexed as f64 / (apply_time + parse_time).as_secs_f64(),
        build_wall.as_secs_f64()
    );
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "size: file {:.1} MiB ({:.1} MiB allocated on disk = {:.0} B/event); in tables {:.0} B/event, of which the captured JSON itself is {:.0} B/event",
        mib(file_bytes),
        mib(disk_bytes),
        disk_bytes as f64 / indexed as f64,
        stored as f64 / indexed as f64,
        json_bytes as f64 / indexed as f64
    );
    println!(
        "trace back depth {}: {:.1} events, {:.1} nodes per trace (deepest node at depth {back_depth})",
        o.depth,
        back_events as f64 / samples as f64,
        back_nodes as f64 / samples as f64
    );
    println!(
        "trace forward depth {}: {:.1} events per trace",
        o.depth,
        forward_events as f64 / samples as f64
    );
    let mut tables = index.table_sizes()?;
    tables.sort_by_key(|(_, b)| std::cmp::Reverse(*b));
    let per_table: Vec<String> = tables
        .iter()
        .map(|(name, b)| format!("{name} {:.0}", *b as f64 / indexed as f64))
        .collect();
    println!("bytes/event by table: {}", per_table.join(", "));
    println!("{}", back.line("trace back (leaf item)"));
    println!("{}", forward.line("trace forward (leaf item)"));
    println!("{}", lookup.line("query MATCH_epc (item)"));
    println!("{}", by_window.line("query 1 h window, limit 100"));
    println!("{}", by_step_window.line("query shipping in 1 day"));

    drop(index);
    if !o.keep && o.dir.is_none() {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}
