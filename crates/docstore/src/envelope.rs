//! Envelopes: one container format for confidential and public documents.
//!
//! A confidential document is encrypted once, under a fresh random content
//! key, with ChaCha20-Poly1305; the content key is then HPKE-sealed to each
//! reader's X25519 public key. The content AEAD's associated data is the
//! whole envelope header (version, fingerprint, nonce, every reader entry),
//! so changing any byte of an envelope makes every reader's `open` fail.
//!
//! A public document is the canonical JSON itself in the same container, so
//! fingerprints and content addresses work the same way for both.
//!
//! After decrypting, `open` insists the plaintext is canonical JSON whose
//! SHA-256 is the envelope's fingerprint. ChaCha20-Poly1305 alone is not key
//! committing: a malicious sender could give two readers two different
//! content keys that decrypt one ciphertext to two different texts. The
//! fingerprint check (against the fingerprint on chain, see
//! `DocumentStore::read_plaintext`) rules that out: every reader who opens
//! successfully holds the same document.

use crate::{
    canonical::{canonical_json_checked, parse_canonical, sha256},
    error::DocError,
    rng::{CryptoRng, random_array},
    suite::{self, CONTENT_NONCE_LEN, ENCAPPED_KEY_LEN, WRAPPED_KEY_LEN},
};
use serde_json::Value;
use zeroize::Zeroizing;

/// Largest canonical JSON document accepted (16 MiB). Big enough for any
/// shipping document; small enough that a hostile envelope cannot make a
/// node allocate without bound.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;
/// Most readers one envelope may name.
pub const MAX_READERS: usize = 1024;
/// Longest reader id, in UTF-8 bytes (its length is one byte on the wire).
pub const MAX_READER_ID_BYTES: usize = 255;

/// An organisation entitled to read a document: its id (as on chain) and
/// the X25519 public key it published (32 raw bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    pub id: String,
    pub public_key: [u8; 32],
}

/// A sealed (confidential) or public document, ready to store or ship.
/// Build with [`seal`] / [`seal_public`] or [`Envelope::from_bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub(crate) fingerprint: [u8; 32],
    pub(crate) body: Body,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// The canonical JSON bytes; their SHA-256 is the fingerprint.
    Public { document: Vec<u8> },
    Sealed {
        nonce: [u8; CONTENT_NONCE_LEN],
        /// Strictly ascending by id bytes, so the encoding is unique.
        recipients: Vec<Recipient>,
        /// ChaCha20-Poly1305 ciphertext followed by its 16-byte tag.
        ciphertext: Vec<u8>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Recipient {
    pub(crate) id: String,
    pub(crate) encapped_key: [u8; ENCAPPED_KEY_LEN],
    pub(crate) wrapped_key: [u8; WRAPPED_KEY_LEN],
}

impl Envelope {
    /// The fingerprint of the document inside (what the chain records).
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// Ids of the readers the document is sealed to, in ascending order;
    /// none for a public document.
    pub fn readers(&self) -> impl Iterator<Item = &str> {
        let recipients: &[Recipient] = match &self.body {
            Body::Public { .. } => &[],
            Body::Sealed { recipients, .. } => recipients,
        };
        recipients.iter().map(|r| r.id.as_str())
    }

    /// True for a public (unencrypted) document.
    pub fn is_public(&self) -> bool {
        matches!(self.body, Body::Public { .. })
    }

    /// The content address of this envelope: `ciphertext_hash(&self.to_bytes())`.
    pub fn ciphertext_hash(&self) -> [u8; 32] {
        ciphertext_hash(&self.to_bytes())
    }

    pub(crate) fn kind_name(&self) -> &'static str {
        if self.is_public() { "public" } else { "sealed" }
    }
}

/// SHA-256 of an envelope's bytes: the content address under which it is
/// stored and fetched.
pub fn ciphertext_hash(bytes: &[u8]) -> [u8; 32] {
    sha256(bytes)
}

