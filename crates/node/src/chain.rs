//! What the rest of the node (API, tests, tools) learns about finalized
//! blocks as they are applied.

use commonware_codec::EncodeSize;
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard},
};
use tokio::sync::watch;
use tracechain_types::{Block, Digest, Header, recent::Recent};

/// The latest finalized and applied block.
#[derive(Clone, Debug)]
pub struct Finalized {
    pub height: u64,
    pub digest: Digest,
    pub header: Header,
}

/// The latest applied finalized block, for the node's followers (API,
/// indexer, feeds), which read blocks by height as it moves.
#[derive(Clone)]
pub struct ChainEvents {
    latest: watch::Sender<Option<Finalized>>,
    recent: Arc<Mutex<RecentBlocks>>,
    /// Positions of the failed transactions of recently finalized blocks
    /// that this node executed, by height.
    failed_at: Arc<Recent<u64, Arc<[u32]>>>,
}

impl Default for ChainEvents {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainEvents {
    pub fn new() -> Self {
        let (latest, _) = watch::channel(None);
        Self {
            latest,
            recent: Arc::default(),
            failed_at: Arc::new(Recent::new(FAILURES_KEPT)),
        }
    }

    /// Called by the application once a block's state is applied, with the
    /// positions of its failed transactions if this node executed it. A
    /// block can be re-delivered after a crash; older heights are ignored.
    pub fn finalized(&self, block: &Block, failed_at: Option<Arc<[u32]>>) {
        let height = block.header.height;
        let newer = self
            .latest
            .borrow()
            .as_ref()
            .is_none_or(|current| current.height < height);
        if !newer {
            return;
        }
        self.lock_recent().push(block);
        if let Some(failed_at) = failed_at {
            self.failed_at.insert(height, failed_at);
        }
        self.latest.send_replace(Some(Finalized {
            height,
            digest: block.header.digest(),
            header: block.header.clone(),
        }));
    }

    /// The latest applied finalized block, if any since start.
    pub fn latest(&self) -> Option<Finalized> {
        self.latest.borrow().clone()
    }

    /// Watches the latest finalized block.
    pub fn watch(&self) -> watch::Receiver<Option<Finalized>> {
        self.latest.subscribe()
    }

    /// Whether the transaction at `index` of the finalized block at
    /// `height` was applied, when this node executed that block lately;
    /// `None`: ask its receipt.
    pub fn applied(&self, height: u64, index: usize) -> Option<bool> {
        let failed_at = self.failed_at.get(&height)?;
        let index = u32::try_from(index).ok()?;
        Some(failed_at.binary_search(&index).is_err())
    }

    /// A block finalized lately, if it is still kept.
    pub fn recent_block(&self, height: u64) -> Option<Arc<Block>> {
        self.lock_recent().get(height)
    }

    fn lock_recent(&self) -> MutexGuard<'_, RecentBlocks> {
        // The ring holds plain values; a panic elsewhere leaves it usable.
        self.recent
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// Finalized blocks whose failed transactions are remembered (a few bytes
/// each): further back than any follower reads at once.
const FAILURES_KEPT: usize = 1024;

/// Bytes of finalized blocks kept in memory for the node's followers.
const RECENT_BLOCK_BYTES: usize = 8 * 1024 * 1024;

/// The latest finalized blocks, consecutive by height, up to
/// `RECENT_BLOCK_BYTES`. Each follower (indexer, document replicator, the
/// API's block view, feeds) reads every new block once; reading it from
/// marshal means decompressing and decoding it, hashing every transaction
/// again, once per follower (4 % of a loaded validator, BENCHMARKS.md).
/// Keeping one copy made at finality is cheaper than any one of those.
#[derive(Default)]
struct RecentBlocks {
    blocks: VecDeque<(Arc<Block>, usize)>,
    bytes: usize,
}

impl RecentBlocks {
    fn push(&mut self, block: &Block) {
        let height = block.header.height;
        let follows = self
            .blocks
            .back()
            .is_some_and(|(last, _)| last.header.height + 1 == height);
        if !follows {
            self.blocks.clear();
            self.bytes = 0;
        }
        let size: usize = block.txs.iter().map(EncodeSize::encode_size).sum();
        self.blocks.push_back((Arc::new(block.clone()), size));
        self.bytes += size;
        while self.bytes > RECENT_BLOCK_BYTES && self.blocks.len() > 1 {
            if let Some((_, dropped)) = self.blocks.pop_front() {
                self.bytes -= dropped;
            }
        }
    }

    fn get(&self, height: u64) -> Option<Arc<Block>> {
        let first = self.blocks.front()?.0.header.height;
        let offset = usize::try_from(height.checked_sub(first)?).ok()?;
        self.blocks.get(offset).map(|(block, _)| block.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_consensus::{
        simplex::types::Context,
        types::{Round, View},
    };
    use commonware_cryptography::{Signer as _, ed25519::PrivateKey};

    fn empty_block_at(height: u64) -> Block {
        let zero = tracechain_types::hash(&[]);
        let header = Header {
            context: Context {
                round: Round::zero(),
                leader: PrivateKey::from_seed(0).public_key(),
                parent: (View::zero(), zero),
            },
            height,
            parent: zero,
            timestamp_ms: height,
            tx_root: zero,
            tx_count: 0,
            state_root: zero,
            state_ops_root: zero,
            state_floor: 0,
            state_size: 0,
            log_root: zero,
            log_floor: 0,
            log_size: 0,
            lookup_root: zero,
            lookup_floor: 0,
            lookup_size: 0,
        };
        Block {
            header,
            txs: Vec::new(),
        }
    }

    #[test]
    fn recent_blocks_are_read_by_height_and_a_gap_starts_over() {
        let events = ChainEvents::new();
        for height in 1..=3 {
            events.finalized(&empty_block_at(height), None);
        }
        assert_eq!(events.recent_block(2).map(|b| b.header.height), Some(2));
        assert!(events.recent_block(4).is_none());
        events.finalized(&empty_block_at(5), Some(vec![1, 4].into()));
        assert!(
            events.recent_block(3).is_none(),
            "a gap drops the older run"
        );
        assert_eq!(events.recent_block(5).map(|b| b.header.height), Some(5));
        assert_eq!(events.applied(5, 0), Some(true));
        assert_eq!(events.applied(5, 4), Some(false));
        assert_eq!(
            events.applied(3, 0),
            None,
            "not executed here: ask the receipt"
        );
    }
}
