//! Parcels and off-chain documents: what the chain records of them.

use crate::{Digest, transaction::read_string};
use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, RangeCfg, Read, ReadExt, Write};

pub const MAX_READERS: usize = 32;
pub const MAX_ROUTE: usize = 32;
pub const MAX_LABEL_BYTES: usize = 256;
/// Longest a hand-off proposal may wait for its acceptance.
pub const MAX_HANDOFF_WAIT_MS: u64 = 7 * 24 * 3_600_000;

fn write_str(value: &str, buf: &mut impl BufMut) {
    value.as_bytes().write(buf);
}

fn str_size(value: &str) -> usize {
    value.as_bytes().encode_size()
}

pub(crate) fn write_option(value: &Option<String>, buf: &mut impl BufMut) {
    match value {
        None => 0u8.write(buf),
        Some(value) => {
            1u8.write(buf);
            write_str(value, buf);
        }
    }
}

pub(crate) fn option_size(value: &Option<String>) -> usize {
    1 + value.as_deref().map_or(0, str_size)
}

pub(crate) fn read_option(
    buf: &mut impl Buf,
    max: usize,
    what: &'static str,
) -> Result<Option<String>, CodecError> {
    match u8::read(buf)? {
        0 => Ok(None),
        1 => Ok(Some(read_string(buf, max, what)?)),
        other => Err(CodecError::InvalidEnum(other)),
    }
}

/// An off-chain document anchored on chain: the SHA-256 of its plaintext's
/// canonical form (the fingerprint), of the stored envelope (its content
/// address), and who may read it (organisation ids; none = public).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentAnchor {
    pub fingerprint: Digest,
    pub ciphertext_hash: Digest,
    pub readers: Vec<String>,
    pub label: String,
}

impl Write for DocumentAnchor {
    fn write(&self, buf: &mut impl BufMut) {
        self.fingerprint.write(buf);
        self.ciphertext_hash.write(buf);
        self.readers.len().write(buf);
        for reader in &self.readers {
            write_str(reader, buf);
        }
        write_str(&self.label, buf);
    }
}

impl EncodeSize for DocumentAnchor {
    fn encode_size(&self) -> usize {
        self.fingerprint.encode_size()
            + self.ciphertext_hash.encode_size()
            + self.readers.len().encode_size()
            + self.readers.iter().map(|r| str_size(r)).sum::<usize>()
            + str_size(&self.label)
    }
}

impl Read for DocumentAnchor {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let fingerprint = Digest::read(buf)?;
        let ciphertext_hash = Digest::read(buf)?;
        let count = usize::read_cfg(buf, &RangeCfg::new(0..=MAX_READERS))?;
        let readers = (0..count)
            .map(|_| read_string(buf, crate::domain::MAX_ORG_ID_BYTES, "reader"))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            fingerprint,
            ciphertext_hash,
            readers,
            label: read_string(buf, MAX_LABEL_BYTES, "document label")?,
        })
    }
}

/// One planned stop: an organisation, and where (a GLN identifier) if known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteStop {
    pub organisation: String,
    pub location: Option<String>,
}

impl Write for RouteStop {
    fn write(&self, buf: &mut impl BufMut) {
        write_str(&self.organisation, buf);
        write_option(&self.location, buf);
    }
}

impl EncodeSize for RouteStop {
    fn encode_size(&self) -> usize {
        str_size(&self.organisation) + option_size(&self.location)
    }
}

impl Read for RouteStop {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            organisation: read_string(buf, crate::domain::MAX_ORG_ID_BYTES, "route organisation")?,
            location: read_option(
                buf,
                crate::transaction::MAX_IDENTIFIER_BYTES,
                "route location",
            )?,
        })
    }
}

pub(crate) fn write_route(route: &[RouteStop], buf: &mut impl BufMut) {
    route.len().write(buf);
    for stop in route {
        stop.write(buf);
    }
}

pub(crate) fn route_size(route: &[RouteStop]) -> usize {
    route.len().encode_size() + route.iter().map(EncodeSize::encode_size).sum::<usize>()
}

pub(crate) fn read_route(buf: &mut impl Buf) -> Result<Vec<RouteStop>, CodecError> {
    let count = usize::read_cfg(buf, &RangeCfg::new(0..=MAX_ROUTE))?;
    (0..count).map(|_| RouteStop::read(buf)).collect()
}

/// What went wrong with a parcel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum ParcelException {
    Damaged = 0,
    Lost = 1,
    Returned = 2,
}

impl ParcelException {
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::Damaged),
            1 => Some(Self::Lost),
            2 => Some(Self::Returned),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Damaged => "damaged",
            Self::Lost => "lost",
            Self::Returned => "returned",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Damaged, Self::Lost, Self::Returned]
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash;
    use commonware_codec::{DecodeExt, Encode};

    #[test]
    fn anchor_and_stop_roundtrip() {
        let anchor = DocumentAnchor {
            fingerprint: hash(b"plain"),
            ciphertext_hash: hash(b"cipher"),
            readers: vec!["bakery".into(), "freshmart".into()],
            label: "parcel 42".into(),
        };
        assert_eq!(DocumentAnchor::decode(anchor.encode()).unwrap(), anchor);
        let stop = RouteStop {
            organisation: "swift-freight".into(),
            location: Some("urn:epc:id:sgln:4045678.00001.0".into()),
        };
        assert_eq!(RouteStop::decode(stop.encode()).unwrap(), stop);
    }
}
