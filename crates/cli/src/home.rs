//! A node's home directory and the genesis generator.
//!
//! ```text
//! HOME/
//!   node.json      this node's configuration (paths relative to HOME)
//!   genesis.json   the chain's genesis (identical on every node)
//!   node.key       the node's ed25519 key (0600)
//!   data/          storage (created on first start)
//!   node.log       output when started by `localnet`
//! ```

use anyhow::{Context, Result, bail};
use commonware_cryptography::Signer;
use serde::{Deserialize, Serialize};
use std::{
    fs,
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
};
use tracechain_crypto::{generate, read_key_file, write_key_file};
use tracechain_types::{Genesis, GenesisValidator, PrivateKey, to_hex};

pub const NODE_CONFIG: &str = "node.json";
pub const GENESIS: &str = "genesis.json";
pub const KEY_FILE: &str = "node.key";

/// `node.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeConfig {
    pub name: String,
    pub key_file: PathBuf,
    pub genesis_file: PathBuf,
    pub data_dir: PathBuf,
    pub p2p_listen: SocketAddr,
    pub api_listen: SocketAddr,
    /// Tokio worker threads.
    #[serde(default = "default_threads")]
    pub worker_threads: usize,
    /// `error`, `warn`, `info`, `debug` or `trace`.
    #[serde(default = "default_log_level")]
    pub log_level: String,
    /// Organisations this node serves confidential documents for: their
    /// X25519 key files (paths relative to the home).
    #[serde(default)]
    pub organisations: Vec<NodeOrganisation>,
    /// Least time between a block and the next this node proposes, when
    /// transactions are waiting (default: the node's block policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_block_interval_ms: Option<u64>,
    /// MiB of page cache for the state and event-log databases (default
    /// [`DEFAULT_STORAGE_CACHE_MIB`]; the query index has its own,
    /// `index_cache_mib`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_cache_mib: Option<usize>,
    /// MiB of page cache for the query index (default
    /// [`DEFAULT_INDEX_CACHE_MIB`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_cache_mib: Option<usize>,
    /// `false`: keep no query index — a validator that serves no queries
    /// (trace, events, verify answer 503) and spends nothing on indexing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_index: Option<bool>,
}

/// Default page cache of the state and event-log databases. With the index
/// cache below, a validator stays under 1 GiB resident at 1,000,000 events
/// (BENCHMARKS.md, memory row); the state's cold reads are what a larger
/// cache saves, so it gets the larger share.
pub const DEFAULT_STORAGE_CACHE_MIB: usize = 192;
/// Default page cache of the query index: the index's own default (why it
/// is not smaller: ADR 0030).
pub const DEFAULT_INDEX_CACHE_MIB: usize = tracechain_index::DEFAULT_CACHE_BYTES >> 20;

/// An organisation whose encrypted documents this node can open.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeOrganisation {
    pub id: String,
    pub encryption_key: PathBuf,
}

fn default_threads() -> usize {
    2
}

fn default_log_level() -> String {
    "info".into()
}

/// A loaded home directory.
pub struct Home {
    pub dir: PathBuf,
    pub config: NodeConfig,
    pub genesis: Genesis,
    pub key: PrivateKey,
}

impl Home {
    pub fn load(dir: &Path) -> Result<Self> {
        let config_path = dir.join(NODE_CONFIG);
        let text = fs::read_to_string(&config_path)
            .with_context(|| format!("reading {}", config_path.display()))?;
        let config: NodeConfig = serde_json::from_str(&text)
            .with_context(|| format!("parsing {}", config_path.display()))?;
        let genesis_path = dir.join(&config.genesis_file);
        let genesis: Genesis = serde_json::from_str(
            &fs::read_to_string(&genesis_path)
                .with_context(|| format!("reading {}", genesis_path.display()))?,
        )
        .with_context(|| format!("parsing {}", genesis_path.display()))?;
        genesis
            .validate()
            .with_context(|| format!("invalid genesis {}", genesis_path.display()))?;
        let key = read_key_file(&dir.join(&config.key_file))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            genesis,
            key,
        })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join(&self.config.data_dir)
    }

    /// The X25519 secrets of the organisations this node serves.
    pub fn organisation_keys(&self) -> Result<std::collections::BTreeMap<String, [u8; 32]>> {
        self.config
            .organisations
            .iter()
            .map(|org| {
                let key = tracechain_crypto::read_encryption_key_file(
                    &self.dir.join(&org.encryption_key),
                )?;
                Ok((org.id.clone(), key.secret))
            })
            .collect()
    }

    /// Writes `config` back to the home's `node.json`.
    pub fn save_config(dir: &Path, config: &NodeConfig) -> Result<()> {
        fs::write(
            dir.join(NODE_CONFIG),
            serde_json::to_string_pretty(config)? + "\n",
        )?;
        Ok(())
    }
}

