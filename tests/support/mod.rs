//! Shared helpers of the end-to-end tests: node processes on loopback.

#![allow(dead_code)]

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use tracechain_client::{Client, ClientError, Problem};

pub const BIN: &str = env!("CARGO_BIN_EXE_tracechain");

/// A network of node processes, killed when dropped.
pub struct Network {
    pub dir: tempfile::TempDir,
    pub homes: Vec<PathBuf>,
    pub apis: Vec<String>,
    pub children: Vec<Option<Child>>,
}

impl Drop for Network {
    fn drop(&mut self) {
        for child in self.children.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Networks of several processes each would starve one another on a small
/// machine (and could race for ports), so tests start them one at a time.
pub static ONE_NETWORK_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    ONE_NETWORK_AT_A_TIME
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
}

/// Consecutive free ports (genesis assigns base + index), below the
/// kernel's ephemeral range so outgoing connections never take them.
pub fn free_port_run(count: u16) -> u16 {
    let mut candidate = 20_000 + (std::process::id() % 1_000) as u16 * 12;
    loop {
        if (0..count).all(|i| TcpListener::bind(("127.0.0.1", candidate + i)).is_ok()) {
            return candidate;
        }
        candidate += count;
        assert!(candidate < 32_000, "no free ports");
    }
}

impl Network {
    /// `validators` voting nodes followed by `full_nodes` non-voting ones.
    pub fn start(validators: usize, full_nodes: usize) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let nodes = (validators + full_nodes) as u16;
        let p2p = free_port_run(nodes);
        let api = free_port_run(2 * nodes) + nodes;
        let output = Command::new(BIN)
            .args([
                "genesis",
                "--validators",
                &validators.to_string(),
                "--chain-id",
                "e2e",
            ])
            .args(["--full-nodes", &full_nodes.to_string()])
            .args([
                "--p2p-port",
                &p2p.to_string(),
                "--api-port",
                &api.to_string(),
                "--json",
            ])
            .arg("--out")
            .arg(dir.path())
            .output()
            .expect("run tracechain genesis");
        assert!(
            output.status.success(),
            "genesis failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let generated: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("genesis --json");
        let nodes = generated["nodes"].as_array().expect("nodes").clone();
        let homes: Vec<PathBuf> = nodes
            .iter()
            .map(|n| PathBuf::from(n["home"].as_str().unwrap()))
            .collect();
        let apis: Vec<String> = nodes
            .iter()
            .map(|n| n["api"].as_str().unwrap().to_string())
            .collect();
        let mut network = Self {
            dir,
            children: homes.iter().map(|_| None).collect(),
            homes,
            apis,
        };
        for index in 0..validators + full_nodes {
            network.spawn(index);
        }
        network
    }

