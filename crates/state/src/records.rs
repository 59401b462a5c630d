//! Typed reads and writes of the records execution keeps in state.

use crate::{StateKey, StateRead, Store, StoreError};
use commonware_codec::{DecodeExt, Encode};
use tracechain_types::{Digest, PublicKey, Receipt};

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored {what} is corrupt")]
    Corrupt { what: &'static str },
}

/// The next nonce `sender` must use (0 for a key never seen).
pub async fn nonce(store: &impl StateRead, sender: &PublicKey) -> Result<u64, RecordError> {
    match store.get(&StateKey::nonce(sender)).await? {
        None => Ok(0),
        Some(raw) => {
            let bytes: [u8; 8] = raw
                .as_slice()
                .try_into()
                .map_err(|_| RecordError::Corrupt { what: "nonce" })?;
            Ok(u64::from_be_bytes(bytes))
        }
    }
}

pub fn set_nonce(store: &mut impl Store, sender: &PublicKey, next: u64) {
    store.put(StateKey::nonce(sender), next.to_be_bytes().to_vec());
}

/// The account name registered for `key`.
pub async fn account_name(
    store: &impl StateRead,
    key: &PublicKey,
) -> Result<Option<String>, RecordError> {
    match store.get(&StateKey::account_by_key(key)).await? {
        None => Ok(None),
        Some(raw) => String::from_utf8(raw)
            .map(Some)
            .map_err(|_| RecordError::Corrupt {
                what: "account name",
            }),
    }
}

/// The key that registered `name`.
pub async fn account_owner(
    store: &impl StateRead,
    name: &str,
) -> Result<Option<PublicKey>, RecordError> {
    match store.get(&StateKey::account_by_name(name)).await? {
        None => Ok(None),
        Some(raw) => PublicKey::decode(raw)
            .map(Some)
            .map_err(|_| RecordError::Corrupt {
                what: "account owner",
            }),
    }
}

pub fn register_account(store: &mut impl Store, key: &PublicKey, name: &str) {
    store.put(StateKey::account_by_key(key), name.as_bytes().to_vec());
    store.put(StateKey::account_by_name(name), key.encode().to_vec());
}

/// Receipts live in the lookup database (ADR 0019).
pub async fn receipt(store: &impl StateRead, tx: &Digest) -> Result<Option<Receipt>, RecordError> {
    match store.get_lookup(&StateKey::receipt(tx)).await? {
        None => Ok(None),
        Some(raw) => Receipt::decode(raw)
            .map(Some)
            .map_err(|_| RecordError::Corrupt { what: "receipt" }),
    }
}

pub fn put_receipt(store: &mut impl Store, tx: &Digest, receipt: &Receipt) {
    store.put_lookup(StateKey::receipt(tx), receipt.encode().to_vec());
}

/// The first anchoring of a hash: which transaction, at which height.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteRecord {
    pub tx: Digest,
    pub height: u64,
    pub timestamp_ms: u64,
}

pub async fn note(
    store: &impl StateRead,
    anchored: &Digest,
) -> Result<Option<NoteRecord>, RecordError> {
    let Some(raw) = store.get(&StateKey::note(anchored)).await? else {
        return Ok(None);
    };
    if raw.len() != 48 {
        return Err(RecordError::Corrupt { what: "note" });
    }
    let tx = Digest::decode(commonware_codec::Copying(&raw[..32]))
        .map_err(|_| RecordError::Corrupt { what: "note" })?;
    let height = u64::from_be_bytes(raw[32..40].try_into().unwrap_or_default());
    let timestamp_ms = u64::from_be_bytes(raw[40..48].try_into().unwrap_or_default());
    Ok(Some(NoteRecord {
        tx,
        height,
        timestamp_ms,
    }))
}

pub fn put_note(store: &mut impl Store, anchored: &Digest, record: &NoteRecord) {
    let mut value = Vec::with_capacity(48);
    value.extend_from_slice(record.tx.as_ref());
    value.extend_from_slice(&record.height.to_be_bytes());
    value.extend_from_slice(&record.timestamp_ms.to_be_bytes());
    store.put(StateKey::note(anchored), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;
    use commonware_cryptography::{Signer, ed25519};
    use futures::executor::block_on;
    use tracechain_types::{Outcome, hash};

    #[test]
    fn records_roundtrip_through_a_store() {
        block_on(async {
            let mut store = MemoryStore::default();
            let key = ed25519::PrivateKey::from_seed(1).public_key();
            assert_eq!(nonce(&store, &key).await.unwrap(), 0);
            set_nonce(&mut store, &key, 5);
            assert_eq!(nonce(&store, &key).await.unwrap(), 5);

            register_account(&mut store, &key, "acme");
            assert_eq!(
                account_name(&store, &key).await.unwrap().as_deref(),
                Some("acme")
            );
            assert_eq!(
                account_owner(&store, "acme").await.unwrap(),
                Some(key.clone())
            );

            let tx = hash(b"tx");
            let r = Receipt {
                height: 2,
                index: 0,
                outcome: Outcome::Applied,
            };
            put_receipt(&mut store, &tx, &r);
            assert_eq!(receipt(&store, &tx).await.unwrap(), Some(r));

            let n = NoteRecord {
                tx,
                height: 2,
                timestamp_ms: 99,
            };
            put_note(&mut store, &hash(b"file"), &n);
            assert_eq!(note(&store, &hash(b"file")).await.unwrap(), Some(n));
        });
    }
}
