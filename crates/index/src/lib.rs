//! tracechain's query index: derived, rebuildable data over finalized EPCIS
//! events, in one redb file next to the node (ARCHITECTURE decision 5).
//!
//! The node feeds [`Index::apply_block`] each finalized block's
//! [`BlockUpdate`]s in height order; the block's data and its height commit
//! in one transaction, so after a crash re-feeding the same height is a
//! no-op. Nothing here is consensus-critical: delete the file and re-feed
//! the blocks ([`Index::rebuild_from`]) to rebuild it.
//!
//! Reads: [`Index::event`], paged EPCIS-style [`Index::query`],
//! [`Index::trace`] back/forward as a graph, and recall support
//! ([`Index::affected`], [`Index::recalls_of`]).

mod canon;
mod codec;
mod error;
mod from_epcis;
mod graph;
mod index;
mod model;
mod pages;
mod query;
mod runs;
mod schema;
mod snapshot;
mod time_runs;
mod trace;
mod write;

#[cfg(test)]
mod testkit;

pub use error::IndexError;
pub use index::{Compaction, DEFAULT_CACHE_BYTES, Index};
pub use model::{BlockUpdate, EventMeta, IndexedEvent, Recall, Role, StoredEvent};
pub use query::{EventPage, EventQuery, MAX_LIMIT};
pub use trace::{Direction, EdgeKind, Trace, TraceEdge, TraceNode};
