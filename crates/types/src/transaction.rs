//! Signed transactions: the only way anything enters the chain.
//!
//! A transaction carries the chain id, the sender's key, the sender's next
//! nonce and a payload, signed by the sender over all of those. The id of a
//! transaction is the SHA-256 of its signed content (not of the signature), so
//! the id is known before signing and cannot be changed by re-signing.

use crate::{
    Digest, PublicKey, Signature,
    domain::{MAX_NAME_BYTES, MAX_ORG_ID_BYTES, MAX_ROLE_BYTES, MembershipChange},
    hash,
    parcel::{
        DocumentAnchor, ParcelException, RouteStop, option_size, read_option, read_route,
        route_size, write_option, write_route,
    },
};

use bytes::BufMut;
use commonware_codec::{
    Buf, DecodeExt, Encode, EncodeSize, Error as CodecError, RangeCfg, Read, ReadExt, Write,
};
use commonware_cryptography::{Signer, Verifier, ed25519};
use std::sync::Arc;

/// Namespace prepended to every transaction signature so a signature made for
/// tracechain transactions cannot be replayed in any other signing context.
pub const TX_NAMESPACE: &[u8] = b"tracechain/tx/v1";

/// Largest encoded transaction accepted anywhere (API, gossip, blocks).
pub const MAX_TX_BYTES: usize = 256 * 1024;
/// Largest EPCIS document in one capture transaction.
pub const MAX_DOCUMENT_BYTES: usize = 240 * 1024;
/// Longest recall reason.
pub const MAX_REASON_BYTES: usize = 512;
/// Longest identifier (EPC URN or Digital Link URI) named directly.
pub const MAX_IDENTIFIER_BYTES: usize = 512;
/// Longest chain id.
pub const MAX_CHAIN_ID_BYTES: usize = 64;
/// Longest account name.
pub const MAX_ACCOUNT_NAME_BYTES: usize = 64;
/// Longest note label.
pub const MAX_NOTE_LABEL_BYTES: usize = 256;

/// What a transaction asks the chain to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// Bind a human-readable account name to the sender's key.
    RegisterAccount { name: String },
    /// Anchor a 32-byte hash (e.g. a file's SHA-256) with a short label.
    Note { hash: Digest, label: String },
    /// An organisation admin adds an agent (a person or service key) to
    /// its organisation.
    RegisterAgent {
        agent: PublicKey,
        display_name: String,
    },
    /// An organisation admin grants a role to one of its agents.
    GrantRole { agent: PublicKey, role: String },
    /// An organisation admin revokes a role from one of its agents.
    RevokeRole { agent: PublicKey, role: String },
    /// A member organisation's admin proposes adding or removing a member;
    /// the proposal's id is this transaction's id.
    ProposeMembership { change: MembershipChange },
    /// A member organisation's admin approves a pending proposal.
    ApproveProposal { proposal: Digest },
    /// An agent captures an EPCIS 2.0 document (JSON-LD bytes as sent).
    Capture { document: Vec<u8> },
    /// A brand owner or regulator recalls an item, batch or class.
    Recall { target: String, reason: String },
    /// Anchors an off-chain document (fingerprint, content address, readers).
    AnchorDocument { anchor: DocumentAnchor },
    /// The sender registers a parcel, its planned route and its (encrypted,
    /// off-chain) information document.
    RegisterParcel {
        parcel: String,
        recipient: String,
        route: Vec<RouteStop>,
        document: DocumentAnchor,
    },
    /// The current holder proposes handing the parcel to `to`; valid for
    /// `wait_ms` after its block.
    ProposeHandoff {
        parcel: String,
        to: String,
        next: Option<String>,
        location: Option<String>,
        /// The CBV business step of the hand-off event (`shipping`,
        /// `departing`, `arriving` or `receiving`); derived when absent.
        step: Option<String>,
        wait_ms: u64,
    },
    /// The receiving party accepts a pending hand-off: custody moves.
    AcceptHandoff { parcel: String, handoff: Digest },
    /// The receiving party refuses a pending hand-off, with a reason.
    RejectHandoff {
        parcel: String,
        handoff: Digest,
        reason: String,
    },
    /// The proposer withdraws a hand-off nobody accepted in time.
    CancelHandoff { parcel: String, handoff: Digest },
    /// The holder declares the parcel damaged, lost or returned.
    DeclareParcelException {
        parcel: String,
        exception: ParcelException,
        reason: String,
    },
}

