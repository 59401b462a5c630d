//! The feed of finalized records: every applied transaction's records, in
//! chain order, each with a stable position (`height-tx-position`), for
//! subscriptions (SSE, WebSocket, webhooks). Derived from blocks and state,
//! so a subscriber can resume from any position and miss nothing.

use crate::handle::NodeHandle;
use serde::Serialize;
use serde_json::{Value, json};
use std::{collections::VecDeque, fmt, str::FromStr, time::Duration};
use tracechain_executor::capture::capture_events;
use tracechain_state::{domain, parcels, records, store::StorageContext};
use tracechain_types::{Block, Outcome, Payload, Transaction, to_hex};

/// Where a record stands in the chain; totally ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub height: u64,
    pub tx: u32,
    pub record: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.height, self.tx, self.record)
    }
}

impl FromStr for Position {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.trim().split('-').collect();
        let number = |i: usize| -> Result<u64, String> {
            parts
                .get(i)
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| format!("'{text}' is not a record position (height-tx-record)"))
        };
        if parts.len() != 3 {
            return Err(format!(
                "'{text}' is not a record position (height-tx-record)"
            ));
        }
        Ok(Self {
            height: number(0)?,
            tx: number(1)? as u32,
            record: number(2)? as u32,
        })
    }
}

/// One finalized record.
#[derive(Clone, Debug, Serialize)]
pub struct FeedRecord {
    #[serde(skip)]
    pub position: Position,
    /// `position` as text: the SSE event id to resume after.
    pub id: String,
    pub height: u64,
    pub block_time_ms: u64,
    /// `event`, `error_declaration`, `recall`, `parcel_registered`,
    /// `handoff_proposed`, `handoff_accepted`, `parcel_delivered`, … or the
    /// payload kind of anything else.
    #[serde(rename = "type")]
    pub kind: String,
    pub transaction: String,
    pub organisation: Option<String>,
    pub identifiers: Vec<String>,
    pub parcel: Option<String>,
    pub biz_step: Option<String>,
    pub data: Value,
}

/// What a subscriber wants; every given field must match.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub identifier: Option<String>,
    pub parcel: Option<String>,
    pub organisation: Option<String>,
    /// Bare CBV term or URI.
    pub biz_step: Option<String>,
    pub kind: Option<String>,
}

fn canonical(id: &str) -> String {
    tracechain_epcis::Identifier::parse(id.trim())
        .map(|i| i.canonical().to_string())
        .unwrap_or_else(|_| id.trim().to_string())
}

impl Filter {
    /// Identifiers are compared in canonical form.
    pub fn normalized(mut self) -> Self {
        self.identifier = self.identifier.as_deref().map(canonical);
        self.parcel = self.parcel.as_deref().map(canonical);
        self
    }

    pub fn matches(&self, record: &FeedRecord) -> bool {
        let identifier = self
            .identifier
            .as_ref()
            .is_none_or(|id| record.identifiers.contains(id) || record.parcel.as_ref() == Some(id));
        // Events about the parcel (captures naming it) belong to it too.
        let parcel = self
            .parcel
            .as_ref()
            .is_none_or(|p| record.parcel.as_ref() == Some(p) || record.identifiers.contains(p));
        let organisation = self
            .organisation
            .as_ref()
            .is_none_or(|o| record.organisation.as_ref() == Some(o));
        let biz_step = self.biz_step.as_ref().is_none_or(|step| {
            record
                .biz_step
                .as_deref()
                .is_some_and(|s| s == step || s.ends_with(&format!("BizStep-{step}")))
        });
        let kind = self.kind.as_ref().is_none_or(|k| &record.kind == k);
        identifier && parcel && organisation && biz_step && kind
    }
}

struct Base<'a> {
    block: &'a Block,
    index: u32,
    tx: &'a Transaction,
}

impl Base<'_> {
    fn record(&self, record: u32, kind: &str, organisation: Option<String>) -> FeedRecord {
        let position = Position {
            height: self.block.header.height,
            tx: self.index,
            record,
        };
        FeedRecord {
            position,
            id: position.to_string(),
            height: self.block.header.height,
            block_time_ms: self.block.header.timestamp_ms,
            kind: kind.to_string(),
            transaction: to_hex(self.tx.id()),
            organisation,
            identifiers: Vec::new(),
            parcel: None,
            biz_step: None,
            data: Value::Null,
        }
    }
}

