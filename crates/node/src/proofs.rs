//! Proof bundles (docs/adr/0009): state entries and event log entries
//! proven against one certified block, and log consistency between two.

use crate::{
    handle::NodeHandle,
    reader::{EntryProof, LogProof},
};
use tracechain_proof::{
    Anchor, BUNDLE_VERSION, Bundle, ConsistencyProof, EventProof, StateProof, encode_hex,
};
use tracechain_state::{
    StoreError, domain,
    keys::{Namespace, StateKey},
    records::{self, RecordError},
    store::StorageContext,
};
use tracechain_types::{Digest, Header, RecordKind, to_hex};

/// How far back from the tip a state root is looked for.
const ROOT_SEARCH_DEPTH: u64 = 32;
/// Most descendants walked to reach a block with its own certificate.
const MAX_DESCENDANTS: u64 = 64;

#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("{0} is not on chain")]
    NotFound(String),
    #[error("no finalized block with a certificate to anchor the proof yet")]
    NoAnchor,
    #[error("the state moved on while the proof was made; retry")]
    Moving,
    #[error("height {0} is not finalized here")]
    Height(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// A state entry to prove (present or absent).
#[derive(Clone, Debug)]
pub struct StateClaim {
    /// What it is, for people ("item urn:epc:…").
    pub label: String,
    pub namespace: Namespace,
    pub logical: Vec<u8>,
}

impl StateClaim {
    pub fn new(
        label: impl Into<String>,
        namespace: Namespace,
        logical: impl Into<Vec<u8>>,
    ) -> Self {
        Self {
            label: label.into(),
            namespace,
            logical: logical.into(),
        }
    }

    fn key(&self) -> Digest {
        StateKey::derive(self.namespace, &self.logical)
    }
}

impl<E: StorageContext + rand_core::CryptoRng> NodeHandle<E> {
    /// One bundle proving `states` (as they are now) and the log entries of
    /// `events`, against one certified block.
    pub async fn prove(
        &self,
        events: &[Digest],
        states: &[StateClaim],
    ) -> Result<Bundle, ProofError> {
        let (header, state_proofs) = self.prove_states(states).await?;
        let mut event_proofs = Vec::with_capacity(events.len());
        for event in events {
            event_proofs.push(self.prove_event(event, &header).await?);
        }
        Ok(Bundle {
            version: BUNDLE_VERSION,
            chain_id: self.chain_id().to_string(),
            validators: self.validators().iter().map(to_hex).collect(),
            anchor: self.anchor(&header).await?,
            events: event_proofs,
            states: state_proofs,
            consistency: None,
        })
    }

    /// The log at `to` extends the log at `from`.
    pub async fn prove_consistency(&self, from: u64, to: u64) -> Result<Bundle, ProofError> {
        let older = self.header(from).await?;
        let newer = self.header(to).await?;
        let (proof, operation) = if older.log_size < newer.log_size {
            let LogProof { operation, proof } = self
                .reader()
                .prove_log(older.log_size, newer.log_size)
                .await?;
            (hex::encode(proof), hex::encode(operation))
        } else {
            (String::new(), String::new())
        };
        let pins = self.reader().log_peaks(older.log_size).await?;
        Ok(Bundle {
            version: BUNDLE_VERSION,
            chain_id: self.chain_id().to_string(),
            validators: self.validators().iter().map(to_hex).collect(),
            anchor: self.anchor(&newer).await?,
            events: Vec::new(),
            states: Vec::new(),
            consistency: Some(ConsistencyProof {
                from: self.anchor(&older).await?,
                pins: pins.iter().map(to_hex).collect(),
                proof,
                operation,
            }),
        })
    }

    async fn header(&self, height: u64) -> Result<Header, ProofError> {
        let tip = self.finalized().await.ok_or(ProofError::NoAnchor)?.height;
        if height == 0 || height > tip {
            return Err(ProofError::Height(height));
        }
        self.header_at(height)
            .await
            .ok_or(ProofError::Height(height))
    }

    /// Proofs of `states` and the header whose state root they verify
    /// against (the tip when there are none).
    async fn prove_states(
        &self,
        states: &[StateClaim],
    ) -> Result<(Header, Vec<StateProof>), ProofError> {
        let tip = self.finalized().await.ok_or(ProofError::NoAnchor)?;
        if states.is_empty() {
            return Ok((tip.header, Vec::new()));
        }
        let keys: Vec<Digest> = states.iter().map(StateClaim::key).collect();
        for _ in 0..3 {
            let (root, entries) = self.reader().prove_state(&keys).await?;
            if let Some(header) = self.header_with_state_root(&root).await {
                let proofs = states
                    .iter()
                    .zip(entries)
                    .map(|(claim, entry)| state_proof(claim, entry));
                return Ok((header, proofs.collect()));
            }
        }
        Err(ProofError::Moving)
    }

    /// The recent finalized header whose state root is `root`.
    async fn header_with_state_root(&self, root: &Digest) -> Option<Header> {
        let tip = self.finalized().await?.height;
        // The newest block may be applied a moment before it is announced.
        for height in (tip.saturating_sub(ROOT_SEARCH_DEPTH)..=tip + 1).rev() {
            if let Some(header) = self.header_at(height).await
                && header.state_root == *root
            {
                return Some(header);
            }
        }
        None
    }

    /// The log entry recording `event` and its inclusion in `anchor`'s log.
    async fn prove_event(&self, event: &Digest, anchor: &Header) -> Result<EventProof, ProofError> {
        let missing = || ProofError::NotFound(format!("event {}", to_hex(event)));
        let record = domain::event(self.reader(), &event.0)
            .await?
            .ok_or_else(missing)?;
        let start = match record.height {
            0 | 1 => 0,
            height => self.header(height - 1).await?.log_size,
        };
        let end = self.header(record.height).await?.log_size;
        // Where the transaction's entries begin, then the rest of the block
        // in case they do not (a block of thousands of captures made a
        // front-to-back scan the bulk of a proof).
        let first = self
            .first_entry_of(&Digest::from(record.tx), start, end)
            .await?
            .unwrap_or(start);
        for location in (first..end).chain(start..first) {
            let Some(entry) = self.reader().log_record(location).await? else {
                continue;
            };
            if entry.kind == RecordKind::Event && entry.subject == *event {
                let proof = self.reader().prove_log(location, anchor.log_size).await?;
                return Ok(EventProof {
                    event_hash: to_hex(event),
                    location,
                    record: encode_hex(&entry),
                    proof: hex::encode(proof.proof),
                });
            }
        }
        Err(missing())
    }

    /// Where the entries of `tx` begin among a block's log entries
    /// `start..end`, by bisection: a block logs its transactions in order
    /// and each one's receipt holds its place. `None` when an entry of the
    /// range has no receipt of that block (then nothing is assumed).
    async fn first_entry_of(
        &self,
        tx: &Digest,
        start: u64,
        end: u64,
    ) -> Result<Option<u64>, ProofError> {
        let Some(target) = records::receipt(self.reader(), tx).await? else {
            return Ok(None);
        };
        let (mut low, mut high) = (start, end);
        while low < high {
            let middle = low + (high - low) / 2;
            let Some(entry) = self.reader().log_record(middle).await? else {
                return Ok(None);
            };
            let Some(receipt) = records::receipt(self.reader(), &entry.tx).await? else {
                return Ok(None);
            };
            if receipt.height != target.height {
                return Ok(None);
            }
            if receipt.index < target.index {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        Ok(Some(low))
    }

    /// `header` with the certificate of it, or of the first descendant that
    /// has one (finality of a block finalizes its ancestors).
    async fn anchor(&self, header: &Header) -> Result<Anchor, ProofError> {
        let mut descendants = Vec::new();
        for height in header.height..=header.height + MAX_DESCENDANTS {
            if height > header.height {
                let Some(header) = self.header_at(height).await else {
                    break;
                };
                descendants.push(encode_hex(&header));
            }
            if let Some(certificate) = self.certificate(height).await {
                return Ok(Anchor {
                    header: encode_hex(header),
                    descendants,
                    certificate: encode_hex(&certificate),
                });
            }
        }
        Err(ProofError::NoAnchor)
    }
}

fn state_proof(claim: &StateClaim, entry: EntryProof) -> StateProof {
    let (value, proof) = match entry {
        EntryProof::Present { value, proof } => (Some(hex::encode(value)), proof),
        EntryProof::Absent { proof } => (None, proof),
    };
    StateProof {
        label: claim.label.clone(),
        namespace: claim.namespace as u8,
        logical: hex::encode(&claim.logical),
        value,
        proof: hex::encode(proof),
    }
}
