//! What each event type does to item state, and who may do it.
//!
//! Rules (docs/adr/0006):
//! - an identifier comes into being when its brand owner commissions it
//!   (or makes it as a transformation output); identifiers without a GS1
//!   company prefix (private URIs, assets) are created by their first event;
//! - only the organisation holding an item (its custodian, or the holder of
//!   the container it is packed in) may capture events on it — except
//!   `receiving`, which the addressee of the last shipment may capture, and
//!   `inspecting`, which a regulator may capture on anything;
//! - receiving moves custody to the receiver; shipping records where the
//!   item is going; packing and unpacking move items in and out of
//!   containers; transformations consume inputs and create outputs;
//!   transaction events may change the owner.

use super::{
    Checked, EventContext, bare_step,
    custody::{Brand, brand, effective_custodian, is_addressee},
};
use crate::payload::Failure;
use tracechain_epcis::{Identifier, model::Action, model::EventType};
use tracechain_state::{
    Store,
    domain::{self, ItemState},
};

macro_rules! check {
    ($checked:expr) => {
        match $checked? {
            Ok(value) => value,
            Err(failure) => return Ok(Err(failure)),
        }
    };
}

pub(super) async fn apply(store: &mut impl Store, context: &EventContext<'_>) -> Checked<()> {
    match context.event.event_type {
        EventType::ObjectEvent => object(store, context).await,
        EventType::AggregationEvent => aggregation(store, context).await,
        EventType::TransformationEvent => transformation(store, context).await,
        EventType::TransactionEvent => transaction(store, context).await,
        EventType::AssociationEvent => association(store, context).await,
    }
}

/// Identifiers of one list, instances and classes together.
fn ids<'e>(
    instances: impl IntoIterator<Item = &'e tracechain_epcis::model::IdentifierValue>,
    classes: impl IntoIterator<Item = &'e tracechain_epcis::model::QuantityElement>,
) -> Vec<&'e Identifier> {
    instances
        .into_iter()
        .map(|v| &v.id)
        .chain(classes.into_iter().map(|q| &q.epc_class.id))
        .collect()
}

/// Updates what every event tells about an item: where, when, which event.
fn touch(item: &mut ItemState, context: &EventContext<'_>) {
    let event = context.event;
    let time = event.event_time_millis();
    if let Some(location) = &event.biz_location {
        item.location = Some(location.id.id.canonical().to_string());
    }
    if let Some(read_point) = &event.read_point {
        item.read_point = Some(read_point.id.id.canonical().to_string());
    }
    if let Some(disposition) = &event.disposition {
        item.disposition = Some(disposition.uri());
    }
    if item.event_count == 0 || time < item.first_seen_ms {
        item.first_seen_ms = time;
    }
    item.last_seen_ms = item.last_seen_ms.max(time);
    item.last_event = context.hash;
    item.event_count += 1;
}

/// A new item, created by the acting organisation if it may.
fn create(id: &Identifier, context: &EventContext<'_>) -> Result<ItemState, Failure> {
    if brand(id, context.org) == Brand::NotOwner {
        return Err(Failure::new(
            "not_brand_owner",
            format!(
                "{} belongs to another company prefix; only its brand owner may create it",
                id.canonical()
            ),
        ));
    }
    let mut item = ItemState {
        created_by: context.org.id.clone(),
        created_event: context.hash,
        custodian: context.org.id.clone(),
        ..Default::default()
    };
    touch(&mut item, context);
    Ok(item)
}

/// An existing item, or why the event may not name it.
async fn existing(store: &impl Store, id: &Identifier) -> Checked<ItemState> {
    match domain::item(store, id.canonical()).await? {
        Some(item) => Ok(Ok(item)),
        None => Ok(Err(Failure::new(
            "unknown_item",
            format!(
                "{} was never commissioned or created on chain",
                id.canonical()
            ),
        ))),
    }
}

