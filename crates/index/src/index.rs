//! [`Index`]: the file, block application, and the read entry points.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

use redb::{Database, ReadableDatabase, ReadableTable};

use crate::canon;
use crate::error::IndexError;
use crate::model::{BlockUpdate, Recall, StoredEvent};
use crate::query::{self, EventPage, EventQuery};
use crate::schema::*;
use crate::snapshot::Snapshot;
use crate::trace::{self, Direction, Mode, Trace, TraceEdge, TraceNode};
use crate::write::{BlockWriter, HOT_NAMES_MAX, HotNames};

/// Memory redb may keep of the file. Its default (1 GiB) alone would put
/// a node past its memory budget at 1,000,000 events; what is not cached
/// here is still in the OS page cache. Not much less: redb keeps a tenth
/// for the pages a write transaction dirties, and with less a loaded
/// indexer writes pages out and reads them back within each transaction
/// (ADR 0030).
pub const DEFAULT_CACHE_BYTES: usize = 256 * 1024 * 1024;
/// Blocks per write transaction when rebuilding.
const REBUILD_CHUNK: usize = 64;

/// The query index of one node: one redb file.
///
/// Safe to share between threads (`&self` everywhere); writers are
/// serialised by redb, readers see the last committed block.
pub struct Index {
    /// Read-locked to begin any transaction (a write keeps it for its
    /// whole length); write-locked only by [`Index::compact`].
    db: RwLock<Database>,
    /// Held for a whole write, before `db`, so writes and compaction
    /// always take the two in the same order.
    writer: Mutex<WriterState>,
    /// The last height applied without a write because it and every block
    /// since the last write added nothing (0: none). An idle chain still
    /// finalizes empty blocks twice a second; committing each one would
    /// sync the file for nothing and, right after a compaction, make redb
    /// grow the file it had just shortened.
    empty_through: AtomicU64,
}

/// What [`Index::compact`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compaction {
    /// Pages were moved down and the file shortened.
    Compacted,
    /// Nothing to move.
    AlreadyCompact,
    /// A reader was in the middle of a query: nothing was done (try again
    /// later).
    ReadersActive,
}

/// What the writer remembers between transactions.
struct WriterState {
    /// Committed ids of often repeated names.
    hot: HotNames,
}

