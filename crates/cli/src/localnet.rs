//! `tracechain localnet` and `tracechain up`: a network of validator
//! processes on 127.0.0.1.

use crate::home::{GENESIS, GenesisOptions, generate_chain};
use anyhow::{Context, Result, bail};
use std::{
    fs,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use tracechain_client::Client;

pub const PIDS_FILE: &str = "pids";

pub struct LocalnetOptions {
    pub validators: usize,
    pub full_nodes: usize,
    /// Only the first N nodes keep a query index (`None`: all).
    pub query_index_nodes: Option<usize>,
    pub dir: PathBuf,
    pub detach: bool,
    pub p2p_base_port: u16,
    pub api_base_port: u16,
    pub json: bool,
    /// Found the demo organisations and load the demo supply chain.
    pub demo: bool,
}

/// A running node process.
struct NodeProcess {
    name: String,
    api: SocketAddr,
    child: Child,
}

/// Generates the network (or reuses the one already in `dir`), starts every
/// node as its own process and waits until they serve requests.
pub fn run(options: &LocalnetOptions) -> Result<()> {
    let homes = prepare(options)?;
    let exe = std::env::current_exe().context("locating the tracechain binary")?;
    let mut nodes = Vec::new();
    for home in &homes {
        nodes.push(spawn_node(&exe, home)?);
    }
    let pids: Vec<String> = nodes.iter().map(|n| n.child.id().to_string()).collect();
    fs::write(options.dir.join(PIDS_FILE), pids.join("\n") + "\n")?;

    let runtime = ::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let ready = runtime.block_on(wait_ready(&nodes, Duration::from_secs(90)));
    report(options, &nodes, ready.is_ok());
    let ready = match ready {
        Ok(()) if options.demo => runtime.block_on(load_demo(options, &nodes)),
        other => other,
    };
    if let Err(err) = ready {
        stop_all(&mut nodes);
        return Err(err);
    }
    if options.detach {
        // The children outlive us; their pids are in DIR/pids.
        return Ok(());
    }
    eprintln!("Press Ctrl-C to stop the network.");
    let outcome = runtime.block_on(wait_for_exit(&mut nodes));
    stop_all(&mut nodes);
    outcome
}

async fn load_demo(options: &LocalnetOptions, nodes: &[NodeProcess]) -> Result<()> {
    let api = format!("http://{}", nodes[0].api);
    eprintln!("Loading the demo supply chain…");
    crate::demo::load(&Client::new(&api), &options.dir).await?;
    // With --json, stdout carries only the one JSON report.
    if options.json {
        eprintln!("{}", crate::demo::guide(&api));
    } else {
        println!("{}", crate::demo::guide(&api));
    }
    Ok(())
}

/// Homes of an existing network in `dir`, or of a freshly generated one.
fn prepare(options: &LocalnetOptions) -> Result<Vec<PathBuf>> {
    if options.dir.join(GENESIS).exists() {
        let mut homes: Vec<PathBuf> = fs::read_dir(&options.dir)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.join(crate::home::NODE_CONFIG).exists())
            .collect();
        homes.sort();
        if homes.is_empty() {
            bail!("{} has a genesis but no node homes", options.dir.display());
        }
        for home in &homes {
            let data_dir = crate::home::Home::load(home)?.data_dir();
            crate::storage_format::check_readable(&data_dir).with_context(|| {
                format!(
                    "the network in {} was written by another tracechain version: \
                     remove that directory to start a new one",
                    options.dir.display()
                )
            })?;
        }
        eprintln!("Reusing the network in {}", options.dir.display());
        return Ok(homes);
    }
    let organisations = if options.demo {
        crate::demo::founding_members(&options.dir)?
    } else {
        Vec::new()
    };
    let generated = generate_chain(
        &options.dir,
        &GenesisOptions {
            validators: options.validators,
            full_nodes: options.full_nodes,
            chain_id: Some("tracechain-localnet".into()),
            host: "127.0.0.1".parse()?,
            p2p_base_port: options.p2p_base_port,
            api_base_port: options.api_base_port,
            organisations,
        },
    )?;
    for (position, home) in generated.homes.iter().enumerate() {
        let mut config = crate::home::Home::load(home)?.config;
        if options.demo {
            // A localnet is run by one operator: every node may open every
            // demo organisation's documents.
            config.organisations = crate::demo::member_ids()
                .map(|id| crate::home::NodeOrganisation {
                    id: id.to_string(),
                    encryption_key: crate::demo::encryption_key_from_home(id),
                })
                .collect();
        }
        if options.query_index_nodes.is_some_and(|n| position >= n) {
            config.query_index = Some(false);
        }
        crate::home::Home::save_config(home, &config)?;
    }
    Ok(generated.homes)
}

