//! The pool of signed transactions waiting for a block.
//!
//! Only transactions whose signature was verified enter the pool, so a
//! proposer can include them and a validator can skip re-verifying them.
//! The pool is bounded by count and bytes, keeps one transaction per
//! (sender, nonce), hands them out per sender in nonce order, and forgets
//! them once included, superseded by a higher on-chain nonce, or expired.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, MutexGuard},
};
use tracechain_types::{Digest, PublicKey, Transaction};

#[derive(Clone, Copy, Debug)]
pub struct MempoolConfig {
    pub max_txs: usize,
    pub max_bytes: usize,
    /// How long a transaction may wait before it is dropped.
    pub ttl_ms: u64,
    /// Most transactions one sender may have waiting.
    pub max_per_sender: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            max_txs: 200_000,
            max_bytes: 256 * 1024 * 1024,
            ttl_ms: 10 * 60 * 1000,
            max_per_sender: 1024,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MempoolError {
    #[error("transaction is already pending")]
    Duplicate,
    #[error("sender already has a different pending transaction with nonce {0}")]
    NonceTaken(u64),
    #[error("mempool is full ({0}); retry later")]
    Full(&'static str),
    #[error("sender has too many pending transactions")]
    SenderLimit,
}

struct Entry {
    tx: Transaction,
    size: usize,
    inserted_ms: u64,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<Digest, (PublicKey, u64)>,
    by_sender: BTreeMap<PublicKey, BTreeMap<u64, Entry>>,
    bytes: usize,
    /// Rotates the sender a proposal starts with, so no sender starves others.
    cursor: Option<PublicKey>,
}

/// A shared, thread-safe mempool.
#[derive(Clone)]
pub struct Mempool {
    config: MempoolConfig,
    inner: Arc<Mutex<Inner>>,
}

impl Mempool {
    pub fn new(config: MempoolConfig) -> Self {
        Self {
            config,
            inner: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep going.
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Adds a transaction whose signature has been verified.
    pub fn insert(&self, tx: Transaction, size: usize, now_ms: u64) -> Result<(), MempoolError> {
        let mut inner = self.lock();
        if inner.by_id.contains_key(&tx.id()) {
            return Err(MempoolError::Duplicate);
        }
        let queue = inner.by_sender.get(tx.sender());
        if let Some(queue) = queue {
            if queue.contains_key(&tx.nonce()) {
                return Err(MempoolError::NonceTaken(tx.nonce()));
            }
            if queue.len() >= self.config.max_per_sender {
                return Err(MempoolError::SenderLimit);
            }
        }
        if inner.by_id.len() >= self.config.max_txs {
            return Err(MempoolError::Full("transaction count"));
        }
        if inner.bytes + size > self.config.max_bytes {
            return Err(MempoolError::Full("bytes"));
        }
        inner.bytes += size;
        inner
            .by_id
            .insert(tx.id(), (tx.sender().clone(), tx.nonce()));
        inner
            .by_sender
            .entry(tx.sender().clone())
            .or_default()
            .insert(
                tx.nonce(),
                Entry {
                    tx,
                    size,
                    inserted_ms: now_ms,
                },
            );
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    pub fn contains(&self, id: &Digest) -> bool {
        self.lock().by_id.contains_key(id)
    }

    /// The nonce a sender's next transaction should carry, given its next
    /// nonce on chain: past every consecutive nonce already pending.
    pub fn next_nonce(&self, sender: &PublicKey, on_chain: u64) -> u64 {
        let inner = self.lock();
        let Some(queue) = inner.by_sender.get(sender) else {
            return on_chain;
        };
        let mut next = on_chain;
        while queue.contains_key(&next) {
            next += 1;
        }
        next
    }

    /// A pending transaction by id.
    pub fn get(&self, id: &Digest) -> Option<Transaction> {
        let inner = self.lock();
        let (sender, nonce) = inner.by_id.get(id)?;
        inner
            .by_sender
            .get(sender)
            .and_then(|queue| queue.get(nonce))
            .map(|entry| entry.tx.clone())
    }

    /// True when `tx` (same id and signature) was verified on its way in.
    pub fn is_verified(&self, tx: &Transaction) -> bool {
        let inner = self.lock();
        let Some((sender, nonce)) = inner.by_id.get(&tx.id()) else {
            return false;
        };
        inner
            .by_sender
            .get(sender)
            .and_then(|queue| queue.get(nonce))
            .is_some_and(|entry| entry.tx.signature() == tx.signature())
    }

    /// Transactions for a proposal: per sender in nonce order, senders in
    /// rotating order, within the count and byte budgets.
    pub fn candidates(&self, max_txs: usize, max_bytes: usize) -> Vec<Transaction> {
        let mut inner = self.lock();
        let start = inner.cursor.clone();
        let senders: Vec<&PublicKey> = match &start {
            Some(cursor) => inner
                .by_sender
                .range(cursor..)
                .chain(inner.by_sender.range(..cursor))
                .map(|(sender, _)| sender)
                .collect(),
            None => inner.by_sender.keys().collect(),
        };
        let mut picked = Vec::new();
        let mut bytes = 0;
        let mut next_cursor = None;
        'senders: for sender in senders {
            let Some(queue) = inner.by_sender.get(sender) else {
                continue;
            };
            let mut expected = None;
            for (nonce, entry) in queue {
                // Only a run of consecutive nonces can all apply in one block.
                if expected.is_some_and(|e| e != *nonce) {
                    break;
                }
                if picked.len() >= max_txs || bytes + entry.size > max_bytes {
                    next_cursor = Some(sender.clone());
                    break 'senders;
                }
                bytes += entry.size;
                picked.push(entry.tx.clone());
                expected = Some(nonce + 1);
            }
        }
        inner.cursor = next_cursor;
        picked
    }

    /// Forgets transactions a finalized block included, and every pending
    /// transaction of those senders with a nonce at or below the included
    /// one (they can never apply now).
    pub fn remove_included(&self, txs: &[Transaction]) {
        let mut inner = self.lock();
        let mut highest: BTreeMap<&PublicKey, u64> = BTreeMap::new();
        for tx in txs {
            let nonce = highest.entry(tx.sender()).or_insert(tx.nonce());
            *nonce = (*nonce).max(tx.nonce());
        }
        for (sender, nonce) in highest {
            inner.remove_up_to(sender, nonce);
        }
    }

    /// Drops transactions older than the TTL.
    pub fn expire(&self, now_ms: u64) -> usize {
        let mut inner = self.lock();
        let cutoff = now_ms.saturating_sub(self.config.ttl_ms);
        let expired: Vec<(PublicKey, u64)> = inner
            .by_sender
            .iter()
            .flat_map(|(sender, queue)| {
                queue
                    .iter()
                    .filter(|(_, entry)| entry.inserted_ms < cutoff)
                    .map(move |(nonce, _)| (sender.clone(), *nonce))
            })
            .collect();
        for (sender, nonce) in &expired {
            inner.remove_one(sender, *nonce);
        }
        expired.len()
    }
}

impl Inner {
    fn remove_up_to(&mut self, sender: &PublicKey, nonce: u64) {
        let Some(queue) = self.by_sender.get_mut(sender) else {
            return;
        };
        let keep = queue.split_off(&(nonce.saturating_add(1)));
        let removed = std::mem::replace(queue, keep);
        let now_empty = queue.is_empty();
        for entry in removed.into_values() {
            self.bytes -= entry.size;
            self.by_id.remove(&entry.tx.id());
        }
        if now_empty {
            self.by_sender.remove(sender);
        }
    }

    fn remove_one(&mut self, sender: &PublicKey, nonce: u64) {
        let Some(queue) = self.by_sender.get_mut(sender) else {
            return;
        };
        if let Some(entry) = queue.remove(&nonce) {
            self.bytes -= entry.size;
            self.by_id.remove(&entry.tx.id());
        }
        if queue.is_empty() {
            self.by_sender.remove(sender);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use commonware_cryptography::{Signer, ed25519};
    use tracechain_types::{Payload, UnsignedTransaction, hash};

    /// A signed note from the key of `seed` (other modules' tests use it too).
    pub(crate) fn tx(seed: u64, nonce: u64) -> Transaction {
        let key = ed25519::PrivateKey::from_seed(seed);
        UnsignedTransaction {
            chain_id: "c".into(),
            sender: key.public_key(),
            nonce,
            payload: Payload::Note {
                hash: hash(&nonce.to_be_bytes()),
                label: String::new(),
            },
        }
        .sign(&key)
    }

    fn pool(max_txs: usize, max_bytes: usize) -> Mempool {
        Mempool::new(MempoolConfig {
            max_txs,
            max_bytes,
            ttl_ms: 1_000,
            max_per_sender: 16,
        })
    }

    #[test]
    fn deduplicates_and_bounds() {
        let pool = pool(2, 1_000);
        assert_eq!(pool.insert(tx(1, 0), 100, 0), Ok(()));
        assert_eq!(pool.insert(tx(1, 0), 100, 0), Err(MempoolError::Duplicate));
        assert_eq!(pool.insert(tx(1, 1), 100, 0), Ok(()));
        assert_eq!(
            pool.insert(tx(2, 0), 100, 0),
            Err(MempoolError::Full("transaction count"))
        );
        let bytes_pool = self::pool(10, 150);
        assert_eq!(bytes_pool.insert(tx(1, 0), 100, 0), Ok(()));
        assert_eq!(
            bytes_pool.insert(tx(2, 0), 100, 0),
            Err(MempoolError::Full("bytes"))
        );
    }

    #[test]
    fn hands_out_consecutive_nonces_per_sender() {
        let pool = pool(100, 100_000);
        for nonce in [2, 0, 1, 5] {
            pool.insert(tx(1, nonce), 10, 0).unwrap();
        }
        let nonces: Vec<u64> = pool
            .candidates(10, 1_000)
            .iter()
            .map(Transaction::nonce)
            .collect();
        assert_eq!(nonces, vec![0, 1, 2]);
    }

    #[test]
    fn next_nonce_skips_consecutive_pending() {
        let pool = pool(100, 100_000);
        for nonce in [3, 4, 6] {
            pool.insert(tx(1, nonce), 10, 0).unwrap();
        }
        let sender = tx(1, 0).sender().clone();
        assert_eq!(pool.next_nonce(&sender, 3), 5);
        assert_eq!(pool.next_nonce(&sender, 2), 2);
        assert_eq!(pool.next_nonce(tx(2, 0).sender(), 7), 7);
    }

    #[test]
    fn included_and_older_nonces_are_removed() {
        let pool = pool(100, 100_000);
        for nonce in 0..4 {
            pool.insert(tx(1, nonce), 10, 0).unwrap();
        }
        pool.remove_included(&[tx(1, 2)]);
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.bytes(), 10);
        assert!(pool.contains(&tx(1, 3).id()));
    }

    #[test]
    fn expires_old_transactions() {
        let pool = pool(100, 100_000);
        pool.insert(tx(1, 0), 10, 0).unwrap();
        pool.insert(tx(2, 0), 10, 900).unwrap();
        assert_eq!(pool.expire(1_500), 1);
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.bytes(), 10);
    }

    #[test]
    fn budget_cut_rotates_to_the_next_sender() {
        let pool = pool(100, 100_000);
        for seed in 1..=3 {
            pool.insert(tx(seed, 0), 10, 0).unwrap();
        }
        let first = pool.candidates(1, 1_000);
        let second = pool.candidates(1, 1_000);
        assert_ne!(first[0].sender(), second[0].sender());
    }

    #[test]
    fn verified_means_same_signature() {
        let pool = pool(100, 100_000);
        let original = tx(1, 0);
        pool.insert(original.clone(), 10, 0).unwrap();
        assert!(pool.is_verified(&original));
        let forged = original.with_signature(tx(1, 1).signature().clone());
        assert!(!pool.is_verified(&forged));
    }
}
