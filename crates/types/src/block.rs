//! Blocks: a header that commits to everything (transactions, and the state
//! and log roots after executing them) plus the transactions themselves.
//!
//! A block's digest is the SHA-256 of its header alone, so a finality
//! certificate over the digest authenticates the header, and the header's
//! roots authenticate every proof a light client checks.

use crate::{Digest, PublicKey, Transaction, hash, transaction::MAX_TX_BYTES};

use bytes::BufMut;
use commonware_codec::{
    Buf, Encode, EncodeSize, Error as CodecError, FixedSize, MaxEncodeSize, Read, ReadExt, Write,
};
use commonware_consensus::{
    Block as ConsensusBlock, BoundedBlock, CertifiableBlock, Heightable,
    simplex::types::Context,
    types::{Epoch, Height, Round, View},
};
use commonware_cryptography::{Digestible, Hasher, Sha256};

/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 20_000;
/// Most bytes of transactions in one block.
pub const MAX_BLOCK_TX_BYTES: usize = 8 * 1024 * 1024;
/// Widest varint length prefix.
const MAX_VARINT_BYTES: usize = 10;

/// The namespace of consensus votes and certificates on chain `chain_id`:
/// a finality certificate of one chain never verifies on another, even
/// with the same validator keys.
pub fn consensus_namespace(chain_id: &str) -> Vec<u8> {
    format!("tracechain/consensus/v1/{chain_id}").into_bytes()
}

/// Consensus metadata embedded in every block (round, leader, parent view).
pub type BlockContext = Context<Digest, PublicKey>;

/// Everything a block commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The consensus round this block was proposed in, its leader (the
    /// proposer) and the parent's view.
    pub context: BlockContext,
    pub height: u64,
    pub parent: Digest,
    /// Milliseconds since the Unix epoch, strictly greater than the parent's.
    pub timestamp_ms: u64,
    /// Binary Merkle root over the ids of the block's transactions.
    pub tx_root: Digest,
    pub tx_count: u32,
    /// Canonical root of the authenticated state after executing the block
    /// (what key-value and exclusion proofs verify against).
    pub state_root: Digest,
    /// Root and bounds of the state's operation log (what state sync
    /// verifies against).
    pub state_ops_root: Digest,
    pub state_floor: u64,
    pub state_size: u64,
    /// Root and bounds of the append-only event log after the block.
    pub log_root: Digest,
    pub log_floor: u64,
    pub log_size: u64,
    /// Root and bounds of the lookup database after the block: receipts
    /// and event records, found by id and never proven from it (ADR 0019).
    pub lookup_root: Digest,
    pub lookup_floor: u64,
    pub lookup_size: u64,
}

impl Header {
    /// The block digest: SHA-256 of the encoded header.
    pub fn digest(&self) -> Digest {
        Sha256::hash(&[&self.encode()])
    }

    /// The validator that proposed the block.
    pub fn proposer(&self) -> &PublicKey {
        &self.context.leader
    }
}

impl Write for Header {
    fn write(&self, buf: &mut impl BufMut) {
        self.context.write(buf);
        self.height.write(buf);
        self.parent.write(buf);
        self.timestamp_ms.write(buf);
        self.tx_root.write(buf);
        self.tx_count.write(buf);
        self.state_root.write(buf);
        self.state_ops_root.write(buf);
        self.state_floor.write(buf);
        self.state_size.write(buf);
        self.log_root.write(buf);
        self.log_floor.write(buf);
        self.log_size.write(buf);
        self.lookup_root.write(buf);
        self.lookup_floor.write(buf);
        self.lookup_size.write(buf);
    }
}

impl EncodeSize for Header {
    fn encode_size(&self) -> usize {
        self.context.encode_size() + Self::FIXED_TAIL
    }
}

impl Header {
    /// Bytes after the context: 6 digests, 8 u64s and one u32, all fixed width.
    const FIXED_TAIL: usize = Digest::SIZE * 6 + u64::SIZE * 8 + u32::SIZE;

    pub const MAX_ENCODE_SIZE: usize = BlockContext::MAX_ENCODE_SIZE + Self::FIXED_TAIL;
}

impl Read for Header {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            context: BlockContext::read(buf)?,
            height: u64::read(buf)?,
            parent: Digest::read(buf)?,
            timestamp_ms: u64::read(buf)?,
            tx_root: Digest::read(buf)?,
            tx_count: u32::read(buf)?,
            state_root: Digest::read(buf)?,
            state_ops_root: Digest::read(buf)?,
            state_floor: u64::read(buf)?,
            state_size: u64::read(buf)?,
            log_root: Digest::read(buf)?,
            log_floor: u64::read(buf)?,
            log_size: u64::read(buf)?,
            lookup_root: Digest::read(buf)?,
            lookup_floor: u64::read(buf)?,
            lookup_size: u64::read(buf)?,
        })
    }
}

/// A header and the transactions it commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub header: Header,
    pub txs: Vec<Transaction>,
}

