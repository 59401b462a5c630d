//! `tracechain node`: one validator or full node in this process.

use crate::home::{DEFAULT_INDEX_CACHE_MIB, DEFAULT_STORAGE_CACHE_MIB, Home};
use anyhow::{Context as _, Result, bail};
use commonware_cryptography::Signer;
use commonware_runtime::{Metrics as _, Runner as _, Spawner as _, Supervisor as _, tokio};
use std::{path::Path, sync::Arc};
use tracechain_api::{ApiState, NodeInfo, webhooks::Webhooks};
use tracechain_index::Index;
use tracechain_kernel_cache::KernelCached;
use tracechain_node::{ChainSpec, EngineConfig, NodeHandle, documents::Documents, engine, p2p};
use tracechain_types::to_hex;
use tracing::info;

/// The context a node runs in: the tokio runtime with storage through the
/// kernel's page cache (ADR 0017).
pub type NodeContext = KernelCached<tokio::Context>;

/// Opens the query index; one written by a version with another layout is
/// deleted and rebuilt from the chain (it is derived data; the indexer
/// re-applies every finalized block).
fn open_index(path: &Path, cache_bytes: usize) -> Result<Index> {
    match Index::open_with_cache(path, cache_bytes) {
        Err(tracechain_index::IndexError::SchemaMismatch { found, expected }) => {
            tracing::warn!(
                found,
                expected,
                path = %path.display(),
                "the query index has an older layout: rebuilding it from the chain"
            );
            std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
            Ok(Index::open_with_cache(path, cache_bytes)?)
        }
        other => Ok(other?),
    }
}

/// Lifts the soft limit on open files to the hard one. Every journal
/// section and archive blob is a file, each open twice (ADR 0018), and a
/// chain of millions of events keeps thousands of them open; the usual
/// soft limit of 1,024 would stop the node long before that.
fn raise_open_files_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    // `None` is unlimited: nothing to raise, or nothing the kernel accepts.
    let limit = getrlimit(Resource::Nofile);
    let (Some(current), Some(maximum)) = (limit.current, limit.maximum) else {
        return;
    };
    if current >= maximum {
        return;
    }
    let raised = rustix::process::Rlimit {
        current: Some(maximum),
        maximum: Some(maximum),
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => tracing::debug!(from = current, to = maximum, "raised the open-files limit"),
        Err(err) => tracing::warn!(%err, "could not raise the open-files limit"),
    }
}

