//! JSON shapes of what the API returns. Byte strings (keys, digests,
//! signatures, encodings) are lower-case hex.

use commonware_codec::Encode;
use serde::Serialize;
use tracechain_node::handle::FinalityCertificate;
use tracechain_types::{Block, Header, Outcome, PublicKey, Receipt, to_hex};

#[derive(Serialize)]
pub struct HeaderView {
    pub height: u64,
    pub digest: String,
    pub parent: String,
    pub timestamp_ms: u64,
    pub proposer: String,
    pub epoch: u64,
    pub view: u64,
    pub parent_view: u64,
    pub tx_root: String,
    pub tx_count: u32,
    pub state_root: String,
    pub state_ops_root: String,
    pub state_floor: u64,
    pub state_size: u64,
    pub log_root: String,
    pub log_floor: u64,
    pub log_size: u64,
    pub lookup_root: String,
    pub lookup_floor: u64,
    pub lookup_size: u64,
    /// The canonical encoding of the header; its SHA-256 is `digest`.
    pub encoded: String,
}

impl From<&Header> for HeaderView {
    fn from(header: &Header) -> Self {
        Self {
            height: header.height,
            digest: to_hex(header.digest()),
            parent: to_hex(header.parent),
            timestamp_ms: header.timestamp_ms,
            proposer: to_hex(header.proposer()),
            epoch: header.context.round.epoch().get(),
            view: header.context.round.view().get(),
            parent_view: header.context.parent.0.get(),
            tx_root: to_hex(header.tx_root),
            tx_count: header.tx_count,
            state_root: to_hex(header.state_root),
            state_ops_root: to_hex(header.state_ops_root),
            state_floor: header.state_floor,
            state_size: header.state_size,
            log_root: to_hex(header.log_root),
            log_floor: header.log_floor,
            log_size: header.log_size,
            lookup_root: to_hex(header.lookup_root),
            lookup_floor: header.lookup_floor,
            lookup_size: header.lookup_size,
            encoded: to_hex(header.encode()),
        }
    }
}

/// The quorum of validator signatures finalizing a block.
#[derive(Serialize)]
pub struct CertificateView {
    pub view: u64,
    pub parent_view: u64,
    /// The block digest the validators signed.
    pub payload: String,
    pub signers: Vec<SignerView>,
    /// Signatures needed out of `validators`.
    pub quorum: usize,
    pub validators: usize,
    /// The canonical encoding of the whole finalization (for verifiers).
    pub encoded: String,
}

#[derive(Serialize)]
pub struct SignerView {
    pub index: u32,
    pub public_key: String,
    pub signature: String,
}

impl CertificateView {
    pub fn new(certificate: &FinalityCertificate, validators: &[PublicKey]) -> Self {
        let mut ordered = validators.to_vec();
        ordered.sort();
        let signers = certificate
            .certificate
            .signers
            .iter()
            .zip(certificate.certificate.signatures.iter())
            .map(|(participant, signature)| {
                let index = participant.get();
                SignerView {
                    index,
                    public_key: ordered.get(index as usize).map(to_hex).unwrap_or_default(),
                    signature: signature
                        .get()
                        .map(|s| to_hex(s.encode()))
                        .unwrap_or_default(),
                }
            })
            .collect();
        let n = validators.len();
        Self {
            view: certificate.proposal.round.view().get(),
            parent_view: certificate.proposal.parent.get(),
            payload: to_hex(certificate.proposal.payload),
            signers,
            quorum: n - (n - 1) / 3,
            validators: n,
            encoded: to_hex(certificate.encode()),
        }
    }
}

#[derive(Serialize)]
pub struct BlockView {
    pub header: HeaderView,
    pub transactions: Vec<String>,
    /// Absent for the genesis block (nothing to finalize).
    pub certificate: Option<CertificateView>,
}

impl BlockView {
    pub fn new(block: &Block, certificate: Option<CertificateView>) -> Self {
        Self {
            header: HeaderView::from(&block.header),
            transactions: block.txs.iter().map(|tx| to_hex(tx.id())).collect(),
            certificate,
        }
    }
}

#[derive(Serialize)]
pub struct TransactionStatusView {
    pub id: String,
    /// `pending`, `applied` or `failed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_height: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl TransactionStatusView {
    pub fn pending(id: String) -> Self {
        Self {
            id,
            status: "pending",
            block_height: None,
            index: None,
            code: None,
            reason: None,
        }
    }

    pub fn executed(id: String, receipt: &Receipt) -> Self {
        let (status, code, reason) = match &receipt.outcome {
            Outcome::Applied => ("applied", None, None),
            Outcome::Failed { code, reason } => {
                ("failed", Some(code.clone()), Some(reason.clone()))
            }
        };
        Self {
            id,
            status,
            block_height: Some(receipt.height),
            index: Some(receipt.index),
            code,
            reason,
        }
    }
}
