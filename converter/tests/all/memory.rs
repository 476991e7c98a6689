//! The guest-memory limit (`CTR2WASM_MEMORY_LIMIT_MB`): a process that touches more than it
//! allows dies of SIGKILL with one `ctr2wasm: out of memory` line, as under Linux's OOM
//! killer; memory allocated but never touched costs nothing. Natively and in the runtime
//! module. qemu has no such limit, so the expected output is written here; `diff` checks the
//! same program against qemu under no limit.

use std::process::Command;

use crate::guest::{self, Variant};

/// Runs the `oom` guest program with `args` under a `limit_mb` MiB limit; returns
/// (status, stdout, stderr).
fn run_oom(wasm: bool, limit_mb: &str, args: &[&str]) -> (i32, String, String) {
    let rootfs = guest::rootfs();
    rootfs
        .check_built("oom", Variant::Rv64gc)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"));
    cmd.arg("exec");
    if wasm {
        cmd.arg("--wasm");
    }
    cmd.arg("--rootfs")
        .arg(rootfs.root())
        .arg("--")
        .arg(rootfs.guest_path("oom", Variant::Rv64gc))
        .args(args)
        .env("CTR2WASM_MEMORY_LIMIT_MB", limit_mb);
    let out = cmd.output().expect("run ctr2wasm");
    (
        out.status.code().expect("ctr2wasm exits, it is not killed"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn touching_past_the_limit_is_oom_killed() {
    for wasm in [false, true] {
        for how in ["stores", "read"] {
            let (status, stdout, stderr) = run_oom(wasm, "64", &["256", "0", how]);
            assert_eq!(
                (status, stdout.as_str(), stderr.as_str()),
                (
                    137,
                    "untouched 0 MiB: ok\n",
                    "ctr2wasm: out of memory: killed process 1 (oom)\n"
                ),
                "oom 256 0 {how} under a 64 MiB limit (wasm: {wasm})"
            );
        }
    }
}

#[test]
fn untouched_and_small_allocations_fit_under_the_limit() {
    for wasm in [false, true] {
        for how in ["stores", "read"] {
            let (status, stdout, stderr) = run_oom(wasm, "64", &["16", "4096", how]);
            let sum = if how == "read" { 0 } else { 136 };
            assert_eq!(
                (status, stdout, stderr.as_str()),
                (
                    0,
                    format!("untouched 4096 MiB: ok\ntouched 16 MiB by {how}, sum {sum}\n"),
                    ""
                ),
                "oom 16 4096 {how} under a 64 MiB limit (wasm: {wasm})"
            );
        }
    }
}

#[test]
fn a_bad_memory_limit_is_a_runtime_error() {
    for wasm in [false, true] {
        let (status, stdout, stderr) = run_oom(wasm, "lots", &["1", "0"]);
        assert_eq!(
            (status, stdout.as_str(), stderr.as_str()),
            (
                125,
                "",
                "ctr2wasm: CTR2WASM_MEMORY_LIMIT_MB=\"lots\": not a positive number of MiB\n"
            ),
            "wasm: {wasm}"
        );
    }
}