impl Block {
    /// Builds the genesis block. Its parent field holds the hash of the
    /// genesis document, so chains with different genesis files never share
    /// a block digest.
    pub fn genesis(genesis_hash: Digest, roots: &Header) -> Self {
        let header = Header {
            context: Context {
                round: Round::new(Epoch::zero(), View::zero()),
                leader: roots.context.leader.clone(),
                parent: (View::zero(), genesis_hash),
            },
            height: 0,
            parent: genesis_hash,
            timestamp_ms: roots.timestamp_ms,
            tx_root: tx_root(&[]),
            tx_count: 0,
            ..roots.clone()
        };
        Self {
            header,
            txs: Vec::new(),
        }
    }
}

/// Binary Merkle root over transaction ids (empty block: hash of nothing).
pub fn tx_root(txs: &[Transaction]) -> Digest {
    let ids: Vec<Digest> = txs.iter().map(Transaction::id).collect();
    merkle_root(&ids)
}

/// A plain binary Merkle tree root (RFC 6962 style: leaves and nodes are
/// domain-separated so a node can never pose as a leaf).
pub fn merkle_root(leaves: &[Digest]) -> Digest {
    if leaves.is_empty() {
        return hash(&[]);
    }
    let mut level: Vec<Digest> = leaves
        .iter()
        .map(|leaf| Sha256::hash(&[&[0u8], leaf.as_ref()]))
        .collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => Sha256::hash(&[&[1u8], left.as_ref(), right.as_ref()]),
                [single] => *single,
                _ => unreachable!("chunks(2) yields one or two items"),
            })
            .collect();
    }
    level[0]
}

impl Write for Block {
    fn write(&self, buf: &mut impl BufMut) {
        self.header.write(buf);
        self.txs.write(buf);
    }
}

impl EncodeSize for Block {
    fn encode_size(&self) -> usize {
        self.header.encode_size() + self.txs.encode_size()
    }
}

impl Read for Block {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let header = Header::read(buf)?;
        let count = usize::read_cfg(buf, &commonware_codec::RangeCfg::new(0..=MAX_BLOCK_TXS))?;
        let mut txs = Vec::with_capacity(count.min(1024));
        let mut bytes = 0usize;
        for _ in 0..count {
            let before = buf.remaining();
            let tx = Transaction::read(buf)?;
            let used = before - buf.remaining();
            if used > MAX_TX_BYTES {
                return Err(CodecError::Invalid("block", "transaction too large"));
            }
            bytes += used;
            if bytes > MAX_BLOCK_TX_BYTES {
                return Err(CodecError::Invalid("block", "transactions too large"));
            }
            txs.push(tx);
        }
        Ok(Self { header, txs })
    }
}

impl Digestible for Block {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        self.header.digest()
    }
}

impl Heightable for Block {
    fn height(&self) -> Height {
        Height::new(self.header.height)
    }
}

impl ConsensusBlock for Block {
    fn parent(&self) -> Digest {
        self.header.parent
    }
}

impl CertifiableBlock for Block {
    type Context = BlockContext;

    fn context(&self) -> BlockContext {
        self.header.context.clone()
    }
}

impl BoundedBlock for Block {
    fn max_encode_size(_: &()) -> usize {
        Header::MAX_ENCODE_SIZE + MAX_VARINT_BYTES + MAX_BLOCK_TX_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Payload, UnsignedTransaction};
    use commonware_codec::DecodeExt;
    use commonware_cryptography::{Signer, ed25519};

    fn header() -> Header {
        let leader = ed25519::PrivateKey::from_seed(1).public_key();
        Header {
            context: Context {
                round: Round::new(Epoch::zero(), View::new(5)),
                leader,
                parent: (View::new(4), hash(b"parent")),
            },
            height: 3,
            parent: hash(b"parent"),
            timestamp_ms: 1_700_000_000_000,
            tx_root: hash(b"txs"),
            tx_count: 1,
            state_root: hash(b"state"),
            state_ops_root: hash(b"ops"),
            state_floor: 2,
            state_size: 10,
            log_root: hash(b"log"),
            log_floor: 0,
            log_size: 4,
            lookup_root: hash(b"lookup"),
            lookup_floor: 1,
            lookup_size: 3,
        }
    }

    #[test]
    fn block_roundtrip_and_digest_covers_header() {
        let key = ed25519::PrivateKey::from_seed(2);
        let tx = UnsignedTransaction {
            chain_id: "c".into(),
            sender: key.public_key(),
            nonce: 0,
            payload: Payload::RegisterAccount {
                name: "acme".into(),
            },
        }
        .sign(&key);
        let block = Block {
            header: Header {
                tx_root: tx_root(std::slice::from_ref(&tx)),
                ..header()
            },
            txs: vec![tx],
        };
        let decoded = Block::decode(block.encode()).unwrap();
        assert_eq!(decoded, block);
        assert_eq!(decoded.digest(), block.header.digest());
        let mut other = block.header.clone();
        other.state_root = hash(b"different");
        assert_ne!(other.digest(), block.digest());
    }

    #[test]
    fn header_size_is_bounded() {
        assert!(header().encode().len() <= Header::MAX_ENCODE_SIZE);
    }

    #[test]
    fn merkle_root_depends_on_order_and_content() {
        let a = hash(b"a");
        let b = hash(b"b");
        assert_ne!(merkle_root(&[a, b]), merkle_root(&[b, a]));
        assert_ne!(merkle_root(&[a]), merkle_root(&[a, a]));
        assert_ne!(merkle_root(&[a]), a);
    }
}
