//! tracechain nodes catch up by replaying finalized blocks (marshal
//! backfill), never by downloading state: every node re-executes and
//! re-checks every block, and the state database stores variable-size
//! values, which the QMDB state-sync transport does not carry (docs/adr/0002).
//! `stateful` still wants a resolver per database; this one serves nothing.

use commonware_glue::stateful::db::{AttachableResolver, Shared};
use commonware_storage::qmdb::sync::{
    Database,
    source::{self, Request, Source},
};
use std::marker::PhantomData;

/// A state-sync source and resolver that never serves.
pub struct NoStateSync<DB>(PhantomData<fn() -> DB>);

impl<DB> NoStateSync<DB> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<DB> Default for NoStateSync<DB> {
    fn default() -> Self {
        Self::new()
    }
}

impl<DB> Clone for NoStateSync<DB> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("this node does not serve state sync")]
pub struct StateSyncUnsupported;

impl<DB: Database> Source for NoStateSync<DB> {
    type Family = DB::Family;
    type Digest = DB::Digest;
    type Op = DB::Op;
    type Error = StateSyncUnsupported;

    async fn serve(&self, _request: Request<Self::Family>) -> source::Result<Self> {
        Err(StateSyncUnsupported)
    }
}

impl<DB: Send + Sync + 'static> AttachableResolver<DB> for NoStateSync<DB> {
    async fn attach_database(&self, _db: Shared<DB>) {}
}
