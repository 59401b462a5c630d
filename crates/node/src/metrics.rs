//! Node-level Prometheus metrics (served with the runtime's at `/metrics`).

use commonware_runtime::{
    Metrics,
    telemetry::metrics::{Counter, Gauge, MetricsExt as _, histogram::Timed},
};

/// Gauges and counters the application updates as blocks finalize.
#[derive(Clone)]
pub struct NodeMetrics {
    pub finalized_height: Gauge,
    pub finalized_txs: Counter,
    pub proposed_blocks: Counter,
    pub rejected_blocks: Counter,
    pub mempool_txs: Gauge,
    pub mempool_bytes: Gauge,
    /// Where a block's processing goes (glue's `finalize_duration` and
    /// `verify_duration` cover both and the commit around them).
    pub execute_duration: Timed,
    pub merkleize_duration: Timed,
}

impl NodeMetrics {
    pub fn register(context: &impl Metrics) -> Self {
        Self {
            finalized_height: context.gauge(
                "finalized_height",
                "height of the latest applied finalized block",
            ),
            finalized_txs: context
                .counter("finalized_txs", "transactions in applied finalized blocks"),
            proposed_blocks: context.counter("proposed_blocks", "blocks this node proposed"),
            rejected_blocks: context
                .counter("rejected_blocks", "received blocks this node voted against"),
            mempool_txs: context.gauge("mempool_txs", "transactions waiting in the mempool"),
            mempool_bytes: context.gauge(
                "mempool_bytes",
                "bytes of transactions waiting in the mempool",
            ),
            execute_duration: Timed::register(
                context,
                "execute_duration",
                "seconds executing a block's transactions against its parent state",
            ),
            merkleize_duration: Timed::register(
                context,
                "merkleize_duration",
                "seconds computing a block's state and log roots after execution",
            ),
        }
    }
}
