//! How an [`ItemState`] is written to the state (ADR 0020).
//!
//! Item records are most of the state journal: one per identifier ever
//! seen, rewritten on every event that touches it and moved up by the
//! inactivity floor. Written as the struct is, a typical record repeats
//! itself: the custodian is the creator, the read point is the location,
//! the last event is the creating one, and every location, disposition and
//! identifier starts with one of a few GS1 prefixes. The stored form writes
//! each repeat as one byte and each known prefix as its index, so a record
//! that first sees an item takes ~40 % of the bytes.
//!
//! The encoding is part of the storage format and of the state root:
//! [`PREFIXES`] only ever grows at its end.

use crate::domain::ItemState;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Prefixes stored as their position. Append only: a stored position
/// means the prefix there for as long as the storage format lasts.
const PREFIXES: [&str; 16] = [
    "",
    "https://id.gs1.org/",
    "https://id.gs1.org/414/",
    "https://id.gs1.org/01/",
    "https://id.gs1.org/00/",
    "https://id.gs1.org/8003/",
    "https://ref.gs1.org/cbv/",
    "https://ref.gs1.org/cbv/Disp-",
    "urn:epc:id:",
    "urn:epc:id:sgln:",
    "urn:epc:id:sgtin:",
    "urn:epc:id:sscc:",
    "urn:epc:class:lgtin:",
    "urn:epcglobal:cbv:disp:",
    "https://id.gs1.org/417/",
    "urn:epc:id:pgln:",
];

/// A string stored as a known prefix's position and the rest.
#[derive(Serialize, Deserialize)]
struct Text<'a>(u8, #[serde(borrow)] Cow<'a, str>);

impl<'a> Text<'a> {
    fn pack(text: &'a str) -> Self {
        let (position, prefix) = PREFIXES
            .iter()
            .enumerate()
            .filter(|(_, prefix)| text.starts_with(*prefix))
            .max_by_key(|(_, prefix)| prefix.len())
            .unwrap_or((0, &""));
        // PREFIXES has fewer than 256 entries.
        Self(position as u8, Cow::Borrowed(&text[prefix.len()..]))
    }

    /// `None` for a prefix position this build does not know.
    fn unpack(self) -> Option<String> {
        let prefix = PREFIXES.get(usize::from(self.0))?;
        Some(format!("{prefix}{}", self.1))
    }
}

/// A value written once when it repeats one named before it.
#[derive(Serialize, Deserialize)]
enum Repeat<T> {
    Same,
    Other(T),
}

impl<T> Repeat<T> {
    fn of<V: PartialEq + ?Sized>(value: &V, before: &V, pack: impl FnOnce() -> T) -> Self {
        if value == before {
            Self::Same
        } else {
            Self::Other(pack())
        }
    }

