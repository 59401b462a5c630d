//! Append-only values (event records, event JSON) packed several to a
//! stored value of about one redb page.
//!
//! redb splits a full leaf in half, so a table only ever appended to ends up
//! half empty. Packing consecutive events into values of up to
//! [`PAGE_TARGET`] bytes keyed by their first seq, and extending the last
//! value until it is full, keeps those tables nearly full at the same read
//! cost (one page per lookup).
//!
//! A packed value: `count` (varint), `count` lengths (varints), then the
//! items back to back. It is stored behind one kind byte: [`RAW`];
//! [`ZSTD`] for a full value of a table whose values compress well (event
//! JSON: a sealed page of about 40 events shrinks about sevenfold,
//! docs/adr/0014-compressed-storage.md; the last, still growing value
//! stays raw, so appending never recompresses); or [`FRONT`], each item
//! written as the length of the prefix it shares with the one before and
//! the rest (interned names, consecutive identifiers of one product:
//! about a sixth of their length, and cheap to undo).

use std::borrow::Cow;

use redb::{AccessGuard, ReadableTable, Table};

use crate::codec::{Reader, put_varint};
use crate::error::{IndexError, corrupt};

/// Most bytes one packed value holds (redb pages are 4 KiB; the leaf needs
/// a few bytes for itself). A larger item is packed alone.
pub(crate) const PAGE_TARGET: usize = 4_000;

/// Raw bytes a compressed table packs into one value before sealing it:
/// large enough for zstd to find the repetition between events, small
/// enough that reading one event decompresses little (~15 µs).
pub(crate) const SEALED_TARGET: usize = 16_000;

const RAW: u8 = 0;
const ZSTD: u8 = 1;
const FRONT: u8 = 2;
/// zstd's default level: ~7x on event JSON, a few µs per event.
const ZSTD_LEVEL: i32 = 3;

fn pack(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(items));
    put_varint(&mut out, items.len() as u64);
    for item in items {
        put_varint(&mut out, item.len() as u64);
    }
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

/// A stored value: the items behind their kind byte (`RAW`, `ZSTD` or
/// `FRONT`).
fn encode(items: &[Vec<u8>], kind: u8) -> Result<Vec<u8>, IndexError> {
    let body = match kind {
        ZSTD => zstd::bulk::compress(&pack(items), ZSTD_LEVEL)
            .map_err(|e| corrupt(format!("compressing an event page: {e}")))?,
        FRONT => front_code(items),
        _ => pack(items),
    };
    let mut out = Vec::with_capacity(1 + body.len());
    out.push(kind);
    out.extend_from_slice(&body);
    Ok(out)
}

/// The packed items of a stored value, and its kind.
fn unpack(stored: &[u8]) -> Result<(Cow<'_, [u8]>, u8), IndexError> {
    match stored.split_first() {
        Some((&RAW, packed)) => Ok((Cow::Borrowed(packed), RAW)),
        Some((&ZSTD, compressed)) => {
            let packed = zstd::decode_all(compressed)
                .map_err(|e| corrupt(format!("event page does not decompress: {e}")))?;
            Ok((Cow::Owned(packed), ZSTD))
        }
        Some((&FRONT, coded)) => Ok((Cow::Owned(pack(&front_decode(coded)?)), FRONT)),
        _ => Err(corrupt("event page of unknown kind")),
    }
}

/// `count`, then per item: the length it shares with the item before, the
/// length of the rest, the rest.
fn front_code(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    put_varint(&mut out, items.len() as u64);
    let mut previous: &[u8] = &[];
    for item in items {
        let shared = shared_prefix(previous, item);
        put_varint(&mut out, shared as u64);
        put_varint(&mut out, (item.len() - shared) as u64);
        out.extend_from_slice(&item[shared..]);
        previous = item;
    }
    out
}

fn shared_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn front_decode(coded: &[u8]) -> Result<Vec<Vec<u8>>, IndexError> {
    let mut r = Reader::new(coded, "front-coded page");
    let count = r.len()?;
    let mut items: Vec<Vec<u8>> = Vec::with_capacity(count.min(PAGE_TARGET));
    for _ in 0..count {
        let shared = r.len()?;
        let rest_len = r.len()?;
        let previous = items.last().map_or(&[][..], Vec::as_slice);
        let head = previous
            .get(..shared)
            .ok_or_else(|| corrupt("front-coded page: shared prefix too long"))?;
        let mut item = Vec::with_capacity(shared + rest_len);
        item.extend_from_slice(head);
        item.extend_from_slice(r.take(rest_len)?);
        items.push(item);
    }
    if !r.is_empty() {
        return Err(corrupt("front-coded page has trailing bytes"));
    }
    Ok(items)
}

