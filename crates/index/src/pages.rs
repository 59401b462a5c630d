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
use std::cell::RefCell;
use std::thread::LocalKey;

use redb::{AccessGuard, ReadableTable, Table};

use crate::codec::{Reader, put_varint};
use crate::error::{IndexError, corrupt};

/// Most bytes one packed value holds (redb pages are 4 KiB; the leaf needs
/// a few bytes for itself). A larger item is packed alone.
pub(crate) const PAGE_TARGET: usize = 4_000;

/// Stored bytes a compressed value aims at: one redb page. A sealed value
/// of 16 KB raw compressed to ~12 KB (records) or ~2.3 KB (JSON), and redb
/// gives a value it cannot fit in a page a power-of-two run of pages, so
/// either size left a quarter to half of its pages empty.
const SEALED_STORED_TARGET: usize = 3_900;
/// Most raw bytes of one compressed or front-coded value: reading one
/// item decodes the whole value (~10 µs at this size), and a trace reads
/// items from dozens of values.
const SEALED_RAW_MAX: usize = 16_000;

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
        ZSTD => compress(&pack(items))?,
        FRONT => front_code(items),
        _ => pack(items),
    };
    let mut out = Vec::with_capacity(1 + body.len());
    out.push(kind);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Compresses with this thread's reused context: making one per value was
/// ~2 % of the indexer thread of a loaded validator, most of it zeroing the
/// context's tables.
fn compress(packed: &[u8]) -> Result<Vec<u8>, IndexError> {
    thread_local! {
        static CONTEXT: RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { RefCell::new(None) };
    }
    with_thread_context(
        &CONTEXT,
        || zstd::bulk::Compressor::new(ZSTD_LEVEL),
        |context| context.compress(packed),
    )
    .map_err(|e| corrupt(format!("compressing an event page: {e}")))
}

/// Runs `use_it` with this thread's context in `slot`, made by `make` the
/// first time.
fn with_thread_context<C: 'static, T>(
    slot: &'static LocalKey<RefCell<Option<C>>>,
    make: impl FnOnce() -> std::io::Result<C>,
    use_it: impl FnOnce(&mut C) -> std::io::Result<T>,
) -> std::io::Result<T> {
    slot.with(|cell| {
        let mut slot = cell.borrow_mut();
        let context = match slot.take() {
            Some(context) => context,
            None => make()?,
        };
        use_it(slot.insert(context))
    })
}

/// The packed items of a stored value, and its kind.
fn unpack(stored: &[u8]) -> Result<(Cow<'_, [u8]>, u8), IndexError> {
    match stored.split_first() {
        Some((&RAW, packed)) => Ok((Cow::Borrowed(packed), RAW)),
        Some((&ZSTD, compressed)) => Ok((Cow::Owned(decompress(compressed)?), ZSTD)),
        Some((&FRONT, coded)) => Ok((Cow::Owned(front_decode(coded)?), FRONT)),
        _ => Err(corrupt("event page of unknown kind")),
    }
}

/// Largest value a zstd frame may claim (one item is packed alone however
/// large; captures are far smaller).
const MAX_DECOMPRESSED: usize = 1 << 28;

