//! `tracechain verify-proof`: a bundle checked offline against a genesis.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::Path;

/// A bundle is either a bare bundle or an answer carrying one in `proof`.
fn bundle_text(text: &str) -> Result<String> {
    let value: Value = serde_json::from_str(text).context("the bundle is not JSON")?;
    Ok(match value.get("proof") {
        Some(inner) if value.get("anchor").is_none() => inner.to_string(),
        _ => text.to_string(),
    })
}

pub fn run(bundle: &Path, genesis: &Path, json: bool) -> Result<()> {
    let text =
        std::fs::read_to_string(bundle).with_context(|| format!("reading {}", bundle.display()))?;
    let genesis_text = std::fs::read_to_string(genesis)
        .with_context(|| format!("reading {}", genesis.display()))?;
    let seed: [u8; 32] = rand::random();
    match tracechain_proof::verify_json(&bundle_text(&text)?, &genesis_text, seed) {
        Ok(verified) if json => {
            println!("{}", serde_json::to_string(&verified)?);
            Ok(())
        }
        Ok(verified) => {
            println!(
                "verified: block {} ({}) of chain '{}', signed by {} of {} validators",
                verified.height,
                verified.block,
                verified.chain_id,
                verified.signers,
                verified.validators
            );
            for event in &verified.events {
                println!("  event {event} is in the log");
            }
            for (label, present) in &verified.states {
                let state = if *present {
                    "holds the value given"
                } else {
                    "is absent"
                };
                println!("  state: {label} {state}");
            }
            if let Some(from) = verified.consistent_from {
                println!("  the log extends the log at block {from}");
            }
            Ok(())
        }
        Err(err) => bail!("verification failed: {err}"),
    }
}