fn varint_len(v: usize) -> usize {
    let bits = usize::BITS - v.leading_zeros();
    (bits as usize).div_ceil(7).max(1)
}

fn encoded_len(items: &[Vec<u8>]) -> usize {
    varint_len(items.len())
        + items
            .iter()
            .map(|i| varint_len(i.len()) + i.len())
            .sum::<usize>()
}

/// The byte range of item `index` within a packed value.
fn locate(packed: &[u8], index: usize) -> Result<std::ops::Range<usize>, IndexError> {
    let mut r = Reader::new(packed, "event page");
    let count = r.len()?;
    if index >= count {
        return Err(corrupt(format!(
            "event page holds {count} items, not {}",
            index + 1
        )));
    }
    let mut start = 0usize;
    let mut len = 0usize;
    for i in 0..count {
        let l = r.len()?;
        if i < index {
            start = start.saturating_add(l);
        } else if i == index {
            len = l;
        }
    }
    let header = packed.len() - r.rest().len();
    let begin = header.saturating_add(start);
    let end = begin.saturating_add(len);
    if end > packed.len() {
        return Err(corrupt("event page truncated"));
    }
    Ok(begin..end)
}

fn decode_all(packed: &[u8]) -> Result<Vec<Vec<u8>>, IndexError> {
    let mut r = Reader::new(packed, "event page");
    let count = r.len()?;
    let mut lens = Vec::with_capacity(count.min(PAGE_TARGET));
    for _ in 0..count {
        lens.push(r.len()?);
    }
    let mut items = Vec::with_capacity(lens.len());
    for len in lens {
        items.push(r.take(len)?.to_vec());
    }
    if !r.is_empty() {
        return Err(corrupt("event page has trailing bytes"));
    }
    Ok(items)
}

/// A stored value and the seq of its first item.
type Stored<'t> = (u64, AccessGuard<'t, &'static [u8]>);

/// The stored value that would hold `seq` (the last one starting at or
/// before it).
fn value_for<T>(table: &T, seq: u64) -> Result<Option<Stored<'_>>, IndexError>
where
    T: ReadableTable<u64, &'static [u8]>,
{
    match table.range(..=seq)?.next_back() {
        None => Ok(None),
        Some(entry) => {
            let (start, stored) = entry?;
            Ok(Some((start.value(), stored)))
        }
    }
}

/// The item stored for `seq`, if any.
pub(crate) fn read<T>(table: &T, seq: u64) -> Result<Option<Vec<u8>>, IndexError>
where
    T: ReadableTable<u64, &'static [u8]>,
{
    let Some((start, stored)) = value_for(table, seq)? else {
        return Ok(None);
    };
    let (packed, _) = unpack(stored.value())?;
    item(&packed, start, seq)
}

/// Item `seq` of the packed value that starts at `start`.
fn item(packed: &[u8], start: u64, seq: u64) -> Result<Option<Vec<u8>>, IndexError> {
    let index = usize::try_from(seq - start).map_err(|_| corrupt("event page index"))?;
    let count = Reader::new(packed, "event page").len()?;
    if index >= count {
        return Ok(None);
    }
    let range = locate(packed, index)?;
    Ok(Some(packed[range].to_vec()))
}

/// Reads through the last value read, decompressed: a query or trace reads
/// neighbouring events, and a sealed value holds dozens of them.
#[derive(Default)]
pub(crate) struct PageCache {
    last: std::cell::RefCell<Option<(u64, std::rc::Rc<[u8]>)>>,
}

impl PageCache {
    pub(crate) fn read<T>(&self, table: &T, seq: u64) -> Result<Option<Vec<u8>>, IndexError>
    where
        T: ReadableTable<u64, &'static [u8]>,
    {
        let Some((start, stored)) = value_for(table, seq)? else {
            return Ok(None);
        };
        let cached = self.last.borrow().clone();
        let packed = match cached {
            Some((at, packed)) if at == start => packed,
            _ => {
                let packed: std::rc::Rc<[u8]> = unpack(stored.value())?.0.into();
                *self.last.borrow_mut() = Some((start, packed.clone()));
                packed
            }
        };
        item(&packed, start, seq)
    }
}