impl Payload {
    const TAG_REGISTER_ACCOUNT: u8 = 0;
    const TAG_NOTE: u8 = 1;
    const TAG_REGISTER_AGENT: u8 = 2;
    const TAG_GRANT_ROLE: u8 = 3;
    const TAG_REVOKE_ROLE: u8 = 4;
    const TAG_PROPOSE_MEMBERSHIP: u8 = 5;
    const TAG_APPROVE_PROPOSAL: u8 = 6;
    const TAG_CAPTURE: u8 = 7;
    const TAG_RECALL: u8 = 8;
    const TAG_ANCHOR_DOCUMENT: u8 = 9;
    const TAG_REGISTER_PARCEL: u8 = 10;
    const TAG_PROPOSE_HANDOFF: u8 = 11;
    const TAG_ACCEPT_HANDOFF: u8 = 12;
    const TAG_REJECT_HANDOFF: u8 = 13;
    const TAG_CANCEL_HANDOFF: u8 = 14;
    const TAG_PARCEL_EXCEPTION: u8 = 15;

    /// A short stable name for the payload kind (API and metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::RegisterAccount { .. } => "register_account",
            Payload::Note { .. } => "note",
            Payload::RegisterAgent { .. } => "register_agent",
            Payload::GrantRole { .. } => "grant_role",
            Payload::RevokeRole { .. } => "revoke_role",
            Payload::ProposeMembership { .. } => "propose_membership",
            Payload::ApproveProposal { .. } => "approve_proposal",
            Payload::Capture { .. } => "capture",
            Payload::Recall { .. } => "recall",
            Payload::AnchorDocument { .. } => "anchor_document",
            Payload::RegisterParcel { .. } => "register_parcel",
            Payload::ProposeHandoff { .. } => "propose_handoff",
            Payload::AcceptHandoff { .. } => "accept_handoff",
            Payload::RejectHandoff { .. } => "reject_handoff",
            Payload::CancelHandoff { .. } => "cancel_handoff",
            Payload::DeclareParcelException { .. } => "parcel_exception",
        }
    }
}

impl Write for Payload {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Payload::RegisterAccount { name } => {
                Self::TAG_REGISTER_ACCOUNT.write(buf);
                name.as_bytes().write(buf);
            }
            Payload::Note { hash, label } => {
                Self::TAG_NOTE.write(buf);
                hash.write(buf);
                label.as_bytes().write(buf);
            }
            Payload::RegisterAgent {
                agent,
                display_name,
            } => {
                Self::TAG_REGISTER_AGENT.write(buf);
                agent.write(buf);
                display_name.as_bytes().write(buf);
            }
            Payload::GrantRole { agent, role } => {
                Self::TAG_GRANT_ROLE.write(buf);
                agent.write(buf);
                role.as_bytes().write(buf);
            }
            Payload::RevokeRole { agent, role } => {
                Self::TAG_REVOKE_ROLE.write(buf);
                agent.write(buf);
                role.as_bytes().write(buf);
            }
            Payload::ProposeMembership { change } => {
                Self::TAG_PROPOSE_MEMBERSHIP.write(buf);
                change.write(buf);
            }
            Payload::ApproveProposal { proposal } => {
                Self::TAG_APPROVE_PROPOSAL.write(buf);
                proposal.write(buf);
            }
            Payload::Capture { document } => {
                Self::TAG_CAPTURE.write(buf);
                document.write(buf);
            }
            Payload::Recall { target, reason } => {
                Self::TAG_RECALL.write(buf);
                target.as_bytes().write(buf);
                reason.as_bytes().write(buf);
            }
            Payload::AnchorDocument { anchor } => {
                Self::TAG_ANCHOR_DOCUMENT.write(buf);
                anchor.write(buf);
            }
            Payload::RegisterParcel {
                parcel,
                recipient,
                route,
                document,
            } => {
                Self::TAG_REGISTER_PARCEL.write(buf);
                parcel.as_bytes().write(buf);
                recipient.as_bytes().write(buf);
                write_route(route, buf);
                document.write(buf);
            }
            Payload::ProposeHandoff {
                parcel,
                to,
                next,
                location,
                step,
                wait_ms,
            } => {
                Self::TAG_PROPOSE_HANDOFF.write(buf);
                parcel.as_bytes().write(buf);
                to.as_bytes().write(buf);
                write_option(next, buf);
                write_option(location, buf);
                write_option(step, buf);
                wait_ms.write(buf);
            }
            Payload::AcceptHandoff { parcel, handoff } => {
                Self::TAG_ACCEPT_HANDOFF.write(buf);
                parcel.as_bytes().write(buf);
                handoff.write(buf);
            }
            Payload::RejectHandoff {
                parcel,
                handoff,
                reason,
            } => {
                Self::TAG_REJECT_HANDOFF.write(buf);
                parcel.as_bytes().write(buf);
                handoff.write(buf);
                reason.as_bytes().write(buf);
            }
            Payload::CancelHandoff { parcel, handoff } => {
                Self::TAG_CANCEL_HANDOFF.write(buf);
                parcel.as_bytes().write(buf);
                handoff.write(buf);
            }
            Payload::DeclareParcelException {
                parcel,
                exception,
                reason,
            } => {
                Self::TAG_PARCEL_EXCEPTION.write(buf);
                parcel.as_bytes().write(buf);
                (*exception as u8).write(buf);
                reason.as_bytes().write(buf);
            }
        }
    }
}

