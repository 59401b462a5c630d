//! Parcels: registration with an encrypted off-chain document, hand-offs
//! signed by both sides, delivery and exceptions (docs/adr/0008).

use crate::{BlockEnv, membership::acting_agent, payload::Failure};
use serde_json::json;
use tracechain_epcis::{Identifier, parse_capture, time::format_utc_millis};
use tracechain_state::{
    StateRead, Store,
    domain::{self, EventRecord, ItemState, OrganisationRecord},
    parcels::{
        self, ClosedProposal, DocumentRecord, ExceptionRecord, HandoffRecord, ParcelRecord,
        ParcelStatus, PendingHandoff,
    },
    records::RecordError,
};
use tracechain_types::{
    Digest, LogRecord, RecordKind, Transaction,
    domain::roles,
    hash,
    parcel::{DocumentAnchor, MAX_HANDOFF_WAIT_MS, ParcelException, RouteStop},
    to_hex,
};

type Checked<T> = Result<Result<T, Failure>, RecordError>;

macro_rules! check {
    ($checked:expr) => {
        match $checked? {
            Ok(value) => value,
            Err(failure) => return Ok(Err(failure)),
        }
    };
}

fn log(kind: RecordKind, tx: &Transaction, subject: Digest) -> LogRecord {
    LogRecord {
        kind,
        tx: tx.id(),
        subject,
    }
}

/// The signer as an agent allowed to move parcels for its organisation.
async fn handler(store: &impl StateRead, tx: &Transaction) -> Checked<OrganisationRecord> {
    let (agent, org) = check!(acting_agent(store, tx.sender()).await);
    if !agent.roles.contains(roles::SHIPMENT_HANDOFF) {
        return Ok(Err(Failure::new(
            "role_missing",
            format!("parcel operations need role '{}'", roles::SHIPMENT_HANDOFF),
        )));
    }
    Ok(Ok(org))
}

fn canonical_parcel(raw: &str) -> Result<String, Failure> {
    Identifier::parse(raw.trim())
        .map(|id| id.canonical().to_string())
        .map_err(|err| Failure::new("invalid_identifier", format!("parcel id: {err}")))
}

async fn active_member(
    store: &impl StateRead,
    id: &str,
    what: &str,
) -> Checked<OrganisationRecord> {
    match domain::organisation(store, id).await? {
        Some(org) if org.active => Ok(Ok(org)),
        _ => Ok(Err(Failure::new(
            "unknown_organisation",
            format!("{what} '{id}' is not an active member"),
        ))),
    }
}

async fn existing_parcel(store: &impl StateRead, raw: &str) -> Checked<ParcelRecord> {
    let id = match canonical_parcel(raw) {
        Ok(id) => id,
        Err(failure) => return Ok(Err(failure)),
    };
    match parcels::parcel(store, &id).await? {
        Some(parcel) => Ok(Ok(parcel)),
        None => Ok(Err(Failure::new(
            "unknown_parcel",
            format!("no parcel {id} is registered"),
        ))),
    }
}

/// Records a document anchor, or checks it matches the one already there.
async fn anchor(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
    org: &OrganisationRecord,
    anchor: &DocumentAnchor,
) -> Checked<bool> {
    if anchor.label.chars().any(char::is_control) {
        return Ok(Err(Failure::new(
            "invalid_label",
            "the label has control characters",
        )));
    }
    for reader in &anchor.readers {
        check!(active_member(store, reader, "reader").await);
    }
    if let Some(existing) = parcels::document(store, &anchor.fingerprint).await? {
        if existing.ciphertext_hash != anchor.ciphertext_hash.0 {
            return Ok(Err(Failure::new(
                "document_conflict",
                "this fingerprint is already anchored with another envelope",
            )));
        }
        return Ok(Ok(false));
    }
    parcels::put_document(
        store,
        &anchor.fingerprint,
        &DocumentRecord {
            ciphertext_hash: anchor.ciphertext_hash.0,
            readers: anchor.readers.clone(),
            label: anchor.label.clone(),
            anchored_by: org.id.clone(),
            tx: tx.id().0,
            height: env.height,
            timestamp_ms: env.timestamp_ms,
        },
    );
    Ok(Ok(true))
}

pub(crate) async fn anchor_document(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
    document: &DocumentAnchor,
) -> Checked<Vec<LogRecord>> {
    let (_, org) = check!(acting_agent(store, tx.sender()).await);
    if !check!(anchor(store, env, tx, &org, document).await) {
        return Ok(Err(Failure::new(
            "already_anchored",
            "this document is already anchored",
        )));
    }
    Ok(Ok(vec![log(
        RecordKind::DocumentAnchored,
        tx,
        document.fingerprint,
    )]))
}

