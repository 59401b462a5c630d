//! Mapping a validated `tracechain_epcis::Event` to an [`IndexedEvent`], so
//! the node does not duplicate it.

use tracechain_epcis::{Event, IdentifierRole};

use crate::model::{EventMeta, IndexedEvent, Role};

impl IndexedEvent {
    /// Everything the index needs from a validated event. Identifiers are
    /// canonical; read point and business location go to their own fields
    /// (not to `identifiers`); vocabulary values are web URIs.
    pub fn from_epcis(event: &Event, meta: EventMeta) -> Self {
        let identifiers = event
            .identifiers()
            .into_iter()
            .filter_map(|(role, id)| role_of(role).map(|r| (r, id.canonical().to_owned())))
            .collect();
        IndexedEvent {
            hash: event.hash(),
            event_id: event.event_id.clone().unwrap_or_else(|| event.hash_id()),
            event_type: event.event_type.as_str().to_owned(),
            event_time_ms: event.event_time.utc_millis(),
            action: event.action.map(|a| a.as_str().to_owned()),
            biz_step: event.biz_step.as_ref().map(|v| v.uri()),
            disposition: event.disposition.as_ref().map(|v| v.uri()),
            read_point: event
                .read_point
                .as_ref()
                .map(|l| l.id.id.canonical().to_owned()),
            biz_location: event
                .biz_location
                .as_ref()
                .map(|l| l.id.id.canonical().to_owned()),
            transformation_id: event.transformation_id.clone(),
            identifiers,
            organisation: meta.organisation,
            height: meta.height,
            block_time_ms: meta.block_time_ms,
            tx: meta.tx,
            json: event.original_json().as_bytes().to_vec(),
        }
    }
}

fn role_of(role: IdentifierRole) -> Option<Role> {
    Some(match role {
        IdentifierRole::Epc => Role::Epc,
        IdentifierRole::Parent => Role::Parent,
        IdentifierRole::Child => Role::Child,
        IdentifierRole::Input => Role::Input,
        IdentifierRole::Output => Role::Output,
        IdentifierRole::Quantity => Role::Quantity,
        IdentifierRole::ChildQuantity => Role::ChildQuantity,
        IdentifierRole::InputQuantity => Role::InputQuantity,
        IdentifierRole::OutputQuantity => Role::OutputQuantity,
        IdentifierRole::Source => Role::Source,
        IdentifierRole::Destination => Role::Destination,
        IdentifierRole::BizTransaction => Role::BizTransaction,
        IdentifierRole::ReadPoint | IdentifierRole::BizLocation => return None,
    })
}
