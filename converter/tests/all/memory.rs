//! The memory limit (`CTR2WASM_MEMORY_LIMIT_MB`): a process that touches more than it
//! allows dies of SIGKILL with one `ctr2wasm: out of memory` line, as under Linux's OOM
//! killer; memory allocated but never touched costs nothing. The kernel's own bookkeeping
//! (page tables, mappings, decode caches, tasks) counts too, mappings stop at
//! `vm.max_map_count`, and tasks at `threads-max` and `RLIMIT_NPROC`, so whatever the guest
//! does ends in `ENOMEM`, `EAGAIN` or the OOM kill, never in the runtime trapping (exit 1
//! and a wasm backtrace). Natively and in the runtime module. qemu has no such limits, so the
//! expected output is written here; `diff` checks the same programs against qemu under none.

use std::process::{Command, Output};

use crate::guest::{self, Variant};

/// Runs guest `program` with `args` under `ctr2wasm exec` (`wasm`: the runtime module) with
/// a `limit_mb` MiB limit, or the default one for `None`.
fn run_guest(program: &str, wasm: bool, limit_mb: Option<&str>, args: &[&str]) -> Output {
    let rootfs = guest::rootfs();
    rootfs
        .check_built(program, Variant::Rv64gc)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"));
    cmd.arg("exec");
    if wasm {
        cmd.arg("--wasm");
    }
    cmd.arg("--rootfs")
        .arg(rootfs.root())
        .arg("--")
        .arg(rootfs.guest_path(program, Variant::Rv64gc))
        .args(args);
    match limit_mb {
        Some(mb) => cmd.env("CTR2WASM_MEMORY_LIMIT_MB", mb),
        None => cmd.env_remove("CTR2WASM_MEMORY_LIMIT_MB"),
    };
    cmd.output().expect("run ctr2wasm")
}