impl EncodeSize for Payload {
    fn encode_size(&self) -> usize {
        1 + match self {
            Payload::RegisterAccount { name } => name.as_bytes().encode_size(),
            Payload::Note { hash, label } => hash.encode_size() + label.as_bytes().encode_size(),
            Payload::RegisterAgent {
                agent,
                display_name,
            } => agent.encode_size() + display_name.as_bytes().encode_size(),
            Payload::GrantRole { agent, role } | Payload::RevokeRole { agent, role } => {
                agent.encode_size() + role.as_bytes().encode_size()
            }
            Payload::ProposeMembership { change } => change.encode_size(),
            Payload::ApproveProposal { proposal } => proposal.encode_size(),
            Payload::Capture { document } => document.encode_size(),
            Payload::Recall { target, reason } => {
                target.as_bytes().encode_size() + reason.as_bytes().encode_size()
            }
            Payload::AnchorDocument { anchor } => anchor.encode_size(),
            Payload::RegisterParcel {
                parcel,
                recipient,
                route,
                document,
            } => {
                parcel.as_bytes().encode_size()
                    + recipient.as_bytes().encode_size()
                    + route_size(route)
                    + document.encode_size()
            }
            Payload::ProposeHandoff {
                parcel,
                to,
                next,
                location,
                step,
                wait_ms,
            } => {
                parcel.as_bytes().encode_size()
                    + to.as_bytes().encode_size()
                    + option_size(next)
                    + option_size(location)
                    + option_size(step)
                    + wait_ms.encode_size()
            }
            Payload::AcceptHandoff { parcel, handoff }
            | Payload::CancelHandoff { parcel, handoff } => {
                parcel.as_bytes().encode_size() + handoff.encode_size()
            }
            Payload::RejectHandoff {
                parcel,
                handoff,
                reason,
            } => {
                parcel.as_bytes().encode_size()
                    + handoff.encode_size()
                    + reason.as_bytes().encode_size()
            }
            Payload::DeclareParcelException { parcel, reason, .. } => {
                parcel.as_bytes().encode_size() + 1 + reason.as_bytes().encode_size()
            }
        }
    }
}

