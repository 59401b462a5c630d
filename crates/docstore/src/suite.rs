//! The HPKE suite that wraps a document's content key for each reader, and
//! the content cipher. Everything cryptographic is done by maintained crates
//! (`hpke` = rust-hpke for RFC 9180, `chacha20poly1305` from RustCrypto);
//! this module only fixes the parameters and the byte strings bound in.

use crate::{error::DocError, rng::CryptoRng};
use chacha20poly1305::{
    ChaCha20Poly1305 as ContentCipher,
    aead::{Aead, KeyInit, Payload},
};
use hpke::{
    Deserializable, OpModeR, OpModeS, Serializable, aead::ChaCha20Poly1305 as HpkeAead,
    kdf::HkdfSha256, kem::X25519HkdfSha256,
};
use zeroize::Zeroizing;

/// RFC 9180 identifiers of the suite: DHKEM(X25519, HKDF-SHA256),
/// HKDF-SHA256, ChaCha20-Poly1305; mode base (0x00).
pub const HPKE_KEM_ID: u16 = 0x0020;
pub const HPKE_KDF_ID: u16 = 0x0001;
pub const HPKE_AEAD_ID: u16 = 0x0003;

/// Domain separator bound into every HPKE `info` and the content AAD: a key
/// wrapped for a tracechain document cannot be replayed into another
/// protocol that uses the same X25519 keys, nor into a later format version.
pub const DOMAIN: &[u8] = b"tracechain/document/v1";

pub const CONTENT_KEY_LEN: usize = 32;
pub const CONTENT_NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
/// HPKE `enc` for X25519: the ephemeral public key.
pub const ENCAPPED_KEY_LEN: usize = 32;
/// HPKE ciphertext of the 32-byte content key: key plus tag.
pub const WRAPPED_KEY_LEN: usize = CONTENT_KEY_LEN + TAG_LEN;

type Kem = X25519HkdfSha256;

/// HPKE `info` for one reader: `DOMAIN || 0x00 || reader_id`. Naming the
/// reader means a wrapped key moved into another reader's entry fails to
/// open; the fixed-length prefix plus separator keeps it unambiguous.
pub fn hpke_info(reader_id: &str) -> Vec<u8> {
    let mut info = Vec::with_capacity(DOMAIN.len() + 1 + reader_id.len());
    info.extend_from_slice(DOMAIN);
    info.push(0);
    info.extend_from_slice(reader_id.as_bytes());
    info
}

/// HPKE-seals `content_key` to one reader. The AAD is the document
/// fingerprint, so a wrapped key cannot be re-pointed at another document.
pub(crate) fn wrap_key(
    content_key: &[u8; CONTENT_KEY_LEN],
    reader_id: &str,
    reader_public_key: &[u8; 32],
    fingerprint: &[u8; 32],
    rng: &mut impl CryptoRng,
) -> Result<([u8; ENCAPPED_KEY_LEN], [u8; WRAPPED_KEY_LEN]), DocError> {
    let invalid = || DocError::InvalidPublicKey(reader_id.to_owned());
    let public =
        <Kem as hpke::Kem>::PublicKey::from_bytes(reader_public_key).map_err(|_| invalid())?;
    let (encapped, wrapped) = hpke::single_shot_seal_with_rng::<HpkeAead, HkdfSha256, Kem>(
        &OpModeS::Base,
        &public,
        &hpke_info(reader_id),
        content_key,
        fingerprint,
        rng,
    )
    // Encapsulation fails only for a low-order public key (all-zero DH).
    .map_err(|_| invalid())?;
    let encapped: [u8; ENCAPPED_KEY_LEN] = encapped.to_bytes().into();
    let wrapped: [u8; WRAPPED_KEY_LEN] = wrapped
        .as_slice()
        .try_into()
        .map_err(|_| DocError::Malformed("HPKE returned an unexpected ciphertext length"))?;
    Ok((encapped, wrapped))
}

/// Opens one reader's wrapped content key with the reader's X25519 secret.
pub(crate) fn unwrap_key(
    encapped: &[u8; ENCAPPED_KEY_LEN],
    wrapped: &[u8; WRAPPED_KEY_LEN],
    reader_id: &str,
    secret: &[u8; 32],
    fingerprint: &[u8; 32],
) -> Result<Zeroizing<[u8; CONTENT_KEY_LEN]>, DocError> {
    let private = <Kem as hpke::Kem>::PrivateKey::from_bytes(secret)
        .map_err(|_| DocError::DecryptionFailed)?;
    let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(encapped)
        .map_err(|_| DocError::DecryptionFailed)?;
    let key = Zeroizing::new(
        hpke::single_shot_open::<HpkeAead, HkdfSha256, Kem>(
            &OpModeR::Base,
            &private,
            &encapped,
            &hpke_info(reader_id),
            wrapped,
            fingerprint,
        )
        .map_err(|_| DocError::DecryptionFailed)?,
    );
    let mut out = Zeroizing::new([0u8; CONTENT_KEY_LEN]);
    if key.len() != CONTENT_KEY_LEN {
        return Err(DocError::DecryptionFailed);
    }
    out.copy_from_slice(&key);
    Ok(out)
}

/// Encrypts the canonical document under the content key. `aad` is the
/// envelope header, so no byte of it can change without failing decryption.
pub(crate) fn encrypt_content(
    key: &[u8; CONTENT_KEY_LEN],
    nonce: &[u8; CONTENT_NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, DocError> {
    ContentCipher::new(&(*key).into())
        .encrypt(
            &(*nonce).into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        // Only possible for plaintexts beyond ChaCha20's 256 GiB limit,
        // far above MAX_DOCUMENT_BYTES.
        .map_err(|_| DocError::TooLarge {
            what: "document",
            len: plaintext.len(),
            max: crate::envelope::MAX_DOCUMENT_BYTES,
        })
}

pub(crate) fn decrypt_content(
    key: &[u8; CONTENT_KEY_LEN],
    nonce: &[u8; CONTENT_NONCE_LEN],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, DocError> {
    ContentCipher::new(&(*key).into())
        .decrypt(
            &(*nonce).into(),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| DocError::DecryptionFailed)
}