/// (status, stdout, stderr) of `out`.
fn outcome(out: &Output) -> (i32, String, String) {
    (
        out.status.code().expect("ctr2wasm exits, it is not killed"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the `oom` guest program with `args` under a `limit_mb` MiB limit; returns
/// (status, stdout, stderr).
fn run_oom(wasm: bool, limit_mb: &str, args: &[&str]) -> (i32, String, String) {
    outcome(&run_guest("oom", wasm, Some(limit_mb), args))
}

/// Runs the `limits` guest program (see `tests/guest/limits.c`).
fn run_limits(wasm: bool, limit_mb: Option<&str>, args: &[&str]) -> (i32, String, String) {
    outcome(&run_guest("limits", wasm, limit_mb, args))
}

const OOM_KILLED_LIMITS: &str = "ctr2wasm: out of memory: killed process 1 (limits)\n";

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

#[test]
fn page_tables_of_memory_only_read_count_against_the_limit() {
    // One byte read per 2 MiB of a 4 TiB reservation: no frame (reads share the zero page)
    // but a page-table leaf each, 16 GiB of them. Linux charges page tables to the memory
    // cgroup, so this is the OOM kill; uncharged, the runtime module trapped.
    for wasm in [false, true] {
        assert_eq!(
            run_limits(wasm, Some("64"), &["zeropages", "4096"]),
            (137, String::new(), OOM_KILLED_LIMITS.to_string()),
            "wasm: {wasm}"
        );
    }
}

#[test]
fn malloc_in_a_loop_without_touching_ends_in_enomem_not_a_trap() {
    // Each 1 MiB malloc is an mmap whose first page glibc writes (the chunk header): a frame
    // and half a page-table leaf. Under the runtime module's default limit (3 GiB) the
    // uncharged leaves used to take the rest of its 4 GiB and it trapped. Now the limit is
    // met by an mmap, which fails with ENOMEM (malloc returns NULL), or, when the header
    // write is what passes it, by the OOM kill.
    for (wasm, limit) in [(false, Some("64")), (true, None)] {
        let (status, stdout, stderr) = run_limits(wasm, limit, &["malloc", "10000000"]);
        let enomem = status == 0
            && stdout.starts_with("malloc failed after ")
            && stdout.ends_with(" MiB: ENOMEM\n")
            && stderr.is_empty();
        let killed = status == 137 && stdout.is_empty() && stderr == OOM_KILLED_LIMITS;
        assert!(
            enomem || killed,
            "wasm: {wasm}, limit {limit:?}: status {status}, stdout {stdout:?}, stderr {stderr:?}"
        );
    }
}

#[test]
fn mappings_stop_at_max_map_count_with_enomem() {
    // `vm.max_map_count` is 65530 and `do_mmap` refuses only past it: the process ends with
    // 65531 mappings, whatever it started with.
    for wasm in [false, true] {
        let (status, stdout, stderr) = run_limits(wasm, Some("64"), &["maps", "100000"]);
        let made: u64 = stdout
            .strip_prefix("mmap failed after ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no mmap failure in {stdout:?} (wasm: {wasm})"));
        assert!(
            (65_500..65_531).contains(&made),
            "made {made} (wasm: {wasm})"
        );
        assert_eq!(
            (status, stdout.as_str(), stderr.as_str()),
            (
                0,
                format!("mmap failed after {made} maps: ENOMEM; /proc/self/maps has 65531 lines\n")
                    .as_str(),
                ""
            ),
            "wasm: {wasm}"
        );
    }
}

#[test]
fn fork_in_a_loop_stops_at_threads_max_with_eagain() {
    // threads-max is one task per MiB of the limit: 64 tasks, the parent and 63 children.
    for wasm in [false, true] {
        assert_eq!(
            run_limits(wasm, Some("64"), &["fork", "100000"]),
            (
                0,
                "fork failed after 63 children: EAGAIN\nreaped 63, 63 exited 0\n".to_string(),
                String::new()
            ),
            "wasm: {wasm}"
        );
    }
}

#[test]
fn threads_in_a_loop_stop_at_threads_max_with_eagain() {
    for wasm in [false, true] {
        assert_eq!(
            run_limits(wasm, Some("64"), &["threads", "100000"]),
            (
                0,
                "pthread_create failed after 63 threads: EAGAIN\njoined 63\n".to_string(),
                String::new()
            ),
            "wasm: {wasm}"
        );
    }
}

#[test]
fn rlimit_nproc_is_half_of_threads_max_and_holds_for_other_users() {
    for wasm in [false, true] {
        assert_eq!(
            run_limits(wasm, Some("64"), &["rlimit"]),
            (0, "RLIMIT_NPROC 32 32\n".to_string(), String::new()),
            "wasm: {wasm}"
        );
        // As user 1000 with RLIMIT_NPROC 5: the process itself and 4 children. (Root is
        // exempt, as in `copy_process`; threads-max still holds for it.)
        assert_eq!(
            run_limits(wasm, Some("64"), &["nproc", "5", "100"]),
            (
                0,
                "fork failed after 4 children: EAGAIN\nreaped 4, 4 exited 0\n".to_string(),
                String::new()
            ),
            "wasm: {wasm}"
        );
    }
}

#[test]
fn a_bash_fork_bomb_ends_in_eagain_with_the_runtime_alive() {
    // The classic bomb in Debian's bash, under a 256 MiB limit (threads-max 256); the shell
    // that started it waits four seconds with builtins only, then exits. The bomb's shells
    // see EAGAIN and ENOMEM from fork, or are OOM-killed, and the runtime runs on (it
    // trapped with exit 125 and a wasm backtrace before).
    let rootfs = crate::userland::debian_rootfs();
    let script = ":(){ :|:& };:; while (( SECONDS < 4 )); do :; done; echo alive";
    for wasm in [false, true] {
        let mut cmd = crate::userland::ours_command(rootfs, &["/bin/bash", "-c", script], wasm);
        cmd.env("CTR2WASM_MEMORY_LIMIT_MB", "256");
        let (status, stdout, stderr) = outcome(&cmd.output().expect("run ctr2wasm"));
        let unexpected: Vec<&str> = stderr
            .lines()
            .filter(|l| {
                !(l.contains("fork: retry: Resource temporarily unavailable")
                    || l.contains("fork: Resource temporarily unavailable")
                    || l.contains("fork: Cannot allocate memory")
                    || l.starts_with("ctr2wasm: out of memory: killed process "))
            })
            .collect();
        // The starting shell may itself be the one whose allocation meets the limit: then
        // the run ends with its OOM kill, 137, which is the runtime answering, not failing.
        let ended = match status {
            0 => stdout == "alive\n",
            137 => stderr.contains("ctr2wasm: out of memory: killed process 1 (bash)\n"),
            _ => false,
        };
        assert!(
            ended && unexpected.is_empty(),
            "wasm: {wasm}: status {status}, stdout {stdout:?}, unexpected stderr \
             {unexpected:?}; stderr:\n{stderr}"
        );
    }
}

#[test]
fn files_written_to_the_upper_layer_count_against_the_limit() {
    // The upper layer keeps file data in the runtime's memory, so a guest filling /tmp
    // meets the limit as a full tmpfs does (ENOSPC), and gets the memory back on unlink.
    // Before, the 300 MiB file fitted under a 64 MiB limit, and a larger one trapped.
    let rootfs = crate::userland::debian_rootfs();
    let script = "head -c 300M /dev/zero > /tmp/big; echo first=$?; rm /tmp/big; \
                  head -c 20M /dev/zero > /tmp/small; echo second=$?; wc -c < /tmp/small";
    for wasm in [false, true] {
        let mut cmd = crate::userland::ours_command(rootfs, &["/bin/bash", "-c", script], wasm);
        cmd.env("CTR2WASM_MEMORY_LIMIT_MB", "64");
        let (status, stdout, stderr) = outcome(&cmd.output().expect("run ctr2wasm"));
        assert_eq!(
            (status, stdout.as_str()),
            (0, "first=1\nsecond=0\n20971520\n"),
            "wasm: {wasm}; stderr:\n{stderr}"
        );
        assert!(
            stderr.contains("No space left on device"),
            "wasm: {wasm}; stderr:\n{stderr}"
        );
    }
}
