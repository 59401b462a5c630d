//! The envelope's byte format (version 1). All integers big-endian.
//!
//! ```text
//! magic        4   "TCDE"
//! version      1   0x01
//! kind         1   0x00 public | 0x01 sealed
//! fingerprint 32   SHA-256 of the canonical JSON document
//! -- sealed only --
//! nonce       12   ChaCha20-Poly1305 nonce of the content
//! count        2   number of readers, 1..=1024
//! count × { id_len 1 (1..=255), id id_len (UTF-8),
//!           enc 32 (HPKE encapsulated key), wrapped 48 (HPKE ciphertext of
//!           the content key) }   -- strictly ascending by id bytes
//! -- both --
//! length       4   payload length
//! payload          public: canonical JSON (<= 16 MiB);
//!                  sealed: ciphertext || tag (16..=16 MiB + 16)
//! ```
//!
//! Everything before `length` is the *header*, the associated data of the
//! content encryption. Decoding is strict — no trailing bytes, readers in
//! order, no duplicates — so a byte string decodes to at most one envelope
//! and re-encodes to itself; the content address of an envelope is
//! therefore well defined. Every length is checked against the remaining
//! input and a fixed limit before anything is allocated.

use crate::{
    envelope::{
        Body, Envelope, MAX_DOCUMENT_BYTES, MAX_READER_ID_BYTES, MAX_READERS, Recipient,
        check_fingerprint, check_reader_id,
    },
    error::DocError,
    suite::{CONTENT_NONCE_LEN, ENCAPPED_KEY_LEN, TAG_LEN, WRAPPED_KEY_LEN},
};

pub const MAGIC: &[u8; 4] = b"TCDE";
pub const FORMAT_VERSION: u8 = 1;
const KIND_PUBLIC: u8 = 0;
const KIND_SEALED: u8 = 1;
const RECIPIENT_FIXED_LEN: usize = 1 + ENCAPPED_KEY_LEN + WRAPPED_KEY_LEN;

/// Largest possible encoded envelope; the store refuses bigger files
/// without reading them whole.
pub const MAX_ENVELOPE_BYTES: usize = MAGIC.len()
    + 2
    + 32
    + CONTENT_NONCE_LEN
    + 2
    + MAX_READERS * (RECIPIENT_FIXED_LEN + MAX_READER_ID_BYTES)
    + 4
    + MAX_DOCUMENT_BYTES
    + TAG_LEN;

impl Envelope {
    /// The envelope's bytes (deterministic: equal envelopes, equal bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.header_bytes();
        let payload = match &self.body {
            Body::Public { document } => document,
            Body::Sealed { ciphertext, .. } => ciphertext,
        };
        // Payloads are bounded by MAX_DOCUMENT_BYTES (+ tag) when built or
        // decoded, far below u32::MAX.
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// Decodes and validates an envelope. Never panics; rejects anything not
    /// produced by `to_bytes`. For a public envelope it also checks the
    /// document hashes to the fingerprint. (A sealed envelope can only be
    /// fully checked by a reader, in `open`.)
    pub fn from_bytes(bytes: &[u8]) -> Result<Envelope, DocError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(DocError::TooLarge {
                what: "envelope",
                len: bytes.len(),
                max: MAX_ENVELOPE_BYTES,
            });
        }
        let mut input = Input(bytes);
        if input.array::<4>()? != *MAGIC {
            return Err(DocError::Malformed("not a tracechain document envelope"));
        }
        if input.u8()? != FORMAT_VERSION {
            return Err(DocError::Malformed("unsupported envelope version"));
        }
        let kind = input.u8()?;
        let fingerprint = input.array::<32>()?;
        let body = match kind {
            KIND_PUBLIC => {
                let document = input.payload(MAX_DOCUMENT_BYTES)?.to_vec();
                check_fingerprint(fingerprint, &document)?;
                Body::Public { document }
            }
            KIND_SEALED => {
                let nonce = input.array::<CONTENT_NONCE_LEN>()?;
                let recipients = decode_recipients(&mut input)?;
                let ciphertext = input.payload(MAX_DOCUMENT_BYTES + TAG_LEN)?;
                if ciphertext.len() < TAG_LEN {
                    return Err(DocError::Malformed("ciphertext shorter than its tag"));
                }
                Body::Sealed {
                    nonce,
                    recipients,
                    ciphertext: ciphertext.to_vec(),
                }
            }
            _ => return Err(DocError::Malformed("unknown envelope kind")),
        };
        if !input.0.is_empty() {
            return Err(DocError::Malformed("trailing bytes after the payload"));
        }
        Ok(Envelope { fingerprint, body })
    }

    /// Everything before the payload length: the content AAD.
    pub(crate) fn header_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        match &self.body {
            Body::Public { .. } => {
                out.push(KIND_PUBLIC);
                out.extend_from_slice(&self.fingerprint);
            }
            Body::Sealed {
                nonce, recipients, ..
            } => {
                out.push(KIND_SEALED);
                out.extend_from_slice(&self.fingerprint);
                out.extend_from_slice(nonce);
                // At most MAX_READERS (1024) entries, checked when built.
                out.extend_from_slice(&(recipients.len() as u16).to_be_bytes());
                for r in recipients {
                    // Ids are 1..=255 bytes, checked when built or decoded.
                    out.push(r.id.len() as u8);
                    out.extend_from_slice(r.id.as_bytes());
                    out.extend_from_slice(&r.encapped_key);
                    out.extend_from_slice(&r.wrapped_key);
                }
            }
        }
        out
    }
}

