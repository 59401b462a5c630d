//! Checking a bundle against the genesis: the certificate's signatures, the
//! headers it certifies, and every proof against those headers' roots.
//! Each failure names the check that failed.

use crate::bundle::{Anchor, BUNDLE_VERSION, Bundle, ConsistencyProof, EventProof, StateProof};
use commonware_codec::{Decode, DecodeExt, Encode};
use commonware_consensus::simplex::{scheme::ed25519::Scheme, types::Finalization};
use commonware_cryptography::{Sha256, sha256::Digest};
use commonware_parallel::Sequential;
use commonware_storage::{
    merkle::{Family as _, Location, MAX_PROOF_DIGESTS_PER_ELEMENT, Proof, hasher::Hasher as _},
    mmr,
    qmdb::{
        self,
        any::value::VariableEncoding,
        current::ordered::proof::constant::{ExclusionProof, KeyValueProof},
        keyless,
    },
};
use commonware_utils::{Faults, N3f1, ordered::Set};
use rand::{SeedableRng, rngs::StdRng};
use serde::Serialize;
use tracechain_types::{
    Genesis, Header, LogRecord, PublicKey, RecordKind, StateValue, consensus_namespace, hash_parts,
    public_key_from_hex, to_hex,
};

type Family = mmr::Family;
type LogOperation = keyless::fixed::Operation<Family, LogRecord>;
type KvProof = KeyValueProof<Family, Digest, Digest, 32>;
type AbsentProof = ExclusionProof<Family, Digest, VariableEncoding<StateValue>, Digest, 32>;

/// What a bundle is checked against: the chain's genesis.
#[derive(Clone, Debug)]
pub struct Trust {
    pub chain_id: String,
    pub validators: Vec<PublicKey>,
}

impl Trust {
    pub fn from_genesis(genesis: &Genesis) -> Self {
        Self {
            chain_id: genesis.chain_id.clone(),
            validators: genesis.validator_keys(),
        }
    }
}

/// What a verified bundle established.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    pub chain_id: String,
    /// The block whose roots every proof was checked against.
    pub height: u64,
    pub block: String,
    pub timestamp_ms: u64,
    /// Validators whose signatures certify it, out of `validators`.
    pub signers: usize,
    pub validators: usize,
    /// Event hashes proven to be in the log.
    pub events: Vec<String>,
    /// State entries proven: (label, present).
    pub states: Vec<(String, bool)>,
    /// The older certified height whose log this one extends.
    pub consistent_from: Option<u64>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("bundle format {0} is not supported (expected {BUNDLE_VERSION})")]
    Version(u32),
    #[error("the bundle is for chain '{bundle}', the genesis for '{genesis}'")]
    ChainId { bundle: String, genesis: String },
    #[error("the bundle's validator set is not the genesis validator set")]
    Validators,
    #[error("{field}: {reason}")]
    Malformed { field: String, reason: String },
    #[error(
        "{field}: the certificate has {signers} signatures; a quorum is {quorum} of {validators}"
    )]
    NoQuorum {
        field: String,
        signers: usize,
        quorum: u32,
        validators: usize,
    },
    #[error("{field}: the validator signatures do not verify")]
    Signatures { field: String },
    #[error("{field}: the certificate signs block {signed}, not this header ({header})")]
    WrongBlock {
        field: String,
        signed: String,
        header: String,
    },
    #[error("{field}: header at height {height} does not name the previous header as its parent")]
    BrokenChain { field: String, height: u64 },
    #[error("events[{index}]: the log record is not the event {event}")]
    NotTheEvent { index: usize, event: String },
    #[error("events[{index}]: the inclusion path does not lead to the log root of block {height}")]
    EventPath { index: usize, height: u64 },
    #[error("states[{index}] ({label}): the proof does not match the state root of block {height}")]
    StatePath {
        index: usize,
        label: String,
        height: u64,
    },
    #[error("states[{index}]: the label '{label}' does not name the key the proof is about")]
    StateLabel { index: usize, label: String },
    #[error("consistency: {0}")]
    Inconsistent(String),
}

fn malformed(field: impl Into<String>, reason: impl ToString) -> VerifyError {
    VerifyError::Malformed {
        field: field.into(),
        reason: reason.to_string(),
    }
}

fn bytes(field: &str, text: &str) -> Result<Vec<u8>, VerifyError> {
    hex::decode(text).map_err(|e| malformed(field, format!("not hex: {e}")))
}

fn digest(field: &str, text: &str) -> Result<Digest, VerifyError> {
    Digest::decode(bytes(field, text)?).map_err(|e| malformed(field, e))
}

