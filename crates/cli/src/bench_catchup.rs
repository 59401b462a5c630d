//! `tracechain bench catchup`: how fast a node that is behind (a fresh full
//! node, or a restarted one) replays finalized blocks up to a reference
//! node, and whether it ends on the same roots.

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::Value;
use std::time::{Duration, Instant};
use tracechain_client::{Client, Status};

/// How often both nodes are asked for their status.
const POLL: Duration = Duration::from_millis(200);
/// How often progress is printed.
const REPORT: Duration = Duration::from_secs(1);

#[derive(Args, Clone)]
pub struct CatchupArgs {
    /// The API of the node catching up (it may still be starting: it is
    /// polled until it answers).
    #[arg(long)]
    api: String,
    /// The API of an up-to-date node, e.g. a validator.
    #[arg(long)]
    reference: String,
    /// Give up (exit code 1) after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// Chase the reference's current height instead of stopping at its
    /// height when the measurement started.
    #[arg(long)]
    follow: bool,
}

#[derive(serde::Serialize)]
pub struct CatchupSummary {
    bench: &'static str,
    /// The reference's height the follower had to reach.
    target_height: u64,
    /// The follower's height at the last poll before it was first seen
    /// moving: where the rate's clock starts.
    started_at_height: u64,
    /// The follower's applied height at the end.
    height: u64,
    blocks: u64,
    /// Growth of the follower's event log (`log_size`: one record per
    /// applied event or domain record plus one commit per block); the
    /// status has no separate event count.
    log_entries: u64,
    seconds: f64,
    blocks_per_s: f64,
    log_entries_per_s: f64,
    /// From the first poll (the follower may still have been starting).
    wall_seconds: f64,
    /// The height whose roots were compared.
    compared_at_height: u64,
    roots_identical: bool,
    /// What differed, when `roots_identical` is false.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    differences: Vec<String>,
    /// Seconds from the rate's start until the follower's query index also
    /// reached the target (absent when it keeps no index). A node far
    /// behind indexes alongside, off the consensus path, and may finish later.
    #[serde(skip_serializing_if = "Option::is_none")]
    index_seconds: Option<f64>,
    /// `log_entries / index_seconds`: the rate including the index.
    #[serde(skip_serializing_if = "Option::is_none")]
    log_entries_indexed_per_s: Option<f64>,
}

impl CatchupSummary {
    /// An error (exit code 1) when the roots differ.
    pub fn verdict(&self) -> Result<()> {
        if !self.roots_identical {
            bail!(
                "the follower's roots differ from the reference's at height {}: {}",
                self.compared_at_height,
                self.differences.join(", ")
            );
        }
        Ok(())
    }
}

/// One poll of the follower.
#[derive(Clone, Copy)]
struct Sample {
    at: Instant,
    height: u64,
    log_size: u64,
}

impl Sample {
    fn of(status: &Status) -> Self {
        Self {
            at: Instant::now(),
            height: status.height,
            log_size: status.log_size,
        }
    }
}

/// The follower's polls: where it started moving and where it is.
#[derive(Default)]
struct Track {
    start: Option<Sample>,
    last: Option<Sample>,
    last_error: Option<String>,
}

impl Track {
    fn observe(&mut self, sample: Sample) {
        if self.start.is_none()
            && let Some(previous) = self.last
            && sample.height > previous.height
        {
            self.start = Some(previous);
        }
        self.last = Some(sample);
        self.last_error = None;
    }

    /// The rate's start: the last poll before the height first grew (the
    /// latest poll while it has not moved yet).
    fn origin(&self) -> Option<Sample> {
        self.start.or(self.last)
    }

    fn describe(&self, began: Instant, target: u64, reference: u64) -> String {
        let elapsed = began.elapsed().as_secs();
        let (Some(start), Some(last)) = (self.origin(), self.last) else {
            let why = self.last_error.as_deref().unwrap_or("no answer yet");
            return format!("[{elapsed:>4}s] waiting for the follower: {why}");
        };
        let seconds = last.at.duration_since(start.at).as_secs_f64();
        let blocks = last.height.saturating_sub(start.height);
        let entries = last.log_size.saturating_sub(start.log_size);
        format!(
            "[{elapsed:>4}s] height {} of {target} (reference {reference}): +{blocks} blocks \
             ({:.1}/s), +{entries} log entries ({:.1}/s)",
            last.height,
            per_second(blocks, seconds),
            per_second(entries, seconds),
        )
    }
}