pub(crate) async fn register(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
    raw_id: &str,
    recipient: &str,
    route: &[RouteStop],
    document: &DocumentAnchor,
) -> Checked<Vec<LogRecord>> {
    let org = check!(handler(store, tx).await);
    let id = match canonical_parcel(raw_id) {
        Ok(id) => id,
        Err(failure) => return Ok(Err(failure)),
    };
    if parcels::parcel(store, &id).await?.is_some() {
        return Ok(Err(Failure::new(
            "parcel_exists",
            format!("{id} is already registered"),
        )));
    }
    check!(active_member(store, recipient, "recipient").await);
    for stop in route {
        check!(active_member(store, &stop.organisation, "route stop").await);
    }
    // A parcel that is also a traced item must be the sender's to ship.
    if let Some(item) = domain::item(store, &id).await? {
        let holder = crate::capture::effective_custodian(store, &item).await?;
        if holder != org.id {
            return Ok(Err(Failure::new(
                "not_custodian",
                format!("{id} is held by '{holder}'"),
            )));
        }
    }
    let mut logs = Vec::new();
    if check!(anchor(store, env, tx, &org, document).await) {
        logs.push(log(RecordKind::DocumentAnchored, tx, document.fingerprint));
    }
    parcels::put_parcel(
        store,
        &ParcelRecord {
            id: id.clone(),
            sender: org.id.clone(),
            recipient: recipient.to_string(),
            route: route
                .iter()
                .map(|s| (s.organisation.clone(), s.location.clone()))
                .collect(),
            document: document.fingerprint.0,
            registered_tx: tx.id().0,
            registered_height: env.height,
            registered_ms: env.timestamp_ms,
            custodian: org.id.clone(),
            status: ParcelStatus::Registered,
            damaged: false,
            pending: None,
            handoff_count: 0,
            closed_count: 0,
            exception_count: 0,
        },
    );
    if domain::item(store, &id).await?.is_none() {
        domain::put_item(
            store,
            &id,
            &ItemState {
                created_by: org.id.clone(),
                custodian: org.id.clone(),
                ..Default::default()
            },
        );
    }
    logs.push(log(RecordKind::ParcelRegistered, tx, hash(id.as_bytes())));
    Ok(Ok(logs))
}

pub(crate) struct Proposal<'a> {
    pub parcel: &'a str,
    pub to: &'a str,
    pub next: &'a Option<String>,
    pub location: &'a Option<String>,
    pub step: &'a Option<String>,
    pub wait_ms: u64,
}

/// The business steps a hand-off event may carry (CBV 2.0).
pub const HANDOFF_STEPS: [&str; 4] = ["shipping", "departing", "arriving", "receiving"];

/// The hand-off's business step: the proposer's choice, or by default
/// `shipping` from the sender, `receiving` by the recipient and `arriving`
/// in between (docs/adr/0008).
fn handoff_step(
    parcel: &ParcelRecord,
    from: &str,
    proposal: &Proposal<'_>,
) -> Result<String, Failure> {
    match proposal.step.as_deref() {
        Some(step) if HANDOFF_STEPS.contains(&step) => Ok(step.to_string()),
        Some(step) => Err(Failure::new(
            "invalid_step",
            format!("'{step}' is not one of {}", HANDOFF_STEPS.join(", ")),
        )),
        None if proposal.to == parcel.recipient => Ok("receiving".into()),
        None if from == parcel.sender && parcel.handoff_count == 0 => Ok("shipping".into()),
        None => Ok("arriving".into()),
    }
}

pub(crate) async fn propose(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
    proposal: Proposal<'_>,
) -> Checked<Vec<LogRecord>> {
    let org = check!(handler(store, tx).await);
    let mut parcel = check!(existing_parcel(store, proposal.parcel).await);
    if parcel.custodian != org.id {
        return Ok(Err(Failure::new(
            "not_custodian",
            format!(
                "only the holder '{}' may hand the parcel over",
                parcel.custodian
            ),
        )));
    }
    if parcel.status.is_closed() {
        return Ok(Err(Failure::new(
            "parcel_closed",
            format!("the parcel is {}", parcel.status.name()),
        )));
    }
    if parcel.pending.is_some() {
        return Ok(Err(Failure::new(
            "handoff_pending",
            "a hand-off is already waiting for an answer",
        )));
    }
    check!(active_member(store, proposal.to, "receiving party").await);
    if proposal.wait_ms == 0 || proposal.wait_ms > MAX_HANDOFF_WAIT_MS {
        return Ok(Err(Failure::new(
            "invalid_wait",
            format!("wait must be 1..={MAX_HANDOFF_WAIT_MS} ms"),
        )));
    }
    let location = match proposal
        .location
        .as_deref()
        .map(Identifier::parse)
        .transpose()
    {
        Ok(location) => location.map(|l| l.canonical().to_string()),
        Err(err) => {
            return Ok(Err(Failure::new(
                "invalid_identifier",
                format!("location: {err}"),
            )));
        }
    };
    let step = match handoff_step(&parcel, &org.id, &proposal) {
        Ok(step) => step,
        Err(failure) => return Ok(Err(failure)),
    };
    parcel.pending = Some(PendingHandoff {
        id: tx.id().0,
        from: org.id.clone(),
        from_agent: to_hex(tx.sender()),
        to: proposal.to.to_string(),
        next: proposal.next.clone(),
        location,
        step,
        proposed_ms: env.timestamp_ms,
        expires_ms: env.timestamp_ms + proposal.wait_ms,
        off_route: !parcel.route.iter().any(|(stop, _)| stop == proposal.to)
            && proposal.to != parcel.recipient,
    });
    parcels::put_parcel(store, &parcel);
    Ok(Ok(vec![log(RecordKind::HandoffProposed, tx, tx.id())]))
}