/// Checks `bundle` against `trust`. `seed` seeds the batch signature
/// verification and must be unpredictable (fresh random bytes).
pub fn verify(bundle: &Bundle, trust: &Trust, seed: [u8; 32]) -> Result<Verified, VerifyError> {
    if bundle.version != BUNDLE_VERSION {
        return Err(VerifyError::Version(bundle.version));
    }
    if bundle.chain_id != trust.chain_id {
        return Err(VerifyError::ChainId {
            bundle: bundle.chain_id.clone(),
            genesis: trust.chain_id.clone(),
        });
    }
    let mut listed: Vec<PublicKey> = Vec::with_capacity(bundle.validators.len());
    for (i, key) in bundle.validators.iter().enumerate() {
        listed.push(
            public_key_from_hex(key)
                .ok_or_else(|| malformed(format!("validators[{i}]"), "not an ed25519 key"))?,
        );
    }
    let validators = Set::from_iter_dedup(trust.validators.iter().cloned());
    if Set::from_iter_dedup(listed) != validators {
        return Err(VerifyError::Validators);
    }
    let checker = Checker {
        namespace: consensus_namespace(&trust.chain_id),
        validators,
        rng: std::cell::RefCell::new(StdRng::from_seed(seed)),
    };
    let (header, signers) = checker.anchor("anchor", &bundle.anchor)?;
    let events = bundle
        .events
        .iter()
        .enumerate()
        .map(|(i, proof)| verify_event(i, proof, &header.log_root, header.height))
        .collect::<Result<Vec<_>, _>>()?;
    let states = bundle
        .states
        .iter()
        .enumerate()
        .map(|(i, proof)| verify_state(i, proof, &header.state_root, header.height))
        .collect::<Result<Vec<_>, _>>()?;
    let consistent_from = bundle
        .consistency
        .as_ref()
        .map(|proof| checker.consistency(proof, &header))
        .transpose()?;
    Ok(Verified {
        chain_id: bundle.chain_id.clone(),
        height: header.height,
        block: to_hex(header.digest()),
        timestamp_ms: header.timestamp_ms,
        signers,
        validators: checker.validators.len(),
        events,
        states,
        consistent_from,
    })
}

/// Verifies `bundle_json` against `genesis_json` (both JSON text).
pub fn verify_json(
    bundle_json: &str,
    genesis_json: &str,
    seed: [u8; 32],
) -> Result<Verified, VerifyError> {
    let bundle: Bundle = serde_json::from_str(bundle_json).map_err(|e| malformed("bundle", e))?;
    let genesis: Genesis =
        serde_json::from_str(genesis_json).map_err(|e| malformed("genesis", e))?;
    verify(&bundle, &Trust::from_genesis(&genesis), seed)
}

struct Checker {
    namespace: Vec<u8>,
    validators: Set<PublicKey>,
    rng: std::cell::RefCell<StdRng>,
}

impl Checker {
    /// The anchor header, once its certificate (and any descendants up to
    /// the certified one) check out; with the number of signers.
    fn anchor(&self, field: &str, anchor: &Anchor) -> Result<(Header, usize), VerifyError> {
        let header = decode_header(&format!("{field}.header"), &anchor.header)?;
        let mut last = header.clone();
        for (i, encoded) in anchor.descendants.iter().enumerate() {
            let next = decode_header(&format!("{field}.descendants[{i}]"), encoded)?;
            if next.parent != last.digest() || next.height != last.height + 1 {
                return Err(VerifyError::BrokenChain {
                    field: field.to_string(),
                    height: next.height,
                });
            }
            last = next;
        }
        let signers =
            self.certificate(&format!("{field}.certificate"), &anchor.certificate, &last)?;
        Ok((header, signers))
    }

    fn certificate(&self, field: &str, text: &str, header: &Header) -> Result<usize, VerifyError> {
        let raw = bytes(field, text)?;
        let finalization =
            Finalization::<Scheme, Digest>::decode_cfg(raw.clone(), &self.validators.len())
                .map_err(|e| malformed(field, e))?;
        let signers = finalization.certificate.signers.count();
        let quorum = N3f1::quorum(self.validators.len());
        if signers < quorum as usize {
            return Err(VerifyError::NoQuorum {
                field: field.to_string(),
                signers,
                quorum,
                validators: self.validators.len(),
            });
        }
        let scheme = Scheme::verifier(&self.namespace, self.validators.clone());
        let verified = finalization.verify(&mut *self.rng.borrow_mut(), &scheme, &Sequential);
        if !verified {
            return Err(VerifyError::Signatures {
                field: field.to_string(),
            });
        }
        let proposal = &finalization.proposal;
        if proposal.payload != header.digest()
            || proposal.round != header.context.round
            || proposal.parent != header.context.parent.0
        {
            return Err(VerifyError::WrongBlock {
                field: field.to_string(),
                signed: to_hex(proposal.payload),
                header: to_hex(header.digest()),
            });
        }
        Ok(signers)
    }