impl Read for Payload {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            Self::TAG_REGISTER_ACCOUNT => Ok(Payload::RegisterAccount {
                name: read_string(buf, MAX_ACCOUNT_NAME_BYTES, "account name")?,
            }),
            Self::TAG_NOTE => Ok(Payload::Note {
                hash: Digest::read(buf)?,
                label: read_string(buf, MAX_NOTE_LABEL_BYTES, "note label")?,
            }),
            Self::TAG_REGISTER_AGENT => Ok(Payload::RegisterAgent {
                agent: PublicKey::read(buf)?,
                display_name: read_string(buf, MAX_NAME_BYTES, "display name")?,
            }),
            Self::TAG_GRANT_ROLE => Ok(Payload::GrantRole {
                agent: PublicKey::read(buf)?,
                role: read_string(buf, MAX_ROLE_BYTES, "role")?,
            }),
            Self::TAG_REVOKE_ROLE => Ok(Payload::RevokeRole {
                agent: PublicKey::read(buf)?,
                role: read_string(buf, MAX_ROLE_BYTES, "role")?,
            }),
            Self::TAG_PROPOSE_MEMBERSHIP => Ok(Payload::ProposeMembership {
                change: MembershipChange::read(buf)?,
            }),
            Self::TAG_APPROVE_PROPOSAL => Ok(Payload::ApproveProposal {
                proposal: Digest::read(buf)?,
            }),
            Self::TAG_CAPTURE => Ok(Payload::Capture {
                document: Vec::<u8>::read_cfg(buf, &(RangeCfg::new(1..=MAX_DOCUMENT_BYTES), ()))?,
            }),
            Self::TAG_RECALL => Ok(Payload::Recall {
                target: read_string(buf, MAX_IDENTIFIER_BYTES, "recall target")?,
                reason: read_string(buf, MAX_REASON_BYTES, "recall reason")?,
            }),
            Self::TAG_ANCHOR_DOCUMENT => Ok(Payload::AnchorDocument {
                anchor: DocumentAnchor::read(buf)?,
            }),
            Self::TAG_REGISTER_PARCEL => Ok(Payload::RegisterParcel {
                parcel: read_string(buf, MAX_IDENTIFIER_BYTES, "parcel")?,
                recipient: read_string(buf, MAX_ORG_ID_BYTES, "recipient")?,
                route: read_route(buf)?,
                document: DocumentAnchor::read(buf)?,
            }),
            Self::TAG_PROPOSE_HANDOFF => Ok(Payload::ProposeHandoff {
                parcel: read_string(buf, MAX_IDENTIFIER_BYTES, "parcel")?,
                to: read_string(buf, MAX_ORG_ID_BYTES, "receiving party")?,
                next: read_option(buf, MAX_ORG_ID_BYTES, "next party")?,
                location: read_option(buf, MAX_IDENTIFIER_BYTES, "location")?,
                step: read_option(buf, MAX_ORG_ID_BYTES, "business step")?,
                wait_ms: u64::read(buf)?,
            }),
            Self::TAG_ACCEPT_HANDOFF => Ok(Payload::AcceptHandoff {
                parcel: read_string(buf, MAX_IDENTIFIER_BYTES, "parcel")?,
                handoff: Digest::read(buf)?,
            }),
            Self::TAG_REJECT_HANDOFF => Ok(Payload::RejectHandoff {
                parcel: read_string(buf, MAX_IDENTIFIER_BYTES, "parcel")?,
                handoff: Digest::read(buf)?,
                reason: read_string(buf, MAX_REASON_BYTES, "rejection reason")?,
            }),
            Self::TAG_CANCEL_HANDOFF => Ok(Payload::CancelHandoff {
                parcel: read_string(buf, MAX_IDENTIFIER_BYTES, "parcel")?,
                handoff: Digest::read(buf)?,
            }),
            Self::TAG_PARCEL_EXCEPTION => Ok(Payload::DeclareParcelException {
                parcel: read_string(buf, MAX_IDENTIFIER_BYTES, "parcel")?,
                exception: {
                    let tag = u8::read(buf)?;
                    ParcelException::from_u8(tag).ok_or(CodecError::InvalidEnum(tag))?
                },
                reason: read_string(buf, MAX_REASON_BYTES, "exception reason")?,
            }),
            other => Err(CodecError::InvalidEnum(other)),
        }
    }
}

/// Reads a length-prefixed UTF-8 string of at most `max` bytes.
pub(crate) fn read_string(
    buf: &mut impl Buf,
    max: usize,
    what: &'static str,
) -> Result<String, CodecError> {
    let bytes = Vec::<u8>::read_cfg(buf, &(RangeCfg::new(0..=max), ()))?;
    String::from_utf8(bytes).map_err(|_| CodecError::Invalid(what, "not valid UTF-8"))
}

/// The signed content of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsignedTransaction {
    pub chain_id: String,
    pub sender: PublicKey,
    pub nonce: u64,
    pub payload: Payload,
}

impl UnsignedTransaction {
    /// The transaction id: SHA-256 of the canonical encoding of the signed content.
    pub fn id(&self) -> Digest {
        hash(&self.encode())
    }

