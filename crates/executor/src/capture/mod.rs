//! EPCIS 2.0 capture: a document signed by an agent, applied all or
//! nothing. Each event is validated, permission-checked against the
//! signer's roles and the items' custody, recorded by its canonical hash,
//! and its effects applied to item state.

mod custody;
mod effects;
mod parsed;

pub use custody::{Brand, brand, effective_custodian, is_addressee, outermost};

use crate::{BlockEnv, membership::acting_agent_in_block, overlay::Overlay, payload::Failure};
use tracechain_epcis::{EpcisErrors, Event, parse_capture};
use tracechain_state::{
    StateRead, Store,
    domain::{self, AgentRecord, EventRecord, OrganisationRecord},
    records::RecordError,
};
use tracechain_types::{Digest, LogRecord, Payload, RecordKind, Transaction, domain::roles};

/// Most events in one capture document.
pub const MAX_EVENTS_PER_CAPTURE: usize = 2_000;

type Checked<T> = Result<Result<T, Failure>, RecordError>;

/// What every rule needs to know about the event being applied.
pub(crate) struct EventContext<'a> {
    pub env: &'a BlockEnv,
    pub tx: Digest,
    pub org: &'a OrganisationRecord,
    pub event: &'a Event,
    pub hash: [u8; 32],
}

/// Describes parse errors for a receipt (first few, with their paths).
pub fn describe_errors(errors: &EpcisErrors) -> String {
    let shown: Vec<String> = errors
        .errors()
        .iter()
        .take(3)
        .map(|e| format!("{}: {}", e.path, e.reason))
        .collect();
    let more = errors.errors().len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} (and {more} more)", shown.join("; "))
    } else {
        shown.join("; ")
    }
}

/// The events of capture transaction `tx`'s document (what the API also
/// parses before accepting one, so a bad document never reaches a block).
///
/// Parsed once per process and shared, keyed by the transaction id: the
/// API, execution, the index and the event feed all ask for the same
/// recent documents.
pub fn capture_events(tx: &Transaction) -> Result<std::sync::Arc<[Event]>, Failure> {
    let Payload::Capture { document } = tx.payload() else {
        return Err(Failure::new(
            "not_a_capture",
            "the transaction carries no capture document",
        ));
    };
    parsed::get_or_parse(tx.id().0, || parse_uncached(document))
}

/// Parses a block's capture documents into the shared cache from the last
/// one backwards, stopping at the first that is already there. Run beside
/// the block's execution, which parses forwards, the two meet in the
/// middle: a replaying node parses (and hashes events) on two cores
/// instead of one. A validator that admitted the documents finds the last
/// one cached and stops at once. Parsing is a pure function of the bytes,
/// so who parsed a document never changes what execution does with it.
/// Transactions other than captures are passed over.
pub fn prewarm_backwards(txs: &[Transaction]) {
    for tx in txs.iter().rev() {
        let Payload::Capture { document } = tx.payload() else {
            continue;
        };
        if !parsed::parse_if_absent(tx.id().0, || parse_uncached(document)) {
            break;
        }
    }
}

/// Whether `tx`'s document was parsed recently (and so is cached).
pub fn is_parsed(tx: &Transaction) -> bool {
    parsed::is_cached(&tx.id().0)
}

fn parse_uncached(document: &[u8]) -> Result<Vec<Event>, Failure> {
    let text = std::str::from_utf8(document)
        .map_err(|_| Failure::new("invalid_epcis", "the document is not UTF-8"))?;
    let events = parse_capture(text)
        .map_err(|errors| Failure::new("invalid_epcis", describe_errors(&errors)))?
        .into_events();
    if events.is_empty() {
        return Err(Failure::new(
            "empty_capture",
            "the document holds no events",
        ));
    }
    if events.len() > MAX_EVENTS_PER_CAPTURE {
        return Err(Failure::new(
            "too_many_events",
            format!(
                "{} events; at most {MAX_EVENTS_PER_CAPTURE} per capture",
                events.len()
            ),
        ));
    }
    // Canonical hashes are memoized in the events and every reader needs
    // them: computed here, at admission, they stay off the stateful
    // actor, which executes blocks one after the other.
    for event in &events {
        event.hash();
    }
    Ok(events)
}

