//! What executing a transaction leaves behind: a receipt in the state (so
//! "did my transaction apply, and if not why" is answerable and provable) and,
//! for every applied record, an entry in the append-only event log.

use crate::{Digest, transaction::read_string};

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, FixedSize, Read, ReadExt, Write};

/// Longest failure reason kept in a receipt.
pub const MAX_REASON_BYTES: usize = 512;

/// The result of executing one included transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// The transaction was valid to include (signed, right chain, next nonce)
    /// but its payload broke a rule; its nonce is consumed and nothing else
    /// changed.
    Failed {
        code: String,
        reason: String,
    },
}

/// Where and how a transaction was executed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub height: u64,
    pub index: u32,
    pub outcome: Outcome,
}

impl Write for Receipt {
    fn write(&self, buf: &mut impl BufMut) {
        self.height.write(buf);
        self.index.write(buf);
        match &self.outcome {
            Outcome::Applied => 0u8.write(buf),
            Outcome::Failed { code, reason } => {
                1u8.write(buf);
                code.as_bytes().write(buf);
                reason.as_bytes().write(buf);
            }
        }
    }
}

impl EncodeSize for Receipt {
    fn encode_size(&self) -> usize {
        self.height.encode_size()
            + self.index.encode_size()
            + 1
            + match &self.outcome {
                Outcome::Applied => 0,
                Outcome::Failed { code, reason } => {
                    code.as_bytes().encode_size() + reason.as_bytes().encode_size()
                }
            }
    }
}

impl Read for Receipt {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let height = u64::read(buf)?;
        let index = u32::read(buf)?;
        let outcome = match u8::read(buf)? {
            0 => Outcome::Applied,
            1 => Outcome::Failed {
                code: read_string(buf, 64, "failure code")?,
                reason: read_string(buf, MAX_REASON_BYTES, "failure reason")?,
            },
            other => return Err(CodecError::InvalidEnum(other)),
        };
        Ok(Self {
            height,
            index,
            outcome,
        })
    }
}

/// The kind of record a log entry stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum RecordKind {
    AccountRegistered = 0,
    Note = 1,
    OrganisationJoined = 2,
    OrganisationLeft = 3,
    AgentRegistered = 4,
    RoleChanged = 5,
    ProposalCreated = 6,
    /// A captured EPCIS event; the subject is its canonical event hash.
    Event = 7,
    /// An earlier event declared in error; the subject is its hash.
    ErrorDeclared = 8,
    Recall = 9,
    DocumentAnchored = 10,
    ParcelRegistered = 11,
    HandoffProposed = 12,
    HandoffAccepted = 13,
    HandoffRejected = 14,
    HandoffCancelled = 15,
    ParcelDelivered = 16,
    ParcelException = 17,
}

impl RecordKind {
    const ALL: [RecordKind; 18] = [
        RecordKind::AccountRegistered,
        RecordKind::Note,
        RecordKind::OrganisationJoined,
        RecordKind::OrganisationLeft,
        RecordKind::AgentRegistered,
        RecordKind::RoleChanged,
        RecordKind::ProposalCreated,
        RecordKind::Event,
        RecordKind::ErrorDeclared,
        RecordKind::Recall,
        RecordKind::DocumentAnchored,
        RecordKind::ParcelRegistered,
        RecordKind::HandoffProposed,
        RecordKind::HandoffAccepted,
        RecordKind::HandoffRejected,
        RecordKind::HandoffCancelled,
        RecordKind::ParcelDelivered,
        RecordKind::ParcelException,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RecordKind::AccountRegistered => "account_registered",
            RecordKind::Note => "note",
            RecordKind::OrganisationJoined => "organisation_joined",
            RecordKind::OrganisationLeft => "organisation_left",
            RecordKind::AgentRegistered => "agent_registered",
            RecordKind::RoleChanged => "role_changed",
            RecordKind::ProposalCreated => "proposal_created",
            RecordKind::Event => "event",
            RecordKind::ErrorDeclared => "error_declared",
            RecordKind::Recall => "recall",
            RecordKind::DocumentAnchored => "document_anchored",
            RecordKind::ParcelRegistered => "parcel_registered",
            RecordKind::HandoffProposed => "handoff_proposed",
            RecordKind::HandoffAccepted => "handoff_accepted",
            RecordKind::HandoffRejected => "handoff_rejected",
            RecordKind::HandoffCancelled => "handoff_cancelled",
            RecordKind::ParcelDelivered => "parcel_delivered",
            RecordKind::ParcelException => "parcel_exception",
        }
    }

    fn from_u8(value: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| *kind as u8 == value)
    }
}

/// One entry of the append-only event log (a Merkle mountain range).
///
/// Fixed size so the log can use the fixed-width journal: kind, the id of
/// the transaction that produced it, and the record's own subject hash (the
/// anchored hash of a note; later the canonical EPCIS event hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogRecord {
    pub kind: RecordKind,
    pub tx: Digest,
    pub subject: Digest,
}

impl Write for LogRecord {
    fn write(&self, buf: &mut impl BufMut) {
        (self.kind as u8).write(buf);
        self.tx.write(buf);
        self.subject.write(buf);
    }
}

impl FixedSize for LogRecord {
    const SIZE: usize = 1 + Digest::SIZE * 2;
}

impl Read for LogRecord {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let tag = u8::read(buf)?;
        let kind = RecordKind::from_u8(tag).ok_or(CodecError::InvalidEnum(tag))?;
        Ok(Self {
            kind,
            tx: Digest::read(buf)?,
            subject: Digest::read(buf)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash;
    use commonware_codec::{DecodeExt, Encode};

    #[test]
    fn receipt_roundtrip() {
        for outcome in [
            Outcome::Applied,
            Outcome::Failed {
                code: "name_taken".into(),
                reason: "account name 'acme' belongs to another key".into(),
            },
        ] {
            let receipt = Receipt {
                height: 9,
                index: 2,
                outcome,
            };
            assert_eq!(Receipt::decode(receipt.encode()).unwrap(), receipt);
        }
    }

    #[test]
    fn log_record_is_fixed_size_and_roundtrips() {
        let record = LogRecord {
            kind: RecordKind::Note,
            tx: hash(b"tx"),
            subject: hash(b"file"),
        };
        let bytes = record.encode();
        assert_eq!(bytes.len(), LogRecord::SIZE);
        assert_eq!(LogRecord::decode(bytes).unwrap(), record);
    }
}
