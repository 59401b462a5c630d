//! Decoded sender keys, remembered by their bytes.
//!
//! Decoding an ed25519 public key decompresses a curve point (a field
//! square root), and every transaction is decoded at several hops (API,
//! gossip, block broadcast, block archive reads) while a network has few
//! distinct senders. Keeping the decoded keys makes those decodes a lookup.

use crate::PublicKey;
use commonware_codec::{Buf, DecodeExt, Error as CodecError, FixedSize, ReadExt};
use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
};

/// Distinct keys kept before the cache starts over; a bound, so a flood
/// of one-off senders costs memory once, not forever.
const CAPACITY: usize = 65_536;

type Raw = [u8; PublicKey::SIZE];

fn cache() -> &'static Mutex<HashMap<Raw, PublicKey>> {
    static CACHE: OnceLock<Mutex<HashMap<Raw, PublicKey>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Reads a public key, decompressing it only the first time it is seen.
pub fn read_public_key(buf: &mut impl Buf) -> Result<PublicKey, CodecError> {
    let raw = Raw::read(buf)?;
    if let Some(key) = lock().get(&raw) {
        return Ok(key.clone());
    }
    // Invalid keys are not cached: they fail here every time.
    let key = PublicKey::decode(commonware_codec::Copying(raw.as_slice()))?;
    let mut cache = lock();
    if cache.len() >= CAPACITY {
        cache.clear();
    }
    cache.insert(raw, key.clone());
    Ok(key)
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<Raw, PublicKey>> {
    // The map holds plain values; a panic elsewhere leaves it usable.
    cache().lock().unwrap_or_else(|poison| poison.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::Encode;
    use commonware_cryptography::{Signer, ed25519};

    #[test]
    fn cached_key_equals_a_fresh_decode() {
        let key = ed25519::PrivateKey::from_seed(7).public_key();
        let bytes = key.encode();
        let first = read_public_key(&mut bytes.clone()).expect("valid key");
        let second = read_public_key(&mut bytes.clone()).expect("valid key");
        assert_eq!(first, key);
        assert_eq!(second, key);
    }

    #[test]
    fn invalid_key_is_refused_every_time() {
        // y = 2 is not the y-coordinate of a curve point.
        let mut raw = [0u8; 32];
        raw[0] = 2;
        assert!(
            PublicKey::decode(commonware_codec::Copying(raw.as_slice())).is_err(),
            "premise"
        );
        for _ in 0..2 {
            assert!(read_public_key(&mut commonware_codec::Copying(raw.as_slice())).is_err());
        }
    }
}
