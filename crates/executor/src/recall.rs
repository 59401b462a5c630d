//! Recalls: a brand owner (for its own company prefix) or a regulator (for
//! anything) declares an item, batch or class recalled. What was derived
//! from it reads as recalled through the trace index; the chain records the
//! declaration itself.

use crate::{BlockEnv, membership::acting_agent, payload::Failure};
use tracechain_epcis::Identifier;
use tracechain_state::{
    Store,
    domain::{self, RecallRecord},
    records::RecordError,
};
use tracechain_types::{LogRecord, RecordKind, Transaction, domain::roles, hash};

use crate::capture::{Brand, brand};

type Checked<T> = Result<Result<T, Failure>, RecordError>;

pub(crate) async fn recall(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
    target: &str,
    reason: &str,
) -> Checked<Vec<LogRecord>> {
    let (agent, org) = match acting_agent(store, tx.sender()).await? {
        Ok(found) => found,
        Err(failure) => return Ok(Err(failure)),
    };
    if !agent.roles.contains(roles::RECALL_ISSUE) {
        return Ok(Err(Failure::new(
            "role_missing",
            format!("recalling needs role '{}'", roles::RECALL_ISSUE),
        )));
    }
    let id = match Identifier::parse(target.trim()) {
        Ok(id) => id,
        Err(err) => {
            return Ok(Err(Failure::new(
                "invalid_identifier",
                format!("recall target: {err}"),
            )));
        }
    };
    if reason.trim().is_empty() {
        return Ok(Err(Failure::new(
            "missing_reason",
            "a recall needs a reason",
        )));
    }
    if !org.regulator && brand(&id, &org) != Brand::Owner {
        return Ok(Err(Failure::new(
            "not_brand_owner",
            format!(
                "only the brand owner of {} or a regulator may recall it",
                id.canonical()
            ),
        )));
    }
    if domain::recall(store, id.canonical()).await?.is_some() {
        return Ok(Err(Failure::new(
            "already_recalled",
            format!("{} is already recalled", id.canonical()),
        )));
    }
    domain::put_recall(
        store,
        id.canonical(),
        &RecallRecord {
            organisation: org.id.clone(),
            tx: tx.id().0,
            height: env.height,
            timestamp_ms: env.timestamp_ms,
            reason: reason.to_string(),
        },
    );
    Ok(Ok(vec![LogRecord {
        kind: RecordKind::Recall,
        tx: tx.id(),
        subject: hash(id.canonical().as_bytes()),
    }]))
}
