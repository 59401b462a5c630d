//! A content-addressed store of envelopes on disk.
//!
//! Each envelope lives in `<root>/<first two hex digits>/<64 hex digits>`,
//! named by the SHA-256 of its bytes. Sharding keeps directories small on
//! nodes that hold many documents. Writes go to a temporary file in the same
//! directory, are synced, then renamed into place, so a crash leaves either
//! nothing or the whole file — never a torn one under the final name.
//!
//! Files are never trusted: `get` re-hashes what it reads and reports a
//! mismatch as [`DocError::Tampered`] instead of handing back corrupted data.

use crate::{
    codec::MAX_ENVELOPE_BYTES,
    envelope::{Envelope, ciphertext_hash, open, open_public},
    error::DocError,
};
use serde_json::Value;
use std::{
    fs,
    io::{ErrorKind, Read, Write},
    path::{Path, PathBuf},
};

/// Envelopes on disk, addressed by the SHA-256 of their bytes.
#[derive(Clone, Debug)]
pub struct DocumentStore {
    root: PathBuf,
}

impl DocumentStore {
    /// Opens (creating if needed) the store rooted at `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<DocumentStore, DocError> {
        let root = dir.as_ref().to_path_buf();
        fs::create_dir_all(&root).map_err(DocError::io(&root))?;
        Ok(DocumentStore { root })
    }

    /// The directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Stores a well-formed envelope and returns its content address.
    /// Idempotent; also repairs a stored copy that was damaged on disk.
    pub fn put(&self, envelope_bytes: &[u8]) -> Result<[u8; 32], DocError> {
        // Refuse garbage (e.g. from a misbehaving peer) before it takes disk.
        Envelope::from_bytes(envelope_bytes)?;
        let hash = ciphertext_hash(envelope_bytes);
        if matches!(self.get(&hash), Ok(Some(_))) {
            return Ok(hash);
        }
        let path = self.path_of(&hash);
        let shard = path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&shard).map_err(DocError::io(&shard))?;
        let mut temp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&shard)
            .map_err(DocError::io(&shard))?;
        temp.write_all(envelope_bytes)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(DocError::io(temp.path()))?;
        temp.persist(&path).map_err(|e| DocError::Io {
            path: path.clone(),
            source: e.error,
        })?;
        sync_dir(&shard)?;
        Ok(hash)
    }

    /// The envelope bytes stored under `hash`, verified to hash to it.
    pub fn get(&self, hash: &[u8; 32]) -> Result<Option<Vec<u8>>, DocError> {
        let path = self.path_of(hash);
        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DocError::io(&path)(e)),
        };
        // Never read more than an envelope can be: a huge file under our name
        // is damage, not a document. (The length is checked again while
        // reading, in case the file grows in between.)
        let len = file.metadata().map_err(DocError::io(&path))?.len();
        if len > MAX_ENVELOPE_BYTES as u64 {
            return Err(DocError::TooLarge {
                what: "stored file",
                len: usize::try_from(len).unwrap_or(usize::MAX),
                max: MAX_ENVELOPE_BYTES,
            });
        }
        let mut bytes = Vec::new();
        file.take(MAX_ENVELOPE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(DocError::io(&path))?;
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(DocError::TooLarge {
                what: "stored file",
                len: bytes.len(),
                max: MAX_ENVELOPE_BYTES,
            });
        }
        let found = ciphertext_hash(&bytes);
        if found != *hash {
            return Err(DocError::Tampered {
                expected: *hash,
                found,
            });
        }
        Ok(Some(bytes))
    }

    /// The decoded envelope stored under `hash`.
    pub fn get_envelope(&self, hash: &[u8; 32]) -> Result<Option<Envelope>, DocError> {
        self.get(hash)?
            .map(|bytes| Envelope::from_bytes(&bytes))
            .transpose()
    }

    /// Whether a file is stored under `hash` (not verified; `get` verifies).
    pub fn contains(&self, hash: &[u8; 32]) -> Result<bool, DocError> {
        let path = self.path_of(hash);
        path.try_exists().map_err(DocError::io(path))
    }

    /// Every stored content address, sorted. Files not named like a stored
    /// envelope (such as temporary files left by a crash) are skipped.
    pub fn list(&self) -> Result<Vec<[u8; 32]>, DocError> {
        let mut hashes = Vec::new();
        for shard in fs::read_dir(&self.root).map_err(DocError::io(&self.root))? {
            let shard = shard.map_err(DocError::io(&self.root))?;
            let shard_name = shard.file_name();
            let Some(prefix) = shard_name.to_str().filter(|n| is_hex(n, 2)) else {
                continue;
            };
            let shard_path = shard.path();
            if !shard_path.is_dir() {
                continue;
            }
            for entry in fs::read_dir(&shard_path).map_err(DocError::io(&shard_path))? {
                let entry = entry.map_err(DocError::io(&shard_path))?;
                let name = entry.file_name();
                let Some(name) = name
                    .to_str()
                    .filter(|n| is_hex(n, 64) && n.starts_with(prefix))
                else {
                    continue;
                };
                let mut hash = [0u8; 32];
                if hex::decode_to_slice(name, &mut hash).is_ok() {
                    hashes.push(hash);
                }
            }
        }
        hashes.sort_unstable();
        Ok(hashes)
    }

    /// Fetches, verifies and opens a document as `reader_id`, and checks it is
    /// the document the chain names (`expected_fingerprint`). Public
    /// documents are returned to anybody (the key is then unused).
    pub fn read_plaintext(
        &self,
        hash: &[u8; 32],
        reader_id: &str,
        secret: &[u8; 32],
        expected_fingerprint: &[u8; 32],
    ) -> Result<Value, DocError> {
        let envelope = self.envelope_for(hash, expected_fingerprint)?;
        if envelope.is_public() {
            open_public(&envelope)
        } else {
            open(&envelope, reader_id, secret)
        }
    }

    /// Fetches, verifies and reads a public document the chain names.
    pub fn read_public(
        &self,
        hash: &[u8; 32],
        expected_fingerprint: &[u8; 32],
    ) -> Result<Value, DocError> {
        open_public(&self.envelope_for(hash, expected_fingerprint)?)
    }

    fn envelope_for(
        &self,
        hash: &[u8; 32],
        expected_fingerprint: &[u8; 32],
    ) -> Result<Envelope, DocError> {
        let envelope = self.get_envelope(hash)?.ok_or(DocError::NotFound(*hash))?;
        if envelope.fingerprint() != *expected_fingerprint {
            return Err(DocError::FingerprintMismatch {
                expected: *expected_fingerprint,
                found: envelope.fingerprint(),
            });
        }
        Ok(envelope)
    }

    fn path_of(&self, hash: &[u8; 32]) -> PathBuf {
        let name = hex::encode(hash);
        self.root.join(&name[..2]).join(name)
    }
}

