//! `tracechain parcel …`: register, hand off, accept, reject, deliver,
//! show, watch, read the document.

use crate::submit::{print_final, runtime, submit_and_wait};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::Value;
use std::{path::PathBuf, time::Duration};
use tracechain_client::Client;
use tracechain_crypto::read_key_file;
use tracechain_types::{
    Digest, Payload, digest_from_hex,
    parcel::{DocumentAnchor, ParcelException, RouteStop},
};

#[derive(Args, Clone)]
pub struct Target {
    /// A node's API, e.g. http://127.0.0.1:8100.
    #[arg(long)]
    api: String,
    /// The parcel: SSCC (EPC URN or Digital Link) or a tracking-number URI.
    #[arg(long)]
    parcel: String,
}

#[derive(Args, Clone)]
pub struct Signing {
    /// The acting agent's key file (role shipment:handoff).
    #[arg(long)]
    key: PathBuf,
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum ParcelCommand {
    /// Register a parcel: its information document is sealed to the readers
    /// and stored off chain; the chain records its fingerprint and route.
    Register {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        signing: Signing,
        /// The recipient organisation.
        #[arg(long)]
        recipient: String,
        /// Planned route: organisation ids in order (comma-separated;
        /// `org@location` to name a GLN).
        #[arg(long, value_delimiter = ',')]
        route: Vec<String>,
        /// The parcel information (JSON: addresses, contents, value, …).
        #[arg(long)]
        document: PathBuf,
        /// Organisations that may read it (default: sender, route,
        /// recipient and every regulator).
        #[arg(long, value_delimiter = ',')]
        readers: Vec<String>,
    },
    /// Propose handing the parcel to the next party (you must hold it).
    Handoff {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        signing: Signing,
        #[arg(long)]
        to: String,
        #[arg(long)]
        next: Option<String>,
        /// Where the hand-off happens (a GLN identifier).
        #[arg(long)]
        location: Option<String>,
        /// The hand-off event's business step: shipping, departing,
        /// arriving or receiving (default: shipping from the sender,
        /// receiving by the recipient, arriving in between).
        #[arg(long)]
        step: Option<String>,
        /// Seconds the other party has to accept.
        #[arg(long, default_value_t = 3600)]
        wait: u64,
    },
    /// Accept the pending hand-off (you are its receiver): custody moves.
    Accept {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        signing: Signing,
    },
    /// Refuse the pending hand-off, with a reason.
    Reject {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        signing: Signing,
        #[arg(long)]
        reason: String,
    },
    /// Sign the receipt as the recipient (accept the last hand-off).
    Deliver {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        signing: Signing,
    },
    /// Withdraw your pending hand-off once its wait has passed.
    Cancel {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        signing: Signing,
    },
    /// Declare the parcel damaged, lost or returned (you must hold it).
    Exception {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        signing: Signing,
        /// damaged, lost or returned
        #[arg(long)]
        kind: String,
        #[arg(long)]
        reason: String,
    },
    /// State, custody chain and pending hand-off.
    Show {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        json: bool,
    },
    /// Stream the parcel's records as they are finalized (Ctrl-C to stop).
    Watch {
        #[command(flatten)]
        target: Target,
    },
    /// The parcel information, for an agent of a reader organisation.
    Document {
        #[command(flatten)]
        target: Target,
        /// The reader's agent key file (role read:private).
        #[arg(long)]
        key: PathBuf,
    },
}

fn route_stops(route: &[String]) -> Vec<RouteStop> {
    route
        .iter()
        .map(|stop| match stop.split_once('@') {
            Some((org, location)) => RouteStop {
                organisation: org.to_string(),
                location: Some(location.to_string()),
            },
            None => RouteStop {
                organisation: stop.clone(),
                location: None,
            },
        })
        .collect()
}

/// The parcel as the node shows it.
async fn parcel_json(client: &Client, parcel: &str) -> Result<Value> {
    Ok(client
        .get_json(&format!("/v1/parcels/{}", encode(parcel)))
        .await?)
}

/// Path-segment encoding for identifiers (Digital Links contain '/').
pub fn encode(id: &str) -> String {
    id.replace('%', "%25")
        .replace('/', "%2F")
        .replace('?', "%3F")
        .replace('#', "%23")
}

async fn pending_handoff(client: &Client, parcel: &str) -> Result<Digest> {
    let state = parcel_json(client, parcel).await?;
    state["pending"]["handoff"]
        .as_str()
        .and_then(digest_from_hex)
        .context("the parcel has no pending hand-off")
}

fn submit(target: &Target, signing: &Signing, payload: Payload) -> Result<()> {
    let key = read_key_file(&signing.key)?;
    let status = submit_and_wait(&target.api, &key, payload, signing.timeout)?;
    print_final(&status, signing.json, &[])
}

async fn default_readers(
    client: &Client,
    sender: &str,
    route: &[RouteStop],
    recipient: &str,
) -> Result<Vec<String>> {
    let members = client.get_json("/v1/organisations").await?;
    let mut readers: Vec<String> = vec![sender.to_string(), recipient.to_string()];
    readers.extend(route.iter().map(|s| s.organisation.clone()));
    for org in members["organisations"].as_array().into_iter().flatten() {
        if org["regulator"] == true
            && let Some(id) = org["id"].as_str()
        {
            readers.push(id.to_string());
        }
    }
    readers.sort();
    readers.dedup();
    Ok(readers)
}

pub fn run(command: ParcelCommand) -> Result<()> {
    let rt = runtime()?;
    match command {
        ParcelCommand::Register {
            target,
            signing,
            recipient,
            route,
            document,
            readers,
        } => {
            let key = read_key_file(&signing.key)?;
            let text = std::fs::read_to_string(&document)
                .with_context(|| format!("reading {}", document.display()))?;
            let info: Value = serde_json::from_str(&text).context("the document must be JSON")?;
            let route = route_stops(&route);
            let client = Client::new(&target.api);
            let anchor = rt.block_on(async {
                let agent = client
                    .get_json(&format!(
                        "/v1/agents/{}",
                        tracechain_types::to_hex(commonware_cryptography::Signer::public_key(&key))
                    ))
                    .await?;
                let sender = agent["organisation"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let readers = if readers.is_empty() {
                    default_readers(&client, &sender, &route, &recipient).await?
                } else {
                    readers
                };
                let (fingerprint, ciphertext_hash) =
                    client.upload_document(&key, &readers, &info).await?;
                anyhow::Ok(DocumentAnchor {
                    fingerprint,
                    ciphertext_hash,
                    readers,
                    label: format!("parcel {}", target.parcel),
                })
            })?;
            submit(
                &target,
                &signing,
                Payload::RegisterParcel {
                    parcel: target.parcel.clone(),
                    recipient,
                    route,
                    document: anchor,
                },
            )
        }
        ParcelCommand::Handoff {
            target,
            signing,
            to,
            next,
            location,
            step,
            wait,
        } => {
            let payload = Payload::ProposeHandoff {
                parcel: target.parcel.clone(),
                to,
                next,
                location,
                step,
                wait_ms: wait * 1000,
            };
            submit(&target, &signing, payload)
        }
        ParcelCommand::Accept { target, signing } | ParcelCommand::Deliver { target, signing } => {
            let handoff =
                rt.block_on(pending_handoff(&Client::new(&target.api), &target.parcel))?;
            submit(
                &target,
                &signing,
                Payload::AcceptHandoff {
                    parcel: target.parcel.clone(),
                    handoff,
                },
            )
        }
        ParcelCommand::Reject {
            target,
            signing,
            reason,
        } => {
            let handoff =
                rt.block_on(pending_handoff(&Client::new(&target.api), &target.parcel))?;
            submit(
                &target,
                &signing,
                Payload::RejectHandoff {
                    parcel: target.parcel.clone(),
                    handoff,
                    reason,
                },
            )
        }
        ParcelCommand::Cancel { target, signing } => {
            let handoff =
                rt.block_on(pending_handoff(&Client::new(&target.api), &target.parcel))?;
            submit(
                &target,
                &signing,
                Payload::CancelHandoff {
                    parcel: target.parcel.clone(),
                    handoff,
                },
            )
        }
        ParcelCommand::Exception {
            target,
            signing,
            kind,
            reason,
        } => {
            let exception = ParcelException::parse(&kind)
                .with_context(|| format!("'{kind}' is not damaged, lost or returned"))?;
            submit(
                &target,
                &signing,
                Payload::DeclareParcelException {
                    parcel: target.parcel.clone(),
                    exception,
                    reason,
                },
            )
        }
        ParcelCommand::Show { target, json } => {
            let state = rt.block_on(parcel_json(&Client::new(&target.api), &target.parcel))?;
            if json {
                println!("{state}");
            } else {
                print_parcel(&state);
            }
            Ok(())
        }
        ParcelCommand::Watch { target } => rt.block_on(watch(&target)),
        ParcelCommand::Document { target, key } => {
            let key = read_key_file(&key)?;
            let client = Client::new(&target.api);
            let path = format!("/v1/parcels/{}/document", encode(&target.parcel));
            let answer =
                rt.block_on(client.signed(reqwest::Method::GET, &path, Vec::new(), &key))?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
            Ok(())
        }
    }
}

fn print_parcel(state: &Value) {
    println!(
        "parcel {}  [{}]",
        state["id"].as_str().unwrap_or_default(),
        state["status"].as_str().unwrap_or_default()
    );
    println!(
        "  from {} to {}, held by {}",
        state["sender"], state["recipient"], state["custodian"]
    );
    for step in state["custody"].as_array().into_iter().flatten() {
        println!(
            "  handed {} -> {}{} (block {})",
            step["from"].as_str().unwrap_or_default(),
            step["to"].as_str().unwrap_or_default(),
            if step["offRoute"] == true {
                " [off route]"
            } else {
                ""
            },
            step["blockHeight"],
        );
    }
    if let Some(pending) = state["pending"].as_object() {
        println!(
            "  pending: {} -> {}",
            pending["from"].as_str().unwrap_or_default(),
            pending["to"].as_str().unwrap_or_default()
        );
    }
    println!(
        "  document fingerprint {}",
        state["document"]["fingerprint"]
            .as_str()
            .unwrap_or_default()
    );
}

/// Follows the SSE stream of the parcel's records, printing each once;
/// resumes after the last one printed when the connection drops.
async fn watch(target: &Target) -> Result<()> {
    let client = Client::new(&target.api);
    let query = format!("parcel={}&from=1", encode(&target.parcel));
    let mut last: Option<String> = None;
    loop {
        let mut stream = match client.stream(&query, last.as_deref()).await {
            Ok(stream) => stream,
            Err(tracechain_client::ClientError::Problem(problem)) => {
                bail!("stream refused: {problem}")
            }
            Err(err) => {
                eprintln!("stream interrupted ({err}); reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        while let Ok(Some(record)) = stream.next().await {
            last = record["id"].as_str().map(str::to_string);
            println!(
                "{}  block {}  {}  {}",
                record["id"].as_str().unwrap_or_default(),
                record["height"],
                record["type"].as_str().unwrap_or_default(),
                record["data"]
            );
        }
    }
}