/// Builds the last packed value of a table during one write transaction.
/// Items must come in seq order with no gaps.
pub(crate) struct Appender {
    /// Whether the table's last value has been adopted (or found full).
    started: bool,
    start: u64,
    items: Vec<Vec<u8>>,
    len: usize,
    /// Raw bytes a value holds before the next item starts another.
    target: usize,
    /// How a full value is stored, and how the growing last one.
    full_kind: u8,
    open_kind: u8,
}

impl Appender {
    /// Raw values of about one redb page.
    pub(crate) fn new() -> Self {
        Self::with(PAGE_TARGET, RAW, RAW)
    }

    /// Values of [`SEALED_TARGET`] raw bytes, compressed once full.
    pub(crate) fn compressing() -> Self {
        Self::with(SEALED_TARGET, ZSTD, RAW)
    }

    /// Front-coded values (`FRONT`) of about one redb page as stored.
    pub(crate) fn front_coded() -> Self {
        Self::with(PAGE_TARGET, FRONT, FRONT)
    }

    fn with(target: usize, full_kind: u8, open_kind: u8) -> Self {
        Appender {
            started: false,
            start: 0,
            items: Vec::new(),
            len: 0,
            target,
            full_kind,
            open_kind,
        }
    }

    pub(crate) fn push(
        &mut self,
        table: &mut Table<'_, u64, &'static [u8]>,
        seq: u64,
        item: Vec<u8>,
    ) -> Result<(), IndexError> {
        if !self.started {
            self.started = true;
            self.adopt_last(table, seq)?;
        }
        if !self.items.is_empty() && self.len + self.growth(&item) + 1 > self.target {
            self.write(table, self.full_kind)?;
            self.items.clear();
            self.len = varint_len(0);
        }
        if self.items.is_empty() {
            self.start = seq;
            self.len = varint_len(0);
        }
        self.len += self.growth(&item);
        self.items.push(item);
        Ok(())
    }

    /// How much `item` adds to the pending value as stored (front-coded:
    /// only what it does not share with the item before).
    fn growth(&self, item: &[u8]) -> usize {
        let shared = match (self.full_kind, self.items.last()) {
            (FRONT, Some(last)) => shared_prefix(last, item),
            (FRONT, None) => 0,
            _ => return varint_len(item.len()) + item.len(),
        };
        varint_len(shared) + varint_len(item.len() - shared) + item.len() - shared
    }

    /// Continue the table's last value if it ends right before `seq` and
    /// has room.
    fn adopt_last(
        &mut self,
        table: &Table<'_, u64, &'static [u8]>,
        seq: u64,
    ) -> Result<(), IndexError> {
        let Some((start, packed)) = table.last()? else {
            return Ok(());
        };
        let (packed, kind) = unpack(packed.value())?;
        if kind == ZSTD {
            return Ok(());
        }
        let items = decode_all(&packed)?;
        let len = match kind {
            FRONT => front_code(&items).len(),
            _ => encoded_len(&items),
        };
        if len < self.target && start.value() + items.len() as u64 == seq {
            self.start = start.value();
            self.len = len;
            self.items = items;
        }
        Ok(())
    }

    /// The pending item for `seq`, to change it before it is written.
    pub(crate) fn get_mut(&mut self, seq: u64) -> Option<&mut Vec<u8>> {
        let index = usize::try_from(seq.checked_sub(self.start)?).ok()?;
        self.items.get_mut(index)
    }

    /// Appends `bytes` to the pending item for `seq`; `false` if that item
    /// is not pending (already written). Not for front-coded values (their
    /// size is counted as coded).
    pub(crate) fn extend(&mut self, seq: u64, bytes: &[u8]) -> bool {
        let Some(index) = seq
            .checked_sub(self.start)
            .and_then(|i| usize::try_from(i).ok())
        else {
            return false;
        };
        let Some(item) = self.items.get_mut(index) else {
            return false;
        };
        self.len -= varint_len(item.len());
        item.extend_from_slice(bytes);
        self.len += varint_len(item.len()) + bytes.len();
        true
    }

