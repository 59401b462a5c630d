//! Spreads submitted transactions to every validator's mempool.
//!
//! Transactions are sent in batches (one p2p message per few milliseconds
//! instead of one per transaction). A received batch is decoded with size
//! limits and batch-verified before anything enters the mempool, so a bad
//! signature stops at the first honest node.

use crate::{application::now_ms, mempool::Mempool};
use commonware_codec::{Encode, EncodeSize, RangeCfg, Read};
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Spawner};
use std::time::Duration;
use tokio::sync::mpsc;
use tracechain_types::{
    PublicKey, Transaction,
    transaction::{MAX_TX_BYTES, verify_batch},
};
use tracing::{debug, warn};

/// Most transactions in one gossip message.
pub const MAX_BATCH_TXS: usize = 4096;
/// Most bytes in one gossip message.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// How long outgoing transactions wait to be batched together. Longer
/// windows mean fewer p2p messages and larger signature batches at the
/// receivers (batch verification gets cheaper per signature with size);
/// 25 ms is small next to a block interval.
const BATCH_WINDOW: Duration = Duration::from_millis(25);
/// How often expired transactions are dropped from the mempool.
const EXPIRY_EVERY: Duration = Duration::from_secs(5);

/// Queues verified transactions for broadcast to the other validators.
#[derive(Clone)]
pub struct TxGossip {
    outbound: mpsc::UnboundedSender<Transaction>,
}

impl TxGossip {
    /// Queues `tx` for broadcast. Never blocks.
    pub fn broadcast(&self, tx: Transaction) {
        // The outbound task only stops with the node.
        let _ = self.outbound.send(tx);
    }
}

/// Starts the outbound and inbound gossip tasks.
pub fn start<E, S, R>(context: E, mempool: Mempool, chain_id: String, channel: (S, R)) -> TxGossip
where
    E: Spawner + Clock + rand_core::CryptoRng,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
{
    let (sender, receiver) = channel;
    let (outbound, queue) = mpsc::unbounded_channel();
    context
        .child("outbound")
        .spawn(move |context| send_batches(context, sender, queue));
    let inbound_pool = mempool.clone();
    context
        .child("inbound")
        .spawn(move |context| receive_batches(context, receiver, inbound_pool, chain_id));
    context
        .child("expiry")
        .spawn(move |context| expire(context, mempool));
    TxGossip { outbound }
}

async fn send_batches<E: Clock, S: Sender<PublicKey = PublicKey>>(
    context: E,
    mut sender: S,
    mut queue: mpsc::UnboundedReceiver<Transaction>,
) {
    while let Some(first) = queue.recv().await {
        context.sleep(BATCH_WINDOW).await;
        let mut batch = vec![first];
        let mut bytes = batch[0].encode_size();
        while batch.len() < MAX_BATCH_TXS && bytes < MAX_BATCH_BYTES - MAX_TX_BYTES {
            match queue.try_recv() {
                Ok(tx) => {
                    bytes += tx.encode_size();
                    batch.push(tx);
                }
                Err(_) => break,
            }
        }
        // A peer that is offline misses the batch; the others still include
        // the transactions, so nothing is lost.
        sender.send(Recipients::All, batch.encode(), false);
    }
}

async fn receive_batches<E, R>(mut context: E, mut receiver: R, mempool: Mempool, chain_id: String)
where
    E: Clock + rand_core::CryptoRng,
    R: Receiver<PublicKey = PublicKey>,
{
    loop {
        let Ok((peer, message)) = receiver.recv().await else {
            return;
        };
        let cfg = (RangeCfg::new(1..=MAX_BATCH_TXS), ());
        let txs = match Vec::<Transaction>::read_cfg(&mut message.clone(), &cfg) {
            Ok(txs) => txs,
            Err(err) => {
                warn!(?peer, %err, "undecodable transaction batch");
                continue;
            }
        };
        let fresh: Vec<&Transaction> = txs
            .iter()
            .filter(|tx| tx.chain_id() == chain_id && !mempool.contains(&tx.id()))
            .collect();
        let invalid = verify_batch(&fresh, &mut context);
        if !invalid.is_empty() {
            warn!(
                ?peer,
                count = invalid.len(),
                "peer sent transactions with bad signatures"
            );
        }
        let now = now_ms(&context);
        let mut added = 0;
        for (index, tx) in fresh.into_iter().enumerate() {
            if invalid.contains(&index) {
                continue;
            }
            if mempool.insert(tx.clone(), tx.encode_size(), now).is_ok() {
                added += 1;
            }
        }
        debug!(?peer, received = txs.len(), added, "transaction batch");
    }
}

async fn expire<E: Clock>(context: E, mempool: Mempool) {
    loop {
        context.sleep(EXPIRY_EVERY).await;
        let dropped = mempool.expire(now_ms(&context));
        if dropped > 0 {
            debug!(dropped, "expired transactions");
        }
    }
}