/// Encrypts `plaintext` so that exactly `readers` can open it.
pub fn seal(
    plaintext: &Value,
    readers: &[Reader],
    rng: &mut impl CryptoRng,
) -> Result<Envelope, DocError> {
    let readers = checked_readers(readers)?;
    let document = Zeroizing::new(canonical_document(plaintext)?);
    let fingerprint = sha256(&document);

    let content_key = Zeroizing::new(random_array::<{ suite::CONTENT_KEY_LEN }>(rng));
    let nonce = random_array::<CONTENT_NONCE_LEN>(rng);
    let recipients = readers
        .into_iter()
        .map(|reader| {
            let (encapped_key, wrapped_key) = suite::wrap_key(
                &content_key,
                &reader.id,
                &reader.public_key,
                &fingerprint,
                rng,
            )?;
            Ok(Recipient {
                id: reader.id.clone(),
                encapped_key,
                wrapped_key,
            })
        })
        .collect::<Result<Vec<_>, DocError>>()?;

    let mut envelope = Envelope {
        fingerprint,
        body: Body::Sealed {
            nonce,
            recipients,
            ciphertext: Vec::new(),
        },
    };
    let aad = envelope.header_bytes();
    let sealed = suite::encrypt_content(&content_key, &nonce, &aad, &document)?;
    if let Body::Sealed { ciphertext, .. } = &mut envelope.body {
        *ciphertext = sealed;
    }
    Ok(envelope)
}

/// Opens a confidential envelope as `reader_id` with that reader's X25519
/// secret, and checks the plaintext is the document the fingerprint names.
pub fn open(envelope: &Envelope, reader_id: &str, secret: &[u8; 32]) -> Result<Value, DocError> {
    let Body::Sealed {
        nonce,
        recipients,
        ciphertext,
    } = &envelope.body
    else {
        return Err(DocError::WrongKind {
            expected: "sealed",
            found: envelope.kind_name(),
        });
    };
    let recipient = recipients
        .binary_search_by(|r| r.id.as_bytes().cmp(reader_id.as_bytes()))
        .map(|i| &recipients[i])
        .map_err(|_| DocError::NotAReader(reader_id.to_owned()))?;
    let content_key = suite::unwrap_key(
        &recipient.encapped_key,
        &recipient.wrapped_key,
        reader_id,
        secret,
        &envelope.fingerprint,
    )?;
    let document =
        suite::decrypt_content(&content_key, nonce, &envelope.header_bytes(), ciphertext)?;
    check_fingerprint(envelope.fingerprint, &document)?;
    parse_canonical(&document)
}

/// Wraps a public document in the envelope format (no encryption).
pub fn seal_public(document: &Value) -> Result<Envelope, DocError> {
    let document = canonical_document(document)?;
    Ok(Envelope {
        fingerprint: sha256(&document),
        body: Body::Public { document },
    })
}

/// Reads a public envelope's document, checking its fingerprint.
pub fn open_public(envelope: &Envelope) -> Result<Value, DocError> {
    let Body::Public { document } = &envelope.body else {
        return Err(DocError::WrongKind {
            expected: "public",
            found: envelope.kind_name(),
        });
    };
    check_fingerprint(envelope.fingerprint, document)?;
    parse_canonical(document)
}

