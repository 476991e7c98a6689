//! The runtime's `CTR2WASM_STATS=1` line, shared by the benchmarks.

use std::time::Duration;

/// What `ctr2wasm-stats: instret=N elapsed_ns=N` says.
pub struct Stats {
    pub instret: u64,
    pub elapsed: Duration,
}

impl Stats {
    /// Reads the stats line out of `stderr` (or out of the line itself).
    pub fn parse(stderr: &str) -> Stats {
        let line = stderr
            .lines()
            .find(|l| l.starts_with("ctr2wasm-stats:"))
            .unwrap_or_else(|| panic!("no ctr2wasm-stats line in stderr: {stderr}"));
        let field = |key: &str| -> u64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
                .unwrap_or_else(|| panic!("no {key} in {line}"))
        };
        Stats {
            instret: field("instret"),
            elapsed: Duration::from_nanos(field("elapsed_ns")),
        }
    }
}
