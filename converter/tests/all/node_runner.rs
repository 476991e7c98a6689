//! `tests/node/run-wasi.mjs`, the runner that starts converted modules under node's WASI, on a
//! small wasm32-wasip1 program (`tests/node/wasi-probe.rs`) that prints everything the runner
//! hands it: argv, environment, a preopened directory, stdin; and its exit status.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::host_tools;

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

/// The probe, compiled once per test run.
fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| {
        let rustc = host_tools::require("rustc", "rustup");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("node");
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let wasm = dir.join("wasi-probe.wasm");
        let source = node_dir().join("wasi-probe.rs");
        let out = Command::new(rustc)
            .args(["--edition", "2024", "--target", "wasm32-wasip1", "-O", "-o"])
            .arg(&wasm)
            .arg(&source)
            .output()
            .unwrap_or_else(|e| panic!("cannot run rustc: {e}"));
        assert!(
            out.status.success(),
            "rustc --target wasm32-wasip1 {} failed (is the target installed? \
             `rustup target add wasm32-wasip1`):\n{}",
            source.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        wasm
    })
}

fn run_wasi(args: &[&str], stdin: &[u8]) -> Output {
    let node = host_tools::require("node", "nodejs");
    let mut child = Command::new(node)
        .arg(node_dir().join("run-wasi.mjs"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node: {e}"));
    let mut input = child.stdin.take().expect("stdin is piped");
    input.write_all(stdin).expect("write the runner's stdin");
    drop(input);
    child.wait_with_output().expect("wait for node")
}

#[test]
fn run_wasi_passes_args_env_dirs_stdio_and_status() {
    let probe = probe().display().to_string();
    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join("node/data");
    let _ = fs::remove_dir_all(&data);
    fs::create_dir_all(&data).expect("create the preopened directory");
    fs::write(data.join("in.txt"), "from the host\n").expect("write in.txt");
    let dir = format!("{}::/data", data.display());
    let out = run_wasi(
        &[
            "--env",
            "GREETING=hi",
            "--env",
            "EQ=a=b",
            "--dir",
            &dir,
            &probe,
            "one",
            "two words",
        ],
        b"typed input",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "args: [\"one\", \"two words\"]\n\
         env: EQ=a=b\n\
         env: GREETING=hi\n\
         /data/in.txt: from the host\n\
         stdin: \"typed input\"\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "probe: to stderr\n");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        fs::read_to_string(data.join("out.txt")).expect("the guest wrote out.txt"),
        "written by the guest\n"
    );
}

#[test]
fn run_wasi_reports_traps_and_usage_errors() {
    let probe = probe().display().to_string();
    let out = run_wasi(&[&probe, "abort"], b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "run-wasi: {probe} trapped: RuntimeError: unreachable\n"
        )),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(134));

    let out = run_wasi(&["--dir"], b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "run-wasi: --dir needs a value\nusage: node run-wasi.mjs [--env K=V]... \
         [--dir HOST::GUEST]... [--] MODULE.wasm [ARGS]...\n"
    );
    assert_eq!(out.status.code(), Some(2));
}