/// Checks the acting organisation may capture this step on `item`, and
/// moves custody on receiving.
async fn custody(
    store: &impl Store,
    id: &Identifier,
    item: &mut ItemState,
    context: &EventContext<'_>,
) -> Checked<()> {
    let org = context.org;
    let holder = effective_custodian(store, item).await?;
    let step = bare_step(context.event);
    let allowed = match step {
        Some("receiving") => {
            holder == org.id || is_addressee(store, &item.in_transit_to, org).await?
        }
        Some("inspecting") if org.regulator => true,
        _ => holder == org.id,
    };
    if !allowed {
        let step = step.unwrap_or("this step");
        return Ok(Err(Failure::new(
            "not_custodian",
            format!(
                "{} is held by '{holder}'; '{}' may not capture {step} on it",
                id.canonical(),
                org.id
            ),
        )));
    }
    if step == Some("receiving") {
        item.custodian = org.id.clone();
        item.in_transit_to.clear();
    }
    Ok(Ok(()))
}

/// Step effects that do not depend on the event type.
fn step_effects(item: &mut ItemState, context: &EventContext<'_>) {
    match bare_step(context.event) {
        Some("shipping") => {
            item.in_transit_to = context
                .event
                .destination_list
                .iter()
                .map(|d| d.id.id.canonical().to_string())
                .collect();
        }
        Some("retail_selling") => item.sold_count += 1,
        _ => {}
    }
}

/// An item already known: checked, updated, written.
async fn update_existing(
    store: &mut impl Store,
    id: &Identifier,
    context: &EventContext<'_>,
) -> Checked<()> {
    let mut item = check!(existing(store, id).await);
    check!(custody(store, id, &mut item, context).await);
    step_effects(&mut item, context);
    touch(&mut item, context);
    domain::put_item(store, id.canonical(), &item);
    Ok(Ok(()))
}

async fn object(store: &mut impl Store, context: &EventContext<'_>) -> Checked<()> {
    let event = context.event;
    let commissioning = bare_step(event) == Some("commissioning");
    for id in ids(&event.epc_list, &event.quantity_list) {
        let known = domain::item(store, id.canonical()).await?.is_some();
        if event.action == Some(Action::Add) && !known {
            let mut item = match create(id, context) {
                Ok(item) => item,
                Err(failure) => return Ok(Err(failure)),
            };
            step_effects(&mut item, context);
            domain::put_item(store, id.canonical(), &item);
            continue;
        }
        if commissioning && known {
            return Ok(Err(Failure::new(
                "already_commissioned",
                format!("{} was already commissioned", id.canonical()),
            )));
        }
        check!(update_existing(store, id, context).await);
    }
    Ok(Ok(()))
}

/// The container of an aggregation or association: created if new.
async fn container(
    store: &mut impl Store,
    context: &EventContext<'_>,
) -> Checked<Option<(String, ItemState)>> {
    let Some(parent) = &context.event.parent_id else {
        return Ok(Ok(None));
    };
    let id = &parent.id;
    let item = match domain::item(store, id.canonical()).await? {
        None => match create(id, context) {
            Ok(item) => item,
            Err(failure) => return Ok(Err(failure)),
        },
        Some(mut item) => {
            check!(custody(store, id, &mut item, context).await);
            step_effects(&mut item, context);
            touch(&mut item, context);
            item
        }
    };
    Ok(Ok(Some((id.canonical().to_string(), item))))
}

async fn aggregation(store: &mut impl Store, context: &EventContext<'_>) -> Checked<()> {
    let event = context.event;
    let action = event.action.unwrap_or(Action::Observe);
    let parent = check!(container(store, context).await);
    if parent.is_none() && action != Action::Observe {
        return Ok(Err(Failure::new(
            "missing_parent",
            "ADD and DELETE aggregations need a parentID",
        )));
    }
    let children = ids(&event.child_epcs, &event.child_quantity_list);
    let Some((parent_id, mut parent_item)) = parent else {
        for child in children {
            check!(update_existing(store, child, context).await);
        }
        return Ok(Ok(()));
    };
    match action {
        Action::Add => {
            for child in children {
                let mut item = check!(existing(store, child).await);
                check!(custody(store, child, &mut item, context).await);
                if let Some(old) = item.parent.take().filter(|old| old != &parent_id) {
                    detach(store, &old, child.canonical()).await?;
                }
                item.parent = Some(parent_id.clone());
                item.custodian = context.org.id.clone();
                touch(&mut item, context);
                domain::put_item(store, child.canonical(), &item);
                if !parent_item.children.iter().any(|c| c == child.canonical()) {
                    parent_item.children.push(child.canonical().to_string());
                }
            }
        }
        Action::Delete => {
            // No children named: the container is emptied.
            let named: Vec<String> = if children.is_empty() {
                parent_item.children.clone()
            } else {
                children.iter().map(|c| c.canonical().to_string()).collect()
            };
            for child in named {
                let Some(mut item) = domain::item(store, &child).await? else {
                    continue;
                };
                if item.parent.as_deref() == Some(parent_id.as_str()) {
                    item.parent = None;
                    item.custodian = context.org.id.clone();
                }
                touch(&mut item, context);
                domain::put_item(store, &child, &item);
                parent_item.children.retain(|c| c != &child);
            }
        }
        Action::Observe => {
            for child in children {
                check!(update_existing(store, child, context).await);
            }
        }
    }
    domain::put_item(store, &parent_id, &parent_item);
    Ok(Ok(()))
}

