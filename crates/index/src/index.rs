//! [`Index`]: the file, block application, and the read entry points.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable};

use crate::canon;
use crate::error::IndexError;
use crate::model::{BlockUpdate, Recall, StoredEvent};
use crate::query::{self, EventPage, EventQuery};
use crate::schema::*;
use crate::snapshot::Snapshot;
use crate::trace::{self, Direction, Mode, Trace, TraceEdge, TraceNode};
use crate::write::BlockWriter;

/// The query index of one node: one redb file.
///
/// Safe to share between threads (`&self` everywhere); writers are
/// serialised by redb, readers see the last committed block.
pub struct Index {
    db: Database,
}

impl Index {
    /// Open the index file, creating it if absent.
    pub fn open(path: impl AsRef<Path>) -> Result<Index, IndexError> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let found = meta.get(META_SCHEMA)?.map(|v| v.value());
            match found {
                Some(v) if v != SCHEMA_VERSION => {
                    return Err(IndexError::SchemaMismatch {
                        found: v,
                        expected: SCHEMA_VERSION,
                    });
                }
                Some(_) => {}
                None => {
                    meta.insert(META_SCHEMA, SCHEMA_VERSION)?;
                }
            }
            // Create every table so read transactions can open them.
            BlockWriter::open(&txn)?;
        }
        txn.commit()?;
        Ok(Index { db })
    }

    /// Delete whatever is at `path` and index `blocks` (height order) into a
    /// fresh file: the index is derived data, this is how it is rebuilt.
    pub fn rebuild_from<I>(path: impl AsRef<Path>, blocks: I) -> Result<Index, IndexError>
    where
        I: IntoIterator<Item = (u64, Vec<BlockUpdate>)>,
    {
        let path = path.as_ref();
        if path.exists() {
            std::fs::remove_file(path).map_err(|e| IndexError::Store(e.into()))?;
        }
        let index = Index::open(path)?;
        for (height, updates) in blocks {
            index.apply_block(height, &updates)?;
        }
        Ok(index)
    }

    /// Index one finalized block, atomically with its height. A height at
    /// or below [`Index::indexed_height`] was already applied (the node
    /// re-feeds blocks after a crash) and is ignored. On error nothing of
    /// the block is applied.
    pub fn apply_block(&self, height: u64, updates: &[BlockUpdate]) -> Result<(), IndexError> {
        let txn = self.db.begin_write()?;
        {
            let meta = txn.open_table(META)?;
            let done = meta.get(META_HEIGHT)?.map(|v| v.value());
            if done.is_some_and(|done| height <= done) {
                return Ok(());
            }
        }
        {
            let mut writer = BlockWriter::open(&txn)?;
            writer.apply(height, updates)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Height of the last block applied, `None` before the first.
    pub fn indexed_height(&self) -> Result<Option<u64>, IndexError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        Ok(meta.get(META_HEIGHT)?.map(|v| v.value()))
    }

    /// One event by its hash.
    pub fn event(&self, hash: &[u8; 32]) -> Result<Option<StoredEvent>, IndexError> {
        let snap = Snapshot::new(&self.db)?;
        match snap.seq_of(hash)? {
            Some(seq) => Ok(Some(snap.stored_event(seq)?)),
            None => Ok(None),
        }
    }

    /// Events matching `q`, one page at a time, in chain order.
    pub fn query(&self, q: &EventQuery) -> Result<EventPage, IndexError> {
        let snap = Snapshot::new(&self.db)?;
        query::run(&snap, q)
    }

    /// The trace of `identifier` (any accepted spelling) as a graph, at most
    /// `depth` links away (0: the thing's own events only).
    pub fn trace(
        &self,
        identifier: &str,
        direction: Direction,
        depth: u32,
    ) -> Result<Trace, IndexError> {
        let snap = Snapshot::new(&self.db)?;
        let canonical = canon::identifier(identifier);
        let Some(root) = snap.id_of(&canonical)? else {
            return Ok(Trace {
                nodes: vec![TraceNode {
                    identifier: canonical,
                    depth: 0,
                }],
                edges: Vec::new(),
                events: Vec::new(),
            });
        };
        let mode = match direction {
            Direction::Back => Mode::Back,
            Direction::Forward => Mode::Forward,
        };
        let walk = trace::walk(&snap, root, mode, depth)?;
        let mut nodes = Vec::with_capacity(walk.nodes.len());
        for (id, depth) in &walk.nodes {
            nodes.push(TraceNode {
                identifier: snap.name(*id)?.to_string(),
                depth: *depth,
            });
        }
        let mut events = Vec::with_capacity(walk.events.len());
        let mut hashes = std::collections::HashMap::new();
        for seq in &walk.events {
            let e = snap.stored_event(*seq)?;
            hashes.insert(*seq, e.hash);
            events.push(e);
        }
        let mut edges = Vec::with_capacity(walk.edges.len());
        for (seq, from, to, kind) in &walk.edges {
            let event = match hashes.get(seq) {
                Some(h) => *h,
                None => snap.record(*seq)?.hash,
            };
            edges.push(TraceEdge {
                from: snap.name(*from)?.to_string(),
                to: snap.name(*to)?.to_string(),
                event,
                kind: *kind,
            });
        }
        Ok(Trace {
            nodes,
            edges,
            events,
        })
    }

    /// Everything derived from `identifier`: what was made from it
    /// (transformation outputs, recursively) and what it held (aggregation
    /// contents, from when they went in), in discovery order, without
    /// `identifier` itself. The node joins this with item state to list the
    /// custodians of a recall.
    pub fn affected(&self, identifier: &str) -> Result<Vec<String>, IndexError> {
        let snap = Snapshot::new(&self.db)?;
        let Some(root) = snap.id_of(&canon::identifier(identifier))? else {
            return Ok(Vec::new());
        };
        let walk = trace::walk(&snap, root, Mode::Affected, u32::MAX)?;
        let mut out = Vec::with_capacity(walk.nodes.len().saturating_sub(1));
        for (id, _) in walk.nodes.iter().skip(1) {
            out.push(snap.name(*id)?.to_string());
        }
        Ok(out)
    }

    /// The recalls that apply to `identifier`: of itself, or of anything it
    /// is [`Index::affected`] by (exactly the inverse), in the order they
    /// were recorded.
    pub fn recalls_of(&self, identifier: &str) -> Result<Vec<Recall>, IndexError> {
        let snap = Snapshot::new(&self.db)?;
        let canonical = canon::identifier(identifier);
        let Some(root) = snap.id_of(&canonical)? else {
            return Ok(Vec::new());
        };
        let walk = trace::walk(&snap, root, Mode::Ancestry, u32::MAX)?;
        let mut found = Vec::new();
        for (id, _) in &walk.nodes {
            for (number, r) in snap.recalls(*id)? {
                found.push((number, *id, r));
            }
        }
        found.sort_by_key(|(number, _, _)| *number);
        let mut out = Vec::with_capacity(found.len());
        for (_, id, r) in found {
            out.push(Recall {
                identifier: snap.name(id)?.to_string(),
                by_tx: r.by_tx,
                reason: r.reason,
                height: r.height,
            });
        }
        Ok(out)
    }

    /// Bytes of the index file in use (for metrics and the benchmark).
    pub fn stored_bytes(&self) -> Result<u64, IndexError> {
        let txn = self.db.begin_read()?;
        let mut total = 0;
        for handle in txn.list_tables()? {
            let table = txn.open_untyped_table(handle)?;
            let stats = redb::ReadableTableMetadata::stats(&table)?;
            total += stats.stored_bytes() + stats.metadata_bytes() + stats.fragmented_bytes();
        }
        Ok(total)
    }
}