/// The pending hand-off `handoff` of a parcel, answered by the signer's
/// organisation (`as_receiver`) or by its proposer.
async fn answering(
    store: &impl StateRead,
    tx: &Transaction,
    raw_parcel: &str,
    handoff: &Digest,
    as_receiver: bool,
) -> Checked<(ParcelRecord, PendingHandoff, OrganisationRecord)> {
    let org = check!(handler(store, tx).await);
    let parcel = check!(existing_parcel(store, raw_parcel).await);
    let pending = match &parcel.pending {
        Some(pending) if pending.id == handoff.0 => pending.clone(),
        _ => {
            return Ok(Err(Failure::new(
                "unknown_handoff",
                "no pending hand-off of this parcel has this id",
            )));
        }
    };
    let party = if as_receiver {
        &pending.to
    } else {
        &pending.from
    };
    if party != &org.id {
        return Ok(Err(Failure::new(
            "not_party",
            format!("only '{party}' may answer this hand-off"),
        )));
    }
    Ok(Ok((parcel, pending, org)))
}

/// A party of a hand-off as an EPCIS source/destination identifier: its
/// GLN as a party Digital Link when it has one.
fn party_uri(org: &OrganisationRecord) -> String {
    match org.glns.first() {
        Some(gln) => format!("https://id.gs1.org/417/{gln}"),
        None => format!("urn:tracechain:org:{}", org.id),
    }
}

/// The EPCIS ObjectEvent an accepted hand-off is recorded as (deterministic:
/// block time, parties, proposal and acceptance ids).
fn handoff_event(
    parcel: &ParcelRecord,
    pending: &PendingHandoff,
    from: &OrganisationRecord,
    to: &OrganisationRecord,
    acceptance: &Digest,
    time_ms: u64,
    delivered: bool,
) -> String {
    let time = format_utc_millis(time_ms as i64);
    let mut event = json!({
        "type": "ObjectEvent",
        "eventTime": time,
        "eventTimeZoneOffset": "+00:00",
        "epcList": [parcel.id],
        "action": "OBSERVE",
        "bizStep": pending.step,
        "sourceList": [{"type": "possessing_party", "source": party_uri(from)}],
        "destinationList": [{"type": "possessing_party", "destination": party_uri(to)}],
        "tracechain:handoffProposal": hex::encode(pending.id),
        "tracechain:handoffAcceptance": hex::encode(acceptance),
        "tracechain:offRoute": pending.off_route,
        "tracechain:parcelDocument": hex::encode(parcel.document),
    });
    if !delivered {
        event["disposition"] = json!("in_transit");
    }
    if let Some(next) = &pending.next {
        event["tracechain:nextPlanned"] = json!(next);
    }
    if let Some(location) = &pending.location {
        event["readPoint"] = json!({"id": location});
        event["bizLocation"] = json!({"id": location});
    }
    json!({
        "@context": [
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            {"tracechain": "https://tracechain.dev/epcis/"},
        ],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": time,
        "epcisBody": {"eventList": [event]},
    })
    .to_string()
}