fn decode_recipients(input: &mut Input<'_>) -> Result<Vec<Recipient>, DocError> {
    let count = usize::from(input.u16()?);
    if count == 0 {
        return Err(DocError::Malformed("sealed envelope with no readers"));
    }
    if count > MAX_READERS {
        return Err(DocError::TooLarge {
            what: "reader list",
            len: count,
            max: MAX_READERS,
        });
    }
    // Each entry takes at least RECIPIENT_FIXED_LEN + 1 bytes: refuse a count
    // the input cannot hold before reserving memory for it.
    if count * (RECIPIENT_FIXED_LEN + 1) > input.0.len() {
        return Err(DocError::Malformed("reader count exceeds the input"));
    }
    let mut recipients: Vec<Recipient> = Vec::with_capacity(count);
    for _ in 0..count {
        let id_len = usize::from(input.u8()?);
        let id = std::str::from_utf8(input.take(id_len)?)
            .map_err(|_| DocError::Malformed("reader id is not UTF-8"))?
            .to_owned();
        check_reader_id(&id).map_err(|_| DocError::Malformed("empty reader id"))?;
        if let Some(previous) = recipients.last()
            && previous.id.as_bytes() >= id.as_bytes()
        {
            return Err(DocError::Malformed(
                "readers not in strictly ascending order",
            ));
        }
        recipients.push(Recipient {
            id,
            encapped_key: input.array()?,
            wrapped_key: input.array()?,
        });
    }
    Ok(recipients)
}