impl Index {
    /// Open the index file, creating it if absent.
    pub fn open(path: impl AsRef<Path>) -> Result<Index, IndexError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// [`Index::open`] with `cache_bytes` of page cache instead of the
    /// default 256 MiB (less resident memory; more reads through the
    /// operating system's cache).
    pub fn open_with_cache(
        path: impl AsRef<Path>,
        cache_bytes: usize,
    ) -> Result<Index, IndexError> {
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(path)?;
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
        }
        // Create every table so read transactions can open them.
        BlockWriter::open(&txn, &HotNames::new())?;
        txn.commit()?;
        Ok(Index {
            db: RwLock::new(db),
            writer: Mutex::new(WriterState {
                hot: HotNames::new(),
            }),
            empty_through: AtomicU64::new(0),
        })
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
        // Bounded transactions: a whole chain in one would sit in memory.
        let mut blocks = blocks.into_iter().peekable();
        while blocks.peek().is_some() {
            index.apply_blocks(blocks.by_ref().take(REBUILD_CHUNK))?;
        }
        Ok(index)
    }

    /// Index one finalized block, atomically with its height. A height at
    /// or below [`Index::indexed_height`] was already applied (the node
    /// re-feeds blocks after a crash) and is ignored. On error nothing of
    /// the block is applied. Visible to readers and durable when it returns.
    pub fn apply_block(&self, height: u64, updates: &[BlockUpdate]) -> Result<(), IndexError> {
        self.apply_blocks([(height, updates)])
    }

    /// Index many blocks in height order as one write transaction, visible
    /// and durable when it returns. One transaction instead of one per block
    /// matters under load: redb copies every page a transaction modifies,
    /// and consecutive blocks modify the same tail pages of every table.
    /// Every commit is durable (ADR 0021): pages a non-durable commit
    /// replaces cannot be reused before the next durable one, and under load
    /// that left a quarter of the file free.
    /// Heights already applied are skipped; on error nothing is applied.
    /// Blocks that add nothing are not written: their heights count as
    /// indexed in memory, and after a restart they are simply fed again.
    pub fn apply_blocks<I, U>(&self, blocks: I) -> Result<(), IndexError>
    where
        I: IntoIterator<Item = (u64, U)>,
        U: AsRef<[BlockUpdate]>,
    {
        let blocks: Vec<(u64, U)> = blocks.into_iter().collect();
        if self.skipped_as_empty(&blocks) {
            return Ok(());
        }
        let mut state = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let db = self.db();
        let txn = db.begin_write()?;
        let fresh_hot = {
            let stored = txn.open_table(META)?.get(META_HEIGHT)?.map(|v| v.value());
            let mut done = stored.max(self.empty_height());
            let mut writer = BlockWriter::open(&txn, &state.hot)?;
            for (height, updates) in blocks {
                if done.is_some_and(|done| height <= done) {
                    continue;
                }
                writer.apply(height, updates.as_ref())?;
                done = Some(height);
            }
            writer.finish()?
        };
        txn.commit()?;
        if state.hot.len() + fresh_hot.len() > HOT_NAMES_MAX {
            state.hot.clear();
        }
        state.hot.extend(fresh_hot);
        Ok(())
    }

    /// Counts `blocks` as indexed, in memory only, when none of them adds
    /// anything; `true` then.
    fn skipped_as_empty<U: AsRef<[BlockUpdate]>>(&self, blocks: &[(u64, U)]) -> bool {
        if blocks
            .iter()
            .any(|(_, updates)| !updates.as_ref().is_empty())
        {
            return false;
        }
        if let Some((last, _)) = blocks.last() {
            self.empty_through.fetch_max(*last, Ordering::AcqRel);
        }
        true
    }

    /// Moves pages freed by earlier writes out of the file and shortens it
    /// (ADR 0021). Every commit copies the pages it changes, and the old
    /// copies stay allocated in the file until a later write reuses them:
    /// about a quarter of a loaded index. Blocks writers and new readers
    /// while it runs (about 3 s at 1,000,000 events), so the node calls it
    /// when the chain is idle.
    pub fn compact(&self) -> Result<Compaction, IndexError> {
        let _writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
        match db.compact() {
            Ok(true) => Ok(Compaction::Compacted),
            Ok(false) => Ok(Compaction::AlreadyCompact),
            Err(redb::CompactionError::TransactionInProgress) => Ok(Compaction::ReadersActive),
            Err(e) => Err(IndexError::Store(e.into())),
        }
    }

    fn db(&self) -> RwLockReadGuard<'_, Database> {
        self.db.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Height of the last block applied, `None` before the first.
    pub fn indexed_height(&self) -> Result<Option<u64>, IndexError> {
        let txn = self.db().begin_read()?;
        let meta = txn.open_table(META)?;
        let stored = meta.get(META_HEIGHT)?.map(|v| v.value());
        Ok(stored.max(self.empty_height()))
    }

    /// The last height counted as indexed without a write, if any.
    fn empty_height(&self) -> Option<u64> {
        Some(self.empty_through.load(Ordering::Acquire)).filter(|&h| h > 0)
    }

    /// One event by its hash.
    pub fn event(&self, hash: &[u8; 32]) -> Result<Option<StoredEvent>, IndexError> {
        let snap = Snapshot::new(&self.db())?;
        match snap.seq_of(hash)? {
            Some(seq) => Ok(Some(snap.stored_event(seq)?)),
            None => Ok(None),
        }
    }

    /// Events matching `q`, one page at a time, in chain order.
    pub fn query(&self, q: &EventQuery) -> Result<EventPage, IndexError> {
        let snap = Snapshot::new(&self.db())?;
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
        let snap = Snapshot::new(&self.db())?;
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
        let snap = Snapshot::new(&self.db())?;
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
        let snap = Snapshot::new(&self.db())?;
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

    /// Bytes in use per table (stored, metadata and fragmented), by table
    /// name: for metrics and the benchmark.
    pub fn table_sizes(&self) -> Result<Vec<(String, u64)>, IndexError> {
        let txn = self.db().begin_read()?;
        let mut out = Vec::new();
        for handle in txn.list_tables()? {
            let name = redb::TableHandle::name(&handle).to_owned();
            let table = txn.open_untyped_table(handle)?;
            let stats = redb::ReadableTableMetadata::stats(&table)?;
            out.push((
                name,
                stats.stored_bytes() + stats.metadata_bytes() + stats.fragmented_bytes(),
            ));
        }
        Ok(out)
    }

    /// Bytes of the index file in use (all tables).
    pub fn stored_bytes(&self) -> Result<u64, IndexError> {
        Ok(self.table_sizes()?.iter().map(|(_, b)| b).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use crate::{BlockUpdate, Role};

    fn all(index: &Index) -> Vec<[u8; 32]> {
        let page = index
            .query(&EventQuery {
                limit: crate::MAX_LIMIT,
                ..EventQuery::default()
            })
            .expect("query");
        page.events.iter().map(|e| e.hash).collect()
    }

    #[test]
    fn the_index_is_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Index>();
        let mut t = TestIndex::new();
        t.events(vec![observe(1, 10, &["urn:t:a"])]);
        let index = std::sync::Arc::new(t.index);
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let index = index.clone();
                std::thread::spawn(move || all(&index))
            })
            .collect();
        index
            .apply_block(99, &[BlockUpdate::Event(observe(2, 10, &["urn:t:a"]))])
            .expect("write while reading");
        for r in readers {
            let seen = r.join().expect("reader");
            assert!(seen == vec![hash(1)] || seen == vec![hash(1), hash(2)]);
        }
    }

    #[test]
    fn reapplying_a_height_changes_nothing() {
        let mut t = TestIndex::new();
        assert_eq!(t.index.indexed_height().ok(), Some(None));
        let block = vec![BlockUpdate::Event(observe(1, 10, &["urn:t:a"]))];
        t.index.apply_block(5, &block).expect("apply");
        assert_eq!(t.index.indexed_height().ok(), Some(Some(5)));
        // The node crashed after commit and feeds height 5 again, then 4.
        let other = vec![BlockUpdate::Event(observe(2, 10, &["urn:t:b"]))];
        t.index.apply_block(5, &other).expect("re-apply");
        t.index.apply_block(4, &other).expect("older");
        assert_eq!(all(&t.index), vec![hash(1)]);
        assert_eq!(t.index.indexed_height().ok(), Some(Some(5)));
        t.index.apply_block(6, &other).expect("next");
        assert_eq!(all(&t.index), vec![hash(1), hash(2)]);
        t.block(vec![]);
    }

    #[test]
    fn an_invalid_event_applies_nothing_of_its_block() {
        let t = TestIndex::new();
        let mut bad = observe(2, 10, &["urn:t:b"]);
        bad.action = Some("SHRED".into());
        let block = vec![
            BlockUpdate::Event(observe(1, 10, &["urn:t:a"])),
            BlockUpdate::Event(bad),
        ];
        let err = t.index.apply_block(1, &block);
        assert!(matches!(err, Err(IndexError::InvalidEvent { .. })));
        assert_eq!(t.index.indexed_height().ok(), Some(None));
        assert!(all(&t.index).is_empty());
    }

    /// An identifier named again, and declared in error, after the packed
    /// value holding its first postings was already written in the same
    /// transaction, and again in a later one.
    #[test]
    fn first_postings_are_found_and_marked_after_their_value_filled() {
        let mut t = TestIndex::new();
        let mut block = vec![BlockUpdate::Event(observe(1, 10, &["urn:t:x"]))];
        let fillers: Vec<String> = (0..600).map(|i| format!("urn:t:item-{i}")).collect();
        for (i, item) in fillers.iter().enumerate() {
            block.push(BlockUpdate::Event(observe(100 + i as u64, 11, &[item])));
        }
        block.push(BlockUpdate::Event(observe(2, 12, &["urn:t:x"])));
        t.block(block);
        t.events(vec![observe(3, 13, &["urn:t:x"])]);
        t.block(vec![
            BlockUpdate::DeclaredInError {
                original: hash(2),
                declaration: hash(900),
            },
            BlockUpdate::DeclaredInError {
                original: hash(3),
                declaration: hash(901),
            },
        ]);
        let page = t
            .index
            .query(&EventQuery {
                match_epc: vec!["urn:t:x".into()],
                limit: 10,
                ..EventQuery::default()
            })
            .expect("query");
        let found: Vec<[u8; 32]> = page.events.iter().map(|e| e.hash).collect();
        assert_eq!(found, vec![hash(1), hash(2), hash(3)]);
        let snap = Snapshot::new(&t.index.db()).expect("snapshot");
        let x = snap.id_of("urn:t:x").expect("id").expect("interned");
        let in_error: Vec<bool> = snap
            .postings(x)
            .expect("postings")
            .iter()
            .map(|p| p.in_error)
            .collect();
        assert_eq!(in_error, vec![false, true, true]);
    }

    /// Compaction gives back the pages earlier writes freed, keeps every
    /// event, and waits for readers.
    #[test]
    fn compaction_shortens_the_file_and_keeps_the_events() {
        let mut t = TestIndex::new();
        for b in 0..12u64 {
            let block: Vec<BlockUpdate> = (0..100u64)
                .map(|i| {
                    let n = b * 100 + i;
                    BlockUpdate::Event(observe(n, n as i64, &[&format!("urn:t:c-{n}")]))
                })
                .collect();
            t.block(block);
        }
        let before = all(&t.index);
        let path = t.dir.path().join("index.redb");
        let len = || std::fs::metadata(&path).map(|m| m.len()).expect("file");
        let grown = len();
        let reading = Snapshot::new(&t.index.db()).expect("snapshot");
        assert_eq!(t.index.compact().ok(), Some(Compaction::ReadersActive));
        drop(reading);
        assert_eq!(t.index.compact().ok(), Some(Compaction::Compacted));
        assert!(len() < grown, "{} !< {grown}", len());
        assert_eq!(all(&t.index), before);
        assert_eq!(before.len(), 1_200);
        t.events(vec![observe(99_999, 1, &["urn:t:c-3"])]);
        assert_eq!(all(&t.index).len(), 1_201);
    }

    /// Empty blocks count as indexed without a write, so an idle chain
    /// leaves a compacted file as it is; after reopening they are fed again.
    #[test]
    fn empty_blocks_are_indexed_without_writing() {
        let mut t = TestIndex::new();
        t.events(
            (0..300u64)
                .map(|n| observe(n, n as i64, &["urn:t:e"]))
                .collect(),
        );
        assert_eq!(t.index.compact().ok(), Some(Compaction::Compacted));
        let path = t.dir.path().join("index.redb");
        let len = || std::fs::metadata(&path).map(|m| m.len()).expect("file");
        let compacted = len();
        for _ in 0..5 {
            t.block(Vec::new());
        }
        assert_eq!(len(), compacted);
        assert_eq!(t.index.indexed_height().ok(), Some(Some(305)));
        let stray = BlockUpdate::Event(observe(500, 5, &["urn:t:stray"]));
        t.index
            .apply_block(303, &[stray])
            .expect("counted as applied");
        assert_eq!(all(&t.index).len(), 300);
        drop(t.index);
        let index = Index::open(&path).expect("reopen");
        assert_eq!(index.indexed_height().ok(), Some(Some(300)));
        index.apply_block(301, &[]).expect("fed again");
        let late = BlockUpdate::Event(observe(999, 9, &["urn:t:late"]));
        index.apply_block(306, &[late]).expect("next block");
        assert_eq!(index.indexed_height().ok(), Some(Some(306)));
        assert_eq!(all(&index).len(), 301);
    }

    #[test]
    fn event_by_hash_round_trips_every_field() {
        let mut t = TestIndex::new();
        let mut e = aggregate(7, -1_000, "ADD", "urn:t:case", &["urn:t:a", "urn:t:b"]);
        e.biz_step = Some("https://ref.gs1.org/cbv/BizStep-packing".into());
        e.disposition = Some("https://ref.gs1.org/cbv/Disp-in_progress".into());
        e.read_point = Some("https://id.gs1.org/414/9521234000006".into());
        e.biz_location = Some("https://id.gs1.org/414/9521234000013".into());
        e.transformation_id = None;
        e.identifiers
            .push((Role::BizTransaction, "urn:t:po:1".into()));
        e.organisation = "org:packer".into();
        e.height = 1;
        e.block_time_ms = 123;
        t.events(vec![e.clone()]);
        let got = t.index.event(&hash(7)).expect("read").expect("present");
        assert_eq!(got.event, e);
        assert_eq!(got.declared_in_error, None);
        assert!(t.index.event(&hash(8)).expect("read").is_none());
    }

    #[test]
    fn the_hash_event_id_is_recomputed_not_stored() {
        let mut t = TestIndex::new();
        let mut e = observe(3, 1, &["urn:t:a"]);
        e.event_id = tracechain_epcis::hash_id_from_digest(&e.hash);
        t.events(vec![e.clone()]);
        let got = t.index.event(&hash(3)).expect("read").expect("present");
        assert_eq!(got.event_id, e.event_id);
    }

    #[test]
    fn error_declarations_mark_the_original() {
        let mut t = TestIndex::new();
        t.events(vec![
            observe(1, 10, &["urn:t:a"]),
            observe(2, 11, &["urn:t:a"]),
        ]);
        t.block(vec![BlockUpdate::DeclaredInError {
            original: hash(1),
            declaration: hash(2),
        }]);
        let got = t.index.event(&hash(1)).expect("read").expect("present");
        assert_eq!(got.declared_in_error, Some(hash(2)));
        // A second declaration does not replace the first.
        t.block(vec![BlockUpdate::DeclaredInError {
            original: hash(1),
            declaration: hash(9),
        }]);
        let got = t.index.event(&hash(1)).expect("read").expect("present");
        assert_eq!(got.declared_in_error, Some(hash(2)));
        // Declared before it was indexed: marked on arrival.
        t.block(vec![BlockUpdate::DeclaredInError {
            original: hash(5),
            declaration: hash(2),
        }]);
        t.events(vec![observe(5, 12, &["urn:t:b"])]);
        let got = t.index.event(&hash(5)).expect("read").expect("present");
        assert_eq!(got.declared_in_error, Some(hash(2)));
        // Both stay visible to queries.
        assert_eq!(all(&t.index), vec![hash(1), hash(2), hash(5)]);
    }

    #[test]
    fn names_interned_by_a_failed_block_are_forgotten() {
        let t = TestIndex::new();
        let step = |n: u64, step: &str| {
            let mut e = observe(n, n as i64, &[&format!("urn:t:{n}")]);
            e.biz_step = Some(format!("https://ref.gs1.org/cbv/BizStep-{step}"));
            BlockUpdate::Event(e)
        };
        let mut bad = observe(2, 2, &["urn:t:2"]);
        bad.event_type = "NoSuchEvent".into();
        let failed = t
            .index
            .apply_block(1, &[step(1, "shipping"), BlockUpdate::Event(bad)]);
        assert!(failed.is_err());
        // The ids the failed block handed out are handed out again, to
        // other names; "shipping" must not keep the one it had.
        t.index
            .apply_block(1, &[step(3, "receiving")])
            .expect("apply");
        t.index
            .apply_block(2, &[step(1, "shipping")])
            .expect("apply");
        let shipped = t
            .index
            .query(&EventQuery {
                biz_steps: vec!["shipping".into()],
                limit: 10,
                ..EventQuery::default()
            })
            .expect("query");
        let hashes: Vec<[u8; 32]> = shipped.events.iter().map(|e| e.hash).collect();
        assert_eq!(hashes, vec![hash(1)]);
    }

    #[test]
    fn reopening_keeps_everything_and_rebuilding_reproduces_it() {
        let mut t = TestIndex::new();
        let blocks: Vec<(u64, Vec<BlockUpdate>)> = (1..=4)
            .map(|h| {
                (
                    h,
                    vec![
                        BlockUpdate::Event(observe(h * 10, h as i64, &["urn:t:a"])),
                        BlockUpdate::Event(observe(h * 10 + 1, h as i64, &["urn:t:b"])),
                    ],
                )
            })
            .collect();
        for (h, updates) in &blocks {
            t.index.apply_block(*h, updates).expect("apply");
        }
        let before = all(&t.index);
        let path = t.dir.path().join("index.redb");
        drop(std::mem::replace(&mut t.index, {
            let other = t.dir.path().join("other.redb");
            Index::open(other).expect("open other")
        }));
        let reopened = Index::open(&path).expect("reopen");
        assert_eq!(all(&reopened), before);
        assert_eq!(reopened.indexed_height().ok(), Some(Some(4)));
        drop(reopened);
        let rebuilt = Index::rebuild_from(&path, blocks).expect("rebuild");
        assert_eq!(all(&rebuilt), before);
        assert!(rebuilt.stored_bytes().expect("size") > 0);
    }

    #[test]
    fn events_packed_into_pages_read_back_one_by_one() {
        let mut t = TestIndex::new();
        let mut n = 0;
        let mut expected = Vec::new();
        // Blocks of 1 to 40 events, JSON from a few bytes to beyond a page.
        for size in [1usize, 40, 3, 17, 1, 1, 25] {
            let mut updates = Vec::new();
            for _ in 0..size {
                n += 1;
                let mut e = observe(n, n as i64, &["urn:t:a"]);
                e.json = vec![b'x'; (n as usize * 397) % 9_000];
                expected.push(e.clone());
                updates.push(BlockUpdate::Event(e));
            }
            // Declared in error in the block that carries it.
            updates.push(BlockUpdate::DeclaredInError {
                original: hash(n),
                declaration: hash(1),
            });
            t.block(updates);
        }
        for e in &expected {
            let got = t.index.event(&e.hash).expect("read").expect("present");
            assert_eq!(got.event, *e);
        }
        let declared = [1, 41, 44, 61, 62, 63, 88];
        for e in &expected {
            let got = t.index.event(&e.hash).expect("read").expect("present");
            let n = u64::from_be_bytes(e.hash[..8].try_into().expect("8 bytes"));
            assert_eq!(
                got.declared_in_error.is_some(),
                declared.contains(&n),
                "{n}"
            );
        }
        assert_eq!(all(&t.index).len(), expected.len());
    }

    #[test]
    fn full_event_json_pages_are_stored_compressed() {
        let mut t = TestIndex::new();
        let mut raw = 0;
        let mut expected = Vec::new();
        for block in 0..20u64 {
            let mut updates = Vec::new();
            for i in 0..25 {
                let n = block * 25 + i + 1;
                let mut e = observe(n, n as i64, &["urn:t:a"]);
                e.json = format!(
                    r#"{{"type":"ObjectEvent","eventTime":"2026-11-21T10:00:{:02}Z","epcList":["urn:epc:id:sgtin:4023456.000022.{n}"],"action":"ADD","bizStep":"commissioning"}}"#,
                    n % 60
                )
                .into_bytes();
                raw += e.json.len();
                expected.push(e.clone());
                updates.push(BlockUpdate::Event(e));
            }
            t.block(updates);
        }
        let txn = t.index.db().begin_read().expect("read");
        let table = txn.open_table(EVENT_JSON).expect("table");
        let stored: usize = table
            .iter()
            .expect("iter")
            .map(|entry| entry.expect("entry").1.value().len())
            .sum();
        assert!(stored * 3 < raw, "{stored} bytes stored for {raw} raw");
        for e in &expected {
            let got = t.index.event(&e.hash).expect("read").expect("present");
            assert_eq!(got.event.json, e.json);
        }
    }

    #[test]
    fn a_file_of_another_schema_is_refused() {
        let t = TestIndex::new();
        let path = t.dir.path().join("old.redb");
        {
            let db = Database::create(&path).expect("create");
            let txn = db.begin_write().expect("txn");
            txn.open_table(META)
                .expect("meta")
                .insert(META_SCHEMA, 999)
                .expect("insert");
            txn.commit().expect("commit");
        }
        assert!(matches!(
            Index::open(&path),
            Err(IndexError::SchemaMismatch { found: 999, .. })
        ));
    }
}