    fn resolve<V>(
        self,
        before: impl FnOnce() -> V,
        unpack: impl FnOnce(T) -> Option<V>,
    ) -> Option<V> {
        match self {
            Self::Same => Some(before()),
            Self::Other(value) => unpack(value),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct StoredItem<'a> {
    #[serde(borrow)]
    created_by: Cow<'a, str>,
    created_event: [u8; 32],
    /// `Same`: the creator.
    #[serde(borrow)]
    custodian: Repeat<Cow<'a, str>>,
    /// `Same`: the custodian.
    #[serde(borrow)]
    owner: Option<Repeat<Cow<'a, str>>>,
    #[serde(borrow)]
    location: Option<Text<'a>>,
    /// `Same`: the location.
    #[serde(borrow)]
    read_point: Option<Repeat<Text<'a>>>,
    #[serde(borrow)]
    disposition: Option<Text<'a>>,
    #[serde(borrow)]
    parent: Option<Text<'a>>,
    #[serde(borrow)]
    children: Vec<Text<'a>>,
    #[serde(borrow)]
    in_transit_to: Vec<Text<'a>>,
    first_seen_ms: i64,
    /// `last_seen_ms - first_seen_ms`, wrapping: usually small or zero.
    last_seen_after_ms: i64,
    /// `Same`: the creating event.
    last_event: Repeat<[u8; 32]>,
    event_count: u64,
    sold_count: u32,
    consumed_by: Option<[u8; 32]>,
}

fn pack_all(texts: &[String]) -> Vec<Text<'_>> {
    texts.iter().map(|text| Text::pack(text)).collect()
}

fn unpack_all(texts: Vec<Text<'_>>) -> Option<Vec<String>> {
    texts.into_iter().map(Text::unpack).collect()
}

/// `Some(None)` when absent, `None` when present but unreadable.
fn present<T, V>(value: Option<T>, unpack: impl FnOnce(T) -> Option<V>) -> Option<Option<V>> {
    match value {
        None => Some(None),
        Some(value) => unpack(value).map(Some),
    }
}

fn unpack_opt(text: Option<Text<'_>>) -> Option<Option<String>> {
    present(text, Text::unpack)
}

impl<'a> StoredItem<'a> {
    fn pack(item: &'a ItemState) -> Self {
        let owner = item
            .owner
            .as_deref()
            .map(|owner| Repeat::of(owner, item.custodian.as_str(), || Cow::Borrowed(owner)));
        let read_point = item.read_point.as_deref().map(|point| {
            Repeat::of(&Some(point), &item.location.as_deref(), || {
                Text::pack(point)
            })
        });
        Self {
            created_by: Cow::Borrowed(&item.created_by),
            created_event: item.created_event,
            custodian: Repeat::of(&item.custodian, &item.created_by, || {
                Cow::Borrowed(item.custodian.as_str())
            }),
            owner,
            location: item.location.as_deref().map(Text::pack),
            read_point,
            disposition: item.disposition.as_deref().map(Text::pack),
            parent: item.parent.as_deref().map(Text::pack),
            children: pack_all(&item.children),
            in_transit_to: pack_all(&item.in_transit_to),
            first_seen_ms: item.first_seen_ms,
            last_seen_after_ms: item.last_seen_ms.wrapping_sub(item.first_seen_ms),
            last_event: Repeat::of(&item.last_event, &item.created_event, || item.last_event),
            event_count: item.event_count,
            sold_count: item.sold_count,
            consumed_by: item.consumed_by,
        }
    }

