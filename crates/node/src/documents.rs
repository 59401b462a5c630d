//! Off-chain documents: sealed to their readers, stored by content address
//! next to the node, and replicated to every node over p2p so a document
//! survives the loss of the node that received it (docs/adr/0008).
//!
//! Every node keeps every anchored envelope (they are encrypted; only
//! readers' nodes, holding a reader organisation's X25519 key, can open
//! them). After each finalized block, the replicator asks peers (commonware
//! `resolver::p2p`) for any anchored envelope it lacks; peers serve from
//! their store. A received envelope is kept only if its hash is the one
//! anchored on chain.

use crate::handle::NodeHandle;
use bytes::Bytes;
use commonware_cryptography::Signer;
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_resolver::{
    Delivery, Resolver,
    p2p::{Config as ResolverConfig, Engine as ResolverEngine, Mailbox, Producer},
};
use commonware_runtime::{Clock, Handle, Metrics, Spawner};
use commonware_utils::{NZDuration, NZUsize, channel::oneshot};
use serde_json::Value;
use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};
use tracechain_docstore::{
    DocError, DocumentStore, Envelope, Reader, ciphertext_hash, seal, seal_public,
};
use tracechain_state::{domain, parcels, records, store::StorageContext};
use tracechain_types::{Digest, Payload, PrivateKey, PublicKey};
use tracing::{debug, warn};

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Store(#[from] DocError),
    #[error(transparent)]
    State(#[from] records::RecordError),
    #[error("'{0}' is not an active member organisation")]
    UnknownReader(String),
    #[error("no document is anchored with this fingerprint")]
    NotAnchored,
    #[error("this node does not hold the envelope yet")]
    Missing,
    #[error("organisation '{0}' may not read this document")]
    NotAReader(String),
    #[error("this node does not hold the encryption key of '{0}'")]
    NoKey(String),
}

/// Serves envelopes to peers from the local store.
#[derive(Clone)]
struct Serve {
    store: Arc<DocumentStore>,
}

impl Producer for Serve {
    type Key = Digest;

    fn produce(&mut self, key: Digest) -> oneshot::Receiver<Bytes> {
        let (sender, receiver) = oneshot::channel();
        // Missing or damaged: say nothing; the requester asks another peer.
        if let Ok(Some(bytes)) = self.store.get(&key.0) {
            let _ = sender.send(Bytes::from(bytes));
        }
        receiver
    }
}

/// Keeps envelopes peers send, if they hash to what was asked for.
#[derive(Clone)]
struct Keep {
    store: Arc<DocumentStore>,
}

impl commonware_resolver::Consumer for Keep {
    type Key = Digest;
    type Value = Bytes;
    type Subscriber = ();
    type Outcome = bool;

    fn deliver(&mut self, delivery: Delivery<Digest, ()>, value: Bytes) -> oneshot::Receiver<bool> {
        let (sender, receiver) = oneshot::channel();
        let valid = ciphertext_hash(&value) == delivery.key.0
            && Envelope::from_bytes(&value).is_ok()
            && self.store.put(&value).is_ok();
        let _ = sender.send(valid);
        receiver
    }
}

/// The document store, its replication, and the organisation keys this
/// node holds. Cheap to clone.
#[derive(Clone)]
pub struct Documents {
    store: Arc<DocumentStore>,
    /// Organisation id -> X25519 secret.
    keys: Arc<BTreeMap<String, [u8; 32]>>,
    resolver: Arc<Mutex<Option<Mailbox<Digest, PublicKey, ()>>>>,
}

impl Documents {
    pub fn open(dir: PathBuf, keys: BTreeMap<String, [u8; 32]>) -> Result<Self, DocError> {
        Ok(Self {
            store: Arc::new(DocumentStore::open(dir)?),
            keys: Arc::new(keys),
            resolver: Arc::default(),
        })
    }

    /// The organisations whose documents this node can open.
    pub fn organisations(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Seals `document` to `readers` (organisation ids; none = public),
    /// stores the envelope and returns (fingerprint, ciphertext hash).
    pub async fn put<E: StorageContext + rand_core::CryptoRng>(
        &self,
        node: &NodeHandle<E>,
        document: &Value,
        readers: &[String],
    ) -> Result<(Digest, Digest), DocumentError> {
        let envelope = if readers.is_empty() {
            seal_public(document)?
        } else {
            let mut sealed_to = Vec::with_capacity(readers.len());
            for id in readers {
                let org = domain::organisation(node.reader(), id)
                    .await?
                    .filter(|o| o.active)
                    .ok_or_else(|| DocumentError::UnknownReader(id.clone()))?;
                sealed_to.push(Reader {
                    id: id.clone(),
                    public_key: org.encryption_key,
                });
            }
            seal(document, &sealed_to, &mut commonware_utils::sys_rng())?
        };
        let bytes = envelope.to_bytes();
        let address = self.store.put(&bytes)?;
        Ok((Digest::from(envelope.fingerprint()), Digest::from(address)))
    }

    /// The anchored envelope of `fingerprint`, checked against its content
    /// address (a damaged file is reported, never returned).
    pub async fn envelope<E: StorageContext + rand_core::CryptoRng>(
        &self,
        node: &NodeHandle<E>,
        fingerprint: &Digest,
    ) -> Result<(parcels::DocumentRecord, Envelope), DocumentError> {
        let record = parcels::document(node.reader(), fingerprint)
            .await?
            .ok_or(DocumentError::NotAnchored)?;
        let envelope = self
            .store
            .get_envelope(&record.ciphertext_hash)?
            .ok_or(DocumentError::Missing)?;
        Ok((record, envelope))
    }

    /// The plaintext, for `organisation` (a reader whose key this node
    /// holds); its fingerprint is checked against the chain.
    pub async fn read<E: StorageContext + rand_core::CryptoRng>(
        &self,
        node: &NodeHandle<E>,
        fingerprint: &Digest,
        organisation: Option<&str>,
    ) -> Result<Value, DocumentError> {
        let (record, _) = self.envelope(node, fingerprint).await?;
        if record.readers.is_empty() {
            return Ok(self
                .store
                .read_public(&record.ciphertext_hash, &fingerprint.0)?);
        }
        let organisation =
            organisation.ok_or_else(|| DocumentError::NotAReader("anonymous".into()))?;
        if !record.readers.iter().any(|r| r == organisation) {
            return Err(DocumentError::NotAReader(organisation.to_string()));
        }
        let secret = self
            .keys
            .get(organisation)
            .ok_or_else(|| DocumentError::NoKey(organisation.to_string()))?;
        Ok(self.store.read_plaintext(
            &record.ciphertext_hash,
            organisation,
            secret,
            &fingerprint.0,
        )?)
    }

    /// Starts serving and fetching envelopes over `channel`, and the task
    /// that makes sure every anchored envelope is here.
    pub fn start<E, S, R, P, B>(
        &self,
        context: E,
        node: NodeHandle<E>,
        signer: &PrivateKey,
        channel: (S, R),
        peers: P,
        blocker: B,
    ) -> Handle<()>
    where
        E: StorageContext + rand_core::CryptoRng + Spawner + Clock + Metrics,
        S: Sender<PublicKey = PublicKey>,
        R: Receiver<PublicKey = PublicKey>,
        P: Provider<PublicKey = PublicKey>,
        B: Blocker<PublicKey = PublicKey>,
    {
        let (engine, mailbox) = ResolverEngine::new(
            context.child("resolver"),
            ResolverConfig {
                peer_provider: peers,
                blocker,
                consumer: Keep {
                    store: self.store.clone(),
                },
                producer: Serve {
                    store: self.store.clone(),
                },
                mailbox_size: NZUsize!(1024),
                me: Some(signer.public_key()),
                fetch_timeout: NZDuration!(Duration::from_secs(2)),
                fetch_retry_delay: Duration::from_millis(500),
                priority_requests: false,
                priority_responses: false,
            },
        );
        engine.start(channel);
        if let Ok(mut slot) = self.resolver.lock() {
            *slot = Some(mailbox);
        }
        let documents = self.clone();
        context
            .child("replicator")
            .spawn(move |_| documents.replicate(node))
    }

    /// Follows applied blocks; asks peers for every anchored envelope this
    /// node lacks (the resolver retries until one answers).
    async fn replicate<E: StorageContext + rand_core::CryptoRng>(self, node: NodeHandle<E>) {
        let mut next = 1;
        let mut wanted: BTreeSet<Digest> = BTreeSet::new();
        let mut watch = node.events().watch();
        let mut fetched_ms = 0;
        loop {
            let applied = node.finalized().await.map_or(0, |f| f.height);
            let mut new_wants = false;
            while next <= applied {
                let Some(block) = node.block(next).await else {
                    break;
                };
                for address in anchored(&node, &block).await {
                    if !self.store.contains(&address.0).unwrap_or(false) {
                        new_wants |= wanted.insert(address);
                    }
                }
                next += 1;
            }
            wanted.retain(|address| !self.store.contains(&address.0).unwrap_or(false));
            let now = node.now_ms();
            if new_wants || (!wanted.is_empty() && now >= fetched_ms + FETCH_RETRY_MS) {
                self.fetch(&wanted);
                fetched_ms = now;
            }
            // Woken by each new block, so the block is read while the node
            // still keeps it in memory; the timeout paces the retries.
            futures::future::select(
                Box::pin(watch.changed()),
                Box::pin(node.sleep(Duration::from_millis(FETCH_RETRY_MS))),
            )
            .await;
        }
    }

    fn fetch(&self, wanted: &BTreeSet<Digest>) {
        let mailbox = self.resolver.lock().ok().and_then(|m| m.clone());
        let Some(mut mailbox) = mailbox else {
            warn!("document replication has no network");
            return;
        };
        for address in wanted {
            debug!(?address, "fetching document from peers");
            let _ = mailbox.fetch(*address);
        }
    }
}

/// How often the envelopes still missing are asked for again.
const FETCH_RETRY_MS: u64 = 500;

/// Content addresses anchored by the applied transactions of `block`.
async fn anchored<E: StorageContext + rand_core::CryptoRng>(
    node: &NodeHandle<E>,
    block: &tracechain_types::Block,
) -> Vec<Digest> {
    let mut out = Vec::new();
    for (index, tx) in block.txs.iter().enumerate() {
        let anchor = match tx.payload() {
            Payload::AnchorDocument { anchor } => anchor,
            Payload::RegisterParcel { document, .. } => document,
            _ => continue,
        };
        if node.applied_in(block, index).await.unwrap_or(false) {
            out.push(anchor.ciphertext_hash);
        }
    }
    out
}
