//! What `run`, `inspect` and `web-site` do with an input that is not a converted module: a
//! device (`/dev/zero`), a FIFO nobody writes to, a directory, a text file, a missing file,
//! and a valid wasm module that `convert` did not write. Each is refused at once (a FIFO
//! must not block the open, `/dev/zero` must not be read), with exactly one line on stderr,
//! status 1, and for `web-site` no output directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long refusing a FIFO or a device may take: it is neither opened in a way that waits
/// nor read, and a debug build starts in well under this.
const AT_ONCE: Duration = Duration::from_secs(1);
/// How long the other refusals may take on a machine busy with other tests (`run` makes
/// its cache's key first, with an fsync).
const SOON: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug)]
enum Subcommand {
    Run,
    Inspect,
    WebSite,
}

const SUBCOMMANDS: [Subcommand; 3] = [Subcommand::Run, Subcommand::Inspect, Subcommand::WebSite];

/// Runs `sub` on `input` (with `site` as web-site's output) and kills it if it takes longer
/// than `limit`.
fn refuse(sub: Subcommand, input: &Path, site: &Path, cache: &Path, limit: Duration) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"));
    cmd.env("CTR2WASM_CACHE_DIR", cache);
    match sub {
        Subcommand::Run => cmd.arg("run").arg(input),
        Subcommand::Inspect => cmd.arg("inspect").arg(input),
        Subcommand::WebSite => cmd.arg("web-site").arg(input).arg(site),
    };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "{sub:?} {} did not return within {limit:?}",
                input.display()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// Every subcommand refuses `input` with exactly `message` (after `ctr2wasm: `) within
/// `limit`.
fn assert_refused(input: &Path, message: &str, limit: Duration) {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    for sub in SUBCOMMANDS {
        let site = dir.path().join("site");
        let out = refuse(sub, input, &site, &cache, limit);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            (out.status.code(), stderr.as_ref(), out.stdout.as_slice()),
            (Some(1), format!("ctr2wasm: {message}\n").as_str(), &b""[..]),
            "{sub:?} {}",
            input.display()
        );
        assert!(!site.exists(), "{sub:?} left {}", site.display());
    }
}

fn fifo(dir: &Path) -> PathBuf {
    let path = dir.join("fifo.wasm");
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    path
}

#[test]
fn dev_zero_is_not_a_regular_file() {
    assert_refused(
        Path::new("/dev/zero"),
        "/dev/zero is not a regular file",
        AT_ONCE,
    );
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let path = fifo(dir.path());
    assert_refused(
        &path,
        &format!("{} is not a regular file", path.display()),
        AT_ONCE,
    );
}

#[test]
fn a_directory_is_not_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("module.wasm");
    std::fs::create_dir(&path).unwrap();
    assert_refused(
        &path,
        &format!("{} is not a regular file", path.display()),
        SOON,
    );
}

#[test]
fn a_text_file_is_not_a_wasm_module() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.wasm");
    std::fs::write(&path, "this is not a module\nsecond line\n").unwrap();
    assert_refused(
        &path,
        &format!("{} is not a wasm module", path.display()),
        SOON,
    );
}

#[test]
fn an_empty_file_is_not_a_wasm_module() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.wasm");
    std::fs::write(&path, "").unwrap();
    assert_refused(
        &path,
        &format!("{} is not a wasm module", path.display()),
        SOON,
    );
}

#[test]
fn a_missing_file_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.wasm");
    assert_refused(
        &path,
        &format!(
            "cannot open {}: No such file or directory (os error 2)",
            path.display()
        ),
        SOON,
    );
}

#[test]
fn a_plain_wasm_module_is_not_a_converted_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
    assert_refused(
        &path,
        &format!(
            "{}: not a ctr2wasm module: it holds no image bundle",
            path.display()
        ),
        SOON,
    );
}
