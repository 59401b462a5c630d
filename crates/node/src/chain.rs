//! What the rest of the node (API, tests, tools) learns about finalized
//! blocks as they are applied.

use commonware_codec::EncodeSize;
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard},
};
use tokio::sync::watch;
use tracechain_types::{Block, Digest, Header};

/// The latest finalized and applied block.
#[derive(Clone, Debug)]
pub struct Finalized {
    pub height: u64,
    pub digest: Digest,
    pub header: Header,
}

/// Encoded bytes of applied blocks kept for the node's followers.
const APPLIED_BLOCKS_BYTES: usize = 24 * 1024 * 1024;

/// The latest applied finalized block, and the few before it.
#[derive(Clone)]
pub struct ChainEvents {
    latest: watch::Sender<Option<Finalized>>,
    applied: Arc<AppliedBlocks>,
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
            applied: Arc::new(AppliedBlocks::new(APPLIED_BLOCKS_BYTES)),
        }
    }

    /// Called by the application once a block's state is applied. A block
    /// can be re-delivered after a crash; older heights are ignored.
    pub fn finalized(&self, block: &Block) {
        let height = block.header.height;
        let newer = self
            .latest
            .borrow()
            .as_ref()
            .is_none_or(|current| current.height < height);
        if !newer {
            return;
        }
        self.applied.push(Arc::new(block.clone()));
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

    /// The finalized block at `height` if it was applied recently.
    pub fn applied_block(&self, height: u64) -> Option<Arc<Block>> {
        self.applied.get(height)
    }
}

/// Blocks just applied, newest last, up to a byte bound (the newest is
/// always kept). The indexer, the document replicator and the event feed
/// each read every block right after it is applied; reading it back from
/// marshal decompresses and decodes it inside marshal's actor — the one
/// that hands the chain its next block — once per follower.
struct AppliedBlocks {
    bound: usize,
    inner: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    blocks: VecDeque<(Arc<Block>, usize)>,
    bytes: usize,
}

impl AppliedBlocks {
    fn new(bound: usize) -> Self {
        Self {
            bound,
            inner: Mutex::new(Kept::default()),
        }
    }

    fn push(&self, block: Arc<Block>) {
        let size = block.encode_size();
        let mut kept = self.lock();
        kept.bytes += size;
        kept.blocks.push_back((block, size));
        while kept.bytes > self.bound && kept.blocks.len() > 1 {
            if let Some((_, size)) = kept.blocks.pop_front() {
                kept.bytes -= size;
            }
        }
    }

    fn get(&self, height: u64) -> Option<Arc<Block>> {
        let kept = self.lock();
        // Applied in height order: the block sits `newest - height` from the back.
        let (newest, _) = kept.blocks.back()?;
        let back = newest.header.height.checked_sub(height)?;
        let index = kept
            .blocks
            .len()
            .checked_sub(1 + usize::try_from(back).ok()?)?;
        let (block, _) = kept.blocks.get(index)?;
        (block.header.height == height).then(|| block.clone())
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        // Plain values: a panic elsewhere leaves them usable.
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_consensus::types::{Epoch, Round, View};
    use commonware_cryptography::{Signer, ed25519};
    use tracechain_types::{block::BlockContext, hash};

    fn block_at(height: u64) -> Block {
        let header = Header {
            context: BlockContext {
                round: Round::new(Epoch::zero(), View::new(height)),
                leader: ed25519::PrivateKey::from_seed(1).public_key(),
                parent: (View::new(height.saturating_sub(1)), hash(b"parent")),
            },
            height,
            parent: hash(b"parent"),
            timestamp_ms: 1_700_000_000_000 + height,
            tx_root: hash(b"txs"),
            tx_count: 0,
            state_root: hash(b"state"),
            state_ops_root: hash(b"ops"),
            state_floor: 0,
            state_size: 0,
            log_root: hash(b"log"),
            log_floor: 0,
            log_size: 0,
        };
        Block {
            header,
            txs: Vec::new(),
        }
    }

    #[test]
    fn keeps_the_newest_blocks_within_the_bound() {
        let one = block_at(1).encode_size();
        let applied = AppliedBlocks::new(3 * one);
        for height in 1..=5 {
            applied.push(Arc::new(block_at(height)));
        }
        assert!(applied.get(2).is_none());
        for height in 3..=5 {
            let block = applied.get(height).expect("kept");
            assert_eq!(block.header.height, height);
        }
        assert!(applied.get(6).is_none());
        assert!(applied.get(0).is_none());
    }

    #[test]
    fn the_newest_block_stays_even_when_larger_than_the_bound() {
        let applied = AppliedBlocks::new(1);
        applied.push(Arc::new(block_at(7)));
        applied.push(Arc::new(block_at(8)));
        assert!(applied.get(7).is_none());
        assert_eq!(applied.get(8).map(|b| b.header.height), Some(8));
    }

    #[test]
    fn a_gap_after_a_restart_is_not_mistaken_for_another_height() {
        let applied = AppliedBlocks::new(usize::MAX);
        applied.push(Arc::new(block_at(3)));
        applied.push(Arc::new(block_at(10)));
        assert_eq!(applied.get(3).map(|b| b.header.height), None);
        assert_eq!(applied.get(10).map(|b| b.header.height), Some(10));
    }
}
