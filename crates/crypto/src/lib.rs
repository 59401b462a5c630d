//! Keys on disk.
//!
//! A key file is JSON `{"type": "ed25519", "public_key": hex, "private_key":
//! hex}` created with permissions 0600 (owner read/write only). Reading one
//! refuses a file whose keys do not match.

use commonware_codec::{DecodeExt, Encode};
use commonware_cryptography::Signer;
use serde::{Deserialize, Serialize};
use std::{fs, io::Write, path::Path};
use tracechain_types::{PrivateKey, PublicKey, to_hex};

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} already exists; refusing to overwrite a key")]
    Exists { path: String },
    #[error("{path} is not a tracechain key file: {reason}")]
    Invalid { path: String, reason: String },
}

#[derive(Serialize, Deserialize)]
struct KeyFileJson {
    #[serde(rename = "type")]
    kind: String,
    public_key: String,
    private_key: String,
}

/// A freshly generated ed25519 key from the operating system's randomness.
pub fn generate() -> PrivateKey {
    use commonware_math::algebra::Random;
    PrivateKey::random(commonware_utils::sys_rng())
}

/// Writes `key` to a new file at `path` with mode 0600.
pub fn write_key_file(path: &Path, key: &PrivateKey) -> Result<(), KeyFileError> {
    let json = KeyFileJson {
        kind: "ed25519".into(),
        public_key: to_hex(key.public_key()),
        private_key: to_hex(key.encode()),
    };
    write_private(path, &json)
}

fn write_private(path: &Path, json: &KeyFileJson) -> Result<(), KeyFileError> {
    let display = path.display().to_string();
    if path.exists() {
        return Err(KeyFileError::Exists { path: display });
    }
    let text = serde_json::to_string_pretty(json).unwrap_or_default() + "\n";
    let io = |source| KeyFileError::Io {
        path: display.clone(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

fn read_json(path: &Path) -> Result<KeyFileJson, KeyFileError> {
    let display = path.display().to_string();
    let text = fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: display.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| KeyFileError::Invalid {
        path: display,
        reason: format!("not key JSON ({e})"),
    })
}

/// Reads a key file and checks that its public key matches its private key.
pub fn read_key_file(path: &Path) -> Result<PrivateKey, KeyFileError> {
    let display = path.display().to_string();
    let invalid = |reason: &str| KeyFileError::Invalid {
        path: display.clone(),
        reason: reason.to_string(),
    };
    let json = read_json(path)?;
    if json.kind != "ed25519" {
        return Err(invalid("type must be \"ed25519\""));
    }
    let raw =
        hex::decode(json.private_key.trim()).map_err(|_| invalid("private_key is not hex"))?;
    let key = PrivateKey::decode(raw).map_err(|_| invalid("private_key is not 32 bytes"))?;
    if to_hex(key.public_key()) != json.public_key.trim().to_lowercase() {
        return Err(invalid("public_key does not belong to private_key"));
    }
    Ok(key)
}

/// An X25519 key pair for confidential records (HPKE): the organisation
/// publishes the public half on chain; the private half stays in a 0600
/// file next to its node.
pub struct EncryptionKey {
    pub secret: [u8; 32],
    pub public: [u8; 32],
}

/// A fresh X25519 key pair from the operating system's randomness.
pub fn generate_encryption_key() -> EncryptionKey {
    use rand_core::Rng;
    let mut secret = [0u8; 32];
    commonware_utils::sys_rng().fill_bytes(&mut secret);
    let public =
        x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(secret)).to_bytes();
    EncryptionKey { secret, public }
}

/// Writes an X25519 key pair to a new 0600 file.
pub fn write_encryption_key_file(path: &Path, key: &EncryptionKey) -> Result<(), KeyFileError> {
    let json = KeyFileJson {
        kind: "x25519".into(),
        public_key: hex::encode(key.public),
        private_key: hex::encode(key.secret),
    };
    write_private(path, &json)
}

/// Reads an X25519 key pair and checks its halves belong together.
pub fn read_encryption_key_file(path: &Path) -> Result<EncryptionKey, KeyFileError> {
    let display = path.display().to_string();
    let invalid = |reason: &str| KeyFileError::Invalid {
        path: display.clone(),
        reason: reason.to_string(),
    };
    let json = read_json(path)?;
    if json.kind != "x25519" {
        return Err(invalid("type must be \"x25519\""));
    }
    let secret: [u8; 32] = hex::decode(json.private_key.trim())
        .ok()
        .and_then(|raw| raw.try_into().ok())
        .ok_or_else(|| invalid("private_key is not 32 bytes of hex"))?;
    let public =
        x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(secret)).to_bytes();
    if hex::encode(public) != json.public_key.trim().to_lowercase() {
        return Err(invalid("public_key does not belong to private_key"));
    }
    Ok(EncryptionKey { secret, public })
}

/// The public key of a key file, for display.
pub fn public_key_of(key: &PrivateKey) -> PublicKey {
    key.public_key()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_roundtrip_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        let key = generate();
        write_key_file(&path, &key).unwrap();
        let read = read_key_file(&path).unwrap();
        assert_eq!(read.public_key(), key.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(matches!(
            write_key_file(&path, &key),
            Err(KeyFileError::Exists { .. })
        ));
    }

    #[test]
    fn mismatched_public_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        write_key_file(&path, &generate()).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let other = to_hex(generate().public_key());
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let tampered = text.replace(json["public_key"].as_str().unwrap(), &other);
        fs::write(&path, tampered).unwrap();
        assert!(matches!(
            read_key_file(&path),
            Err(KeyFileError::Invalid { .. })
        ));
    }

    #[test]
    fn encryption_key_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("enc.json");
        let key = generate_encryption_key();
        write_encryption_key_file(&path, &key).unwrap();
        let read = read_encryption_key_file(&path).unwrap();
        assert_eq!(read.public, key.public);
        assert!(
            read_key_file(&path).is_err(),
            "an x25519 file is not a signing key"
        );
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(generate().public_key(), generate().public_key());
    }
}