    /// The older anchor's log is a prefix of `header`'s log.
    fn consistency(&self, proof: &ConsistencyProof, header: &Header) -> Result<u64, VerifyError> {
        let (old, _) = self.anchor("consistency.from", &proof.from)?;
        let fail = |reason: &str| VerifyError::Inconsistent(reason.to_string());
        if old.log_size > header.log_size {
            return Err(fail("the older log is longer than the newer one"));
        }
        if old.log_size == header.log_size {
            return if old.log_root == header.log_root {
                Ok(old.height)
            } else {
                Err(fail("equal sizes but different log roots"))
            };
        }
        let pins = proof
            .pins
            .iter()
            .enumerate()
            .map(|(i, pin)| digest(&format!("consistency.pins[{i}]"), pin))
            .collect::<Result<Vec<_>, _>>()?;
        let path = decode_path("consistency.proof", &proof.proof)?;
        let operation = bytes("consistency.operation", &proof.operation)?;
        let hasher = qmdb::hasher::<Sha256>();
        let size = Location::new(old.log_size);
        if !path.verify_proof_and_pinned_nodes(&hasher, &[operation], size, &pins, &header.log_root)
        {
            return Err(fail("the older log's peaks are not part of the newer log"));
        }
        let inactive = Family::inactive_peaks(size, Location::new(old.log_floor));
        match hasher.root(size, inactive, pins.iter()) {
            Ok(root) if root == old.log_root => Ok(old.height),
            _ => Err(fail("the peaks do not make the older log root")),
        }
    }
}

fn decode_header(field: &str, text: &str) -> Result<Header, VerifyError> {
    Header::decode(bytes(field, text)?).map_err(|e| malformed(field, e))
}

fn decode_path(field: &str, text: &str) -> Result<Proof<Family, Digest>, VerifyError> {
    Proof::<Family, Digest>::decode_cfg(bytes(field, text)?, &MAX_PROOF_DIGESTS_PER_ELEMENT)
        .map_err(|e| malformed(field, e))
}

/// One log entry against the log root of the block at `height`.
pub fn verify_event(
    index: usize,
    proof: &EventProof,
    log_root: &Digest,
    height: u64,
) -> Result<String, VerifyError> {
    let field = |name: &str| format!("events[{index}].{name}");
    let event = digest(&field("eventHash"), &proof.event_hash)?;
    let record = LogRecord::decode(bytes(&field("record"), &proof.record)?)
        .map_err(|e| malformed(field("record"), e))?;
    if record.kind != RecordKind::Event || record.subject != event {
        return Err(VerifyError::NotTheEvent {
            index,
            event: proof.event_hash.clone(),
        });
    }
    let path = decode_path(&field("proof"), &proof.proof)?;
    let operations = [LogOperation::Append(record)];
    let location = Location::new(proof.location);
    if !qmdb::verify_proof::<Sha256, Family, LogOperation>(&path, location, &operations, log_root) {
        return Err(VerifyError::EventPath { index, height });
    }
    Ok(to_hex(event))
}

/// One state entry against the state root of the block at `height`.
pub fn verify_state(
    index: usize,
    proof: &StateProof,
    state_root: &Digest,
    height: u64,
) -> Result<(String, bool), VerifyError> {
    let field = |name: &str| format!("states[{index}].{name}");
    let logical = bytes(&field("logical"), &proof.logical)?;
    // The label is what a reader takes the entry to be: it must end with
    // the logical key (as text, or hex for binary keys), or an absence
    // proof of one key could be shown under the name of another.
    let names_key = std::str::from_utf8(&logical).is_ok_and(|text| proof.label.ends_with(text))
        || proof.label.ends_with(&hex::encode(&logical));
    if !names_key {
        return Err(VerifyError::StateLabel {
            index,
            label: proof.label.clone(),
        });
    }
    let key = hash_parts(&[&[proof.namespace], &logical]);
    let raw = bytes(&field("proof"), &proof.proof)?;
    let holds = match &proof.value {
        Some(value) => {
            let value = StateValue(bytes(&field("value"), value)?);
            KvProof::decode_cfg(raw.clone(), &(MAX_PROOF_DIGESTS_PER_ELEMENT, ()))
                .map_err(|e| malformed(field("proof"), e))?
                .verify::<Sha256, VariableEncoding<StateValue>>(key, value, state_root)
        }
        None => {
            AbsentProof::decode_cfg(raw.clone(), &(MAX_PROOF_DIGESTS_PER_ELEMENT, ((), ()), ()))
                .map_err(|e| malformed(field("proof"), e))?
                .verify::<Sha256>(&key, state_root)
        }
    };
    if !holds {
        return Err(VerifyError::StatePath {
            index,
            label: proof.label.clone(),
            height,
        });
    }
    Ok((proof.label.clone(), proof.value.is_some()))
}

/// Encodes anything codec-encodable as bundle hex.
pub fn encode_hex(value: &impl Encode) -> String {
    hex::encode(value.encode())
}