    /// Write the pending value (call at the end of the transaction); it
    /// stays raw, as the next transaction may extend it.
    pub(crate) fn flush(
        &mut self,
        table: &mut Table<'_, u64, &'static [u8]>,
    ) -> Result<(), IndexError> {
        self.write(table, self.open_kind)
    }

    fn write(
        &mut self,
        table: &mut Table<'_, u64, &'static [u8]>,
        kind: u8,
    ) -> Result<(), IndexError> {
        if !self.items.is_empty() {
            table.insert(self.start, encode(&self.items, kind)?.as_slice())?;
        }
        Ok(())
    }
}

/// Change the already written item for `seq` in place.
pub(crate) fn update(
    table: &mut Table<'_, u64, &'static [u8]>,
    seq: u64,
    change: impl FnOnce(&mut Vec<u8>) -> Result<(), IndexError>,
) -> Result<(), IndexError> {
    let (start, mut items, kind) = {
        let (start, stored) =
            value_for(table, seq)?.ok_or_else(|| corrupt(format!("event {seq} missing")))?;
        let (packed, kind) = unpack(stored.value())?;
        (start, decode_all(&packed)?, kind)
    };
    let index = usize::try_from(seq - start).map_err(|_| corrupt("event page index"))?;
    let item = items
        .get_mut(index)
        .ok_or_else(|| corrupt(format!("event {seq} missing")))?;
    change(item)?;
    table.insert(start, encode(&items, kind)?.as_slice())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_values_locate_each_item() {
        let items: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; usize::from(i) * 7]).collect();
        let packed = pack(&items);
        assert_eq!(packed.len(), encoded_len(&items));
        for (i, item) in items.iter().enumerate() {
            let range = locate(&packed, i).expect("locate");
            assert_eq!(&packed[range], item.as_slice());
        }
        assert!(locate(&packed, 40).is_err());
        assert_eq!(decode_all(&packed).ok(), Some(items));
        for n in 0..packed.len() {
            assert!(decode_all(&packed[..n]).is_err());
        }
    }

    #[test]
    fn sealed_values_round_trip_and_raw_ones_stay_raw() {
        let items: Vec<Vec<u8>> = (0..40u32)
            .map(|i| format!("{{\"type\":\"ObjectEvent\",\"serial\":{i}}}").into_bytes())
            .collect();
        let sealed = encode(&items, ZSTD).expect("compress");
        let raw = encode(&items, RAW).expect("raw");
        assert!(
            sealed.len() < raw.len() / 2,
            "{} vs {}",
            sealed.len(),
            raw.len()
        );
        for stored in [&sealed, &raw] {
            let (packed, kind) = unpack(stored).expect("unpack");
            assert_eq!(kind, stored[0]);
            assert_eq!(decode_all(&packed).ok().as_ref(), Some(&items));
        }
        assert!(unpack(&[9, 1, 2]).is_err());
        assert!(unpack(&[ZSTD, 1, 2, 3]).is_err());
    }

    #[test]
    fn front_coded_values_round_trip_and_shrink_names() {
        let items: Vec<Vec<u8>> = (0..200u32)
            .map(|i| format!("\u{1}01/04023456000224/21/N{}", 1_000 + i).into_bytes())
            .chain([Vec::new(), b"x".to_vec(), Vec::new()])
            .collect();
        let coded = encode(&items, FRONT).expect("front");
        let raw = encode(&items, RAW).expect("raw");
        assert!(
            coded.len() < raw.len() / 4,
            "{} vs {}",
            coded.len(),
            raw.len()
        );
        let (packed, kind) = unpack(&coded).expect("unpack");
        assert_eq!(kind, FRONT);
        assert_eq!(decode_all(&packed).ok().as_ref(), Some(&items));
        for n in 1..coded.len() {
            assert!(unpack(&coded[..n]).is_err(), "truncated at {n}");
        }
        // A shared prefix longer than the item before is corrupt, not a panic.
        assert!(unpack(&[FRONT, 2, 0, 1, b'a', 5, 0]).is_err());
    }

    #[test]
    fn varint_lengths() {
        for v in [0usize, 1, 127, 128, 16_383, 16_384, usize::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v as u64);
            assert_eq!(varint_len(v), out.len());
        }
    }
}
