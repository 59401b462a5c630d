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
//! items back to back.

use redb::{ReadableTable, Table};

use crate::codec::{Reader, put_varint};
use crate::error::{IndexError, corrupt};

/// Most bytes one packed value holds (redb pages are 4 KiB; the leaf needs
/// a few bytes for itself). A larger item is packed alone.
pub(crate) const PAGE_TARGET: usize = 4_000;

fn encode(items: &[Vec<u8>]) -> Vec<u8> {
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

/// The item stored for `seq`, if any.
pub(crate) fn read<T>(table: &T, seq: u64) -> Result<Option<Vec<u8>>, IndexError>
where
    T: ReadableTable<u64, &'static [u8]>,
{
    let Some(entry) = table.range(..=seq)?.next_back() else {
        return Ok(None);
    };
    let (start, packed) = entry?;
    let index = usize::try_from(seq - start.value()).map_err(|_| corrupt("event page index"))?;
    let packed = packed.value();
    let count = Reader::new(packed, "event page").len()?;
    if index >= count {
        return Ok(None);
    }
    let range = locate(packed, index)?;
    Ok(Some(packed[range].to_vec()))
}

/// Builds the last packed value of a table during one write transaction.
/// Items must come in seq order with no gaps.
pub(crate) struct Appender {
    /// Whether the table's last value has been adopted (or found full).
    started: bool,
    start: u64,
    items: Vec<Vec<u8>>,
    len: usize,
}

impl Appender {
    pub(crate) fn new() -> Self {
        Appender {
            started: false,
            start: 0,
            items: Vec::new(),
            len: 0,
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
        let grows = varint_len(item.len()) + item.len();
        if !self.items.is_empty() && self.len + grows + 1 > PAGE_TARGET {
            self.flush(table)?;
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
        let packed = packed.value();
        if packed.len() >= PAGE_TARGET {
            return Ok(());
        }
        let items = decode_all(packed)?;
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

    /// Write the pending value (call at the end of the transaction).
    pub(crate) fn flush(
        &mut self,
        table: &mut Table<'_, u64, &'static [u8]>,
    ) -> Result<(), IndexError> {
        if !self.items.is_empty() {
            table.insert(self.start, encode(&self.items).as_slice())?;
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
    let (start, mut items) = {
        let entry = table
            .range(..=seq)?
            .next_back()
            .ok_or_else(|| corrupt(format!("event {seq} missing")))?;
        let (start, packed) = entry?;
        (start.value(), decode_all(packed.value())?)
    };
    let index = usize::try_from(seq - start).map_err(|_| corrupt("event page index"))?;
    let item = items
        .get_mut(index)
        .ok_or_else(|| corrupt(format!("event {seq} missing")))?;
    change(item)?;
    table.insert(start, encode(&items).as_slice())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_values_locate_each_item() {
        let items: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; usize::from(i) * 7]).collect();
        let packed = encode(&items);
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
    fn varint_lengths() {
        for v in [0usize, 1, 127, 128, 16_383, 16_384, usize::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v as u64);
            assert_eq!(varint_len(v), out.len());
        }
    }
}
