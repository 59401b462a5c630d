//! Traceability commands: capture, organisations, agents, roles, recalls.

use crate::submit::{print_final, runtime, submit_and_wait};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use std::{
    path::{Path, PathBuf},
    time::Duration,
};
use tracechain_client::Client;
use tracechain_crypto::{read_encryption_key_file, read_key_file};
use tracechain_types::{
    MembershipChange, OrganisationSpec, Payload, PublicKey, digest_from_hex, public_key_from_hex,
};

#[derive(Subcommand)]
pub enum OrgCommand {
    /// List the member organisations.
    List {
        #[arg(long)]
        api: String,
    },
    /// Propose a new member (signed by your organisation's admin key).
    ///
    /// It joins once more than two thirds of the members' admins approved
    /// (the proposer counts as the first approval).
    Propose {
        #[arg(long)]
        api: String,
        /// Your organisation's admin key file.
        #[arg(long)]
        key: PathBuf,
        /// The new member's id (a-z, 0-9, '-').
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// GS1 company prefixes it owns (repeatable).
        #[arg(long = "prefix")]
        prefixes: Vec<String>,
        /// GLNs it owns (repeatable).
        #[arg(long = "gln")]
        glns: Vec<String>,
        /// The new member's admin public key (hex).
        #[arg(long)]
        admin: String,
        /// The new member's X25519 encryption key file (`tracechain keygen --encryption`).
        #[arg(long)]
        encryption_key: PathBuf,
        #[arg(long)]
        regulator: bool,
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
    /// Propose removing a member.
    Remove {
        #[arg(long)]
        api: String,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        id: String,
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
    /// Approve a pending proposal (signed by your organisation's admin key).
    Approve {
        #[arg(long)]
        api: String,
        #[arg(long)]
        key: PathBuf,
        /// The proposal id (the proposing transaction's id).
        #[arg(long)]
        proposal: String,
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum AgentCommand {
    /// Register an agent key for your organisation (admin key signs).
    Add {
        #[arg(long)]
        api: String,
        /// Your organisation's admin key file.
        #[arg(long)]
        key: PathBuf,
        /// The agent's public key (hex).
        #[arg(long)]
        agent: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum RoleCommand {
    /// Grant a role (e.g. capture:shipping, capture:*, recall:issue) to one of your agents.
    Grant {
        #[arg(long)]
        api: String,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        agent: String,
        #[arg(long)]
        role: String,
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a role from one of your agents.
    Revoke {
        #[arg(long)]
        api: String,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        agent: String,
        #[arg(long)]
        role: String,
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
}

fn agent_key(hex: &str) -> Result<PublicKey> {
    public_key_from_hex(hex).with_context(|| format!("'{hex}' is not a hex ed25519 public key"))
}

fn run_payload(api: &str, key: &Path, payload: Payload, timeout: u64, json: bool) -> Result<()> {
    let key = read_key_file(key)?;
    let status = submit_and_wait(api, &key, payload, timeout)?;
    print_final(&status, json, &[])
}

pub fn org(command: OrgCommand) -> Result<()> {
    match command {
        OrgCommand::List { api } => {
            let list = runtime()?.block_on(Client::new(&api).get_json("/v1/organisations"))?;
            println!("{}", serde_json::to_string_pretty(&list)?);
            Ok(())
        }
        OrgCommand::Propose {
            api,
            key,
            id,
            name,
            prefixes,
            glns,
            admin,
            encryption_key,
            regulator,
            timeout,
            json,
        } => {
            let spec = OrganisationSpec {
                id,
                name,
                company_prefixes: prefixes,
                glns,
                admin: agent_key(&admin)?,
                encryption_key: read_encryption_key_file(&encryption_key)?.public,
                regulator,
            };
            let change = MembershipChange::Add(Box::new(spec));
            run_payload(
                &api,
                &key,
                Payload::ProposeMembership { change },
                timeout,
                json,
            )
        }
        OrgCommand::Remove {
            api,
            key,
            id,
            timeout,
            json,
        } => {
            let change = MembershipChange::Remove { organisation: id };
            run_payload(
                &api,
                &key,
                Payload::ProposeMembership { change },
                timeout,
                json,
            )
        }
        OrgCommand::Approve {
            api,
            key,
            proposal,
            timeout,
            json,
        } => {
            let proposal =
                digest_from_hex(&proposal).context("the proposal id is 32 bytes of hex")?;
            run_payload(
                &api,
                &key,
                Payload::ApproveProposal { proposal },
                timeout,
                json,
            )
        }
    }
}

pub fn agent(command: AgentCommand) -> Result<()> {
    let AgentCommand::Add {
        api,
        key,
        agent,
        name,
        timeout,
        json,
    } = command;
    let payload = Payload::RegisterAgent {
        agent: agent_key(&agent)?,
        display_name: name,
    };
    run_payload(&api, &key, payload, timeout, json)
}

pub fn role(command: RoleCommand) -> Result<()> {
    let (api, key, agent, role, timeout, json, grant) = match command {
        RoleCommand::Grant {
            api,
            key,
            agent,
            role,
            timeout,
            json,
        } => (api, key, agent, role, timeout, json, true),
        RoleCommand::Revoke {
            api,
            key,
            agent,
            role,
            timeout,
            json,
        } => (api, key, agent, role, timeout, json, false),
    };
    let agent = agent_key(&agent)?;
    let payload = if grant {
        Payload::GrantRole { agent, role }
    } else {
        Payload::RevokeRole { agent, role }
    };
    run_payload(&api, &key, payload, timeout, json)
}

pub fn recall(
    api: &str,
    key: &Path,
    target: &str,
    reason: &str,
    timeout: u64,
    json: bool,
) -> Result<()> {
    let payload = Payload::Recall {
        target: target.to_string(),
        reason: reason.to_string(),
    };
    run_payload(api, key, payload, timeout, json)
}

/// `tracechain capture`: signs and posts the document, waits for finality,
/// prints each event's hash and the block.
pub fn capture(api: &str, key: &Path, document: &PathBuf, timeout: u64, json: bool) -> Result<()> {
    let key = read_key_file(key)?;
    let bytes =
        std::fs::read(document).with_context(|| format!("reading {}", document.display()))?;
    let (job, status) = runtime()?.block_on(async {
        let client = Client::new(api);
        let (id, _) = client.capture(&key, bytes).await?;
        let status = client.wait_final(&id, Duration::from_secs(timeout)).await?;
        let job = client.capture_status(&status.id).await?;
        anyhow::Ok((job, status))
    })?;
    if json {
        println!("{job}");
    } else {
        println!(
            "capture {} in block {}",
            status.id,
            status.block_height.unwrap_or_default()
        );
        for event in job["events"].as_array().into_iter().flatten() {
            println!(
                "  event {}: {}  {}",
                event["position"],
                event["type"].as_str().unwrap_or_default(),
                event["eventHash"].as_str().unwrap_or_default()
            );
        }
    }
    if job["success"] != true {
        bail!("capture failed: {}", job["errors"]);
    }
    Ok(())
}