    pub fn spawn(&mut self, index: usize) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.homes[index].join("node.log"))
            .expect("node log");
        let child = Command::new(BIN)
            .arg("node")
            .arg("--home")
            .arg(&self.homes[index])
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start node");
        self.children[index] = Some(child);
    }

    /// SIGKILL: no chance to flush or say goodbye.
    pub fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.children[index].take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
        }
    }

    pub fn client(&self, index: usize) -> Client {
        Client::new(&self.apis[index])
    }

    pub fn log_tail(&self, index: usize) -> String {
        let text = std::fs::read_to_string(self.homes[index].join("node.log")).unwrap_or_default();
        text.lines().rev().take(20).collect::<Vec<_>>().join("\n")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

pub async fn wait_height(network: &Network, index: usize, height: u64, timeout: Duration) -> u64 {
    let client = network.client(index);
    let start = Instant::now();
    loop {
        if let Ok(status) = client.status().await
            && status.height >= height
        {
            return status.height;
        }
        assert!(
            start.elapsed() < timeout,
            "node {index} did not reach height {height} in {timeout:?}; log:\n{}",
            network.log_tail(index)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `tracechain localnet --detach --json` with 4 validators in `dir` on
/// free ports (plus `extra` arguments); returns the process output.
pub fn start_detached(dir: &Path, extra: &[&str]) -> std::process::Output {
    let p2p = free_port_run(4);
    let api = free_port_run(8) + 4;
    Command::new(BIN)
        .args(["localnet", "--validators", "4", "--detach", "--json"])
        .args([
            "--p2p-port",
            &p2p.to_string(),
            "--api-port",
            &api.to_string(),
        ])
        .args(extra)
        .arg("--dir")
        .arg(dir)
        .output()
        .expect("run tracechain localnet")
}

/// The one JSON summary line a `tracechain bench <bench>` run printed,
/// failing the test if the run failed or printed another bench's summary.
pub fn bench_summary(output: &std::process::Output, bench: &str) -> serde_json::Value {
    assert!(
        output.status.success(),
        "bench {bench} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    assert_eq!(summary["bench"], bench);
    summary
}

/// `tracechain localnet --stop` for the network in `dir`.
pub fn stop_detached(dir: &Path) -> std::io::Result<std::process::Output> {
    Command::new(BIN)
        .args(["localnet", "--stop", "--dir"])
        .arg(dir)
        .output()
}

/// `../shared` from the repository root (found by walking up), or
/// `TRACECHAIN_SHARED`.
pub fn shared_dir() -> PathBuf {
    if let Some(shared) = std::env::var_os("TRACECHAIN_SHARED") {
        return PathBuf::from(shared);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared"))
        .find(|dir| dir.join("conformance").is_dir())
        .unwrap_or_else(|| panic!("no shared/ beside the repository; set TRACECHAIN_SHARED"))
}

/// A demo network started with `tracechain localnet --demo --detach`,
/// stopped when dropped.
pub struct Demo {
    pub dir: tempfile::TempDir,
    /// API of the first node.
    pub api: String,
    /// APIs of every node, in order.
    pub apis: Vec<String>,
    /// Nodes restarted by a test (killed on drop).
    pub restarted: Vec<Child>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = stop_detached(self.dir.path());
        for child in &mut self.restarted {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Demo {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let output = start_detached(dir.path(), &["--demo"]);
        // Stops whatever started, even if the start failed half way.
        let mut demo = Demo {
            api: String::new(),
            apis: Vec::new(),
            dir,
            restarted: Vec::new(),
        };
        assert!(
            output.status.success(),
            "localnet --demo failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("localnet --json");
        demo.apis = report["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["api"].as_str().expect("api").to_string())
            .collect();
        demo.api = demo.apis[0].clone();
        demo
    }

    pub fn client(&self) -> Client {
        Client::new(&self.api)
    }

    pub fn key(&self, member: &str, which: &str) -> tracechain_types::PrivateKey {
        tracechain_crypto::read_key_file(
            &self
                .dir
                .path()
                .join("demo")
                .join(member)
                .join(format!("{which}.key")),
        )
        .expect("demo key")
    }

    /// A client of node `index`.
    pub fn client_at(&self, index: usize) -> Client {
        Client::new(&self.apis[index])
    }

    /// The home directory of validator `index`.
    pub fn home(&self, index: usize) -> PathBuf {
        self.dir.path().join(format!("validator-{index}"))
    }

    /// SIGKILLs validator `index` (started detached by localnet).
    pub fn kill(&self, index: usize) {
        let pid = std::fs::read_to_string(self.home(index).join("node.pid")).expect("node.pid");
        let status = Command::new("kill")
            .args(["-9", pid.trim()])
            .status()
            .expect("kill");
        assert!(status.success());
        // Gone only once every thread has exited and the kernel released
        // its files (sockets, locks): a zombie leader may still have live
        // threads holding them.
        let tasks = PathBuf::from("/proc").join(pid.trim()).join("task");
        let alive = |task: std::fs::DirEntry| {
            std::fs::read_to_string(task.path().join("stat"))
                .is_ok_and(|stat| !stat.contains(") Z ") && !stat.contains(") X "))
        };
        let start = Instant::now();
        while std::fs::read_dir(&tasks).is_ok_and(|all| all.flatten().any(alive)) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "node {index} survives SIGKILL"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The last lines of validator `index`'s log.
    pub fn log_tail(&self, index: usize) -> String {
        let log = std::fs::read_to_string(self.home(index).join("node.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Waits until validator `index` answers again (after `restart`).
    pub async fn wait_up(&self, index: usize) {
        let client = self.client_at(index);
        let start = Instant::now();
        while client.status().await.is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "node {index} did not come back; log:\n{}\nsockets:\n{}",
                self.log_tail(index),
                String::from_utf8_lossy(
                    &Command::new("ss")
                        .arg("-tanp")
                        .output()
                        .map(|o| o.stdout)
                        .unwrap_or_default()
                )
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILLs every node this test restarted.
    pub fn kill_restarted(&mut self) {
        for mut child in self.restarted.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts validator `index` again, as its own process.
    pub fn restart(&mut self, index: usize) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.home(index).join("node.log"))
            .expect("node log");
        let child = Command::new(BIN)
            .arg("node")
            .arg("--home")
            .arg(self.home(index))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("restart node");
        self.restarted.push(child);
    }
}

/// GETs `path` as JSON, failing the test on any error.
pub async fn get(client: &Client, path: &str) -> serde_json::Value {
    client
        .get_json(path)
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// GETs an index-backed `path`, retrying while it is 404 for up to 5 s:
/// the query index follows finality off the consensus path, so the newest
/// block may not be indexed yet when its transaction reads as final.
pub async fn get_indexed(client: &Client, path: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match client.get_json(path).await {
            Ok(value) => return value,
            Err(ClientError::Problem(p)) if p.status == 404 && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("GET {path}: {e}"),
        }
    }
}

/// The problem+json a refused request carried.
pub fn problem(err: ClientError) -> Problem {
    match err {
        ClientError::Problem(p) => p,
        other => panic!("expected problem+json, got {other}"),
    }
}