pub(crate) async fn capture(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
) -> Checked<Vec<LogRecord>> {
    let acting = match acting_agent_in_block(store, env, tx.sender()).await? {
        Ok(found) => found,
        Err(failure) => return Ok(Err(failure)),
    };
    let (agent, org) = &*acting;
    let events = match capture_events(tx) {
        Ok(events) => events,
        Err(failure) => return Ok(Err(failure)),
    };
    let mut overlay = Overlay::new(store);
    for (position, event) in events.iter().enumerate() {
        let context = EventContext {
            env,
            tx: tx.id(),
            org,
            event,
            hash: event.hash(),
        };
        let outcome = capture_event(&mut overlay, agent, &context, position as u32).await?;
        if let Err(failure) = outcome {
            return Ok(Err(failure.at_event(position)));
        }
    }
    Ok(Ok(overlay.commit()))
}

async fn capture_event(
    store: &mut impl Store,
    agent: &AgentRecord,
    context: &EventContext<'_>,
    position: u32,
) -> Checked<()> {
    if context.event.error_declaration.is_some() {
        return declare_error(store, context).await;
    }
    if let Err(failure) = not_on_chain(store, &context.hash).await? {
        return Ok(Err(failure));
    }
    if let Err(failure) = check_role(agent, context.event) {
        return Ok(Err(failure));
    }
    if let Err(failure) = effects::apply(store, context).await? {
        return Ok(Err(failure));
    }
    domain::put_event(
        store,
        &context.hash,
        &EventRecord {
            height: context.env.height,
            tx: context.tx.0,
            position,
            organisation: context.org.id.clone(),
            event_time_ms: context.event.event_time_millis(),
            declared_in_error: None,
        },
    );
    store.append(LogRecord {
        kind: RecordKind::Event,
        tx: context.tx,
        subject: Digest::from(context.hash),
    });
    Ok(Ok(()))
}

/// `duplicate_event` if an event with `hash` is on chain already: an event
/// hash is recorded at most once, whatever records it (the query index
/// relies on it).
pub(crate) async fn not_on_chain(store: &impl StateRead, hash: &[u8; 32]) -> Checked<()> {
    if domain::event(store, hash).await?.is_some() {
        return Ok(Err(Failure::new(
            "duplicate_event",
            "an event with the same canonical hash is already on chain",
        )));
    }
    Ok(Ok(()))
}

/// The business step as a bare CBV term, or `None` for none or a
/// non-standard one.
pub fn bare_step(event: &Event) -> Option<&'static str> {
    event.biz_step.as_ref().and_then(|s| s.standard_term())
}

fn check_role(agent: &AgentRecord, event: &Event) -> Result<(), Failure> {
    let needed = roles::capture_role(bare_step(event));
    if agent.roles.contains(roles::CAPTURE_ANY) || agent.roles.contains(&needed) {
        return Ok(());
    }
    Err(Failure::new(
        "role_missing",
        format!(
            "capturing this event needs role '{needed}' (or '{}')",
            roles::CAPTURE_ANY
        ),
    ))
}

/// An error declaration names an earlier event by its identity (the hash
/// ignores `errorDeclaration`); both stay on chain, the original marked.
async fn declare_error(store: &mut impl Store, context: &EventContext<'_>) -> Checked<()> {
    let Some(mut original) = domain::event(store, &context.hash).await? else {
        return Ok(Err(Failure::new(
            "unknown_event",
            "the error declaration refers to an event that was never captured",
        )));
    };
    if original.organisation != context.org.id && !context.org.regulator {
        return Ok(Err(Failure::new(
            "not_original_capturer",
            format!(
                "only '{}' (or a regulator) may declare its event in error",
                original.organisation
            ),
        )));
    }
    if original.declared_in_error.is_some() {
        return Ok(Err(Failure::new(
            "already_declared",
            "the event is already declared in error",
        )));
    }
    original.declared_in_error = Some(context.tx.0);
    domain::put_event(store, &context.hash, &original);
    store.append(LogRecord {
        kind: RecordKind::ErrorDeclared,
        tx: context.tx,
        subject: Digest::from(context.hash),
    });
    Ok(Ok(()))
}