pub(crate) async fn accept(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
    raw_parcel: &str,
    handoff: &Digest,
) -> Checked<Vec<LogRecord>> {
    let (mut parcel, pending, to) = check!(answering(store, tx, raw_parcel, handoff, true).await);
    if env.timestamp_ms > pending.expires_ms {
        return Ok(Err(Failure::new(
            "handoff_expired",
            "the hand-off was not accepted in time",
        )));
    }
    let from = check!(active_member(store, &pending.from, "proposer").await);
    let delivered = to.id == parcel.recipient;
    let event_json = handoff_event(
        &parcel,
        &pending,
        &from,
        &to,
        &tx.id(),
        env.timestamp_ms,
        delivered,
    );
    let event = match parse_capture(&event_json).map(|c| c.into_events()) {
        Ok(events) if events.len() == 1 => events.into_iter().next(),
        _ => None,
    };
    let Some(event) = event else {
        return Ok(Err(Failure::new(
            "invalid_event",
            "the hand-off event did not validate",
        )));
    };
    let event_hash = event.hash();
    check!(crate::capture::not_on_chain(store, &event_hash).await);
    domain::put_event(
        store,
        &event_hash,
        &EventRecord {
            height: env.height,
            tx: tx.id().0,
            position: 0,
            organisation: to.id.clone(),
            event_time_ms: event.event_time_millis(),
            declared_in_error: None,
        },
    );
    if let Some(mut item) = domain::item(store, &parcel.id).await? {
        item.custodian = to.id.clone();
        item.last_seen_ms = env.timestamp_ms as i64;
        item.last_event = event_hash;
        item.event_count += 1;
        if let Some(location) = &pending.location {
            item.location = Some(location.clone());
        }
        domain::put_item(store, &parcel.id, &item);
    }
    parcel.custodian = to.id.clone();
    parcel.status = if delivered {
        ParcelStatus::Delivered
    } else {
        ParcelStatus::InTransit
    };
    parcel.pending = None;
    let record = HandoffRecord {
        proposal: pending,
        acceptance: tx.id().0,
        to_agent: to_hex(tx.sender()),
        accepted_ms: env.timestamp_ms,
        height: env.height,
        event_hash,
        event_json,
    };
    parcels::push_handoff(store, &mut parcel, &record);
    parcels::put_parcel(store, &parcel);
    let mut logs = vec![
        log(RecordKind::HandoffAccepted, tx, Digest::from(*handoff)),
        log(RecordKind::Event, tx, Digest::from(event_hash)),
    ];
    if delivered {
        logs.push(log(
            RecordKind::ParcelDelivered,
            tx,
            hash(parcel.id.as_bytes()),
        ));
    }
    Ok(Ok(logs))
}

/// Refuses (`reason` given, by the receiver) or withdraws (by the proposer,
/// once expired) a pending hand-off; custody does not move.
pub(crate) async fn close(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
    raw_parcel: &str,
    handoff: &Digest,
    rejection_reason: Option<&str>,
) -> Checked<Vec<LogRecord>> {
    let rejecting = rejection_reason.is_some();
    let (mut parcel, pending, _) =
        check!(answering(store, tx, raw_parcel, handoff, rejecting).await);
    if !rejecting && env.timestamp_ms <= pending.expires_ms {
        return Ok(Err(Failure::new(
            "not_expired",
            "a hand-off can be cancelled only once its wait has passed",
        )));
    }
    if rejection_reason.is_some_and(|r| r.trim().is_empty()) {
        return Ok(Err(Failure::new(
            "missing_reason",
            "a rejection needs a reason",
        )));
    }
    parcel.pending = None;
    let record = ClosedProposal {
        proposal: pending,
        by_agent: to_hex(tx.sender()),
        at_ms: env.timestamp_ms,
        rejection_reason: rejection_reason.map(str::to_string),
    };
    parcels::push_closed(store, &mut parcel, &record);
    parcels::put_parcel(store, &parcel);
    let kind = if rejecting {
        RecordKind::HandoffRejected
    } else {
        RecordKind::HandoffCancelled
    };
    Ok(Ok(vec![log(kind, tx, Digest::from(*handoff))]))
}

pub(crate) async fn exception(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
    raw_parcel: &str,
    kind: ParcelException,
    reason: &str,
) -> Checked<Vec<LogRecord>> {
    let org = check!(handler(store, tx).await);
    let mut parcel = check!(existing_parcel(store, raw_parcel).await);
    if parcel.custodian != org.id {
        return Ok(Err(Failure::new(
            "not_custodian",
            format!(
                "only the holder '{}' may declare an exception",
                parcel.custodian
            ),
        )));
    }
    if parcel.status.is_closed() {
        return Ok(Err(Failure::new(
            "parcel_closed",
            format!("the parcel is {}", parcel.status.name()),
        )));
    }
    if reason.trim().is_empty() {
        return Ok(Err(Failure::new(
            "missing_reason",
            "an exception needs a reason",
        )));
    }
    match kind {
        ParcelException::Damaged => parcel.damaged = true,
        ParcelException::Lost => parcel.status = ParcelStatus::Lost,
        ParcelException::Returned => parcel.status = ParcelStatus::Returned,
    }
    if parcel.status.is_closed() {
        parcel.pending = None;
    }
    let record = ExceptionRecord {
        kind: kind.name().to_string(),
        reason: reason.to_string(),
        by: org.id.clone(),
        at_ms: env.timestamp_ms,
        tx: tx.id().0,
    };
    parcels::push_exception(store, &mut parcel, &record);
    parcels::put_parcel(store, &parcel);
    Ok(Ok(vec![log(
        RecordKind::ParcelException,
        tx,
        hash(parcel.id.as_bytes()),
    )]))
}