fn is_hex(name: &str, len: usize) -> bool {
    name.len() == len && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Makes a rename durable: the directory entry must reach the disk too.
fn sync_dir(dir: &Path) -> Result<(), DocError> {
    #[cfg(unix)]
    {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(DocError::io(dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        canonical::fingerprint,
        envelope::{seal, seal_public},
        rng::os_rng,
        test_util::Org,
    };
    use serde_json::json;

    fn parcel() -> Value {
        json!({"parcel": "p-1", "to": "1 Main St", "value": 1250})
    }

    fn store() -> (tempfile::TempDir, DocumentStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = DocumentStore::open(dir.path().join("docs")).expect("open");
        (dir, store)
    }

    #[test]
    fn put_get_contains_list() {
        let (_dir, store) = store();
        let org = Org::new("carrier");
        let bytes = seal(&parcel(), &[org.reader()], &mut os_rng())
            .expect("seal")
            .to_bytes();
        let hash = store.put(&bytes).expect("put");
        assert_eq!(hash, ciphertext_hash(&bytes));
        let name = hex::encode(hash);
        assert!(store.root().join(&name[..2]).join(&name).is_file());
        assert!(store.contains(&hash).expect("contains"));
        assert_eq!(store.get(&hash).expect("get"), Some(bytes.clone()));
        // Idempotent.
        assert_eq!(store.put(&bytes).expect("put again"), hash);

        let public = seal_public(&parcel()).expect("seal").to_bytes();
        let public_hash = store.put(&public).expect("put");
        let mut expected = vec![hash, public_hash];
        expected.sort();
        assert_eq!(store.list().expect("list"), expected);

        let missing = [7u8; 32];
        assert!(!store.contains(&missing).expect("contains"));
        assert_eq!(store.get(&missing).expect("get"), None);
    }

    #[test]
    fn a_file_modified_on_disk_is_reported() {
        let (_dir, store) = store();
        let bytes = seal_public(&parcel()).expect("seal").to_bytes();
        let hash = store.put(&bytes).expect("put");
        let name = hex::encode(hash);
        let path = store.root().join(&name[..2]).join(&name);
        let mut damaged = bytes.clone();
        let last = damaged.len() - 3;
        damaged[last] ^= 0x01;
        fs::write(&path, &damaged).expect("write");
        match store.get(&hash) {
            Err(DocError::Tampered { expected, found }) => {
                assert_eq!(expected, hash);
                assert_eq!(found, ciphertext_hash(&damaged));
            }
            other => panic!("expected Tampered, got {other:?}"),
        }
        assert!(matches!(
            store.read_public(&hash, &fingerprint(&parcel())),
            Err(DocError::Tampered { .. })
        ));
        // Putting the genuine bytes again repairs the copy.
        assert_eq!(store.put(&bytes).expect("put"), hash);
        assert_eq!(store.get(&hash).expect("get"), Some(bytes));
    }

    #[test]
    fn an_oversized_file_is_refused_without_reading_it_whole() {
        let (_dir, store) = store();
        let hash = [0xabu8; 32];
        let name = hex::encode(hash);
        let shard = store.root().join(&name[..2]);
        fs::create_dir_all(&shard).expect("mkdir");
        let file = fs::File::create(shard.join(&name)).expect("create");
        // Sparse: costs no disk.
        file.set_len(MAX_ENVELOPE_BYTES as u64 + 10)
            .expect("set_len");
        assert!(matches!(store.get(&hash), Err(DocError::TooLarge { .. })));
    }

    #[test]
    fn garbage_is_not_stored() {
        let (_dir, store) = store();
        assert!(matches!(
            store.put(b"not an envelope"),
            Err(DocError::Malformed(_))
        ));
        assert!(store.list().expect("list").is_empty());
    }

    #[test]
    fn list_skips_foreign_and_temporary_files() {
        let (_dir, store) = store();
        let hash = store
            .put(&seal_public(&parcel()).expect("seal").to_bytes())
            .expect("put");
        let name = hex::encode(hash);
        let shard = store.root().join(&name[..2]);
        fs::write(shard.join(".tmp-leftover"), b"x").expect("write");
        fs::write(store.root().join("README"), b"x").expect("write");
        fs::create_dir_all(store.root().join("zz")).expect("mkdir");
        // A well-formed name in the wrong shard is not ours either.
        let other = if name.starts_with("00") { "01" } else { "00" };
        fs::create_dir_all(store.root().join(other)).expect("mkdir");
        fs::write(store.root().join(other).join(&name), b"x").expect("write");
        assert_eq!(store.list().expect("list"), vec![hash]);
    }

    #[test]
    fn read_plaintext_checks_the_on_chain_fingerprint() {
        let (_dir, store) = store();
        let [carrier, outsider] = ["carrier", "outsider"].map(Org::new);
        let envelope = seal(&parcel(), &[carrier.reader()], &mut os_rng()).expect("seal");
        let hash = store.put(&envelope.to_bytes()).expect("put");
        let on_chain = fingerprint(&parcel());
        assert_eq!(
            store
                .read_plaintext(&hash, &carrier.id, &carrier.secret, &on_chain)
                .expect("read"),
            parcel()
        );
        let other = fingerprint(&json!({"parcel": "p-2"}));
        assert!(matches!(
            store.read_plaintext(&hash, &carrier.id, &carrier.secret, &other),
            Err(DocError::FingerprintMismatch { expected, found }) if expected == other && found == on_chain
        ));
        assert!(matches!(
            store.read_plaintext(&hash, &outsider.id, &outsider.secret, &on_chain),
            Err(DocError::NotAReader(_))
        ));
        assert!(matches!(
            store.read_plaintext(&[1u8; 32], &carrier.id, &carrier.secret, &on_chain),
            Err(DocError::NotFound(_))
        ));
        assert!(matches!(
            store.read_public(&hash, &on_chain),
            Err(DocError::WrongKind { .. })
        ));
    }

    #[test]
    fn public_documents_are_readable_by_anyone() {
        let (_dir, store) = store();
        let hash = store
            .put(&seal_public(&parcel()).expect("seal").to_bytes())
            .expect("put");
        let on_chain = fingerprint(&parcel());
        assert_eq!(store.read_public(&hash, &on_chain).expect("read"), parcel());
        assert_eq!(
            store
                .read_plaintext(&hash, "anyone", &[0u8; 32], &on_chain)
                .expect("read"),
            parcel()
        );
    }

    #[test]
    fn reopening_sees_what_was_stored() {
        let (dir, store) = store();
        let hash = store
            .put(&seal_public(&parcel()).expect("seal").to_bytes())
            .expect("put");
        drop(store);
        let again = DocumentStore::open(dir.path().join("docs")).expect("open");
        assert_eq!(again.list().expect("list"), vec![hash]);
    }
}
