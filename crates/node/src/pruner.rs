//! Drops the state database's history below its inactivity floor.
//!
//! Every operation below the floor is superseded: no key's current value
//! lives there, state proofs are made against the current root only, and a
//! new node replays blocks rather than copying state. Keeping it cost
//! ~1.2 KB of disk per captured event (ADR 0015). The event log is never
//! pruned: it is the history, and log proofs reach back to genesis. Nor
//! is the lookup database: receipts and event records stay current, so
//! almost nothing lies below its floor (ADR 0019).
//!
//! The prune point is the floor recorded in a header `margin_blocks` below
//! the applied tip, never the live floor: after a crash the stateful actor
//! reopens the database at the state of marshal's last processed block,
//! which trails what was applied by up to its pending acknowledgements, and
//! that state must still be whole.

use crate::handle::NodeHandle;
use std::time::Duration;
use tracechain_state::store::StorageContext;
use tracing::{debug, error};

/// When and how far to prune.
#[derive(Clone, Copy, Debug)]
pub struct PrunePolicy {
    /// How often to look.
    pub every: Duration,
    /// Prune to the floor of the block this far below the applied tip.
    pub margin_blocks: u64,
    /// Skip a prune that would advance fewer operations than this (each
    /// one commits and syncs; storage drops whole sections only).
    pub min_step_ops: u64,
}

impl Default for PrunePolicy {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(10),
            // The stateful actor acknowledges at most 16 blocks ahead; a
            // block under load carries thousands of events, so a wider
            // margin would keep much of what pruning is for.
            margin_blocks: 32,
            // One Merkle journal blob; sixteen state journal sections.
            min_step_ops: 65_536,
        }
    }
}

/// Prunes the node's state database for as long as the node runs.
pub async fn run<E: StorageContext + rand_core::CryptoRng>(
    node: NodeHandle<E>,
    policy: PrunePolicy,
) {
    let mut pruned_to = 0;
    loop {
        node.sleep(policy.every).await;
        let Some(floor) = prune_target(&node, policy.margin_blocks).await else {
            continue;
        };
        if floor < pruned_to + policy.min_step_ops {
            continue;
        }
        match node.reader().prune_state(floor).await {
            Ok(at) => {
                debug!(at, "state pruned below its floor");
                pruned_to = at;
            }
            Err(err) => {
                // The database was handed to the prune and did not come
                // back: nothing can be read or applied until a restart.
                error!(%err, "pruning the state database failed; restart the node");
                panic!("pruning the state database failed: {err}");
            }
        }
    }
}

/// The state floor of the block `margin` below the applied tip.
async fn prune_target<E: StorageContext + rand_core::CryptoRng>(
    node: &NodeHandle<E>,
    margin: u64,
) -> Option<u64> {
    let applied = node.finalized().await?.height;
    let height = applied.checked_sub(margin)?;
    Some(node.header_at(height).await?.state_floor)
}
