//! A runtime context whose storage leaves file data in the kernel's page
//! cache.
//!
//! commonware's storage keeps its own page cache and asks the kernel not to
//! cache what passes through it: a miss is read with `O_DIRECT` and writes
//! carry `RWF_DONTCACHE`. Every miss of that (bounded, resident) cache is
//! then a device read. [`KernelCached`] wraps a context and drops those
//! hints, so a miss is served from the kernel's page cache — memory that is
//! not the process's, that the kernel reclaims under pressure, and that
//! holds the recently written state a validator reads back (ADR 0017).
//!
//! Reads the kernel has cached are made on the calling thread rather than
//! through tokio's blocking pool (see `direct`), when the context is told
//! where the runtime keeps its files.
//!
//! Everything except storage is passed through unchanged.

mod blob;
mod context;
mod direct;

pub use blob::KernelCachedBlob;
pub use context::KernelCached;
