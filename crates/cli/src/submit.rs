//! The client-side commands: keys, genesis, notes, accounts, status.

use crate::home::{GenesisOptions, generate_chain};
use anyhow::{Context, Result};
use commonware_cryptography::{Hasher, Sha256, Signer};
use std::{fs, io::Read, path::Path, time::Duration};
use tracechain_client::{Client, TxStatus};
use tracechain_crypto::{generate, read_key_file, write_key_file};
use tracechain_types::{Digest, Payload, to_hex};

pub fn runtime() -> Result<::tokio::runtime::Runtime> {
    Ok(::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub fn keygen(out: &Path, encryption: bool, json: bool) -> Result<()> {
    let public_key = if encryption {
        let key = tracechain_crypto::generate_encryption_key();
        tracechain_crypto::write_encryption_key_file(out, &key)?;
        hex::encode(key.public)
    } else {
        let key = generate();
        write_key_file(out, &key)?;
        to_hex(key.public_key())
    };
    if json {
        println!(
            "{}",
            serde_json::json!({"file": out, "public_key": public_key})
        );
    } else {
        println!("wrote {} (public key {public_key})", out.display());
    }
    Ok(())
}

pub fn genesis(out: &Path, options: &GenesisOptions, json: bool) -> Result<()> {
    let generated = generate_chain(out, options)?;
    if json {
        let nodes: Vec<_> = generated
            .homes
            .iter()
            .zip(&generated.api_addresses)
            .map(|(home, api)| serde_json::json!({"home": home, "api": format!("http://{api}")}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"chain_id": generated.genesis.chain_id, "genesis": out.join(crate::home::GENESIS), "nodes": nodes})
        );
    } else {
        println!("chain {} in {}", generated.genesis.chain_id, out.display());
        for (home, api) in generated.homes.iter().zip(&generated.api_addresses) {
            println!("  {}  (API http://{api})", home.display());
        }
        println!("start a node with: tracechain node --home <home>");
    }
    Ok(())
}

/// SHA-256 of a file, streamed.
fn file_sha256(path: &Path) -> Result<Digest> {
    let mut file = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::default();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher.finalize().1)
}

pub fn note(
    api: &str,
    key: &Path,
    label: &str,
    file: &Path,
    timeout: u64,
    json: bool,
) -> Result<()> {
    let key = read_key_file(key)?;
    let hash = file_sha256(file)?;
    let payload = Payload::Note {
        hash,
        label: label.to_string(),
    };
    let status = submit_and_wait(api, &key, payload, timeout)?;
    print_final(&status, json, &[("file_sha256", to_hex(hash))])
}

pub fn register(api: &str, key: &Path, name: &str, timeout: u64, json: bool) -> Result<()> {
    let key = read_key_file(key)?;
    let status = submit_and_wait(
        api,
        &key,
        Payload::RegisterAccount { name: name.into() },
        timeout,
    )?;
    print_final(&status, json, &[("name", name.to_string())])
}

pub fn submit_and_wait(
    api: &str,
    key: &tracechain_types::PrivateKey,
    payload: Payload,
    timeout: u64,
) -> Result<TxStatus> {
    runtime()?.block_on(async {
        let client = Client::new(api);
        let tx = client.sign_and_submit(key, payload).await?;
        Ok(client
            .wait_final(&tx.id(), Duration::from_secs(timeout))
            .await?)
    })
}

pub fn print_final(status: &TxStatus, json: bool, extra: &[(&str, String)]) -> Result<()> {
    if json {
        let mut value = serde_json::to_value(StatusJson::from(status))?;
        for (k, v) in extra {
            value[*k] = serde_json::Value::String(v.clone());
        }
        println!("{value}");
    } else {
        for (k, v) in extra {
            println!("{k}: {v}");
        }
        println!("transaction: {}", status.id);
        println!("block height: {}", status.block_height.unwrap_or_default());
        println!("status: {}", status.status);
        if let Some(reason) = &status.reason {
            println!(
                "reason: {reason} ({})",
                status.code.clone().unwrap_or_default()
            );
        }
    }
    if status.status == "failed" {
        anyhow::bail!(
            "transaction failed: {}",
            status.reason.clone().unwrap_or_default()
        );
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct StatusJson {
    transaction: String,
    status: String,
    block_height: Option<u64>,
    code: Option<String>,
    reason: Option<String>,
}

impl From<&TxStatus> for StatusJson {
    fn from(s: &TxStatus) -> Self {
        Self {
            transaction: s.id.clone(),
            status: s.status.clone(),
            block_height: s.block_height,
            code: s.code.clone(),
            reason: s.reason.clone(),
        }
    }
}

pub fn status(api: &str, json: bool) -> Result<()> {
    let client = Client::new(api);
    if json {
        let raw: serde_json::Value = runtime()?.block_on(async {
            let status = client.status().await?;
            anyhow::Ok(serde_json::json!({
                "chain_id": status.chain_id,
                "height": status.height,
                "finalized_height": status.finalized_height,
                "state_root": status.state_root,
                "log_root": status.log_root,
                "log_size": status.log_size,
                "peers_connected": status.peers_connected,
                "validators": status.validators.len(),
                "mempool": status.mempool.transactions,
            }))
        })?;
        println!("{raw}");
        return Ok(());
    }
    let status = runtime()?.block_on(client.status())?;
    println!("chain:            {}", status.chain_id);
    println!(
        "height:           {} (finalized tip {})",
        status.height, status.finalized_height
    );
    println!("state root:       {}", status.state_root);
    println!(
        "log root:         {} ({} entries)",
        status.log_root, status.log_size
    );
    println!("validators:       {}", status.validators.len());
    println!("peers connected:  {}", status.peers_connected);
    println!(
        "mempool:          {} transactions",
        status.mempool.transactions
    );
    Ok(())
}
