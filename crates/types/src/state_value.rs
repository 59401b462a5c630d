//! The value type of the state database.

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, RangeCfg, Read, Write};
use std::ops::Deref;

/// Largest value stored under one state key.
pub const MAX_STATE_VALUE_BYTES: usize = 64 * 1024;

/// Bytes stored under one state key, at most [`MAX_STATE_VALUE_BYTES`].
///
/// A newtype rather than `Vec<u8>` because state sync serves database
/// operations over p2p, which needs a codec whose size limit is built in
/// (no runtime configuration).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateValue(pub Vec<u8>);

impl Deref for StateValue {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for StateValue {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl Write for StateValue {
    fn write(&self, buf: &mut impl BufMut) {
        self.0.write(buf);
    }
}

impl EncodeSize for StateValue {
    fn encode_size(&self) -> usize {
        self.0.encode_size()
    }
}

impl Read for StateValue {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Vec::<u8>::read_cfg(buf, &(RangeCfg::new(0..=MAX_STATE_VALUE_BYTES), ())).map(Self)
    }
}