    fn unpack(self) -> Option<ItemState> {
        let created_by = self.created_by.into_owned();
        let custodian = self
            .custodian
            .resolve(|| created_by.clone(), |other| Some(other.into_owned()))?;
        let owner = present(self.owner, |owner| {
            owner.resolve(|| custodian.clone(), |other| Some(other.into_owned()))
        })?;
        let location = unpack_opt(self.location)?;
        let read_point = present(self.read_point, |point| {
            point.resolve(|| location.clone().unwrap_or_default(), Text::unpack)
        })?;
        Some(ItemState {
            created_by,
            created_event: self.created_event,
            custodian,
            owner,
            location,
            read_point,
            disposition: unpack_opt(self.disposition)?,
            parent: unpack_opt(self.parent)?,
            children: unpack_all(self.children)?,
            in_transit_to: unpack_all(self.in_transit_to)?,
            first_seen_ms: self.first_seen_ms,
            last_seen_ms: self.first_seen_ms.wrapping_add(self.last_seen_after_ms),
            last_event: self.last_event.resolve(|| self.created_event, Some)?,
            event_count: self.event_count,
            sold_count: self.sold_count,
            consumed_by: self.consumed_by,
        })
    }
}

/// The stored bytes of an item.
pub(crate) fn encode(item: &ItemState) -> Vec<u8> {
    crate::domain::encode(&StoredItem::pack(item))
}

/// The item stored as `raw`, or `None` when the bytes are not one.
pub(crate) fn decode(raw: &[u8]) -> Option<ItemState> {
    let stored: StoredItem<'_> = postcard::from_bytes(raw).ok()?;
    stored.unpack()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An item as one capture that commissions it leaves it.
    fn commissioned() -> ItemState {
        ItemState {
            created_by: "golden-crust-bakery".into(),
            created_event: [7; 32],
            custodian: "golden-crust-bakery".into(),
            location: Some("https://id.gs1.org/414/4023456000017".into()),
            read_point: Some("https://id.gs1.org/414/4023456000017".into()),
            disposition: Some("https://ref.gs1.org/cbv/Disp-active".into()),
            first_seen_ms: 1_795_340_112_253,
            last_seen_ms: 1_795_340_112_253,
            last_event: [7; 32],
            event_count: 1,
            ..Default::default()
        }
    }

    #[test]
    fn a_commissioned_item_takes_under_half_the_bytes() {
        let item = commissioned();
        let plain = postcard::to_allocvec(&item).unwrap();
        let stored = encode(&item);
        assert_eq!(decode(&stored), Some(item));
        assert!(
            stored.len() * 2 < plain.len(),
            "{} of {} bytes",
            stored.len(),
            plain.len()
        );
    }

    #[test]
    fn the_stored_form_is_fixed() {
        // The state root depends on these bytes: a change here is a new
        // storage format.
        let hex: String = encode(&commissioned())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(hex, GOLDEN);
    }

    const GOLDEN: &str = "13676f6c64656e2d63727573742d62616b6572790707070707070707070707070707070707070707070707070707070707070707000001020d343032333435363030303031370100010706616374697665000000fac5e0a9c0680000010000";

    #[test]
    fn repeats_resolve_against_what_the_item_holds() {
        let mut item = commissioned();
        item.custodian = "fresh-mart".into();
        item.owner = Some("fresh-mart".into());
        item.location = None;
        item.last_event = [9; 32];
        item.last_seen_ms = item.first_seen_ms - 5;
        assert_eq!(decode(&encode(&item)), Some(item));
    }

    #[test]
    fn an_unknown_prefix_position_is_not_an_item() {
        let mut stored = encode(&commissioned());
        // The location's prefix position follows the creator, the creating
        // event, the custodian's `Same` and the absent owner.
        let at = 1 + "golden-crust-bakery".len() + 32 + 1 + 1 + 1;
        assert_eq!(stored[at], 2);
        stored[at] = 200;
        assert_eq!(decode(&stored), None);
        assert_eq!(decode(b"\xff\xff"), None);
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z:/.0-9-]{0,12}",
            "(urn:epc:id:sgtin:|https://id.gs1.org/|https://ref.gs1.org/cbv/Disp-|urn:epc:id:)[0-9a-z.]{0,10}",
        ]
    }

    prop_compose! {
        fn item()(
            created_by in text(), same_custodian in any::<bool>(), custodian in text(),
            owner in proptest::option::of(text()),
            location in proptest::option::of(text()), same_point in any::<bool>(),
            read_point in proptest::option::of(text()),
            disposition in proptest::option::of(text()), parent in proptest::option::of(text()),
            children in proptest::collection::vec(text(), 0..4),
            in_transit_to in proptest::collection::vec(text(), 0..3),
            first_seen_ms in any::<i64>(), last_seen_ms in any::<i64>(),
            created_event in any::<[u8; 32]>(), last_event in proptest::option::of(any::<[u8; 32]>()),
            event_count in any::<u64>(), sold_count in any::<u32>(),
            consumed_by in proptest::option::of(any::<[u8; 32]>()),
        ) -> ItemState {
            ItemState {
                custodian: if same_custodian { created_by.clone() } else { custodian },
                read_point: if same_point { location.clone() } else { read_point },
                created_by, owner, location, disposition, parent, children, in_transit_to,
                first_seen_ms, last_seen_ms, created_event,
                last_event: last_event.unwrap_or(created_event),
                event_count, sold_count, consumed_by,
            }
        }
    }

    proptest! {
        #[test]
        fn every_item_reads_back_as_written(item in item()) {
            prop_assert_eq!(decode(&encode(&item)), Some(item));
        }
    }
}