    /// Signs with `key`, which must be the sender's key.
    pub fn sign(self, key: &ed25519::PrivateKey) -> Transaction {
        let signature = key.sign(TX_NAMESPACE, &self.encode());
        Transaction::from_parts(self, signature)
    }
}

impl Write for UnsignedTransaction {
    fn write(&self, buf: &mut impl BufMut) {
        self.chain_id.as_bytes().write(buf);
        self.sender.write(buf);
        self.nonce.write(buf);
        self.payload.write(buf);
    }
}

impl EncodeSize for UnsignedTransaction {
    fn encode_size(&self) -> usize {
        self.chain_id.as_bytes().encode_size()
            + self.sender.encode_size()
            + self.nonce.encode_size()
            + self.payload.encode_size()
    }
}

impl Read for UnsignedTransaction {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            chain_id: read_string(buf, MAX_CHAIN_ID_BYTES, "chain id")?,
            sender: crate::key_cache::read_public_key(buf)?,
            nonce: u64::read(buf)?,
            payload: Payload::read(buf)?,
        })
    }
}

/// A transaction with its sender's signature.
///
/// The id is computed once at construction (decode or sign) because every
/// stage (mempool, block, receipts, API) keys on it.
#[derive(Clone, Debug)]
pub struct Transaction(Arc<Signed>);

/// A transaction's content, shared by every copy: the mempool, each
/// proposal built from it, the block and the followers of finalized blocks
/// all hold the same one instead of copying a capture document each.
#[derive(Clone, Debug)]
struct Signed {
    body: UnsignedTransaction,
    signature: Signature,
    id: Digest,
}

impl PartialEq for Transaction {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id && self.0.signature == other.0.signature
    }
}
impl Eq for Transaction {}

impl Transaction {
    pub fn body(&self) -> &UnsignedTransaction {
        &self.0.body
    }
    pub fn signature(&self) -> &Signature {
        &self.0.signature
    }
    pub fn id(&self) -> Digest {
        self.0.id
    }
    pub fn sender(&self) -> &PublicKey {
        &self.0.body.sender
    }
    pub fn nonce(&self) -> u64 {
        self.0.body.nonce
    }
    pub fn chain_id(&self) -> &str {
        &self.0.body.chain_id
    }
    pub fn payload(&self) -> &Payload {
        &self.0.body.payload
    }

    /// Checks the signature alone (one at a time; see `verify_batch` for many).
    pub fn verify_signature(&self) -> bool {
        self.0
            .body
            .sender
            .verify(TX_NAMESPACE, &self.0.body.encode(), &self.0.signature)
    }

    /// Decodes a transaction from untrusted bytes, enforcing the size limit
    /// before anything else.
    pub fn decode_untrusted(bytes: &[u8]) -> Result<Self, CodecError> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(CodecError::InvalidLength(bytes.len()));
        }
        Self::decode(commonware_codec::Copying(bytes))
    }

    /// Pairs signed content with a signature received separately (e.g. in
    /// HTTP headers); verify it before trusting it.
    pub fn from_parts(body: UnsignedTransaction, signature: Signature) -> Self {
        let id = body.id();
        Self(Arc::new(Signed {
            body,
            signature,
            id,
        }))
    }

    /// Replaces the signature (tests of rejection paths need a forged one).
    pub fn with_signature(mut self, signature: Signature) -> Self {
        Arc::make_mut(&mut self.0).signature = signature;
        self
    }
}

impl Write for Transaction {
    fn write(&self, buf: &mut impl BufMut) {
        self.0.body.write(buf);
        self.0.signature.write(buf);
    }
}

impl EncodeSize for Transaction {
    fn encode_size(&self) -> usize {
        self.0.body.encode_size() + self.0.signature.encode_size()
    }
}

impl Read for Transaction {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let body = UnsignedTransaction::read(buf)?;
        let signature = Signature::read(buf)?;
        Ok(Self::from_parts(body, signature))
    }
}

/// The body of `POST /v1/transactions/batch` as octet-stream: each
/// transaction's canonical bytes after their length as a big-endian u32.
pub fn encode_batch<'a>(txs: impl IntoIterator<Item = &'a Transaction>) -> Vec<u8> {
    let encoded: Vec<_> = txs.into_iter().map(|tx| tx.encode()).collect();
    frame_batch(encoded.iter().map(|bytes| bytes.as_ref()))
}

