//! Randomness, in one place.
//!
//! hpke 0.15, chacha20poly1305 0.11 and the rest of this workspace all speak
//! `rand_core` 0.10, so callers pass any `rand_core::CryptoRng` (a seeded
//! generator in tests, the OS in production) and it reaches the ephemeral
//! HPKE keys, the content key and the nonce unchanged. Should hpke ever move
//! to another `rand_core`, this module is the only glue to change.

pub use rand_core::CryptoRng;

/// The operating system's generator (getrandom), for production callers.
/// Panics only if the OS cannot supply randomness, in which case no key could
/// safely be made anyway.
pub fn os_rng() -> impl CryptoRng {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// Fills a fresh array from `rng`.
pub(crate) fn random_array<const N: usize>(rng: &mut impl CryptoRng) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill_bytes(&mut out);
    out
}