/// Removes `child` from the children of `container`.
async fn detach(
    store: &mut impl Store,
    container: &str,
    child: &str,
) -> Result<(), tracechain_state::records::RecordError> {
    if let Some(mut item) = domain::item(store, container).await? {
        item.children.retain(|c| c != child);
        domain::put_item(store, container, &item);
    }
    Ok(())
}

async fn transformation(store: &mut impl Store, context: &EventContext<'_>) -> Checked<()> {
    let event = context.event;
    for input in ids(&event.input_epc_list, &event.input_quantity_list) {
        let mut item = check!(existing(store, input).await);
        check!(custody(store, input, &mut item, context).await);
        // Instances are used up; a class (a lot, a quantity) may feed
        // several transformations.
        if input.kind().is_instance() {
            item.consumed_by = Some(context.hash);
        }
        touch(&mut item, context);
        domain::put_item(store, input.canonical(), &item);
    }
    for output in ids(&event.output_epc_list, &event.output_quantity_list) {
        match domain::item(store, output.canonical()).await? {
            None => match create(output, context) {
                Ok(item) => domain::put_item(store, output.canonical(), &item),
                Err(failure) => return Ok(Err(failure)),
            },
            Some(_) if output.kind().is_instance() => {
                return Ok(Err(Failure::new(
                    "already_commissioned",
                    format!("output {} already exists", output.canonical()),
                )));
            }
            Some(_) => check!(update_existing(store, output, context).await),
        }
    }
    Ok(Ok(()))
}

async fn transaction(store: &mut impl Store, context: &EventContext<'_>) -> Checked<()> {
    let event = context.event;
    let parent = event.parent_id.as_ref().map(|p| &p.id);
    let new_owner = event
        .destination_list
        .iter()
        .find(|d| d.kind.standard_term() == Some("owning_party"))
        .map(|d| d.id.id.canonical().to_string());
    for id in parent
        .into_iter()
        .chain(ids(&event.epc_list, &event.quantity_list))
    {
        let mut item = check!(existing(store, id).await);
        let holder = effective_custodian(store, &item).await?;
        let owner_is_us = match &item.owner {
            Some(owner) => {
                owner == &context.org.id
                    || is_addressee(store, std::slice::from_ref(owner), context.org).await?
            }
            None => false,
        };
        if holder != context.org.id && !owner_is_us {
            return Ok(Err(Failure::new(
                "not_owner",
                format!(
                    "{} is neither held nor owned by '{}'",
                    id.canonical(),
                    context.org.id
                ),
            )));
        }
        if event.action == Some(Action::Add)
            && let Some(owner) = &new_owner
        {
            item.owner = Some(owner.clone());
        }
        touch(&mut item, context);
        domain::put_item(store, id.canonical(), &item);
    }
    Ok(Ok(()))
}

async fn association(store: &mut impl Store, context: &EventContext<'_>) -> Checked<()> {
    let event = context.event;
    let Some((parent_id, parent_item)) = check!(container(store, context).await) else {
        return Ok(Err(Failure::new(
            "missing_parent",
            "an association needs a parentID",
        )));
    };
    domain::put_item(store, &parent_id, &parent_item);
    for child in ids(&event.child_epcs, &event.child_quantity_list) {
        // Sensors and trackers need not be commissioned: a new one is
        // created by the organisation attaching it.
        match domain::item(store, child.canonical()).await? {
            None => match create(child, context) {
                Ok(item) => domain::put_item(store, child.canonical(), &item),
                Err(failure) => return Ok(Err(failure)),
            },
            Some(_) => check!(update_existing(store, child, context).await),
        }
    }
    Ok(Ok(()))
}