/// A cursor over untrusted input: every read is bounds-checked.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DocError> {
        if n > self.0.len() {
            return Err(DocError::Malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DocError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DocError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, DocError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, DocError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A u32-length-prefixed payload of at most `max` bytes.
    fn payload(&mut self, max: usize) -> Result<&'a [u8], DocError> {
        let len = usize::try_from(self.u32()?).unwrap_or(usize::MAX);
        if len > max {
            return Err(DocError::TooLarge {
                what: "payload",
                len,
                max,
            });
        }
        self.take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        envelope::{Reader, seal, seal_public},
        rng::os_rng,
        test_util::{Org, orgs},
    };
    use proptest::prelude::*;
    use serde_json::json;

    fn sample_envelopes() -> Vec<Vec<u8>> {
        let orgs = orgs(3);
        let readers: Vec<Reader> = orgs.iter().map(Org::reader).collect();
        vec![
            seal(&json!({"k": "v", "n": [1, 2]}), &readers, &mut os_rng())
                .expect("seal")
                .to_bytes(),
            seal_public(&json!({"k": "v"})).expect("seal").to_bytes(),
        ]
    }

    #[test]
    fn layout_is_as_documented() {
        let org = Org::new("ab");
        let envelope = seal(&json!(1), &[org.reader()], &mut os_rng()).expect("seal");
        let bytes = envelope.to_bytes();
        assert_eq!(&bytes[..4], b"TCDE");
        assert_eq!(bytes[4], FORMAT_VERSION);
        assert_eq!(bytes[5], KIND_SEALED);
        assert_eq!(bytes[6..38], envelope.fingerprint());
        assert_eq!(bytes[50..52], [0, 1]); // one reader
        assert_eq!(bytes[52], 2); // id length
        assert_eq!(&bytes[53..55], b"ab");
        let payload_at = 55 + ENCAPPED_KEY_LEN + WRAPPED_KEY_LEN;
        // canonical "1" is one byte, plus the tag.
        assert_eq!(bytes[payload_at..payload_at + 4], [0, 0, 0, 17]);
        assert_eq!(bytes.len(), payload_at + 4 + 17);

        let public = seal_public(&json!(1)).expect("seal").to_bytes();
        assert_eq!(public[5], KIND_PUBLIC);
        assert_eq!(&public[38..], &[0, 0, 0, 1, b'1']);
    }

    #[test]
    fn absurd_lengths_are_refused_without_allocating() {
        let mut public = seal_public(&json!(1)).expect("seal").to_bytes();
        public.truncate(38);
        public.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            Envelope::from_bytes(&public),
            Err(DocError::TooLarge {
                what: "payload",
                ..
            })
        ));

        let mut sealed = sample_envelopes().remove(0);
        sealed[50..52].copy_from_slice(&u16::MAX.to_be_bytes());
        assert!(matches!(
            Envelope::from_bytes(&sealed),
            Err(DocError::TooLarge {
                what: "reader list",
                ..
            })
        ));
        sealed[50..52].copy_from_slice(&1000u16.to_be_bytes());
        assert!(matches!(
            Envelope::from_bytes(&sealed),
            Err(DocError::Malformed("reader count exceeds the input"))
        ));
        assert!(matches!(
            Envelope::from_bytes(&vec![0u8; MAX_ENVELOPE_BYTES + 1]),
            Err(DocError::TooLarge {
                what: "envelope",
                ..
            })
        ));
    }

    #[test]
    fn strictness() {
        let good = sample_envelopes();
        for bytes in &good {
            let mut trailing = bytes.clone();
            trailing.push(0);
            assert!(Envelope::from_bytes(&trailing).is_err());
            for cut in 0..bytes.len() {
                assert!(Envelope::from_bytes(&bytes[..cut]).is_err(), "prefix {cut}");
            }
            let mut version = bytes.clone();
            version[4] = 2;
            assert!(matches!(
                Envelope::from_bytes(&version),
                Err(DocError::Malformed("unsupported envelope version"))
            ));
        }
        // Readers out of order: swap the first two entries' ids ("org-0" and
        // "org-1" have the same length, so the layout stays valid).
        let mut swapped = good[0].clone();
        let entry = 1 + 5 + ENCAPPED_KEY_LEN + WRAPPED_KEY_LEN;
        swapped[53..58].copy_from_slice(b"org-1");
        swapped[53 + entry..58 + entry].copy_from_slice(b"org-0");
        assert!(matches!(
            Envelope::from_bytes(&swapped),
            Err(DocError::Malformed(
                "readers not in strictly ascending order"
            ))
        ));
        let mut duplicate = good[0].clone();
        duplicate[53 + entry..58 + entry].copy_from_slice(b"org-0");
        assert!(Envelope::from_bytes(&duplicate).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Arbitrary bytes never panic the decoder, with or without a valid
        /// magic/version/kind in front (so the garbage reaches the body).
        #[test]
        fn from_bytes_never_panics_on_garbage(
            prefix in prop::sample::select(vec![&b""[..], b"TCDE\x01\x00", b"TCDE\x01\x01"]),
            garbage in prop::collection::vec(any::<u8>(), 0..600),
        ) {
            let bytes = [prefix, &garbage].concat();
            if let Ok(envelope) = Envelope::from_bytes(&bytes) {
                prop_assert_eq!(envelope.to_bytes(), bytes);
            }
        }

        /// Arbitrary bytes behind a valid prefix reach the deeper parsing
        /// paths; whatever decodes re-encodes to exactly the same bytes.
        #[test]
        fn from_bytes_is_strict_and_total_on_mutations(
            which in 0usize..2,
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
            tail in prop::collection::vec(any::<u8>(), 0..8),
        ) {
            let mut bytes = sample_envelopes().swap_remove(which);
            for (at, value) in edits {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len()));
            }
            bytes.extend_from_slice(&tail);
            if let Ok(envelope) = Envelope::from_bytes(&bytes) {
                prop_assert_eq!(envelope.to_bytes(), bytes);
            }
        }
    }
}
