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

/// A running probe: a thread that writes and syncs a scratch file.
pub struct DiskProbe {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    /// The slowest sync since [`WorstSync::take`] last read it, in µs.
    worst_us: Arc<AtomicU64>,
    thread: JoinHandle<std::io::Result<Histogram<u64>>>,
}

/// What the probe saw, in milliseconds.
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
        let stop = Arc::new(AtomicBool::new(false));
        let worst_us = Arc::new(AtomicU64::new(0));
        let (stopped, worst) = (stop.clone(), worst_us.clone());
        let thread = std::thread::Builder::new()
            .name("disk-probe".into())
            .spawn(move || sample(file, &stopped, &worst))
            .context("starting the disk probe")?;
        Ok(Self {
            path,
            stop,
            worst_us,
            thread,
        })
    }

    /// Reads the slowest sync of each second from another task.
    pub fn worst_handle(&self) -> WorstSync {
        WorstSync(self.worst_us.clone())
    }

    /// Stops sampling, removes the scratch file and summarizes.
    pub fn finish(self) -> Result<DiskSync> {
        self.stop.store(true, Ordering::Relaxed);
        let histogram = self
            .thread
            .join()
            .map_err(|_| anyhow::anyhow!("the disk probe thread panicked"))?
            .context("writing or syncing the disk probe file")?;
        // Left behind, the file would only take 1 MiB; not worth failing on.
        let _ = std::fs::remove_file(&self.path);
        Ok(DiskSync::of(&histogram))
    }
}

/// Reads and resets the probe's slowest sync from another task.
#[derive(Clone)]
pub struct WorstSync(Arc<AtomicU64>);

impl WorstSync {
    /// The slowest sync since the last call, in milliseconds.
    pub fn take(&self) -> f64 {
        self.0.swap(0, Ordering::Relaxed) as f64 / 1000.0
    }
}

fn sample(
    mut file: File,
    stop: &AtomicBool,
    worst_us: &AtomicU64,
) -> std::io::Result<Histogram<u64>> {
    let mut histogram = Histogram::new(3).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut slot = 0;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        file.seek(SeekFrom::Start(slot * BLOCK.len() as u64))?;
        file.write_all(&BLOCK)?;
        file.sync_all()?;
        let us = started.elapsed().as_micros() as u64;
        let _ = histogram.record(us.max(1));
        worst_us.fetch_max(us, Ordering::Relaxed);
        slot = (slot + 1) % SLOTS;
        std::thread::sleep(INTERVAL);
    }
    Ok(histogram)
}

impl DiskSync {
    fn of(histogram: &Histogram<u64>) -> Self {
        let ms = |us: u64| (us as f64 / 100.0).round() / 10.0;
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
