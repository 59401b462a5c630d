//! One handle on a running node: what the API, the CLI's tools and the
//! tests ask of it.

use crate::{
    application::now_ms,
    chain::{ChainEvents, Finalized},
    engine::{Marshal, Started},
    gossip::TxGossip,
    mempool::{Mempool, MempoolError},
    reader::StateReader,
    signatures::SignatureBatcher,
};
use commonware_codec::EncodeSize;
use commonware_consensus::{simplex::types::Finalization, types::Height};
use std::sync::Arc;
use tracechain_executor::{AdmissionError, check_admission};
use tracechain_state::{records, store::StorageContext};
use tracechain_types::{
    Block, Digest, Header, Outcome, Payload, PublicKey, Receipt, Transaction, recent::Recent,
};

/// A finality certificate over a block digest.
pub type FinalityCertificate =
    Finalization<commonware_consensus::simplex::scheme::ed25519::Scheme, Digest>;

/// Why a submitted transaction was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("signature does not verify against the sender key")]
    BadSignature,
    #[error(transparent)]
    Admission(#[from] AdmissionError),
    #[error(transparent)]
    Mempool(#[from] MempoolError),
    /// A capture whose document is not valid EPCIS 2.0 never reaches a
    /// block.
    #[error("invalid EPCIS document: {0}")]
    InvalidDocument(String),
    #[error("the node is stopping")]
    Stopping,
}

/// Where a transaction is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxStatus {
    Pending,
    Executed(Receipt),
    Unknown,
}

/// A running node. Cheap to clone.
pub struct NodeHandle<E: StorageContext + rand_core::CryptoRng>(Arc<Inner<E>>);

pub struct Inner<E: StorageContext + rand_core::CryptoRng> {
    context: E,
    chain_id: String,
    validators: Vec<PublicKey>,
    mempool: Mempool,
    gossip: TxGossip,
    signatures: SignatureBatcher,
    events: ChainEvents,
    marshal: Marshal,
    reader: StateReader<E>,
    index: Option<Arc<tracechain_index::Index>>,
    /// Finalized headers recently read. A proof needs the headers around
    /// its event (its block's log bounds, the anchor, the block whose state
    /// root matches), but marshal returns whole blocks: decompressing and
    /// decoding a block of thousands of captures for its header made a
    /// verification with proof take 12 ms. Finalized headers never change.
    headers: Recent<u64, Header>,
}

/// Headers kept (a few hundred bytes each).
const HEADERS_KEPT: usize = 8_192;

impl<E: StorageContext + rand_core::CryptoRng> Clone for NodeHandle<E> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<E: StorageContext + rand_core::CryptoRng> std::ops::Deref for NodeHandle<E> {
    type Target = Inner<E>;
    fn deref(&self) -> &Inner<E> {
        &self.0
    }
}

impl<E: StorageContext + rand_core::CryptoRng> NodeHandle<E> {
    /// Waits for the node's databases to open, then returns the handle.
    /// `index` is the query index the node keeps (none in simulations).
    pub async fn new(
        context: E,
        chain_id: String,
        started: &Started<E>,
        index: Option<Arc<tracechain_index::Index>>,
    ) -> Self {
        let databases = started.stateful.subscribe_databases().await;
        let signatures = SignatureBatcher::start(context.child("signatures"));
        Self(Arc::new(Inner {
            context,
            signatures,
            chain_id,
            validators: started.validators.clone(),
            mempool: started.mempool.clone(),
            gossip: started.gossip.clone(),
            events: started.events.clone(),
            marshal: started.marshal.clone(),
            reader: StateReader::new(databases),
            index,
            headers: Recent::new(HEADERS_KEPT),
        }))
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    pub fn validators(&self) -> &[PublicKey] {
        &self.validators
    }

    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }

    pub fn events(&self) -> &ChainEvents {
        &self.events
    }

    pub fn reader(&self) -> &StateReader<E> {
        &self.reader
    }

    /// The query index, when this node keeps one.
    pub fn index(&self) -> Option<&Arc<tracechain_index::Index>> {
        self.index.as_ref()
    }

