//! Log output of a node process.

use std::io::IsTerminal;

/// Logs to stderr: tracechain's own events at `level`, the libraries'
/// only from `warn` up (commonware's info output is per block and per
/// peer). `RUST_LOG` overrides both.
pub fn init(level: &str) {
    let ours = [
        "tracechain_node",
        "tracechain_api",
        "tracechain",
        "tracechain_executor",
    ]
    .map(|target| format!("{target}={level}"))
    .join(",");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("warn,{ours}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