/// [`encode_batch`]'s framing of arbitrary byte strings (tests frame
/// bytes that are not transactions with it).
pub fn frame_batch<'a>(frames: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    for frame in frames {
        body.extend_from_slice(&(frame.len() as u32).to_be_bytes());
        body.extend_from_slice(frame);
    }
    body
}

/// Verifies many transaction signatures at once (ed25519 batch verification).
///
/// Returns the indices of transactions whose signature is invalid; empty when
/// all are valid. Falls back to one-by-one checks only when the batch fails,
/// so the common all-valid case costs one batch verification.
pub fn verify_batch(txs: &[&Transaction], rng: &mut impl rand_core::CryptoRng) -> Vec<usize> {
    use commonware_cryptography::{BatchEntry, BatchVerifier};
    if txs.is_empty() {
        return Vec::new();
    }
    let messages: Vec<bytes::Bytes> = txs.iter().map(|tx| tx.0.body.encode()).collect();
    let ok = PublicKey::verify_batch(
        rng,
        &messages,
        |i, message| BatchEntry {
            namespace: TX_NAMESPACE,
            message,
            public_key: &txs[i].0.body.sender,
            signature: &txs[i].0.signature,
        },
        &commonware_parallel::Sequential,
    );
    if ok {
        return Vec::new();
    }
    txs.iter()
        .enumerate()
        .filter(|(_, tx)| !tx.verify_signature())
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_cryptography::Signer;

    fn sample(nonce: u64) -> (ed25519::PrivateKey, Transaction) {
        let key = ed25519::PrivateKey::from_seed(7);
        let tx = UnsignedTransaction {
            chain_id: "test-chain".into(),
            sender: key.public_key(),
            nonce,
            payload: Payload::Note {
                hash: hash(b"file"),
                label: "invoice 42".into(),
            },
        }
        .sign(&key);
        (key, tx)
    }

    #[test]
    fn roundtrip_keeps_id_and_signature() {
        let (_, tx) = sample(3);
        let bytes = tx.encode();
        let decoded = Transaction::decode_untrusted(&bytes).unwrap();
        assert_eq!(decoded, tx);
        assert_eq!(decoded.id(), tx.id());
        assert!(decoded.verify_signature());
    }

    #[test]
    fn any_flipped_byte_breaks_signature_or_decoding() {
        let (_, tx) = sample(1);
        let bytes = tx.encode().to_vec();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            if let Ok(decoded) = Transaction::decode_untrusted(&bad) {
                assert!(
                    !decoded.verify_signature(),
                    "flip at byte {i} still verified"
                );
            }
        }
    }

    #[test]
    fn oversized_input_is_rejected_before_decoding() {
        let bytes = vec![0u8; MAX_TX_BYTES + 1];
        assert!(matches!(
            Transaction::decode_untrusted(&bytes),
            Err(CodecError::InvalidLength(_))
        ));
    }

    #[test]
    fn overlong_label_is_rejected() {
        let key = ed25519::PrivateKey::from_seed(1);
        let tx = UnsignedTransaction {
            chain_id: "c".into(),
            sender: key.public_key(),
            nonce: 0,
            payload: Payload::Note {
                hash: hash(b"x"),
                label: "x".repeat(MAX_NOTE_LABEL_BYTES + 1),
            },
        }
        .sign(&key);
        assert!(Transaction::decode_untrusted(&tx.encode()).is_err());
    }

    #[test]
    fn batch_verification_finds_the_forgery() {
        let txs: Vec<Transaction> = (0..8).map(|n| sample(n).1).collect();
        let forged = txs[5].clone().with_signature(txs[4].signature().clone());
        let mut all: Vec<&Transaction> = txs.iter().collect();
        assert!(verify_batch(&all, &mut rand_chacha_rng()).is_empty());
        all[5] = &forged;
        assert_eq!(verify_batch(&all, &mut rand_chacha_rng()), vec![5]);
    }

    fn rand_chacha_rng() -> impl rand_core::CryptoRng {
        commonware_utils::test_rng()
    }

    proptest::proptest! {
        #[test]
        fn decoding_random_bytes_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = Transaction::decode_untrusted(&bytes);
        }
    }
}