/// Decompresses a zstd frame with this thread's reused context (making one
/// per value was a twentieth of a trace's time).
fn decompress(compressed: &[u8]) -> Result<Vec<u8>, IndexError> {
    thread_local! {
        static CONTEXT: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            const { RefCell::new(None) };
    }
    let failed = |e: std::io::Error| corrupt(format!("event page does not decompress: {e}"));
    let size = zstd::zstd_safe::get_frame_content_size(compressed)
        .ok()
        .flatten()
        .ok_or_else(|| corrupt("event page: compressed size unknown"))?;
    // A corrupt size must not become an allocation of any size.
    let size = usize::try_from(size)
        .ok()
        .filter(|&size| size <= MAX_DECOMPRESSED)
        .ok_or_else(|| corrupt("event page too large"))?;
    with_thread_context(&CONTEXT, zstd::bulk::Decompressor::new, |context| {
        context.decompress(compressed, size)
    })
    .map_err(failed)
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

/// A front-coded body in the packed layout (`pack`), built without a
/// buffer per item: readers decode a value for every name they look up.
fn front_decode(coded: &[u8]) -> Result<Vec<u8>, IndexError> {
    let truncated = || corrupt("front-coded page truncated");
    // Pass 1: each item's (shared, rest) and where its rest starts.
    let mut r = Reader::new(coded, "front-coded page");
    let count = r.len()?;
    let mut parts = Vec::with_capacity(count.min(PAGE_TARGET));
    let mut previous_len = 0usize;
    for _ in 0..count {
        let shared = r.len()?;
        let rest = r.len()?;
        if shared > previous_len {
            return Err(corrupt("front-coded page: shared prefix too long"));
        }
        let at = coded.len() - r.rest_len();
        r.take(rest)?;
        parts.push((shared, rest, at));
        previous_len = shared + rest;
    }
    if !r.is_empty() {
        return Err(corrupt("front-coded page has trailing bytes"));
    }
    // Pass 2: count, lengths, then each item as its prefix of the one
    // before plus its rest.
    let mut out = Vec::with_capacity(coded.len() * 4);
    put_varint(&mut out, count as u64);
    for &(shared, rest, _) in &parts {
        put_varint(&mut out, (shared + rest) as u64);
    }
    let mut previous_at = out.len();
    for &(shared, rest, at) in &parts {
        let item_at = out.len();
        out.extend_from_within(previous_at..previous_at + shared);
        out.extend_from_slice(coded.get(at..at + rest).ok_or_else(truncated)?);
        previous_at = item_at;
    }
    Ok(out)
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

/// Where each item of a packed value lies, and where the last one ends.
fn item_ranges(packed: &[u8]) -> Result<(Vec<std::ops::Range<usize>>, usize), IndexError> {
    let mut r = Reader::new(packed, "event page");
    let count = r.len()?;
    let mut lens = Vec::with_capacity(count.min(PAGE_TARGET));
    for _ in 0..count {
        lens.push(r.len()?);
    }
    let mut at = packed.len() - r.rest_len();
    let mut ranges = Vec::with_capacity(lens.len());
    for len in lens {
        let end = at.checked_add(len).filter(|&end| end <= packed.len());
        let end = end.ok_or_else(|| corrupt("event page truncated"))?;
        ranges.push(at..end);
        at = end;
    }
    Ok((ranges, at))
}

fn decode_all(packed: &[u8]) -> Result<Vec<Vec<u8>>, IndexError> {
    let (ranges, end) = item_ranges(packed)?;
    if end != packed.len() {
        return Err(corrupt("event page has trailing bytes"));
    }
    Ok(ranges
        .into_iter()
        .map(|range| packed[range].to_vec())
        .collect())
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
    let (ranges, _) = item_ranges(&packed)?;
    item(&packed, &ranges, start, seq)
}

/// Item `seq` of the packed value that starts at `start`.
fn item(
    packed: &[u8],
    ranges: &[std::ops::Range<usize>],
    start: u64,
    seq: u64,
) -> Result<Option<Vec<u8>>, IndexError> {
    let index = usize::try_from(seq - start).map_err(|_| corrupt("event page index"))?;
    Ok(ranges
        .get(index)
        .map(|range| packed[range.clone()].to_vec()))
}

/// A stored value decoded once: its packed items and where each starts.
struct Decoded {
    packed: Vec<u8>,
    ranges: Vec<std::ops::Range<usize>>,
}

impl Decoded {
    fn new(stored: &[u8]) -> Result<Decoded, IndexError> {
        let packed = unpack(stored)?.0.into_owned();
        let (ranges, _) = item_ranges(&packed)?;
        Ok(Decoded { packed, ranges })
    }
}

/// Reads through the last few values read, decoded: a query or trace reads
/// neighbouring events, and a sealed value holds dozens of them.
#[derive(Default)]
pub(crate) struct PageCache {
    recent: std::cell::RefCell<std::collections::VecDeque<(u64, std::rc::Rc<Decoded>)>>,
}

/// Values a [`PageCache`] keeps (a trace's events sit in a few of them).
const CACHED_PAGES: usize = 16;

impl PageCache {
    pub(crate) fn read<T>(&self, table: &T, seq: u64) -> Result<Option<Vec<u8>>, IndexError>
    where
        T: ReadableTable<u64, &'static [u8]>,
    {
        let Some((start, stored)) = value_for(table, seq)? else {
            return Ok(None);
        };
        let cached = self
            .recent
            .borrow()
            .iter()
            .find(|(at, _)| *at == start)
            .map(|(_, decoded)| decoded.clone());
        let decoded = match cached {
            Some(decoded) => decoded,
            None => {
                let decoded = std::rc::Rc::new(Decoded::new(stored.value())?);
                let mut recent = self.recent.borrow_mut();
                recent.push_front((start, decoded.clone()));
                recent.truncate(CACHED_PAGES);
                decoded
            }
        };
        item(&decoded.packed, &decoded.ranges, start, seq)
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
    /// Raw bytes a value holds before the next item starts another
    /// (compressed values: see [`Appender::raw_target`]).
    target: usize,
    /// How a full value is stored, and how the growing last one.
    full_kind: u8,
    open_kind: u8,
    /// Stored / raw size of the last value compressed (a first guess until
    /// one is).
    ratio: f64,
}

impl Appender {
    /// Raw values of about one redb page.
    pub(crate) fn new() -> Self {
        Self::with(PAGE_TARGET, RAW, RAW)
    }

    /// Values compressed once full, each about one page as stored; the
    /// raw size that takes is learnt from the values compressed, starting
    /// from `ratio` (stored / raw).
    pub(crate) fn compressing(ratio: f64) -> Self {
        let mut appender = Self::with(SEALED_RAW_MAX, ZSTD, RAW);
        appender.ratio = ratio;
        appender
    }

    /// Front-coded values (`FRONT`) of [`SEALED_RAW_MAX`] raw bytes.
    pub(crate) fn front_coded() -> Self {
        Self::with(SEALED_RAW_MAX, FRONT, FRONT)
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
            ratio: 1.0,
        }
    }

    /// Raw bytes a value holds before the next item starts another.
    fn raw_target(&self) -> usize {
        if self.full_kind != ZSTD {
            return self.target;
        }
        let raw = SEALED_STORED_TARGET as f64 / self.ratio.max(0.01);
        (raw as usize).clamp(PAGE_TARGET, self.target)
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
        let grows = varint_len(item.len()) + item.len();
        if !self.items.is_empty() && self.len + grows + 1 > self.raw_target() {
            self.write(table, self.full_kind)?;
            self.items.clear();
            self.len = varint_len(0);
        }
        if self.items.is_empty() {
            self.start = seq;
            self.len = varint_len(0);
        }
        self.len += grows;
        self.items.push(item);
        Ok(())
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
        if packed.len() >= self.raw_target() {
            return Ok(());
        }
        let items = decode_all(&packed)?;
        if start.value() + items.len() as u64 == seq {
            self.start = start.value();
            self.len = encoded_len(&items);
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
    /// is not pending (already written).
    pub(crate) fn extend(&mut self, seq: u64, bytes: &[u8]) -> bool {
        let Some(item) = self.get_mut(seq) else {
            return false;
        };
        let (before, added) = (item.len(), bytes.len());
        item.extend_from_slice(bytes);
        let after = item.len();
        self.len = self.len - varint_len(before) + varint_len(after) + added;
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
            let stored = encode(&self.items, kind)?;
            if kind == ZSTD {
                self.ratio = stored.len() as f64 / self.len.max(1) as f64;
            }
            table.insert(self.start, stored.as_slice())?;
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
        let (ranges, end) = item_ranges(&packed).expect("ranges");
        assert_eq!(end, packed.len());
        for (i, item) in items.iter().enumerate() {
            assert_eq!(&packed[ranges[i].clone()], item.as_slice());
        }
        assert_eq!(item(&packed, &ranges, 0, 40).ok(), Some(None));
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