/// Options of `tracechain genesis`.
pub struct GenesisOptions {
    pub validators: usize,
    pub full_nodes: usize,
    pub chain_id: Option<String>,
    pub host: IpAddr,
    pub p2p_base_port: u16,
    pub api_base_port: u16,
    /// Founding member organisations.
    pub organisations: Vec<tracechain_types::genesis::GenesisOrganisation>,
}

/// A generated chain: the genesis and every node's home directory.
pub struct Generated {
    pub genesis: Genesis,
    pub homes: Vec<PathBuf>,
    pub api_addresses: Vec<SocketAddr>,
}

/// Writes genesis.json and one home per node under `out` (validators as
/// `validator-N`, full nodes as `fullnode-N`).
pub fn generate_chain(out: &Path, options: &GenesisOptions) -> Result<Generated> {
    if options.validators == 0 {
        bail!("--validators must be at least 1");
    }
    if out.join(GENESIS).exists() {
        bail!(
            "{} already holds a genesis; choose an empty directory",
            out.display()
        );
    }
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let chain_id = options
        .chain_id
        .clone()
        .unwrap_or_else(|| format!("tracechain-{}", &to_hex(generate().public_key())[..8]));
    let total = options.validators + options.full_nodes;
    let mut nodes = Vec::with_capacity(total);
    for index in 0..total {
        let (name, home) = if index < options.validators {
            let name = format!("validator-{index}");
            (name.clone(), out.join(name))
        } else {
            let name = format!("fullnode-{}", index - options.validators);
            (name.clone(), out.join(name))
        };
        let key = generate();
        let port = |base: u16| -> Result<u16> {
            base.checked_add(index as u16)
                .context("port number overflows")
        };
        let p2p = SocketAddr::new(options.host, port(options.p2p_base_port)?);
        let api = SocketAddr::new(options.host, port(options.api_base_port)?);
        nodes.push((name, home, key, p2p, api));
    }
    let entry = |(name, _, key, p2p, _): &(String, PathBuf, PrivateKey, SocketAddr, SocketAddr)| {
        GenesisValidator {
            name: name.clone(),
            public_key: to_hex(key.public_key()),
            p2p_address: *p2p,
        }
    };
    let genesis = Genesis {
        chain_id,
        genesis_time_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default(),
        validators: nodes[..options.validators].iter().map(entry).collect(),
        full_nodes: nodes[options.validators..].iter().map(entry).collect(),
        organisations: options.organisations.clone(),
    };
    genesis.validate()?;
    let genesis_json = serde_json::to_string_pretty(&genesis)? + "\n";
    fs::write(out.join(GENESIS), &genesis_json)?;
    let mut homes = Vec::new();
    let mut api_addresses = Vec::new();
    for (name, home, key, p2p, api) in nodes {
        fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
        write_key_file(&home.join(KEY_FILE), &key)?;
        fs::write(home.join(GENESIS), &genesis_json)?;
        let config = NodeConfig {
            name,
            key_file: KEY_FILE.into(),
            genesis_file: GENESIS.into(),
            data_dir: "data".into(),
            p2p_listen: p2p,
            api_listen: api,
            worker_threads: default_threads(),
            log_level: default_log_level(),
            organisations: Vec::new(),
            min_block_interval_ms: None,
            storage_cache_mib: None,
            index_cache_mib: None,
            query_index: None,
        };
        fs::write(
            home.join(NODE_CONFIG),
            serde_json::to_string_pretty(&config)? + "\n",
        )?;
        homes.push(home);
        api_addresses.push(api);
    }
    Ok(Generated {
        genesis,
        homes,
        api_addresses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_homes_load_and_agree() {
        let dir = tempfile::tempdir().unwrap();
        let generated = generate_chain(
            dir.path(),
            &GenesisOptions {
                validators: 4,
                full_nodes: 1,
                chain_id: Some("test".into()),
                host: "127.0.0.1".parse().unwrap(),
                p2p_base_port: 17000,
                api_base_port: 18000,
                organisations: Vec::new(),
            },
        )
        .unwrap();
        assert_eq!(generated.homes.len(), 5);
        assert_eq!(generated.genesis.validators.len(), 4);
        assert_eq!(generated.genesis.full_nodes.len(), 1);
        for home in &generated.homes {
            let loaded = Home::load(home).unwrap();
            assert_eq!(loaded.genesis, generated.genesis);
        }
        // A second run into the same directory must not clobber keys.
        assert!(
            generate_chain(
                dir.path(),
                &GenesisOptions {
                    validators: 1,
                    full_nodes: 0,
                    chain_id: None,
                    host: "127.0.0.1".parse().unwrap(),
                    p2p_base_port: 1,
                    api_base_port: 2,
                    organisations: Vec::new(),
                }
            )
            .is_err()
        );
    }
}
