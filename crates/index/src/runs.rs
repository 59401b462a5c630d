//! Filter postings stored as runs: `(term, first seq) → the run's later
//! seqs`, delta-encoded as LEB128 varints.
//!
//! One B-tree entry per (term, seq) left every leaf half full: postings
//! only ever append, and redb splits a full leaf in half (BENCHMARKS.md).
//! A write transaction collects each term's new seqs and writes them as
//! runs of at most [`MAX_RUN`], so a seek decodes one short run.

use std::collections::BTreeMap;

use redb::{ReadableTable, Table, WriteTransaction};

use crate::codec::{Reader, put_varint};
use crate::error::{IndexError, corrupt};
use crate::schema::RunTable;

/// Most seqs in one run.
pub(crate) const MAX_RUN: usize = 512;

/// The seqs of a run: the key's first, then the encoded rest.
pub(crate) fn decode(first: u64, rest: &[u8]) -> Result<Vec<u64>, IndexError> {
    let mut out = vec![first];
    let mut last = first;
    let mut reader = Reader::new(rest, "posting run");
    while !reader.is_empty() {
        last = last
            .checked_add(reader.varint()?)
            .ok_or_else(|| corrupt("posting run: seq overflows"))?;
        out.push(last);
    }
    Ok(out)
}

/// Encodes ascending `seqs` after the first (which the key holds).
pub(crate) fn encode(seqs: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(seqs.len() * 2);
    for pair in seqs.windows(2) {
        put_varint(&mut out, pair[1] - pair[0]);
    }
    out
}

/// The smallest seq ≥ `target` under `term`.
pub(crate) fn seek(
    table: &impl ReadableTable<(u64, u64), &'static [u8]>,
    term: u64,
    target: u64,
) -> Result<Option<u64>, IndexError> {
    // The run that starts at or before the target may hold it…
    if let Some(entry) = table.range((term, 0)..=(term, target))?.next_back() {
        let (key, value) = entry?;
        let seqs = decode(key.value().1, value.value())?;
        if let Some(&seq) = seqs.iter().find(|&&seq| seq >= target) {
            return Ok(Some(seq));
        }
    }
    // …otherwise the next run starts with it.
    let Some(next) = target.checked_add(1) else {
        return Ok(None);
    };
    Ok(table
        .range((term, next)..=(term, u64::MAX))?
        .next()
        .transpose()?
        .map(|(key, _)| key.value().1))
}

/// Every seq under `term`, ascending.
pub(crate) fn all(
    table: &impl ReadableTable<(u64, u64), &'static [u8]>,
    term: u64,
) -> Result<Vec<u64>, IndexError> {
    let mut out = Vec::new();
    for entry in table.range((term, 0)..=(term, u64::MAX))? {
        let (key, value) = entry?;
        out.extend(decode(key.value().1, value.value())?);
    }
    Ok(out)
}

/// A filter table being written, with the seqs this write transaction adds
/// to it by term (written as runs when the transaction finishes).
pub(crate) struct RunWriter<'t> {
    table: Table<'t, (u64, u64), &'static [u8]>,
    pending: BTreeMap<u64, Vec<u64>>,
}

impl<'t> RunWriter<'t> {
    pub(crate) fn open(txn: &'t WriteTransaction, def: RunTable) -> Result<Self, IndexError> {
        Ok(RunWriter {
            table: txn.open_table(def)?,
            pending: BTreeMap::new(),
        })
    }

    /// Adds `seq` under `term` (seqs arrive in ascending order).
    pub(crate) fn push(&mut self, term: u64, seq: u64) {
        self.pending.entry(term).or_default().push(seq);
    }

    /// Writes the collected seqs as runs.
    pub(crate) fn flush(&mut self) -> Result<(), IndexError> {
        for (term, seqs) in std::mem::take(&mut self.pending) {
            for run in seqs.chunks(MAX_RUN) {
                self.table.insert((term, run[0]), encode(run).as_slice())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn runs_roundtrip(mut seqs in proptest::collection::vec(any::<u64>(), 1..200)) {
            seqs.sort_unstable();
            seqs.dedup();
            prop_assert_eq!(decode(seqs[0], &encode(&seqs)).unwrap(), seqs);
        }
    }

    #[test]
    fn a_truncated_run_is_corrupt() {
        let encoded = encode(&[1, 1_000]);
        assert!(decode(1, &encoded[..1]).is_err());
    }

    #[test]
    fn seek_finds_the_next_seq_across_runs() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let db = redb::Database::create(file.path()).unwrap();
        let def: RunTable = redb::TableDefinition::new("t");
        let txn = db.begin_write().unwrap();
        {
            let mut writer = RunWriter::open(&txn, def).unwrap();
            for seq in (0..2_000).step_by(3) {
                writer.push(7, seq);
            }
            writer.push(8, 5);
            writer.flush().unwrap();
            let table = &writer.table;
            for target in [0, 1, 3, 1_535, 1_536, 1_537, 1_998] {
                let want = (0..2_000).step_by(3).find(|s| *s >= target);
                assert_eq!(seek(table, 7, target).unwrap(), want, "target {target}");
            }
            assert_eq!(seek(table, 7, 1_999).unwrap(), None);
            assert_eq!(seek(table, 8, 0).unwrap(), Some(5));
            assert_eq!(seek(table, 9, 0).unwrap(), None);
            assert_eq!(all(table, 7).unwrap().len(), 667);
        }
        txn.commit().unwrap();
    }
}