fn canonical_document(value: &Value) -> Result<Vec<u8>, DocError> {
    let document = canonical_json_checked(value)?;
    if document.len() > MAX_DOCUMENT_BYTES {
        return Err(DocError::TooLarge {
            what: "document",
            len: document.len(),
            max: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(document)
}

pub(crate) fn check_fingerprint(expected: [u8; 32], document: &[u8]) -> Result<(), DocError> {
    let found = sha256(document);
    if found != expected {
        return Err(DocError::FingerprintMismatch { expected, found });
    }
    Ok(())
}

pub(crate) fn check_reader_id(id: &str) -> Result<(), DocError> {
    if id.is_empty() || id.len() > MAX_READER_ID_BYTES {
        return Err(DocError::InvalidReaderId(id.to_owned()));
    }
    Ok(())
}

/// Validated readers, sorted by id bytes (the order the encoding requires).
fn checked_readers(readers: &[Reader]) -> Result<Vec<&Reader>, DocError> {
    if readers.is_empty() {
        return Err(DocError::NoReaders);
    }
    if readers.len() > MAX_READERS {
        return Err(DocError::TooLarge {
            what: "reader list",
            len: readers.len(),
            max: MAX_READERS,
        });
    }
    let mut sorted: Vec<&Reader> = readers.iter().collect();
    sorted.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    for pair in sorted.windows(2) {
        if pair[0].id == pair[1].id {
            return Err(DocError::DuplicateReader(pair[0].id.clone()));
        }
    }
    for reader in &sorted {
        check_reader_id(&reader.id)?;
    }
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        canonical::fingerprint,
        rng::os_rng,
        test_util::{Org, orgs},
    };
    use serde_json::json;

    fn parcel() -> Value {
        json!({
            "parcel": "urn:epc:id:sscc:0614141.1234567890",
            "sender": {"name": "Acme GmbH", "address": "Hauptstraße 1, Berlin"},
            "recipient": {"name": "Bolt & Co", "address": "1 Main St, Springfield"},
            "contents": ["widgets", "gadgets"],
            "declared_value": {"amount": 1250, "currency": "EUR"}
        })
    }

    #[test]
    fn round_trip_for_one_to_five_readers() {
        for n in 1..=5 {
            let orgs = orgs(n);
            let readers: Vec<Reader> = orgs.iter().rev().map(Org::reader).collect();
            let envelope = seal(&parcel(), &readers, &mut os_rng()).expect("seal");
            assert_eq!(envelope.fingerprint(), fingerprint(&parcel()));
            let mut ids: Vec<&str> = orgs.iter().map(|o| o.id.as_str()).collect();
            ids.sort();
            assert_eq!(envelope.readers().collect::<Vec<_>>(), ids);
            let decoded = Envelope::from_bytes(&envelope.to_bytes()).expect("decode");
            assert_eq!(decoded, envelope);
            for org in &orgs {
                assert_eq!(
                    open(&decoded, &org.id, &org.secret).expect("open"),
                    parcel()
                );
            }
        }
    }

    #[test]
    fn sealing_twice_gives_different_bytes_same_fingerprint() {
        let org = Org::new("carrier");
        let a = seal(&parcel(), &[org.reader()], &mut os_rng()).expect("seal");
        let b = seal(&parcel(), &[org.reader()], &mut os_rng()).expect("seal");
        assert_ne!(a.to_bytes(), b.to_bytes());
        assert_ne!(a.ciphertext_hash(), b.ciphertext_hash());
        assert_eq!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn a_non_reader_cannot_open() {
        let [sender, carrier, outsider] = ["sender", "carrier", "outsider"].map(Org::new);
        let envelope = seal(
            &parcel(),
            &[sender.reader(), carrier.reader()],
            &mut os_rng(),
        )
        .expect("seal");
        assert!(matches!(
            open(&envelope, &outsider.id, &outsider.secret),
            Err(DocError::NotAReader(id)) if id == "outsider"
        ));
        // Claiming to be a reader without its key gets nowhere either.
        assert!(matches!(
            open(&envelope, &carrier.id, &outsider.secret),
            Err(DocError::DecryptionFailed)
        ));
    }

    #[test]
    fn wrong_secret_fails() {
        let org = Org::new("carrier");
        let envelope = seal(&parcel(), &[org.reader()], &mut os_rng()).expect("seal");
        let mut wrong = org.secret;
        wrong[7] ^= 0x40;
        assert!(matches!(
            open(&envelope, &org.id, &wrong),
            Err(DocError::DecryptionFailed)
        ));
        assert!(matches!(
            open(&envelope, &org.id, &[0u8; 32]),
            Err(DocError::DecryptionFailed)
        ));
    }

    /// Every single-bit change anywhere in a sealed envelope is caught, for
    /// every reader: by decoding, by HPKE, by the content AEAD over the
    /// header, or by the fingerprint check.
    #[test]
    fn flipping_any_byte_of_a_sealed_envelope_fails() {
        let orgs = orgs(2);
        let readers: Vec<Reader> = orgs.iter().map(Org::reader).collect();
        let bytes = seal(&json!({"a": [1, 2, 3]}), &readers, &mut os_rng())
            .expect("seal")
            .to_bytes();
        for i in 0..bytes.len() {
            for mask in [0x01u8, 0x80] {
                let mut damaged = bytes.clone();
                damaged[i] ^= mask;
                let Ok(envelope) = Envelope::from_bytes(&damaged) else {
                    continue;
                };
                for org in &orgs {
                    assert!(
                        open(&envelope, &org.id, &org.secret).is_err(),
                        "byte {i} mask {mask:#x} went unnoticed by {}",
                        org.id
                    );
                }
            }
        }
    }

    #[test]
    fn flipping_any_byte_of_a_public_envelope_fails() {
        let bytes = seal_public(&parcel()).expect("seal").to_bytes();
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x01;
            if let Ok(envelope) = Envelope::from_bytes(&damaged) {
                assert!(open_public(&envelope).is_err(), "byte {i} went unnoticed");
            }
        }
    }

    /// Key wraps are bound to the fingerprint: grafting one envelope's reader
    /// entries onto another document does not open.
    #[test]
    fn wrapped_keys_cannot_be_repointed_at_another_fingerprint() {
        let org = Org::new("carrier");
        let a = seal(&json!({"doc": "a"}), &[org.reader()], &mut os_rng()).expect("seal");
        let b = seal(&json!({"doc": "b"}), &[org.reader()], &mut os_rng()).expect("seal");
        let mut graft = b.clone();
        if let (Body::Sealed { recipients: ra, .. }, Body::Sealed { recipients: rb, .. }) =
            (&a.body, &mut graft.body)
        {
            *rb = ra.clone();
        }
        assert!(open(&graft, &org.id, &org.secret).is_err());
        // Relabelling a's fingerprint as b's fails too.
        let mut relabelled = a.clone();
        relabelled.fingerprint = b.fingerprint;
        assert!(open(&relabelled, &org.id, &org.secret).is_err());
    }

    #[test]
    fn key_wraps_are_bound_to_the_reader_id() {
        // A reader entry moved under another reader's name does not open,
        // even for the holder of the key it was wrapped to.
        let org = Org::new("b-reader");
        let envelope = seal(&parcel(), &[org.reader()], &mut os_rng()).expect("seal");
        let mut renamed = envelope.clone();
        if let Body::Sealed { recipients, .. } = &mut renamed.body {
            recipients[0].id = "a-reader".into();
        }
        assert!(matches!(
            open(&renamed, "a-reader", &org.secret),
            Err(DocError::DecryptionFailed)
        ));
    }

    #[test]
    fn public_documents_round_trip() {
        let envelope = seal_public(&parcel()).expect("seal");
        assert!(envelope.is_public());
        assert_eq!(envelope.readers().count(), 0);
        assert_eq!(envelope.fingerprint(), fingerprint(&parcel()));
        let decoded = Envelope::from_bytes(&envelope.to_bytes()).expect("decode");
        assert_eq!(open_public(&decoded).expect("open"), parcel());
        // Deterministic: the content address of a public document is fixed.
        assert_eq!(
            seal_public(&parcel()).expect("seal").ciphertext_hash(),
            envelope.ciphertext_hash()
        );
    }

    #[test]
    fn kinds_are_not_confused() {
        let org = Org::new("carrier");
        let sealed = seal(&parcel(), &[org.reader()], &mut os_rng()).expect("seal");
        let public = seal_public(&parcel()).expect("seal");
        assert!(matches!(
            open_public(&sealed),
            Err(DocError::WrongKind {
                expected: "public",
                ..
            })
        ));
        assert!(matches!(
            open(&public, &org.id, &org.secret),
            Err(DocError::WrongKind {
                expected: "sealed",
                ..
            })
        ));
    }

    #[test]
    fn bad_reader_lists_are_refused() {
        let org = Org::new("carrier");
        let mut rng = os_rng();
        assert!(matches!(
            seal(&parcel(), &[], &mut rng),
            Err(DocError::NoReaders)
        ));
        assert!(matches!(
            seal(&parcel(), &[org.reader(), org.reader()], &mut rng),
            Err(DocError::DuplicateReader(_))
        ));
        for id in [String::new(), "x".repeat(MAX_READER_ID_BYTES + 1)] {
            let reader = Reader {
                id,
                public_key: org.public,
            };
            assert!(matches!(
                seal(&parcel(), &[reader], &mut rng),
                Err(DocError::InvalidReaderId(_))
            ));
        }
        let longest = Reader {
            id: "é".repeat(MAX_READER_ID_BYTES / 2),
            public_key: org.public,
        };
        assert!(seal(&parcel(), &[longest], &mut rng).is_ok());
        // A low-order point would make the shared secret all zeros.
        let zero = Reader {
            id: "zero".into(),
            public_key: [0u8; 32],
        };
        assert!(matches!(
            seal(&parcel(), &[zero], &mut rng),
            Err(DocError::InvalidPublicKey(id)) if id == "zero"
        ));
        let too_many: Vec<Reader> = (0..=MAX_READERS)
            .map(|i| Reader {
                id: format!("r{i}"),
                public_key: org.public,
            })
            .collect();
        assert!(matches!(
            seal(&parcel(), &too_many, &mut rng),
            Err(DocError::TooLarge { .. })
        ));
    }

    #[test]
    fn oversized_documents_are_refused() {
        let big = Value::String("x".repeat(MAX_DOCUMENT_BYTES));
        assert!(matches!(seal_public(&big), Err(DocError::TooLarge { .. })));
        let org = Org::new("carrier");
        assert!(matches!(
            seal(&big, &[org.reader()], &mut os_rng()),
            Err(DocError::TooLarge { .. })
        ));
    }
}