fn spawn_node(exe: &Path, home: &Path) -> Result<NodeProcess> {
    let config = crate::home::Home::load(home)?.config;
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(home.join("node.log"))
        .with_context(|| format!("opening {}/node.log", home.display()))?;
    let child = Command::new(exe)
        .arg("node")
        .arg("--home")
        .arg(home)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting the node in {}", home.display()))?;
    fs::write(home.join("node.pid"), format!("{}\n", child.id()))?;
    Ok(NodeProcess {
        name: config.name,
        api: config.api_listen,
        child,
    })
}

async fn wait_ready(nodes: &[NodeProcess], timeout: Duration) -> Result<()> {
    let start = Instant::now();
    for node in nodes {
        let client = Client::new(&format!("http://{}", node.api));
        loop {
            if let Ok(status) = client.status().await
                && status.height >= 1
            {
                break;
            }
            if start.elapsed() > timeout {
                bail!(
                    "{} did not finalize a block within {timeout:?}; see its node.log",
                    node.name
                );
            }
            ::tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}

fn report(options: &LocalnetOptions, nodes: &[NodeProcess], ready: bool) {
    if options.json {
        let entries: Vec<_> = nodes
            .iter()
            .map(|n| serde_json::json!({"name": n.name, "api": format!("http://{}", n.api), "pid": n.child.id()}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"dir": options.dir, "ready": ready, "nodes": entries})
        );
        return;
    }
    println!("tracechain localnet in {}:", options.dir.display());
    for node in nodes {
        println!(
            "  {:<14} http://{}  (pid {})",
            node.name,
            node.api,
            node.child.id()
        );
    }
}

/// Waits for Ctrl-C, or for a node to exit on its own (an error).
async fn wait_for_exit(nodes: &mut [NodeProcess]) -> Result<()> {
    loop {
        ::tokio::select! {
            _ = ::tokio::signal::ctrl_c() => return Ok(()),
            _ = ::tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        for node in nodes.iter_mut() {
            if let Ok(Some(status)) = node.child.try_wait() {
                bail!("{} exited ({status}); see its node.log", node.name);
            }
        }
    }
}

fn stop_all(nodes: &mut [NodeProcess]) {
    for node in nodes.iter() {
        terminate(node.child.id());
    }
    for node in nodes.iter_mut() {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = node.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = node.child.kill();
        let _ = node.child.wait();
    }
}

/// Sends SIGTERM to `pid`.
pub fn terminate(pid: u32) {
    // SAFETY: kill(2) with a pid we started and a valid signal number has no
    // memory-safety preconditions.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
}

/// `localnet --stop`: stops the detached network in `dir`.
pub fn stop(dir: &Path) -> Result<()> {
    let path = dir.join(PIDS_FILE);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut stopped = 0;
    for pid in text.lines().filter_map(|l| l.trim().parse::<u32>().ok()) {
        terminate(pid);
        stopped += 1;
    }
    fs::remove_file(&path)?;
    println!("sent SIGTERM to {stopped} node(s) of {}", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_nodes_keep_a_query_index() {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = LocalnetOptions {
            validators: 3,
            full_nodes: 1,
            query_index_nodes: Some(1),
            dir: dir.path().join("net"),
            detach: true,
            p2p_base_port: 1,
            api_base_port: 1,
            json: false,
            demo: false,
        };
        let homes = prepare(&options).expect("network");
        let kept: Vec<Option<bool>> = homes
            .iter()
            .map(|home| {
                crate::home::Home::load(home)
                    .expect("home")
                    .config
                    .query_index
            })
            .collect();
        assert_eq!(kept, vec![None, Some(false), Some(false), Some(false)]);
    }
}