/// Runs the node in `home` until the process is stopped.
pub fn run(home_dir: &Path) -> Result<()> {
    let home = Home::load(home_dir)?;
    crate::logging::init(&home.config.log_level);
    raise_open_files_limit();
    let public_key = home.key.public_key();
    let role = if home.genesis.validator(&public_key).is_some() {
        "validator"
    } else if home.genesis.full_node(&public_key).is_some() {
        "full-node"
    } else {
        bail!(
            "key {} is neither a validator nor a full node in {}",
            to_hex(&public_key),
            home.config.genesis_file.display()
        );
    };
    let data_dir = home.data_dir();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    crate::storage_format::check_or_mark(&data_dir)?;
    // The API listener is bound before anything starts so a port clash is
    // reported at once, not after the node joined consensus.
    let api_listener = bind_api(home.config.api_listen)
        .with_context(|| format!("binding the API to {}", home.config.api_listen))?;

    let config = tokio::Config::new()
        .with_worker_threads(home.config.worker_threads.max(1))
        .with_storage_directory(&data_dir);
    let runner = tokio::Runner::new(config);
    let data_dir_for_index = data_dir.clone();
    let organisation_keys = home.organisation_keys()?;
    runner.start(|runtime| async move {
        let data_dir = data_dir_for_index;
        // Storage through the kernel's page cache, cached reads on the
        // calling thread (ADR 0017); p2p keeps the runtime's own context, as
        // its channel types name it.
        let context = KernelCached::new(runtime).reading_files_under(&data_dir);
        let spec = ChainSpec::new::<NodeContext>(home.genesis.clone());
        let network = p2p::start(
            context.inner(),
            home.key.clone(),
            &home.genesis,
            home.config.p2p_listen,
        );
        let mut engine_config = EngineConfig::new(crate::storage_format::PARTITION_PREFIX);
        // 4 KiB pages; smaller saves memory and costs catch-up speed (BENCHMARKS.md).
        engine_config.cache_pages = home
            .config
            .storage_cache_mib
            .unwrap_or(DEFAULT_STORAGE_CACHE_MIB)
            * 256;
        if let Some(ms) = home.config.min_block_interval_ms {
            engine_config.block_policy.min_interval = std::time::Duration::from_millis(ms);
        }
        let started = engine::start(
            context.child("chain"),
            home.key.clone(),
            &spec,
            engine_config,
            network.channels,
            network.oracle.clone(),
            network.oracle.clone(),
            |stateful| stateful,
        )
        .await;
        let index = if home.config.query_index == Some(false) {
            None
        } else {
            let cache_mib = home
                .config
                .index_cache_mib
                .unwrap_or(DEFAULT_INDEX_CACHE_MIB);
            match open_index(&data_dir.join("index.redb"), cache_mib << 20) {
                Ok(index) => Some(Arc::new(index)),
                Err(err) => {
                    tracing::error!(err = format!("{err:#}"), "cannot open the query index");
                    return;
                }
            }
        };
        let node = NodeHandle::new(
            context.child("handle"),
            home.genesis.chain_id.clone(),
            &started,
            index.clone(),
        )
        .await;
        let pruned = node.clone();
        context.child("pruner").spawn(move |_| {
            tracechain_node::pruner::run(pruned, tracechain_node::pruner::PrunePolicy::default())
        });
        if let Some(index) = index {
            let indexed = node.clone();
            context
                .child("indexer")
                .dedicated()
                .spawn(move |_| tracechain_node::indexer::run(indexed, index));
        }
        let documents = match Documents::open(data_dir.join("documents"), organisation_keys) {
            Ok(documents) => documents,
            Err(err) => {
                tracing::error!(%err, "cannot open the document store");
                return;
            }
        };
        documents.start(
            context.child("documents"),
            node.clone(),
            &home.key,
            network.documents,
            network.oracle.clone(),
            network.oracle.clone(),
        );
        let metrics_context = context.child("metrics");
        let webhooks = match Webhooks::open(data_dir.join("subscriptions.json")) {
            Ok(webhooks) => webhooks,
            Err(err) => {
                tracing::error!(%err, "cannot read the webhook subscriptions");
                return;
            }
        };
        let state = ApiState {
            node,
            genesis: Arc::new(home.genesis.clone()),
            info: NodeInfo {
                public_key: to_hex(&public_key),
                role,
                version: env!("CARGO_PKG_VERSION"),
            },
            metrics: Arc::new(move || metrics_context.encode()),
            webhooks: Some(webhooks.clone()),
            documents: Some(documents.clone()),
        };
        webhooks.start_all(&state.node);
        info!(
            name = %home.config.name,
            role,
            chain = %home.genesis.chain_id,
            api = %home.config.api_listen,
            p2p = %home.config.p2p_listen,
            "node started"
        );
        let listener = match ::tokio::net::TcpListener::from_std(api_listener) {
            Ok(listener) => listener,
            Err(err) => {
                tracing::error!(%err, "cannot serve the API");
                return;
            }
        };
        if let Err(err) = tracechain_api::serve(listener, tracechain_api::router(state)).await {
            tracing::error!(%err, "API server stopped");
        }
    });
    Ok(())
}

/// A non-blocking listener that may take over the port at once after a
/// crash (`SO_REUSEADDR`: the dead process's connections linger in
/// TIME_WAIT for a minute otherwise).
/// A process restarted right after a crash may find the port still held
/// while the kernel tears the old one down: it retries for a few seconds.
fn bind_api(address: std::net::SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;
        socket.set_reuse_address(true)?;
        match socket.bind(&address.into()) {
            Ok(()) => {
                socket.listen(1024)?;
                socket.set_nonblocking(true)?;
                return Ok(socket.into());
            }
            Err(err)
                if err.kind() == std::io::ErrorKind::AddrInUse
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Err(err) => return Err(err),
        }
    }
}