/// Every record of one finalized, applied block.
pub async fn block_records<E: StorageContext + rand_core::CryptoRng>(
    node: &NodeHandle<E>,
    block: &Block,
) -> Result<Vec<FeedRecord>, records::RecordError> {
    let mut out = Vec::new();
    for (index, tx) in block.txs.iter().enumerate() {
        let applied = records::receipt(node.reader(), &tx.id())
            .await?
            .is_some_and(|r| r.outcome == Outcome::Applied);
        if !applied {
            continue;
        }
        let base = Base {
            block,
            index: index as u32,
            tx,
        };
        let organisation = domain::agent(node.reader(), tx.sender())
            .await?
            .map(|agent| agent.organisation);
        out.extend(tx_records(node, &base, organisation).await?);
    }
    Ok(out)
}

async fn tx_records<E: StorageContext + rand_core::CryptoRng>(
    node: &NodeHandle<E>,
    base: &Base<'_>,
    organisation: Option<String>,
) -> Result<Vec<FeedRecord>, records::RecordError> {
    let org = || organisation.clone();
    Ok(match base.tx.payload() {
        Payload::Capture { .. } => capture_events(base.tx)
            .map(|events| {
                events
                    .iter()
                    .enumerate()
                    .map(|(i, event)| {
                        let declared = event.error_declaration.is_some();
                        let kind = if declared {
                            "error_declaration"
                        } else {
                            "event"
                        };
                        let mut record = base.record(i as u32, kind, org());
                        record.identifiers = event
                            .identifiers()
                            .into_iter()
                            .map(|(_, id)| id.canonical().to_string())
                            .collect();
                        record.biz_step = event.biz_step.as_ref().map(|s| s.uri());
                        let captured: Value =
                            serde_json::from_str(event.original_json()).unwrap_or(Value::Null);
                        record.data = json!({
                            "eventHash": event.hash_id(),
                            "eventType": event.event_type.as_str(),
                            "event": captured,
                        });
                        record
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Payload::Recall { target, reason } => {
            let mut record = base.record(0, "recall", org());
            record.identifiers = vec![canonical(target)];
            record.data = json!({"reason": reason});
            vec![record]
        }
        Payload::AcceptHandoff { parcel, handoff } => {
            accepted_records(node, base, org(), &canonical(parcel), handoff).await?
        }
        payload => {
            let mut record = base.record(0, record_kind(payload), org());
            if let Some(parcel) = parcel_of(payload) {
                record.parcel = Some(canonical(parcel));
                record.identifiers = vec![canonical(parcel)];
            }
            record.data = summary(payload);
            vec![record]
        }
    })
}

/// The record type of a payload: what happened, in the past tense.
fn record_kind(payload: &Payload) -> &'static str {
    match payload {
        Payload::RegisterParcel { .. } => "parcel_registered",
        Payload::ProposeHandoff { .. } => "handoff_proposed",
        Payload::RejectHandoff { .. } => "handoff_rejected",
        Payload::CancelHandoff { .. } => "handoff_cancelled",
        Payload::DeclareParcelException { .. } => "parcel_exception",
        Payload::AnchorDocument { .. } => "document_anchored",
        Payload::RegisterAccount { .. } => "account_registered",
        Payload::RegisterAgent { .. } => "agent_registered",
        Payload::GrantRole { .. } | Payload::RevokeRole { .. } => "role_changed",
        Payload::ProposeMembership { .. } => "membership_proposed",
        Payload::ApproveProposal { .. } => "membership_approved",
        other => other.kind(),
    }
}

fn parcel_of(payload: &Payload) -> Option<&str> {
    match payload {
        Payload::RegisterParcel { parcel, .. }
        | Payload::ProposeHandoff { parcel, .. }
        | Payload::RejectHandoff { parcel, .. }
        | Payload::CancelHandoff { parcel, .. }
        | Payload::DeclareParcelException { parcel, .. } => Some(parcel),
        _ => None,
    }
}

/// The public part of a payload (never document contents).
fn summary(payload: &Payload) -> Value {
    match payload {
        Payload::RegisterParcel {
            recipient,
            route,
            document,
            ..
        } => json!({
            "recipient": recipient,
            "route": route.iter().map(|s| &s.organisation).collect::<Vec<_>>(),
            "document": to_hex(document.fingerprint),
        }),
        Payload::ProposeHandoff {
            to,
            next,
            location,
            step,
            wait_ms,
            ..
        } => {
            json!({"to": to, "next": next, "location": location, "step": step, "wait_ms": wait_ms})
        }
        Payload::RejectHandoff {
            handoff, reason, ..
        } => json!({"handoff": to_hex(handoff), "reason": reason}),
        Payload::CancelHandoff { handoff, .. } => json!({"handoff": to_hex(handoff)}),
        Payload::DeclareParcelException {
            exception, reason, ..
        } => {
            json!({"exception": exception.name(), "reason": reason})
        }
        Payload::AnchorDocument { anchor } => json!({
            "fingerprint": to_hex(anchor.fingerprint),
            "readers": anchor.readers,
            "label": anchor.label,
        }),
        Payload::Note { hash, label } => json!({"hash": to_hex(hash), "label": label}),
        _ => Value::Null,
    }
}

/// An accepted hand-off: the acceptance, and the delivery when it was the last.
async fn accepted_records<E: StorageContext + rand_core::CryptoRng>(
    node: &NodeHandle<E>,
    base: &Base<'_>,
    organisation: Option<String>,
    parcel_id: &str,
    handoff: &tracechain_types::Digest,
) -> Result<Vec<FeedRecord>, records::RecordError> {
    let Some(parcel) = parcels::parcel(node.reader(), parcel_id).await? else {
        return Ok(Vec::new());
    };
    let Some(done) = parcels::handoff(node.reader(), &handoff.0).await? else {
        return Ok(Vec::new());
    };
    let mut accepted = base.record(0, "handoff_accepted", organisation.clone());
    accepted.parcel = Some(parcel_id.to_string());
    accepted.identifiers = vec![parcel_id.to_string()];
    accepted.biz_step = Some(format!(
        "https://ref.gs1.org/cbv/BizStep-{}",
        done.proposal.step
    ));
    accepted.data = json!({
        "handoff": to_hex(handoff),
        "from": done.proposal.from,
        "to": done.proposal.to,
        "offRoute": done.proposal.off_route,
        "eventHash": tracechain_epcis::hash_id_from_digest(&done.event_hash),
        "proposedBy": done.proposal.from_agent,
        "acceptedBy": done.to_agent,
    });
    let mut out = vec![accepted];
    // Acceptance by the recipient is the delivery (and closes the parcel).
    if done.proposal.to == parcel.recipient {
        let mut delivered = base.record(1, "parcel_delivered", organisation);
        delivered.parcel = Some(parcel_id.to_string());
        delivered.identifiers = vec![parcel_id.to_string()];
        delivered.data = json!({"recipient": parcel.recipient});
        out.push(delivered);
    }
    Ok(out)
}

/// Reads the feed from a position onwards, waiting for new blocks.
pub struct Feed<E: StorageContext + rand_core::CryptoRng> {
    node: NodeHandle<E>,
    filter: Filter,
    next_height: u64,
    after: Option<Position>,
    pending: VecDeque<FeedRecord>,
}

impl<E: StorageContext + rand_core::CryptoRng> Feed<E> {
    /// From the start of block `from_height`, or just after `after`.
    pub fn new(
        node: NodeHandle<E>,
        filter: Filter,
        from_height: u64,
        after: Option<Position>,
    ) -> Self {
        let next_height = after.map_or(from_height.max(1), |p| p.height);
        Self {
            node,
            filter: filter.normalized(),
            next_height,
            after,
            pending: VecDeque::new(),
        }
    }

    /// The next matching record; waits until there is one.
    pub async fn next(&mut self) -> FeedRecord {
        loop {
            if let Some(record) = self.pending.pop_front() {
                return record;
            }
            self.load_next_block().await;
        }
    }

    async fn load_next_block(&mut self) {
        let applied = self.node.finalized().await.map_or(0, |f| f.height);
        if self.next_height > applied {
            let mut watch = self.node.events().watch();
            futures::future::select(
                Box::pin(watch.changed()),
                Box::pin(self.node.sleep(Duration::from_millis(500))),
            )
            .await;
            return;
        }
        let Some(block) = self.node.block(self.next_height).await else {
            self.node.sleep(Duration::from_millis(100)).await;
            return;
        };
        let Ok(records) = block_records(&self.node, &block).await else {
            self.node.sleep(Duration::from_millis(100)).await;
            return;
        };
        let after = self.after;
        self.pending.extend(
            records
                .into_iter()
                .filter(|r| after.is_none_or(|a| r.position > a))
                .filter(|r| self.filter.matches(r)),
        );
        self.next_height += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_order_and_roundtrip() {
        let a: Position = "12-0-3".parse().unwrap();
        let b: Position = "12-1-0".parse().unwrap();
        assert!(a < b);
        assert_eq!(a.to_string(), "12-0-3");
        assert!("12-x-3".parse::<Position>().is_err());
        assert!("12-0".parse::<Position>().is_err());
    }
}
