//! How long the disk under the network takes to make a small write
//! durable, sampled while a load runs. Consensus syncs its journal before
//! a node votes, so when the disk stalls, finality stalls with it: on this
//! machine the finality tails at 2,500/s came with stalls of 0.2–1.8 s
//! (ADR 0029). Reported beside the latencies so that a
//! tail can be told apart from the nodes' own work.

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use std::{
    fs::{File, OpenOptions},
    io::{Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// One sample: a 4 KiB write at one of 256 offsets, then a full sync.
const BLOCK: [u8; 4096] = [0x5a; 4096];
const SLOTS: u64 = 256;
const INTERVAL: Duration = Duration::from_millis(50);
/// A sync slower than this counts as a stall.
const STALL: Duration = Duration::from_millis(100);

/// A running probe: a thread that writes and syncs a scratch file. It
/// stops when finished or dropped.
pub struct DiskProbe {
    path: PathBuf,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<std::io::Result<Histogram<u64>>>>,
}

/// What the probe's thread and its readers share.
struct Shared {
    stop: AtomicBool,
    base: Instant,
    /// The slowest sync since [`WorstSync::take`] last read it, in µs.
    worst_us: AtomicU64,
    /// When the sync in flight started (µs after `base`, plus one), or 0.
    in_flight_since: AtomicU64,
}

impl Shared {
    fn micros(&self) -> u64 {
        self.base.elapsed().as_micros() as u64
    }
}

/// What the probe saw, in milliseconds (to the microsecond).
#[derive(Debug, serde::Serialize)]
pub struct DiskSync {
    pub samples: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Syncs slower than 100 ms.
    pub stalls: u64,
}

impl DiskProbe {
    /// Starts sampling the disk that holds `dir`.
    pub fn start(dir: &Path) -> Result<Self> {
        let path = dir.join(".bench-disk-probe");
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .with_context(|| format!("creating the disk probe file {}", path.display()))?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            base: Instant::now(),
            worst_us: AtomicU64::new(0),
            in_flight_since: AtomicU64::new(0),
        });
        let sampled = shared.clone();
        let thread = std::thread::Builder::new()
            .name("disk-probe".into())
            .spawn(move || sample(file, &sampled))
            .context("starting the disk probe")?;
        Ok(Self {
            path,
            shared,
            thread: Some(thread),
        })
    }

    /// Reads the slowest sync of each second from another task.
    pub fn worst_handle(&self) -> WorstSync {
        WorstSync(self.shared.clone())
    }

    /// Stops sampling, removes the scratch file and summarizes.
    pub fn finish(mut self) -> Result<DiskSync> {
        self.shared.stop.store(true, Ordering::Relaxed);
        let thread = self
            .thread
            .take()
            .context("the disk probe already stopped")?;
        let histogram = thread
            .join()
            .map_err(|_| anyhow::anyhow!("the disk probe thread panicked"))?
            .context("writing or syncing the disk probe file")?;
        Ok(DiskSync::of(&histogram))
    }
}

impl Drop for DiskProbe {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // Left behind, the file would only take 1 MiB; not worth failing on.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads and resets the probe's slowest sync from another task.
#[derive(Clone)]
pub struct WorstSync(Arc<Shared>);

impl WorstSync {
    /// The slowest sync since the last call, in milliseconds, counting a
    /// sync still in flight for as long as it has taken so far (a disk
    /// that stalls longer than the reading interval would otherwise show
    /// nothing at all).
    pub fn take(&self) -> f64 {
        let shared = &self.0;
        let finished = shared.worst_us.swap(0, Ordering::Relaxed);
        let since = shared.in_flight_since.load(Ordering::Relaxed);
        let in_flight = match since {
            0 => 0,
            started => shared.micros().saturating_sub(started - 1),
        };
        finished.max(in_flight) as f64 / 1000.0
    }
}

fn sample(mut file: File, shared: &Shared) -> std::io::Result<Histogram<u64>> {
    let mut histogram = Histogram::new(3).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut slot = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        let started = shared.micros();
        shared.in_flight_since.store(started + 1, Ordering::Relaxed);
        file.seek(SeekFrom::Start(slot * BLOCK.len() as u64))?;
        file.write_all(&BLOCK)?;
        file.sync_all()?;
        shared.in_flight_since.store(0, Ordering::Relaxed);
        let us = shared.micros().saturating_sub(started);
        let _ = histogram.record(us.max(1));
        shared.worst_us.fetch_max(us, Ordering::Relaxed);
        slot = (slot + 1) % SLOTS;
        std::thread::sleep(INTERVAL);
    }
    Ok(histogram)
}

impl DiskSync {
    fn of(histogram: &Histogram<u64>) -> Self {
        // Microsecond resolution: on a RAM-backed directory a sync takes
        // a few µs, and rounding that to 0 would read as "not measured".
        let ms = |us: u64| us as f64 / 1000.0;
        let stall_us = STALL.as_micros() as u64;
        Self {
            samples: histogram.len(),
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
            stalls: histogram
                .iter_recorded()
                .filter(|v| v.value_iterated_to() > stall_us)
                .map(|v| v.count_at_value())
                .sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_the_disk_and_cleans_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let probe = DiskProbe::start(dir.path()).expect("start");
        std::thread::sleep(Duration::from_millis(300));
        let summary = probe.finish().expect("finish");
        assert!(summary.samples >= 2, "{summary:?}");
        assert!(summary.max_ms >= summary.p50_ms && summary.p50_ms > 0.0);
        assert!(!dir.path().join(".bench-disk-probe").exists());
    }

    #[test]
    fn the_worst_sync_counts_one_still_in_flight() {
        let base = Instant::now()
            .checked_sub(Duration::from_secs(2))
            .expect("an instant 2 s back");
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(true),
            base,
            worst_us: AtomicU64::new(40_000),
            in_flight_since: AtomicU64::new(0),
        });
        let worst = WorstSync(shared.clone());
        assert_eq!(worst.take(), 40.0);
        assert_eq!(worst.take(), 0.0, "reading resets it");
        // A sync that started 1.5 s ago has not returned.
        shared.in_flight_since.store(500_000 + 1, Ordering::Relaxed);
        assert!(worst.take() >= 1_500.0);
    }

    #[test]
    fn counts_syncs_over_100_ms_as_stalls() {
        let mut histogram = Histogram::new(3).expect("histogram");
        for us in [900, 1_200, 99_000, 150_000, 800_000] {
            histogram.record(us).expect("record");
        }
        let summary = DiskSync::of(&histogram);
        assert_eq!(summary.stalls, 2);
        assert_eq!(summary.samples, 5);
        assert!((summary.max_ms - 800.0).abs() < 1.0, "{summary:?}");
    }

    #[test]
    fn a_directory_that_does_not_exist_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("no/such/dir");
        let err = DiskProbe::start(&missing).err().expect("an error");
        assert!(format!("{err:#}").contains("disk probe file"));
    }
}
