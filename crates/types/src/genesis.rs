//! The genesis document: what every node of one chain must agree on before
//! the first block (chain id, validators and their addresses).

use crate::{Digest, OrganisationSpec, PublicKey, hash, public_key_from_hex, to_hex};
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
    /// The founding member organisations (applied before block 1's
    /// transactions); later members join by proposal and approval.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organisations: Vec<GenesisOrganisation>,
}

/// A founding organisation with its first agents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisOrganisation {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub company_prefixes: Vec<String>,
    #[serde(default)]
    pub glns: Vec<String>,
    /// ed25519 public key of the organisation's admin, hex.
    pub admin_key: String,
    /// X25519 public key for confidential records, hex.
    pub encryption_key: String,
    #[serde(default)]
    pub regulator: bool,
    #[serde(default)]
    pub agents: Vec<GenesisAgent>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAgent {
    pub public_key: String,
    pub display_name: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A founding organisation decoded and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundingOrganisation {
    pub spec: OrganisationSpec,
    pub agents: Vec<(PublicKey, String, Vec<String>)>,
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
    #[error("organisations[{index}]: {reason}")]
    Organisation { index: usize, reason: String },
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
        self.founding_organisations().map(|_| ())
    }

    /// The founding organisations, decoded and checked: valid ids, keys,
    /// prefixes, GLNs and roles; no id, admin or agent key used twice.
    pub fn founding_organisations(&self) -> Result<Vec<FoundingOrganisation>, GenesisError> {
        let mut ids = BTreeSet::new();
        let mut keys = BTreeSet::new();
        self.organisations
            .iter()
            .enumerate()
            .map(|(index, org)| {
                let fail = |reason: String| GenesisError::Organisation { index, reason };
                let founding = org.decode().map_err(fail)?;
                if !ids.insert(founding.spec.id.clone()) {
                    return Err(fail(format!("id '{}' is used twice", founding.spec.id)));
                }
                let agent_keys = founding.agents.iter().map(|(key, _, _)| key.clone());
                for key in std::iter::once(founding.spec.admin.clone()).chain(agent_keys) {
                    if !keys.insert(key) {
                        return Err(fail("an admin or agent key is used twice".into()));
                    }
                }
                Ok(founding)
            })
            .collect()
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

impl GenesisOrganisation {
    fn decode(&self) -> Result<FoundingOrganisation, String> {
        let admin = public_key_from_hex(&self.admin_key)
            .ok_or_else(|| "admin_key is not a hex ed25519 public key".to_string())?;
        let encryption_key: [u8; 32] = hex::decode(&self.encryption_key)
            .ok()
            .and_then(|raw| raw.try_into().ok())
            .ok_or_else(|| "encryption_key is not 32 bytes of hex".to_string())?;
        let spec = OrganisationSpec {
            id: self.id.clone(),
            name: self.name.clone(),
            company_prefixes: self.company_prefixes.clone(),
            glns: self.glns.clone(),
            admin,
            encryption_key,
            regulator: self.regulator,
        };
        crate::domain::check_organisation(&spec)?;
        let agents = self
            .agents
            .iter()
            .map(|agent| {
                let key = public_key_from_hex(&agent.public_key).ok_or_else(|| {
                    format!("agent key '{}' is not hex ed25519", agent.public_key)
                })?;
                if let Some(role) = agent
                    .roles
                    .iter()
                    .find(|r| !crate::domain::roles::is_known(r))
                {
                    return Err(format!("unknown role '{role}'"));
                }
                Ok((key, agent.display_name.clone(), agent.roles.clone()))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(FoundingOrganisation { spec, agents })
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
            organisations: Vec::new(),
        }
    }

    fn org(id: &str, seed: u64) -> GenesisOrganisation {
        GenesisOrganisation {
            id: id.into(),
            name: id.to_uppercase(),
            company_prefixes: vec!["0614141".into()],
            glns: vec!["0614141000005".into()],
            admin_key: to_hex(ed25519::PrivateKey::from_seed(seed).public_key()),
            encryption_key: hex::encode([1u8; 32]),
            regulator: false,
            agents: vec![GenesisAgent {
                public_key: to_hex(ed25519::PrivateKey::from_seed(seed + 100).public_key()),
                display_name: "clerk".into(),
                roles: vec!["capture:*".into()],
            }],
        }
    }

    #[test]
    fn founding_organisations_are_checked() {
        let mut genesis = sample(1);
        genesis.organisations = vec![org("farm", 1), org("mill", 2)];
        assert_eq!(genesis.validate(), Ok(()));
        assert_eq!(genesis.founding_organisations().unwrap().len(), 2);

        genesis.organisations[1].id = "farm".into();
        assert!(matches!(
            genesis.validate(),
            Err(GenesisError::Organisation { index: 1, .. })
        ));
        genesis.organisations[1] = org("mill", 2);
        genesis.organisations[1].glns = vec!["0614141000006".into()];
        assert!(matches!(
            genesis.validate(),
            Err(GenesisError::Organisation { index: 1, .. })
        ));
        genesis.organisations[1] = org("mill", 2);
        genesis.organisations[1].agents[0].roles = vec!["root".into()];
        assert!(genesis.validate().is_err());
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
