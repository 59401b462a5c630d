//! A tracechain node: the mempool, transaction gossip, the block-level
//! application, and the wiring of commonware's simplex, marshal and
//! stateful actors (generic over runtime and network so the same code runs
//! in production and in deterministic simulation).

pub mod application;
pub mod chain;
pub mod documents;
pub mod engine;
pub mod feed;
pub mod gossip;
pub mod handle;
pub mod indexer;
pub mod mempool;
pub mod metrics;
pub mod p2p;
pub mod proofs;
pub mod pruner;
pub mod reader;
pub mod signatures;
pub mod statesync;

pub use application::{App, BlockPolicy};
pub use chain::{ChainEvents, Finalized};
pub use engine::{ChainSpec, EngineConfig, Started};
pub use handle::{NodeHandle, SubmitError, TxStatus};
pub use mempool::{Mempool, MempoolConfig, MempoolError};
