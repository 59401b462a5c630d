//! Deterministic execution of tracechain transactions.
//!
//! Execution is a pure function of (parent state, block): it reads and writes
//! only through a [`Store`], uses the block's timestamp instead of a clock,
//! and iterates nothing in hash order.
//!
//! Two kinds of failure are kept apart (docs/adr/0003):
//! - a transaction that may not be *included* (wrong chain, wrong nonce)
//!   makes a block invalid; proposers never include one ([`build_block`]
//!   skips them) and validators vote against a block that does
//!   ([`execute_block`]);
//! - a transaction that is included but whose payload breaks a rule is
//!   recorded as failed with its reason in a receipt; its nonce is consumed
//!   and nothing else changes.
//!
//! Signatures are checked before execution (in batches, off this path); the
//! executor assumes every transaction it sees is correctly signed.

pub mod capture;
mod membership;
mod overlay;
mod parcel;
mod payload;
mod recall;

use tracechain_state::{StateRead, Store, db::MAX_STATE_VALUE_BYTES, records};
use tracechain_types::{Outcome, Payload, Receipt, Transaction, genesis::FoundingOrganisation};

pub use membership::ActingAgents;
pub use payload::Failure;

/// What execution needs to know about the block besides its transactions.
#[derive(Clone, Debug)]
pub struct BlockEnv {
    pub chain_id: String,
    pub height: u64,
    pub timestamp_ms: u64,
    /// The founding organisations, applied at height 1 before its
    /// transactions.
    pub founding: std::sync::Arc<Vec<FoundingOrganisation>>,
    /// Signers this block's captures acted as (filled while executing).
    pub acting: membership::ActingAgents,
}

/// Applies what genesis puts into state, when `env` is the first block.
async fn apply_genesis_if_first(
    store: &mut impl Store,
    env: &BlockEnv,
) -> Result<(), records::RecordError> {
    if env.height == 1 {
        membership::apply_genesis(store, env, &env.founding).await?;
    }
    Ok(())
}

/// Why a transaction may not be included in a block.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Inadmissible {
    #[error("transaction is for chain '{found}', this chain is '{expected}'")]
    WrongChain { expected: String, found: String },
    #[error("nonce {found} is not the sender's next nonce {expected}")]
    WrongNonce { expected: u64, found: u64 },
}

/// A block that must not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum InvalidBlock {
    #[error("transaction {index} ({tx}): {reason}")]
    Transaction {
        index: usize,
        tx: String,
        reason: Inadmissible,
    },
    #[error("state access failed: {0}")]
    Storage(#[from] records::RecordError),
}

/// Counts of what a block did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockSummary {
    pub applied: u32,
    /// Positions in the block of the failed transactions, ascending (what
    /// their receipts say, without reading them back).
    pub failed_at: Vec<u32>,
}

impl BlockSummary {
    fn count(&mut self, index: u32, outcome: &Outcome) {
        match outcome {
            Outcome::Applied => self.applied += 1,
            Outcome::Failed { .. } => self.failed_at.push(index),
        }
    }

    /// How many transactions failed.
    pub fn failed(&self) -> u32 {
        self.failed_at.len() as u32
    }
}

/// Executes every transaction of a received block, or says why the block is
/// invalid. On error the store holds partial writes and must be discarded.
pub async fn execute_block(
    store: &mut impl Store,
    env: &BlockEnv,
    txs: &[Transaction],
) -> Result<BlockSummary, InvalidBlock> {
    apply_genesis_if_first(store, env).await?;
    env.acting.forget();
    let mut summary = BlockSummary::default();
    for (index, tx) in txs.iter().enumerate() {
        let outcome = execute_transaction(store, env, index as u32, tx)
            .await?
            .map_err(|reason| InvalidBlock::Transaction {
                index,
                tx: tracechain_types::to_hex(tx.id()),
                reason,
            })?;
        summary.count(index as u32, &outcome);
    }
    Ok(summary)
}

/// Executes candidates in order, leaving out the ones that may not be
/// included; returns the included transactions (the block body).
pub async fn build_block(
    store: &mut impl Store,
    env: &BlockEnv,
    candidates: Vec<Transaction>,
) -> Result<(Vec<Transaction>, BlockSummary), records::RecordError> {
    apply_genesis_if_first(store, env).await?;
    env.acting.forget();
    let mut included = Vec::with_capacity(candidates.len());
    let mut summary = BlockSummary::default();
    for tx in candidates {
        let index = included.len() as u32;
        if let Ok(outcome) = execute_transaction(store, env, index, &tx).await? {
            summary.count(index, &outcome);
            included.push(tx);
        }
    }
    Ok((included, summary))
}

/// Checks that `tx` could be included now: right chain and a nonce not yet
/// used. Gaps are allowed (the mempool holds the transaction until the
/// nonces before it arrive).
pub async fn check_admission(
    store: &impl StateRead,
    chain_id: &str,
    tx: &Transaction,
) -> Result<u64, AdmissionError> {
    if tx.chain_id() != chain_id {
        return Err(AdmissionError::Inadmissible(Inadmissible::WrongChain {
            expected: chain_id.to_string(),
            found: tx.chain_id().to_string(),
        }));
    }
    let expected = records::nonce(store, tx.sender()).await?;
    if tx.nonce() < expected {
        return Err(AdmissionError::NonceUsed {
            expected,
            found: tx.nonce(),
        });
    }
    Ok(expected)
}

#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    #[error(transparent)]
    Inadmissible(Inadmissible),
    #[error("nonce {found} was already used; the sender's next nonce is {expected}")]
    NonceUsed { expected: u64, found: u64 },
    #[error("state access failed: {0}")]
    Storage(#[from] records::RecordError),
}

/// Executes one transaction: the outer result is storage failure, the inner
/// one says whether the transaction may be included at all.
async fn execute_transaction(
    store: &mut impl Store,
    env: &BlockEnv,
    index: u32,
    tx: &Transaction,
) -> Result<Result<Outcome, Inadmissible>, records::RecordError> {
    if tx.chain_id() != env.chain_id {
        return Ok(Err(Inadmissible::WrongChain {
            expected: env.chain_id.clone(),
            found: tx.chain_id().to_string(),
        }));
    }
    let expected = records::nonce(store, tx.sender()).await?;
    if tx.nonce() != expected {
        return Ok(Err(Inadmissible::WrongNonce {
            expected,
            found: tx.nonce(),
        }));
    }
    records::set_nonce(store, tx.sender(), expected + 1);

    // Buffered, so a payload whose writes the state cannot hold fails whole.
    let mut overlay = overlay::Overlay::new(store);
    let applied = payload::apply(&mut overlay, env, tx).await?;
    if !matches!(tx.payload(), Payload::Capture { .. }) {
        // Only captures leave agents and organisations as they were.
        env.acting.forget();
    }
    let outcome = match (applied, overlay.oversized()) {
        (Ok(_), Some(size)) => Outcome::Failed {
            code: "state_limit".into(),
            reason: format!(
                "a record would grow to {size} bytes, over the {MAX_STATE_VALUE_BYTES}-byte limit"
            ),
        },
        (Ok(log_records), None) => {
            let appended = overlay.commit();
            for record in appended.into_iter().chain(log_records) {
                store.append(record);
            }
            Outcome::Applied
        }
        (Err(failure), _) => Outcome::Failed {
            code: failure.code.to_string(),
            reason: failure.reason,
        },
    };
    let receipt = Receipt {
        height: env.height,
        index,
        outcome: outcome.clone(),
    };
    records::put_receipt(store, &tx.id(), &receipt);
    Ok(Ok(outcome))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod domain_tests;
