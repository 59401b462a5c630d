//! The rules of each payload. Every rule is checked before the first write,
//! so a failed payload changes nothing.

use crate::{BlockEnv, capture, membership, parcel, recall};
use tracechain_state::{
    Store,
    records::{self, NoteRecord, RecordError},
};
use tracechain_types::{LogRecord, Payload, RecordKind, Transaction, hash};

/// A payload that broke a rule: a stable machine-readable code and a
/// sentence for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: &'static str,
    pub reason: String,
}

impl Failure {
    pub(crate) fn new(code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }

    /// Names the event of a capture document the failure is about.
    pub(crate) fn at_event(mut self, position: usize) -> Self {
        self.reason = format!("event {position}: {}", self.reason);
        self
    }
}

type Applied = Result<Vec<LogRecord>, Failure>;

pub(crate) async fn apply(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
) -> Result<Applied, RecordError> {
    match tx.payload() {
        Payload::RegisterAccount { name } => register_account(store, tx, name).await,
        Payload::Note { hash, label } => note(store, env, tx, hash, label).await,
        Payload::RegisterAgent {
            agent,
            display_name,
        } => membership::register_agent(store, env, tx, agent, display_name).await,
        Payload::GrantRole { agent, role } => {
            membership::change_role(store, tx, agent, role, true).await
        }
        Payload::RevokeRole { agent, role } => {
            membership::change_role(store, tx, agent, role, false).await
        }
        Payload::ProposeMembership { change } => membership::propose(store, env, tx, change).await,
        Payload::ApproveProposal { proposal } => {
            membership::approve(store, env, tx, proposal).await
        }
        Payload::Capture { .. } => capture::capture(store, env, tx).await,
        Payload::Recall { target, reason } => recall::recall(store, env, tx, target, reason).await,
        Payload::AnchorDocument { anchor } => parcel::anchor_document(store, env, tx, anchor).await,
        Payload::RegisterParcel {
            parcel: id,
            recipient,
            route,
            document,
        } => parcel::register(store, env, tx, id, recipient, route, document).await,
        Payload::ProposeHandoff {
            parcel: id,
            to,
            next,
            location,
            step,
            wait_ms,
        } => {
            let proposal = parcel::Proposal {
                parcel: id,
                to,
                next,
                location,
                step,
                wait_ms: *wait_ms,
            };
            parcel::propose(store, env, tx, proposal).await
        }
        Payload::AcceptHandoff {
            parcel: id,
            handoff,
        } => parcel::accept(store, env, tx, id, handoff).await,
        Payload::RejectHandoff {
            parcel: id,
            handoff,
            reason,
        } => parcel::close(store, env, tx, id, handoff, Some(reason)).await,
        Payload::CancelHandoff {
            parcel: id,
            handoff,
        } => parcel::close(store, env, tx, id, handoff, None).await,
        Payload::DeclareParcelException {
            parcel: id,
            exception,
            reason,
        } => parcel::exception(store, env, tx, id, *exception, reason).await,
    }
}

/// Account names: 3 to 64 characters of lower-case letters, digits, `.`,
/// `-` and `_`, starting with a letter or digit. Names are identities people
/// read, so look-alike characters are kept out.
pub fn check_account_name(name: &str) -> Result<(), Failure> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
    let valid_start = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !(3..=64).contains(&name.len()) || !valid_chars || !valid_start {
        return Err(Failure::new(
            "invalid_name",
            format!(
                "account name '{name}' must be 3-64 characters of a-z, 0-9, '.', '-', '_' starting with a letter or digit"
            ),
        ));
    }
    Ok(())
}

async fn register_account(
    store: &mut impl Store,
    tx: &Transaction,
    name: &str,
) -> Result<Applied, RecordError> {
    if let Err(failure) = check_account_name(name) {
        return Ok(Err(failure));
    }
    if let Some(existing) = records::account_name(store, tx.sender()).await? {
        return Ok(Err(Failure::new(
            "already_registered",
            format!("this key is already registered as '{existing}'"),
        )));
    }
    if records::account_owner(store, name).await?.is_some() {
        return Ok(Err(Failure::new(
            "name_taken",
            format!("account name '{name}' is registered to another key"),
        )));
    }
    records::register_account(store, tx.sender(), name);
    Ok(Ok(vec![LogRecord {
        kind: RecordKind::AccountRegistered,
        tx: tx.id(),
        subject: hash(name.as_bytes()),
    }]))
}

async fn note(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
    anchored: &tracechain_types::Digest,
    label: &str,
) -> Result<Applied, RecordError> {
    if label.chars().any(char::is_control) {
        return Ok(Err(Failure::new(
            "invalid_label",
            "note label must not contain control characters",
        )));
    }
    // The first anchoring of a hash is what proves existence at a time;
    // later notes of the same hash are logged but do not replace it.
    if records::note(store, anchored).await?.is_none() {
        records::put_note(
            store,
            anchored,
            &NoteRecord {
                tx: tx.id(),
                height: env.height,
                timestamp_ms: env.timestamp_ms,
            },
        );
    }
    Ok(Ok(vec![LogRecord {
        kind: RecordKind::Note,
        tx: tx.id(),
        subject: *anchored,
    }]))
}
