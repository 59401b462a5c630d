//! Verifies the signatures of submitted transactions in batches.
//!
//! Each API request carries one transaction, but many requests are in
//! flight at once. Instead of one ed25519 verification per request, a
//! single task takes whatever has queued up since its last round and
//! verifies it as one batch (several times cheaper per signature). Under
//! light load a round holds one transaction, so nothing waits for a
//! window to fill.

use commonware_runtime::Spawner;
use futures::channel::oneshot;
use tokio::sync::mpsc;
use tracechain_types::{Transaction, transaction::verify_batch};

/// Most signatures verified in one round.
const MAX_ROUND: usize = 1024;

type Request = (Transaction, oneshot::Sender<(Transaction, bool)>);

/// Queues transactions for batched signature verification. Cheap to clone.
#[derive(Clone)]
pub struct SignatureBatcher {
    queue: mpsc::UnboundedSender<Request>,
}

impl SignatureBatcher {
    /// Starts the verifying task.
    pub fn start<E: Spawner + rand_core::CryptoRng>(context: E) -> Self {
        let (queue, requests) = mpsc::unbounded_channel();
        context.spawn(move |context| verify_rounds(context, requests));
        Self { queue }
    }

    /// Hands `tx` back with whether its signature verifies, or `None` if
    /// the node is stopping.
    pub async fn verify(&self, tx: Transaction) -> Option<(Transaction, bool)> {
        let (reply, verdict) = oneshot::channel();
        self.queue.send((tx, reply)).ok()?;
        verdict.await.ok()
    }
}

async fn verify_rounds<E: rand_core::CryptoRng>(
    mut rng: E,
    mut requests: mpsc::UnboundedReceiver<Request>,
) {
    let mut round = Vec::with_capacity(MAX_ROUND);
    while requests.recv_many(&mut round, MAX_ROUND).await > 0 {
        let txs: Vec<&Transaction> = round.iter().map(|(tx, _)| tx).collect();
        // Randomness from the runtime: the batch's coefficients must be
        // unpredictable to whoever sent the transactions.
        let invalid = verify_batch(&txs, &mut rng);
        for (index, (tx, reply)) in round.drain(..).enumerate() {
            // A requester that gave up does not need the answer.
            let _ = reply.send((tx, !invalid.contains(&index)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mempool::tests::tx as signed;
    use commonware_runtime::{Runner, Supervisor, deterministic};

    #[test]
    fn concurrent_requests_get_their_own_verdicts() {
        deterministic::Runner::default().start(|context| async move {
            let batcher = SignatureBatcher::start(context.child("signatures"));
            let forged = signed(1, 0).with_signature(signed(1, 1).signature().clone());
            let mut pending = Vec::new();
            for nonce in 0..20 {
                let tx = if nonce == 7 {
                    forged.clone()
                } else {
                    signed(2, nonce)
                };
                let batcher = batcher.clone();
                pending.push(
                    context
                        .child("request")
                        .spawn(move |_| async move { batcher.verify(tx).await }),
                );
            }
            for (nonce, handle) in pending.into_iter().enumerate() {
                let (tx, ok) = handle.await.expect("task").expect("verdict");
                assert_eq!(ok, nonce != 7, "nonce {nonce}");
                if nonce != 7 {
                    assert_eq!(tx.nonce(), nonce as u64);
                }
            }
        });
    }
}