fn per_second(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

pub async fn run(args: CatchupArgs) -> Result<CatchupSummary> {
    let follower = Client::new(&args.api);
    let reference = Client::new(&args.reference);
    let began = Instant::now();
    let deadline = began + Duration::from_secs(args.timeout);
    let mut target = reference
        .status()
        .await
        .with_context(|| format!("reading the reference's status at {}", args.reference))?
        .height;
    if target == 0 {
        bail!("the reference is at height 0: nothing to catch up to");
    }
    eprintln!(
        "catching up {} to {} (height {target}{})",
        args.api,
        args.reference,
        if args.follow { ", following" } else { "" }
    );
    let mut reference_height = target;
    let mut track = Track::default();
    let mut next_report = began + REPORT;
    loop {
        if args.follow
            && let Ok(status) = reference.status().await
        {
            reference_height = status.height;
            target = target.max(status.height);
        }
        match follower.status().await {
            Ok(status) => track.observe(Sample::of(&status)),
            Err(err) => track.last_error = Some(err.to_string()),
        }
        if track.last.is_some_and(|last| last.height >= target) {
            break;
        }
        if Instant::now() >= next_report {
            eprintln!("{}", track.describe(began, target, reference_height));
            next_report += REPORT;
        }
        if Instant::now() >= deadline {
            bail!(
                "timed out after {}s: {}",
                args.timeout,
                track.describe(began, target, reference_height)
            );
        }
        tokio::time::sleep(POLL).await;
    }
    eprintln!("{}", track.describe(began, target, reference_height));
    let mut summary = summarize(&track, &follower, &reference, target, began).await?;
    if let Some(indexed_at) = wait_for_index(&follower, target, deadline).await? {
        let origin = track.origin().map_or(began, |start| start.at);
        let seconds = indexed_at.duration_since(origin).as_secs_f64();
        summary.index_seconds = Some(seconds);
        summary.log_entries_indexed_per_s = Some(per_second(summary.log_entries, seconds));
    }
    Ok(summary)
}

/// Waits until the follower's query index reaches `target`; `None` when
/// the follower keeps no index.
async fn wait_for_index(
    follower: &Client,
    target: u64,
    deadline: Instant,
) -> Result<Option<Instant>> {
    let mut polls = 0u32;
    loop {
        let status = follower.status().await?;
        match status.indexed_height {
            None => return Ok(None),
            Some(height) if height >= target => return Ok(Some(Instant::now())),
            Some(height) => {
                if Instant::now() >= deadline {
                    bail!("timed out waiting for the index: at {height} of {target}");
                }
                polls += 1;
                if polls.is_multiple_of(25) {
                    eprintln!("index at height {height} of {target}");
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn summarize(
    track: &Track,
    follower: &Client,
    reference: &Client,
    target: u64,
    began: Instant,
) -> Result<CatchupSummary> {
    let (Some(start), Some(end)) = (track.origin(), track.last) else {
        bail!("the follower never answered");
    };
    let wall_seconds = end.at.duration_since(began).as_secs_f64();
    let (compared_at_height, differences) = compare_roots(follower, reference).await?;
    let seconds = end.at.duration_since(start.at).as_secs_f64();
    let blocks = end.height.saturating_sub(start.height);
    let log_entries = end.log_size.saturating_sub(start.log_size);
    Ok(CatchupSummary {
        bench: "catchup",
        target_height: target,
        started_at_height: start.height,
        height: end.height,
        blocks,
        log_entries,
        seconds,
        blocks_per_s: per_second(blocks, seconds),
        log_entries_per_s: per_second(log_entries, seconds),
        wall_seconds,
        compared_at_height,
        roots_identical: differences.is_empty(),
        differences,
        index_seconds: None,
        log_entries_indexed_per_s: None,
    })
}

/// Compares, at the follower's applied height H, its applied roots with the
/// reference's block header at H, and both nodes' headers at H. A real
/// divergence persists, so a difference is re-checked a few times (the
/// follower may apply a block between reading its height and its roots).
async fn compare_roots(follower: &Client, reference: &Client) -> Result<(u64, Vec<String>)> {
    let mut result = (0, Vec::new());
    for attempt in 0..3 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        result = compare_once(follower, reference).await?;
        if result.1.is_empty() {
            break;
        }
    }
    Ok(result)
}

async fn compare_once(follower: &Client, reference: &Client) -> Result<(u64, Vec<String>)> {
    let applied = stable_status(follower).await?;
    let height = applied.height;
    let theirs = header_when_there(reference, height).await?;
    let ours = header(follower, height).await.context("the follower")?;
    let mut differences: Vec<String> = header_differences(&ours, &theirs)
        .into_iter()
        .map(|field| format!("header.{field}"))
        .collect();
    let applied_roots = [
        ("state_root", Value::from(applied.state_root.clone())),
        ("log_root", Value::from(applied.log_root.clone())),
        ("log_size", Value::from(applied.log_size)),
        ("lookup_root", Value::from(applied.lookup_root.clone())),
    ];
    for (field, value) in applied_roots {
        if theirs.get(field) != Some(&value) {
            differences.push(format!("applied {field}"));
        }
    }
    Ok((height, differences))
}

/// The header fields whose values differ (missing counts as different).
fn header_differences(ours: &Value, theirs: &Value) -> Vec<String> {
    let Some(fields) = theirs.as_object() else {
        return vec!["(the reference's header is not an object)".into()];
    };
    fields
        .iter()
        .filter(|(field, value)| ours.get(field.as_str()) != Some(*value))
        .map(|(field, _)| field.clone())
        .collect()
}

/// The reference's header at `height`, waiting a little for it when the
/// follower got ahead (the reference may apply blocks later than it).
async fn header_when_there(reference: &Client, height: u64) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match header(reference, height).await {
            Ok(header) => return Ok(header),
            Err(err) if Instant::now() >= deadline => {
                return Err(err.context("the reference is behind the follower"));
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// The header of the block at `height` on one node.
async fn header(client: &Client, height: u64) -> Result<Value> {
    let mut block = client
        .block(&height.to_string())
        .await
        .with_context(|| format!("reading block {height} from {}", client.base()))?;
    match block.get_mut("header").map(Value::take) {
        Some(header @ Value::Object(_)) => Ok(header),
        _ => bail!("block {height} from {} has no header", client.base()),
    }
}

/// A status read twice in a row with the same height and roots, so the
/// roots belong to that height.
async fn stable_status(client: &Client) -> Result<Status> {
    let read = || async {
        client
            .status()
            .await
            .with_context(|| format!("reading the status of {}", client.base()))
    };
    for _ in 0..50 {
        let (first, second) = (read().await?, read().await?);
        if (first.height, &first.state_root, &first.log_root)
            == (second.height, &second.state_root, &second.log_root)
        {
            return Ok(second);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!(
        "{} applied a block between every two status reads",
        client.base()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differing_and_missing_header_fields_are_named() {
        let theirs = serde_json::json!({"height": 5, "state_root": "aa", "log_root": "bb"});
        let ours = serde_json::json!({"height": 5, "state_root": "ab"});
        assert_eq!(
            header_differences(&ours, &theirs),
            ["log_root", "state_root"]
        );
        assert!(header_differences(&theirs, &theirs).is_empty());
    }

    #[test]
    fn the_rate_starts_at_the_last_poll_before_the_height_moved() {
        let at = Instant::now();
        let sample = |height| Sample {
            at,
            height,
            log_size: height * 10,
        };
        let mut track = Track::default();
        for height in [3, 3, 4, 9] {
            track.observe(sample(height));
        }
        assert_eq!(track.origin().map(|s| s.height), Some(3));
        assert_eq!(track.last.map(|s| s.height), Some(9));
    }
}
