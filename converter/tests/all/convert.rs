//! `ctr2wasm convert` end to end: the fixture images (see `images`) converted from a real
//! registry, an OCI layout and docker-archive files, then run in wasmtime (`ctr2wasm run`, the
//! crate) and in node's WASI; each shows the tree a correct flatten gives, its default
//! command's output, and `docker run`'s rules for arguments, environment and exit status.
//! Bad inputs each give one line on stderr, a non-zero exit and no output file.

use crate::host_tools;
use crate::images::{Image, fixtures};
use crate::registry::Registry;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn ctr2wasm() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"));
    c.stdin(Stdio::null());
    c
}

/// A converted module in its own temporary directory.
struct Module {
    /// Holds the directory until the test is done with the module.
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn convert(reference: &str, extra: &[&str]) -> Module {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.wasm");
    let out = ctr2wasm()
        .arg("convert")
        .args(extra)
        .arg(reference)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "convert {reference} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Module { _dir: dir, path }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// How a module is run: the embedded wasmtime or node's WASI.
#[derive(Clone, Copy, Debug)]
enum Runtime {
    Wasmtime,
    Node,
}

const RUNTIMES: [Runtime; 2] = [Runtime::Wasmtime, Runtime::Node];

/// Runs `module` with `args` (replacing Cmd), `--env` pairs, `--dir` mounts and `stdin`.
fn run(rt: Runtime, module: &Module, args: &[&str], env: &[&str], stdin: &[u8]) -> Output {
    run_with_dirs(rt, module, args, env, &[], stdin)
}

fn run_with_dirs(
    rt: Runtime,
    module: &Module,
    args: &[&str],
    env: &[&str],
    dirs: &[String],
    stdin: &[u8],
) -> Output {
    let mut cmd = match rt {
        Runtime::Wasmtime => {
            let mut c = ctr2wasm();
            c.arg("run");
            c
        }
        Runtime::Node => {
            let mut c = Command::new(host_tools::require("node", "nodejs"));
            c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/run-wasi.mjs"));
            c
        }
    };
    for e in env {
        cmd.args(["--env", e]);
    }
    for d in dirs {
        cmd.args(["--dir", d]);
    }
    match rt {
        Runtime::Wasmtime => cmd.arg(&module.path).arg("--").args(args),
        Runtime::Node => cmd.arg("--").arg(&module.path).args(args),
    };
    // Both runners take the runtime's switches from their own flags only.
    cmd.env_remove("CTR2WASM_TRACE")
        .env_remove("CTR2WASM_STATS");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// The image's default command gives what its expectations say, in both runtimes.
fn check_default_run(module: &Module, image: &Image) {
    let stdin = image.str("/default_run/stdin");
    let stdout = image.str("/default_run/stdout");
    let status = image.value("/default_run/status").as_i64().unwrap() as i32;
    for rt in RUNTIMES {
        let out = run(rt, module, &[], &[], stdin.as_bytes());
        assert_eq!(
            text(&out.stdout),
            stdout,
            "{rt:?}: stderr {}",
            text(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(status), "{rt:?}");
    }
}

/// The check script prints exactly the tree a correct flatten gives.
fn check_tree(module: &Module, image: &Image, runtimes: &[Runtime]) {
    for &rt in runtimes {
        let out = run(
            rt,
            module,
            &["/bin/sh", "-c", image.str("/check/script")],
            &[],
            b"",
        );
        assert_eq!(
            text(&out.stdout),
            image.str("/check/stdout"),
            "{rt:?}: stderr {}",
            text(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "{rt:?}");
    }
}

fn inspect(module: &Module) -> String {
    let out = ctr2wasm()
        .arg("inspect")
        .arg(&module.path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn oci_layout_busybox_runs_with_the_flattened_tree() {
    let image = fixtures().image("busybox");
    let module = convert(&image.reference(), &["--quiet"]);
    check_default_run(&module, &image);
    check_tree(&module, &image, &RUNTIMES);
    let info = inspect(&module);
    assert!(
        info.contains(&format!("digest:       {}", image.digest())),
        "{info}"
    );
    assert!(info.contains("platform:     linux/riscv64"), "{info}");
    assert!(info.contains("GREETING=hello-from-image"), "{info}");
    assert!(info.contains("workdir:      /work"), "{info}");
}

#[test]
fn docker_run_rules_for_args_env_status_and_streams() {
    let image = fixtures().image("busybox");
    let module = convert(&image.reference(), &["--quiet"]);
    for rt in RUNTIMES {
        // Arguments replace Cmd and run in WorkingDir.
        let out = run(rt, &module, &["pwd"], &[], b"");
        assert_eq!(
            text(&out.stdout),
            "/work\n",
            "{rt:?}: {}",
            text(&out.stderr)
        );
        // --env overrides the image's Env and adds to it.
        let out = run(
            rt,
            &module,
            &["/bin/sh", "-c", "echo $GREETING $EXTRA; echo $PATH"],
            &["GREETING=overridden", "EXTRA=added"],
            b"",
        );
        assert_eq!(
            text(&out.stdout),
            "overridden added\n/usr/sbin:/usr/bin:/sbin:/bin\n",
            "{rt:?}"
        );
        // The container's status is the process's; stdout and stderr stay apart.
        let out = run(
            rt,
            &module,
            &["sh", "-c", "echo to-out; echo to-err >&2; exit 3"],
            &[],
            b"",
        );
        assert_eq!(out.status.code(), Some(3), "{rt:?}");
        assert_eq!(text(&out.stdout), "to-out\n", "{rt:?}");
        assert_eq!(text(&out.stderr), "to-err\n", "{rt:?}");
        // Piped stdin reaches the guest.
        let out = run(rt, &module, &["tr", "a-z", "A-Z"], &[], b"hello\n");
        assert_eq!(text(&out.stdout), "HELLO\n", "{rt:?}");
        // A mounted host directory: its files are read, and writes from inside reach the host.
        let host = tempfile::tempdir().unwrap();
        std::fs::write(host.path().join("in.txt"), "from the host\n").unwrap();
        let out = run_with_dirs(
            rt,
            &module,
            &[
                "sh",
                "-c",
                "cat /mnt/data/in.txt; echo written inside > /mnt/data/out.txt; mkdir /mnt/data/d",
            ],
            &[],
            &[format!("{}::/mnt/data", host.path().display())],
            b"",
        );
        assert_eq!(
            text(&out.stdout),
            "from the host\n",
            "{rt:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "{rt:?}");
        assert_eq!(
            std::fs::read_to_string(host.path().join("out.txt")).unwrap(),
            "written inside\n",
            "{rt:?}"
        );
        assert!(host.path().join("d").is_dir(), "{rt:?}");
    }
}

#[test]
fn registry_debian_image_with_bash_and_python() {
    let image = fixtures().image("debian");
    let registry = Registry::start();
    let reference = registry.push(image.path(), image.tag(), "debian:13");
    let module = convert(&reference, &["--quiet", "--insecure"]);
    check_default_run(&module, &image);
    // The tree check under node too would only repeat the busybox test, slower.
    check_tree(&module, &image, &[Runtime::Wasmtime]);
    let out = run(
        Runtime::Wasmtime,
        &module,
        &["python3", "-c", "import os; print(6*7, os.getcwd())"],
        &[],
        b"",
    );
    assert_eq!(text(&out.stdout), "42 /\n", "{}", text(&out.stderr));
    // access(2) with X_OK on the image's files and directories.
    let out = run(
        Runtime::Wasmtime,
        &module,
        &[
            "python3",
            "-c",
            "import os; print([os.access(p, os.X_OK) for p in ('/usr/bin', '/usr/bin/env', '/etc/passwd')])",
        ],
        &[],
        b"",
    );
    assert_eq!(
        text(&out.stdout),
        "[True, True, False]\n",
        "{}",
        text(&out.stderr)
    );
    let info = inspect(&module);
    assert!(
        info.contains(&format!("image:        {reference}")),
        "{info}"
    );
    assert!(
        info.contains(&format!("digest:       {}", image.digest())),
        "{info}"
    );
}

#[test]
fn registry_multi_arch_index_resolves_to_riscv64() {
    let image = fixtures().image("multi");
    let registry = Registry::start();
    let reference = registry.push(image.path(), image.tag(), "multi:1");
    let module = convert(&reference, &["--quiet", "--insecure"]);
    check_default_run(&module, &image);
    let info = inspect(&module);
    assert!(info.contains("platform:     linux/riscv64"), "{info}");
    assert!(
        info.contains(image.platform_digest("linux/riscv64")) || info.contains(image.digest()),
        "{info}"
    );
}

#[test]
fn docker_archives_legacy_and_oci_flavours() {
    for name in ["busybox-legacy", "busybox-oci"] {
        let image = fixtures().image(name);
        let module = convert(&image.reference(), &["--quiet"]);
        check_default_run(&module, &image);
        check_tree(&module, &image, &[Runtime::Wasmtime]);
    }
}

/// A conversion that must fail: one line on stderr naming the problem, a non-zero exit, and
/// no output file (nor a temporary one left beside it).
fn assert_fails(reference: &str, extra: &[&str], needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.wasm");
    let out = ctr2wasm()
        .arg("convert")
        .arg("--quiet")
        .args(extra)
        .arg(reference)
        .arg(&path)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{reference} converted");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(stderr.starts_with("ctr2wasm: "), "{stderr:?}");
    for n in needles {
        assert!(stderr.contains(n), "{stderr:?} does not name {n:?}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{reference} left {left:?}");
}

#[test]
fn bad_inputs_fail_cleanly() {
    let f = fixtures();
    let registry = Registry::start();
    // Unknown repository and unknown tag.
    let missing = format!("{}/nope:1", registry.host());
    assert_fails(&missing, &["--insecure"], &[&missing, "not found"]);
    let busybox = f.image("busybox");
    let pushed = registry.push(busybox.path(), busybox.tag(), "busybox:1");
    let wrong_tag = pushed.replace(":1", ":2");
    assert_fails(&wrong_tag, &["--insecure"], &[&wrong_tag, "not found"]);
    // No riscv64 variant: the message lists what there is.
    let amd64 = f.image("amd64-only");
    assert_fails(&amd64.reference(), &[], &["linux/riscv64", "linux/amd64"]);
    let pushed = registry.push(amd64.path(), amd64.tag(), "amd64:1");
    assert_fails(&pushed, &["--insecure"], &["linux/riscv64", "linux/amd64"]);
    // A blob whose bytes do not match its digest.
    let corrupt = f.image("corrupt-blob");
    assert_fails(&corrupt.reference(), &[], &[corrupt.str("/error/digest")]);
    // A gzip layer cut short.
    let truncated = f.image("truncated-gzip");
    assert_fails(
        &truncated.reference(),
        &[],
        &[truncated.str("/error/digest")],
    );
    // A member that climbs out of the root.
    let escape = f.image("escape");
    assert_fails(&escape.reference(), &[], &["../../etc/passwd"]);
}

#[test]
fn an_unwritable_output_fails_before_pulling() {
    let image = fixtures().image("busybox");
    for target in ["/proc/ctr2wasm-test.wasm", "/etc/passwd/out.wasm"] {
        let out = ctr2wasm()
            .args(["convert", "--quiet"])
            .arg(image.reference())
            .arg(target)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert!(!out.status.success());
        assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
        assert!(stderr.contains(target), "{stderr:?}");
        assert!(!Path::new(target).exists());
    }
}

#[test]
fn inspect_refuses_what_is_not_a_converted_module() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
    let out = ctr2wasm().arg("inspect").arg(&path).output().unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not a ctr2wasm module"),
        "{}",
        text(&out.stderr)
    );
}

/// `ctr2wasm run` on a terminal: the host terminal goes raw and the runtime does the line
/// discipline, so an interactive shell's line is echoed once (by the guest's own rules, not
/// the host's on top), `tty` names the terminal, and the exit status comes back.
#[test]
fn run_on_a_terminal_is_interactive() {
    let image = fixtures().image("debian");
    let module = convert(&image.reference(), &["--quiet"]);
    let python = host_tools::require("python3", "python3");
    // A pty driver: type a line, then `exit 5`, and print everything the terminal showed.
    let driver = r##"
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def drain(until):
    global out
    deadline = time.time() + 30
    while until not in out and time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
drain(b"# ")
os.write(fd, b"echo $((6*7)); tty\n")
drain(b"/dev/pts/0\r\n")
os.write(fd, b"exit 5\n")
drain(b"exit\r\n")
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"##;
    let out = Command::new(python)
        .args(["-c", driver, env!("CARGO_BIN_EXE_ctr2wasm"), "run"])
        .arg(&module.path)
        .args(["bash", "-i"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let screen = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{screen:?} {}",
        text(&out.stderr)
    );
    assert_eq!(
        screen.matches("echo $((6*7)); tty").count(),
        1,
        "{screen:?}"
    );
    assert!(screen.contains("\r\n42\r\n/dev/pts/0\r\n"), "{screen:?}");
}
