//! `tracechain`: run a node, create keys and genesis, start a local
//! network, submit and query.

#![recursion_limit = "256"]

mod bench;
mod bench_catchup;
mod bench_disk;
mod bench_handoffs;
mod bench_limits;
mod bench_queries;
mod demo;
mod domain_cmd;
mod home;
mod localnet;
mod logging;
mod parcel_cmd;
mod run_node;
mod storage_format;
mod submit;
mod verify_proof;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::{net::IpAddr, path::PathBuf};

/// jemalloc, not the system allocator: a node allocates and frees millions
/// of small strings a second (parsed EPCIS events) across threads, where
/// glibc's malloc spent a quarter of the process's time; with jemalloc a
/// node finalizes 20-28 % more events per second at a lower memory peak
/// per event (docs/adr/0016-jemalloc.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read once at start-up. Two arenas (its default is
/// four per core) and unused pages handed back after 2 s by a background
/// thread keep a loaded validator's peak ~90 MB lower at the same
/// throughput; `_RJEM_MALLOC_CONF` in the environment still overrides.
#[cfg(not(target_env = "msvc"))]
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_OPTIONS: &[u8; 70] =
    b"narenas:2,background_thread:true,dirty_decay_ms:2000,muzzy_decay_ms:0\0";

#[derive(Parser)]
#[command(
    name = "tracechain",
    version,
    about = "A BFT consortium chain for supply-chain traceability",
    long_about = "tracechain runs validators that agree (Byzantine-fault tolerant) on one signed, \
                  hash-linked history. Start with `tracechain up` for a local 4-validator network."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the embedded default: a 4-validator local network in
    /// ./.tracechain/localnet with a demo supply chain loaded.
    ///
    /// Reuses the network if it already exists there (its chain continues).
    /// Stops on Ctrl-C.
    Up {
        /// Where the network lives.
        #[arg(long, default_value = ".tracechain/localnet")]
        dir: PathBuf,
        /// Leave the network running and return (stop it with
        /// `tracechain localnet --stop --dir DIR`).
        #[arg(long)]
        detach: bool,
    },
    /// Create a new ed25519 key file (permissions 0600).
    Keygen {
        /// Where to write the key; must not exist.
        #[arg(long)]
        out: PathBuf,
        /// Make an X25519 encryption key (for confidential records) instead
        /// of an ed25519 signing key.
        #[arg(long)]
        encryption: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create a chain: genesis.json and one home directory per node, with its key and config.
    Genesis {
        /// Number of validators.
        #[arg(long)]
        validators: usize,
        /// Number of non-voting full nodes.
        #[arg(long, default_value_t = 0)]
        full_nodes: usize,
        /// Output directory (must not already hold a genesis).
        #[arg(long)]
        out: PathBuf,
        /// Chain id bound into every signature (default: random).
        #[arg(long)]
        chain_id: Option<String>,
        /// Address the nodes listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// First p2p port (node N uses base + N).
        #[arg(long, default_value_t = 7100)]
        p2p_port: u16,
        /// First API port (node N uses base + N).
        #[arg(long, default_value_t = 8100)]
        api_port: u16,
        #[arg(long)]
        json: bool,
    },
    /// Run one node (validator or full node) from its home directory.
    Node {
        /// The node's home (holds node.json, genesis.json, node.key, data/).
        #[arg(long)]
        home: PathBuf,
    },
    /// Start N validator processes on 127.0.0.1 and print their API addresses.
    ///
    /// Stops them all on Ctrl-C. With --detach they keep running and their
    /// pids are written to DIR/pids; stop them with `--stop`.
    Localnet {
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Non-voting full nodes besides the validators (new networks only).
        #[arg(long, default_value_t = 0)]
        full_nodes: usize,
        /// Only the first N nodes keep a query index; the others validate
        /// without serving queries (new networks only; default: all).
        #[arg(long)]
        query_index_nodes: Option<usize>,
        #[arg(long)]
        dir: PathBuf,
        /// Leave the nodes running and return.
        #[arg(long)]
        detach: bool,
        /// Stop a detached network in DIR.
        #[arg(long)]
        stop: bool,
        /// Found the demo organisations and load the demo supply chain
        /// (what `up` does).
        #[arg(long)]
        demo: bool,
        #[arg(long, default_value_t = 7100)]
        p2p_port: u16,
        #[arg(long, default_value_t = 8100)]
        api_port: u16,
        #[arg(long)]
        json: bool,
    },
    /// Anchor a file's SHA-256 on chain with a label; waits for finality.
    Note {
        /// A node's API, e.g. http://127.0.0.1:8100.
        #[arg(long)]
        api: String,
        /// The signing key file.
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        label: String,
        /// The file whose SHA-256 is anchored.
        #[arg(long)]
        file: PathBuf,
        /// Seconds to wait for finality.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
    /// Register an account name for a key; waits for finality.
    Register {
        #[arg(long)]
        api: String,
        #[arg(long)]
        key: PathBuf,
        /// 3-64 characters: a-z, 0-9, '.', '-', '_'.
        #[arg(long)]
        name: String,
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
    /// Capture an EPCIS 2.0 document (JSON-LD) signed by an agent key.
    ///
    /// Waits for finality, then prints each event's canonical hash and the
    /// block. The document is all-or-nothing.
    Capture {
        #[arg(long)]
        api: String,
        /// The agent's key file.
        #[arg(long)]
        key: PathBuf,
        /// The EPCIS document (or single event) to capture.
        document: PathBuf,
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
    /// Member organisations: list, propose, remove, approve.
    #[command(subcommand)]
    Org(domain_cmd::OrgCommand),
    /// Agents of your organisation.
    #[command(subcommand)]
    Agent(domain_cmd::AgentCommand),
    /// Roles of your organisation's agents.
    #[command(subcommand)]
    Role(domain_cmd::RoleCommand),
    /// Recall an item, batch or class (brand owner or regulator, role recall:issue).
    Recall {
        #[arg(long)]
        api: String,
        #[arg(long)]
        key: PathBuf,
        /// EPC URN or GS1 Digital Link URI of the item, lot or class.
        #[arg(long)]
        target: String,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
    /// Parcels: register, hand off, accept, reject, deliver, show, watch.
    #[command(subcommand)]
    Parcel(parcel_cmd::ParcelCommand),
    /// Show a node's view of the chain.
    Status {
        #[arg(long)]
        api: String,
        #[arg(long)]
        json: bool,
    },
    /// Load generators that measure a running network (see docs/benchmarks.md).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Check a proof bundle offline against a chain's genesis: the
    /// validators' signatures on the block, then every proof against its
    /// roots. Exit code 0 only if every check passes; otherwise it says
    /// which check failed.
    VerifyProof {
        /// The bundle (JSON, e.g. saved from `/v1/proofs/…` or the
        /// `proof` field of a `?proof=true` answer).
        bundle: PathBuf,
        /// The chain's genesis.json (the trust anchor: its validator set).
        #[arg(long)]
        genesis: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(err) = dispatch(cli.command) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Up { dir, detach } => localnet::run(&localnet::LocalnetOptions {
            validators: 4,
            full_nodes: 0,
            query_index_nodes: None,
            dir,
            detach,
            p2p_base_port: 7100,
            api_base_port: 8100,
            json: false,
            demo: true,
        }),
        Command::Keygen {
            out,
            encryption,
            json,
        } => submit::keygen(&out, encryption, json),
        Command::Genesis {
            validators,
            full_nodes,
            out,
            chain_id,
            host,
            p2p_port,
            api_port,
            json,
        } => submit::genesis(
            &out,
            &home::GenesisOptions {
                validators,
                full_nodes,
                chain_id,
                host,
                p2p_base_port: p2p_port,
                api_base_port: api_port,
                organisations: Vec::new(),
            },
            json,
        ),
        Command::Node { home } => run_node::run(&home),
        Command::Localnet {
            validators,
            full_nodes,
            query_index_nodes,
            dir,
            detach,
            stop,
            demo,
            p2p_port,
            api_port,
            json,
        } => {
            if stop {
                return localnet::stop(&dir);
            }
            localnet::run(&localnet::LocalnetOptions {
                validators,
                full_nodes,
                query_index_nodes,
                dir,
                detach,
                p2p_base_port: p2p_port,
                api_base_port: api_port,
                json,
                demo,
            })
        }
        Command::Note {
            api,
            key,
            label,
            file,
            timeout,
            json,
        } => submit::note(&api, &key, &label, &file, timeout, json),
        Command::Register {
            api,
            key,
            name,
            timeout,
            json,
        } => submit::register(&api, &key, &name, timeout, json),
        Command::Status { api, json } => submit::status(&api, json),
        Command::Capture {
            api,
            key,
            document,
            timeout,
            json,
        } => domain_cmd::capture(&api, &key, &document, timeout, json),
        Command::Org(command) => domain_cmd::org(command),
        Command::Parcel(command) => parcel_cmd::run(command),
        Command::Agent(command) => domain_cmd::agent(command),
        Command::Role(command) => domain_cmd::role(command),
        Command::Recall {
            api,
            key,
            target,
            reason,
            timeout,
            json,
        } => domain_cmd::recall(&api, &key, &target, &reason, timeout, json),
        Command::Bench(command) => bench::run(command),
        Command::VerifyProof {
            bundle,
            genesis,
            json,
        } => verify_proof::run(&bundle, &genesis, json),
    }
}