    /// Verifies and admits a transaction, then spreads it to the other
    /// validators. Returns its id.
    pub async fn submit(&self, tx: Transaction) -> Result<Digest, SubmitError> {
        // Parsed once per process: a caller that parsed it already (the
        // capture route) costs a cache lookup here.
        if let Payload::Capture { .. } = tx.payload() {
            tracechain_executor::capture::capture_events(&tx)
                .map_err(|failure| SubmitError::InvalidDocument(failure.reason))?;
        }
        let tx = match self.signatures.verify(tx).await {
            Some((tx, true)) => tx,
            Some((_, false)) => return Err(SubmitError::BadSignature),
            None => return Err(SubmitError::Stopping),
        };
        check_admission(&self.reader, &self.chain_id, &tx).await?;
        let id = tx.id();
        self.mempool
            .insert(tx.clone(), tx.encode_size(), now_ms(&self.context))?;
        self.gossip.broadcast(tx);
        Ok(id)
    }

    /// Pending, executed (with its receipt) or unknown.
    pub async fn tx_status(&self, id: &Digest) -> Result<TxStatus, records::RecordError> {
        if let Some(receipt) = records::receipt(&self.reader, id).await? {
            return Ok(TxStatus::Executed(receipt));
        }
        if self.mempool.contains(id) {
            return Ok(TxStatus::Pending);
        }
        Ok(TxStatus::Unknown)
    }

    /// The latest finalized block this node has applied.
    pub async fn finalized(&self) -> Option<Finalized> {
        if let Some(latest) = self.events.latest() {
            return Some(latest);
        }
        // Right after a restart nothing new was applied yet: ask marshal.
        let processed = self.marshal.get_processed().await?;
        let block = self.block(processed.height().get()).await?;
        Some(Finalized {
            height: block.header.height,
            digest: block.header.digest(),
            header: block.header.clone(),
        })
    }

    /// A transaction by id: pending in the mempool, or from the finalized
    /// block its receipt names.
    pub async fn find_transaction(
        &self,
        id: &Digest,
    ) -> Result<Option<(Transaction, Option<Receipt>)>, records::RecordError> {
        if let Some(receipt) = records::receipt(&self.reader, id).await? {
            let tx = self
                .block(receipt.height)
                .await
                .and_then(|block| block.txs.get(receipt.index as usize).cloned());
            return Ok(tx.map(|tx| (tx, Some(receipt))));
        }
        Ok(self.mempool.get(id).map(|tx| (tx, None)))
    }

    /// The highest finalized height this node knows of (it may still be
    /// applying the blocks up to it).
    pub async fn finalized_tip(&self) -> Option<u64> {
        use commonware_consensus::marshal::Identifier;
        let (height, _) = self.marshal.get_info(Identifier::Latest).await?;
        Some(height.get())
    }

    /// Whether the transaction at `index` of the finalized `block` was
    /// applied: from this node's own execution of the block when it did it
    /// lately, else from the transaction's receipt.
    pub async fn applied_in(
        &self,
        block: &Block,
        index: usize,
    ) -> Result<bool, records::RecordError> {
        if let Some(applied) = self.events.applied(block.header.height, index) {
            return Ok(applied);
        }
        let Some(tx) = block.txs.get(index) else {
            return Ok(false);
        };
        Ok(records::receipt(&self.reader, &tx.id())
            .await?
            .is_some_and(|r| r.outcome == Outcome::Applied))
    }

    /// A finalized block by height.
    pub async fn block(&self, height: u64) -> Option<Arc<Block>> {
        if let Some(block) = self.events.recent_block(height) {
            return Some(block);
        }
        let block = self.marshal.get_block(Height::new(height)).await?;
        let block = block.inner_shared();
        self.headers.insert(height, block.header.clone());
        Some(block)
    }

    /// A finalized block's header by height, without reading the block
    /// again when it was read recently.
    pub async fn header_at(&self, height: u64) -> Option<Header> {
        if let Some(header) = self.headers.get(&height) {
            return Some(header);
        }
        Some(self.block(height).await?.header.clone())
    }

    /// The finality certificate of the block at `height`.
    pub async fn certificate(&self, height: u64) -> Option<FinalityCertificate> {
        self.marshal.get_finalization(Height::new(height)).await
    }

    /// Milliseconds since the Unix epoch on the node's clock.
    pub fn now_ms(&self) -> u64 {
        now_ms(&self.context)
    }

    /// Sleeps on the node's clock.
    pub async fn sleep(&self, duration: std::time::Duration) {
        self.context.sleep(duration).await;
    }
}
