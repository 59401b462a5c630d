//! What the rest of the node (API, tests, tools) learns about finalized
//! blocks as they are applied.

use tokio::sync::watch;
use tracechain_types::{Block, Digest, Header};

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
}

impl Default for ChainEvents {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainEvents {
    pub fn new() -> Self {
        let (latest, _) = watch::channel(None);
        Self { latest }
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
}
