//! `ctr2wasm exec` on bad input and its diagnostics: every failure is one `ctr2wasm:` line on
//! stderr and the status a shell would give, the same natively and in the runtime module.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::guest::{self, Variant};

/// A rootfs of broken programs, made from a good one: text, a truncated header, a file cut
/// short inside its segments, an x86-64 executable, and a directory.
fn broken_rootfs() -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("exec-errors");
    let bin = root.join("bin");
    fs::create_dir_all(&bin).expect("create exec-errors rootfs");
    let good = fs::read(
        guest::rootfs().root().join(
            guest::rootfs()
                .guest_path("exit42", Variant::Rv64gc)
                .trim_start_matches('/'),
        ),
    )
    .expect("exit42 was built");
    fs::write(bin.join("text"), "#just text\n").unwrap();
    fs::write(bin.join("trunc"), &good[..30]).unwrap();
    fs::write(bin.join("short"), &good[..2000]).unwrap();
    fs::copy("/bin/true", bin.join("x86")).expect("the host's /bin/true");
    fs::create_dir_all(bin.join("dir")).unwrap();
    // Executable, so the loader (not the permission check) is what rejects them.
    for name in ["text", "trunc", "short", "x86"] {
        fs::set_permissions(bin.join(name), fs::Permissions::from_mode(0o755)).unwrap();
    }
    root
}

/// Runs `ctr2wasm exec [--wasm] --rootfs ROOT -- PROGRAM` and returns (status, stdout, stderr).
fn exec(root: &Path, wasm: bool, program: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"));
    cmd.arg("exec");
    if wasm {
        cmd.arg("--wasm");
    }
    cmd.arg("--rootfs")
        .arg(root)
        .arg("--")
        .arg(program)
        .envs(env.iter().copied());
    let out = cmd.output().expect("run ctr2wasm");
    (
        out.status.code().expect("ctr2wasm exits, it is not killed"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_programs_exit_126_or_127_with_one_line() {
    let root = broken_rootfs();
    let cases = [
        ("/bin/text", 126, "ctr2wasm: /bin/text: not an ELF file\n"),
        (
            "/bin/trunc",
            126,
            "ctr2wasm: /bin/trunc: truncated ELF header (30 bytes, need 64)\n",
        ),
        (
            "/bin/x86",
            126,
            "ctr2wasm: /bin/x86: not a riscv64 executable (e_machine 62, expected 243)\n",
        ),
        ("/bin/dir", 126, "ctr2wasm: /bin/dir: is a directory\n"),
        (
            "/bin/nope",
            127,
            "ctr2wasm: /bin/nope: no such file or directory\n",
        ),
    ];
    for wasm in [false, true] {
        for (program, status, message) in cases {
            let got = exec(&root, wasm, program, &[]);
            assert_eq!(
                got,
                (status, String::new(), message.to_string()),
                "{program} wasm={wasm}"
            );
        }
        // A file cut inside its segments: the message names the segment and the file size.
        let (status, stdout, stderr) = exec(&root, wasm, "/bin/short", &[]);
        assert_eq!((status, stdout.as_str()), (126, ""));
        assert!(
            stderr.starts_with("ctr2wasm: /bin/short: bad segment ")
                && stderr.ends_with("extends past the end of the file (2000 bytes)\n")
                && stderr.lines().count() == 1,
            "{stderr}"
        );
    }
}

#[test]
fn unknown_syscalls_return_enosys_and_are_traced() {
    let rootfs = guest::rootfs();
    let program = rootfs.guest_path("enosys", Variant::Rv64gc);
    for wasm in [false, true] {
        let (status, stdout, stderr) = exec(
            rootfs.root(),
            wasm,
            &program,
            &[("CTR2WASM_TRACE", "syscalls")],
        );
        assert_eq!(status, 0, "{stderr}");
        assert!(stdout.contains("ENOSYS"), "{stdout}");
        for nr in ["syscall_4000(", "syscall_999(", "syscall_100000("] {
            assert!(
                stderr
                    .lines()
                    .any(|l| l.starts_with(nr) && l.ends_with(") = -1 ENOSYS")),
                "no trace line for {nr} (wasm={wasm}):\n{stderr}"
            );
        }
        // Without the flag the guest's stderr is its own.
        let (_, _, quiet) = exec(rootfs.root(), wasm, &program, &[]);
        assert!(!quiet.contains("ENOSYS"), "{quiet}");
    }
}

#[test]
fn stats_report_retired_instructions() {
    let rootfs = guest::rootfs();
    let program = rootfs.guest_path("exit42", Variant::Rv64gc);
    for wasm in [false, true] {
        let (status, _, stderr) = exec(rootfs.root(), wasm, &program, &[("CTR2WASM_STATS", "1")]);
        assert_eq!(status, 42);
        let line = stderr.lines().last().unwrap_or_default();
        let instret: u64 = line
            .strip_prefix("ctr2wasm-stats: instret=")
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no stats line: {stderr}"));
        assert!(instret > 1000, "{line}");
    }
}

/// Instructions of reaped children count once: a forked child (here a subshell, which does not
/// exec) starts from zero, so a shell
/// starting twice as many processes retires about twice as many instructions, not four times
/// (which is what counting the parent's total again in every child gave).
#[test]
fn stats_count_forked_children_once() {
    let rootfs = crate::userland::debian_rootfs();
    let instret = |n: u32| -> u64 {
        let out = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"))
            .args(["exec", "--rootfs"])
            .arg(rootfs)
            .args(["--env", "PATH=/usr/bin:/bin", "--", "/bin/bash", "-c"])
            .arg(format!("for i in $(seq {n}); do /bin/true; (:); done"))
            .env("CTR2WASM_STATS", "1")
            .output()
            .expect("run ctr2wasm");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        stderr
            .lines()
            .last()
            .and_then(|l| l.strip_prefix("ctr2wasm-stats: instret="))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no stats line: {stderr}"))
    };
    let (forty, eighty) = (instret(40), instret(80));
    assert!(
        eighty < forty * 5 / 2,
        "40 processes: {forty} instructions, 80: {eighty}"
    );
}
