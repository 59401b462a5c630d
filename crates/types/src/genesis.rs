//! The genesis document: what every node of one chain must agree on before
//! the first block (chain id, validators and their addresses).

use crate::{Digest, PublicKey, hash, public_key_from_hex, to_hex};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeSet, net::SocketAddr};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisValidator {
    /// Human-readable name (e.g. the operating organisation).
    pub name: String,
    /// ed25519 public key, hex.
    pub public_key: String,
    /// Where the validator accepts authenticated p2p connections.
    pub p2p_address: SocketAddr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// Bound into every transaction signature: a transaction signed for one
    /// chain is never valid on another.
    pub chain_id: String,
    /// Timestamp of the genesis block (ms since the Unix epoch).
    pub genesis_time_ms: u64,
    pub validators: Vec<GenesisValidator>,
    /// Non-voting nodes the validators accept connections from and send
    /// consensus traffic to, so they follow the chain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub full_nodes: Vec<GenesisValidator>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GenesisError {
    #[error("chain_id must be 1..={max} bytes", max = crate::transaction::MAX_CHAIN_ID_BYTES)]
    ChainId,
    #[error("at least one validator is required")]
    NoValidators,
    #[error("validators[{index}].public_key is not a hex ed25519 public key")]
    BadKey { index: usize },
    #[error("validators[{index}] repeats a public key")]
    DuplicateKey { index: usize },
    #[error("validators[{index}] repeats a p2p address")]
    DuplicateAddress { index: usize },
}

impl Genesis {
    /// Checks everything a node relies on before starting.
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.chain_id.is_empty() || self.chain_id.len() > crate::transaction::MAX_CHAIN_ID_BYTES
        {
            return Err(GenesisError::ChainId);
        }
        if self.validators.is_empty() {
            return Err(GenesisError::NoValidators);
        }
        let mut keys = BTreeSet::new();
        let mut addresses = BTreeSet::new();
        for (index, validator) in self.validators.iter().chain(&self.full_nodes).enumerate() {
            let key =
                public_key_from_hex(&validator.public_key).ok_or(GenesisError::BadKey { index })?;
            if !keys.insert(key) {
                return Err(GenesisError::DuplicateKey { index });
            }
            if !addresses.insert(validator.p2p_address) {
                return Err(GenesisError::DuplicateAddress { index });
            }
        }
        Ok(())
    }

    /// Validator keys in genesis order. Call `validate` first.
    pub fn validator_keys(&self) -> Vec<PublicKey> {
        self.validators
            .iter()
            .filter_map(|v| public_key_from_hex(&v.public_key))
            .collect()
    }

    /// The hash every node derives its genesis block from.
    pub fn hash(&self) -> Digest {
        // Struct field order is fixed, so serde_json's output is canonical.
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        hash(&bytes)
    }

    /// The validator with `key`, if any.
    pub fn validator(&self, key: &PublicKey) -> Option<&GenesisValidator> {
        let wanted = to_hex(key);
        self.validators.iter().find(|v| v.public_key == wanted)
    }

    /// The full node with `key`, if any.
    pub fn full_node(&self, key: &PublicKey) -> Option<&GenesisValidator> {
        let wanted = to_hex(key);
        self.full_nodes.iter().find(|v| v.public_key == wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_cryptography::{Signer, ed25519};

    fn sample(n: u64) -> Genesis {
        Genesis {
            chain_id: "test".into(),
            genesis_time_ms: 1,
            validators: (0..n)
                .map(|i| GenesisValidator {
                    name: format!("v{i}"),
                    public_key: to_hex(ed25519::PrivateKey::from_seed(i).public_key()),
                    p2p_address: format!("127.0.0.1:{}", 3000 + i).parse().unwrap(),
                })
                .collect(),
            full_nodes: Vec::new(),
        }
    }

    #[test]
    fn valid_genesis_passes_and_hash_is_stable() {
        let genesis = sample(4);
        assert_eq!(genesis.validate(), Ok(()));
        assert_eq!(genesis.hash(), sample(4).hash());
        assert_eq!(genesis.validator_keys().len(), 4);
    }

    #[test]
    fn duplicate_key_is_rejected() {
        let mut genesis = sample(2);
        genesis.validators[1].public_key = genesis.validators[0].public_key.clone();
        assert_eq!(
            genesis.validate(),
            Err(GenesisError::DuplicateKey { index: 1 })
        );
    }

    #[test]
    fn bad_key_is_rejected() {
        let mut genesis = sample(2);
        genesis.validators[0].public_key = "zz".into();
        assert_eq!(genesis.validate(), Err(GenesisError::BadKey { index: 0 }));
    }
}
