//! The eventTime index stored as runs: `(first time, first seq) → the run's
//! later (time, seq) pairs`, each a varint time delta (pairs are sorted)
//! and a zigzag varint seq delta.
//!
//! One `(time, seq) → ()` entry per event left every leaf half full (times
//! mostly grow, and redb splits a full leaf in half). A write transaction
//! collects its pairs and writes them as runs of at most [`MAX_RUN`] pairs
//! spanning at most [`MAX_SPAN_MS`], so a window `[ge, lt)` is found among
//! the runs that start in `[ge - MAX_SPAN_MS, lt)`.

use redb::{ReadableTable, Table, WriteTransaction};

use crate::codec::{Reader, put_varint};
use crate::error::{IndexError, corrupt};
use crate::schema::TimeTable;

/// Most pairs in one run.
pub(crate) const MAX_RUN: usize = 512;
/// Most eventTime one run spans: a window query reads at most this much
/// time before its start.
pub(crate) const MAX_SPAN_MS: i64 = 60_000;

/// Collects one write transaction's pairs; [`TimeRunWriter::flush`] writes
/// them.
pub(crate) struct TimeRunWriter<'t> {
    table: Table<'t, (i64, u64), &'static [u8]>,
    pending: Vec<(i64, u64)>,
}

impl<'t> TimeRunWriter<'t> {
    pub(crate) fn open(txn: &'t WriteTransaction, def: TimeTable) -> Result<Self, IndexError> {
        Ok(TimeRunWriter {
            table: txn.open_table(def)?,
            pending: Vec::new(),
        })
    }

    pub(crate) fn push(&mut self, time: i64, seq: u64) {
        self.pending.push((time, seq));
    }

    pub(crate) fn flush(&mut self) -> Result<(), IndexError> {
        self.pending.sort_unstable();
        let mut rest = self.pending.as_slice();
        while let Some(&(first_time, _)) = rest.first() {
            let len = rest
                .iter()
                .take(MAX_RUN)
                .take_while(|(t, _)| t.abs_diff(first_time) <= MAX_SPAN_MS as u64)
                .count();
            let (run, after) = rest.split_at(len);
            let (time, seq) = run[0];
            self.table.insert((time, seq), encode(run).as_slice())?;
            rest = after;
        }
        self.pending.clear();
        Ok(())
    }
}

/// Encodes a sorted run after its first pair (which the key holds).
fn encode(run: &[(i64, u64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(run.len() * 3);
    for pair in run.windows(2) {
        let ((t0, s0), (t1, s1)) = (pair[0], pair[1]);
        put_varint(&mut out, t1.abs_diff(t0));
        let ds = s1.wrapping_sub(s0) as i64;
        put_varint(&mut out, ((ds << 1) ^ (ds >> 63)) as u64);
    }
    out
}

/// The pairs of a run: the key's, then the encoded rest.
fn decode(first: (i64, u64), rest: &[u8]) -> Result<Vec<(i64, u64)>, IndexError> {
    let mut out = vec![first];
    let (mut time, mut seq) = first;
    let mut reader = Reader::new(rest, "time run");
    while !reader.is_empty() {
        let dt = i64::try_from(reader.varint()?).map_err(|_| corrupt("time run: delta"))?;
        time = time
            .checked_add(dt)
            .ok_or_else(|| corrupt("time run: time overflows"))?;
        let zigzag = reader.varint()?;
        let ds = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
        seq = seq.wrapping_add(ds as u64);
        out.push((time, seq));
    }
    Ok(out)
}

/// Calls `visit` with the seq of every event whose time is in `[ge, lt)`
/// (in no particular order) until it returns `false`.
pub(crate) fn for_each_in(
    table: &impl ReadableTable<(i64, u64), &'static [u8]>,
    ge: i64,
    lt: Option<i64>,
    mut visit: impl FnMut(u64) -> bool,
) -> Result<(), IndexError> {
    let from = (ge.saturating_sub(MAX_SPAN_MS), 0);
    let runs = match lt {
        Some(lt) => table.range(from..(lt, 0))?,
        None => table.range(from..)?,
    };
    for entry in runs {
        let (key, value) = entry?;
        for (time, seq) in decode(key.value(), value.value())? {
            if time >= ge && lt.is_none_or(|lt| time < lt) && !visit(seq) {
                return Ok(());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use redb::ReadableDatabase;

    use super::*;

    #[test]
    fn runs_round_trip_with_seqs_out_of_time_order() {
        let run = [(-5, 9), (0, 3), (0, 4), (7, 1), (60_000, u64::MAX)];
        let encoded = encode(&run);
        assert_eq!(decode(run[0], &encoded).expect("decode"), run);
    }

    #[test]
    fn truncated_run_is_corrupt() {
        let run = [(0, 1), (1_000, 2)];
        let encoded = encode(&run);
        assert!(decode(run[0], &encoded[..1]).is_err());
    }

    #[test]
    fn window_finds_exactly_its_events_across_runs_and_transactions() {
        let dir = tempfile::tempdir().expect("dir");
        let db = redb::Database::create(dir.path().join("t.redb")).expect("db");
        let def: TimeTable = redb::TableDefinition::new("t");
        // Two transactions, times spread over several spans and runs,
        // some late (older time, larger seq).
        let mut all = Vec::new();
        for txn_no in 0..2u64 {
            let txn = db.begin_write().expect("txn");
            {
                let mut w = TimeRunWriter::open(&txn, def).expect("open");
                for i in 0..1_500u64 {
                    let seq = txn_no * 1_500 + i;
                    let time = ((seq * 7_919) % 400_000) as i64 - 100_000;
                    w.push(time, seq);
                    all.push((time, seq));
                }
                w.flush().expect("flush");
            }
            txn.commit().expect("commit");
        }
        let txn = db.begin_read().expect("read");
        let table = txn.open_table(def).expect("table");
        for (ge, lt) in [
            (-100_000, Some(0)),
            (-1, Some(1)),
            (5_000, Some(125_001)),
            (250_000, None),
        ] {
            let mut found = Vec::new();
            for_each_in(&table, ge, lt, |s| {
                found.push(s);
                true
            })
            .expect("scan");
            found.sort_unstable();
            let mut want: Vec<u64> = all
                .iter()
                .filter(|(t, _)| *t >= ge && lt.is_none_or(|lt| *t < lt))
                .map(|(_, s)| *s)
                .collect();
            want.sort_unstable();
            assert_eq!(found, want, "window [{ge}, {lt:?})");
        }
    }
}
