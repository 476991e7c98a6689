//! Differential tests: every guest program runs under `ctr2wasm exec` (the native build; with
//! `--wasm` the runtime module in wasmtime; and that again translating every block it can to
//! wasm) and under qemu-riscv64, in both build variants, and stdout, stderr and the exit
//! status must match byte for byte.
//!
//! The reference runs `qemu-riscv64 -0 /bin/NAME ROOT/bin/NAME ARGS` with an environment that
//! holds only the program's variables, so the guest sees the same argv and envp as under
//! `ctr2wasm exec --rootfs ROOT --env K=V -- /bin/NAME ARGS`. It runs twice: a program whose
//! own output differs between runs is reported as such rather than blamed on the emulator.
//!
//! Exit statuses are compared the way a shell reports them: qemu-riscv64 kills itself with
//! the guest's fatal signal, while `ctr2wasm exec` exits with 128 + the signal number, so a
//! death by signal n counts as status 128 + n on both sides. qemu runs under
//! `prlimit --core=0` so a guest crash writes no core file.
//!
//! qemu-riscv64's execve is the host kernel's, so a guest that execs a riscv64 program (execve,
//! spawn: `/proc/self/exe` again) needs binfmt_misc to hand it to qemu; every reference run
//! first makes sure it is registered (`tests/rootfs/binfmt.sh`), or the reference would report
//! a failed exec (status 127) on a machine where nothing else registered it yet.

use std::env;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::{ErrorKind, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use crate::guest::{self, Variant};

/// Guards against a hung reference run; every program finishes in well under a second.
const QEMU_TIMEOUT: Duration = Duration::from_secs(60);

/// Guards against a hung or looping emulator. Generous because an interpreter in a test build
/// on a busy CI machine can be tens of times slower than qemu's JIT.
const OURS_TIMEOUT: Duration = Duration::from_secs(300);

/// How many removed and added lines a report shows at most.
const DIFF_LINES: usize = 16;

/// How many lines from the first difference on are aligned to find the first hunk.
const DIFF_WINDOW: usize = 200;

/// Lines of agreement shown before the first difference.
const DIFF_CONTEXT: usize = 3;

/// Longer lines are cut in reports.
const DIFF_LINE_CHARS: usize = 240;

/// One guest program and what it is started with.
struct Program {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [&'static str],
}

/// One test per program, so a failure names it; a program takes `{ args: [...], env: [...] }`
/// when it needs them.
macro_rules! differential_tests {
    ($($name:ident $({ args: [$($arg:expr),* $(,)?], env: [$($env:expr),* $(,)?] $(,)? })?),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(&Program {
                    name: stringify!($name),
                    args: &[$($($arg),*)?],
                    env: &[$($($env),*)?],
                });
            }
        )*

        /// Every program with a test above.
        const PROGRAMS: &[&str] = &[$(stringify!($name)),*];
    };
}

differential_tests! {
    argv_env {
        args: ["alpha", "two words", "", "--flag=x"],
        env: ["GREETING=hello world", "EMPTY=", "PATH=/usr/bin:/bin"],
    },
    atomics,
    auxv,
    bitops,
    brk,
    clock,
    csr,
    devices,
    dirs,
    enosys,
    execve,
    exit42,
    exit_flush,
    fclass,
    fcmp,
    fcntl_dup,
    fcvt,
    file_meta,
    files_basic,
    fma_sign,
    fminmax,
    fork_wait,
    futex_threads,
    fp_round,
    getrandom,
    hot_loops,
    int128,
    int_edge,
    libm,
    limits { args: ["fork", "5"], env: [] },
    links,
    malloc,
    misaligned,
    mmap,
    mmap_reserve,
    mount_race,
    muldiv,
    nanbox,
    nonblock { args: ["one", "two words", ""], env: [] },
    oom { args: ["16", "4096"], env: [] },
    pagecross,
    pipe_poll,
    printf,
    procgroups,
    recursion,
    robust_mutex,
    selfmod,
    setjmp,
    shifts,
    sigframe,
    sigill,
    signals,
    sigrestart,
    sigsegv,
    sort,
    spawn,
    stderr,
    string,
    threads,
    tree_ops,
    uname,
    zb,
    zicond,
}

/// A `.c` file without a test would never run; a test without a `.c` file fails on its own.
#[test]
fn every_guest_program_has_a_test() {
    let untested: Vec<String> = guest::program_names()
        .into_iter()
        .filter(|name| !PROGRAMS.contains(&name.as_str()))
        .collect();
    assert!(
        untested.is_empty(),
        "guest programs without a test: {} (add them to differential_tests! in tests/all/diff.rs)",
        untested.join(", ")
    );
}

fn check(program: &Program) {
    let rootfs = guest::rootfs();
    let mut failures = Vec::new();
    for variant in Variant::ALL {
        let result = rootfs
            .check_built(program.name, variant)
            .and_then(|()| compare(rootfs, program, variant));
        if let Err(report) = result {
            failures.push(report);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs the program on both sides and describes every difference.
fn compare(rootfs: &guest::Rootfs, program: &Program, variant: Variant) -> Result<(), String> {
    let guest_path = rootfs.guest_path(program.name, variant);
    let title = format!("{} as {guest_path} ({variant:?})", program.name);

    let reference = run(
        reference_command(rootfs, program, variant)?,
        true,
        QEMU_TIMEOUT,
    )?;
    let again = run(
        reference_command(rootfs, program, variant)?,
        true,
        QEMU_TIMEOUT,
    )?;
    let unstable = differences(
        &reference,
        &again,
        "first qemu-riscv64 run",
        "second qemu-riscv64 run",
    );
    if !unstable.is_empty() {
        return Err(format!(
            "{title}: the program's output differs between two qemu-riscv64 runs, so it cannot \
             serve as an oracle; print only deterministic facts\n{unstable}"
        ));
    }

    let mut reports = Vec::new();
    for (wasm, jit, side) in [
        (false, None, "ctr2wasm exec"),
        (true, None, "ctr2wasm exec --wasm"),
        // Every block translated to wasm once it has run (see riscv64::jit::set_threshold).
        (true, Some("1"), "CTR2WASM_JIT=1 ctr2wasm exec --wasm"),
    ] {
        let mut command = ours_command(rootfs, program, variant, wasm);
        if let Some(jit) = jit {
            command.env("CTR2WASM_JIT", jit);
        }
        let ours = run(command, false, OURS_TIMEOUT)?;
        let found = differences(&reference, &ours, "qemu-riscv64", side);
        if !found.is_empty() {
            reports.push(format!(
                "{title}: {side} differs from qemu-riscv64\n{found}reproduce with:\n  {}\n  {}",
                reference.command, ours.command
            ));
        }
    }
    if reports.is_empty() {
        Ok(())
    } else {
        Err(reports.join("\n\n"))
    }
}

fn reference_command(
    rootfs: &guest::Rootfs,
    program: &Program,
    variant: Variant,
) -> Result<Command, String> {
    let prlimit = find_tool("prlimit", "util-linux")?;
    let qemu = find_tool("qemu-riscv64", "qemu-user")?;
    register_binfmt()?;
    let mut command = Command::new(prlimit);
    command.arg("--core=0").arg("--").arg(qemu);
    command
        .arg("-0")
        .arg(rootfs.guest_path(program.name, variant));
    command
        .arg(rootfs.reference_binary(program.name, variant))
        .args(program.args);
    command.env_clear();
    for pair in program.env {
        let (key, value) = pair
            .split_once('=')
            .expect("guest environment entries are KEY=VALUE");
        command.env(key, value);
    }
    command.current_dir(scratch_dir());
    Ok(command)
}

/// Registers qemu-riscv64-static with binfmt_misc once per test process (see the module docs).
fn register_binfmt() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rootfs/binfmt.sh");
            let output = Command::new(&script)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
            if output.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{} failed ({}): {}",
                    script.display(),
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ))
            }
        })
        .clone()
}

/// `ctr2wasm exec`, on the native build or (`wasm`) on the runtime module in wasmtime.
fn ours_command(
    rootfs: &guest::Rootfs,
    program: &Program,
    variant: Variant,
    wasm: bool,
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"));
    command.arg("exec");
    if wasm {
        command.arg("--wasm");
    }
    command.arg("--rootfs").arg(rootfs.root());
    for pair in program.env {
        command.arg("--env").arg(pair);
    }
    command
        .arg("--")
        .arg(rootfs.guest_path(program.name, variant))
        .args(program.args);
    command.current_dir(scratch_dir());
    command
}

/// The working directory of both sides, away from the source tree.
fn scratch_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("guest-cwd");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The absolute path of a host tool, so it is found even though the reference's environment
/// is cleared.
pub(crate) fn find_tool(tool: &str, package: &str) -> Result<PathBuf, String> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            format!("{tool} is missing: install the Debian package {package} (.ci/setup does)")
        })
}

/// What one run produced.
pub(crate) struct Outcome {
    pub(crate) command: String,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    /// The status as a shell reports it: the exit code, or 128 + n after death by signal n.
    pub(crate) status: i32,
}

/// Runs a command to completion or until `timeout`; `cleared_env` says whether it was started
/// with only the environment set on it, for the command line shown in reports.
pub(crate) fn run(
    mut command: Command,
    cleared_env: bool,
    timeout: Duration,
) -> Result<Outcome, String> {
    let shown = show_command(&command, cleared_env);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            ErrorKind::NotFound => format!("cannot start {shown}: not found"),
            _ => format!("cannot start {shown}: {e}"),
        })?;
    let stdout = read_in_background(child.stdout.take().expect("stdout is piped"));
    let stderr = read_in_background(child.stderr.take().expect("stderr is piped"));

    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{shown} did not finish within {timeout:?} and was killed"
                ));
            }
            Err(e) => return Err(format!("cannot wait for {shown}: {e}")),
        }
    };
    Ok(Outcome {
        stdout: stdout.join().expect("the stdout reader panicked"),
        stderr: stderr.join().expect("the stderr reader panicked"),
        status: shell_status(status),
        command: shown,
    })
}

fn read_in_background(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        // A read error ends the output early, which the comparison then shows.
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

fn shell_status(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => unreachable!("a process that has exited has a code or a signal"),
    }
}

fn describe_status(status: i32) -> String {
    if status > 128 {
        format!("{status} (128 + signal {})", status - 128)
    } else {
        status.to_string()
    }
}

/// A command line a developer can paste into a shell.
fn show_command(command: &Command, cleared_env: bool) -> String {
    let quote = |s: &OsStr| {
        let s = s.to_string_lossy();
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._-=:,+".contains(c))
        {
            s.into_owned()
        } else {
            format!("'{}'", s.replace('\'', r"'\''"))
        }
    };
    let mut words = Vec::new();
    if cleared_env {
        words.push("env -i".to_owned());
        for (key, value) in command.get_envs().filter_map(|(k, v)| Some((k, v?))) {
            let mut pair = key.to_os_string();
            pair.push("=");
            pair.push(value);
            words.push(quote(&pair));
        }
    }
    words.push(quote(command.get_program()));
    words.extend(command.get_args().map(quote));
    words.join(" ")
}

/// Every way two runs differ, as a report; empty when they agree.
pub(crate) fn differences(
    expected: &Outcome,
    actual: &Outcome,
    expected_name: &str,
    actual_name: &str,
) -> String {
    let mut report = String::new();
    if expected.status != actual.status {
        let _ = writeln!(
            report,
            "exit status: {expected_name} {}, {actual_name} {}",
            describe_status(expected.status),
            describe_status(actual.status)
        );
    }
    for (stream, left, right) in [
        ("stdout", &expected.stdout, &actual.stdout),
        ("stderr", &expected.stderr, &actual.stderr),
    ] {
        if left != right {
            report.push_str(&line_diff(stream, left, right, expected_name, actual_name));
        }
    }
    report
}

/// A unified-diff-looking excerpt around the first line where two outputs part: a few lines
/// of agreement, then the first hunk of changes, aligned by a longest common subsequence over
/// a window of lines so one missing or extra line does not show as everything after it.
fn line_diff(
    stream: &str,
    expected: &[u8],
    actual: &[u8],
    expected_name: &str,
    actual_name: &str,
) -> String {
    let left: Vec<&[u8]> = expected.split_inclusive(|&b| b == b'\n').collect();
    let right: Vec<&[u8]> = actual.split_inclusive(|&b| b == b'\n').collect();
    let first = left.iter().zip(&right).take_while(|(l, r)| l == r).count();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{stream} differs from line {}: {expected_name} wrote {} bytes in {} lines, \
         {actual_name} {} bytes in {} lines",
        first + 1,
        expected.len(),
        left.len(),
        actual.len(),
        right.len()
    );
    let _ = writeln!(
        out,
        "--- {stream} of {expected_name}\n+++ {stream} of {actual_name}"
    );
    let start = first.saturating_sub(DIFF_CONTEXT);
    let _ = writeln!(out, "@@ -{} +{} @@", start + 1, start + 1);
    for line in &left[start..first] {
        let _ = writeln!(out, " {}", show_line(line));
    }

    let window_left = &left[first..(first + DIFF_WINDOW).min(left.len())];
    let window_right = &right[first..(first + DIFF_WINDOW).min(right.len())];
    let (mut i, mut j) = (first, first);
    let (mut changes, mut agreeing) = (0, 0);
    for edit in edits(window_left, window_right) {
        // The hunk ends after DIFF_CONTEXT agreeing lines, or once enough changes are shown.
        if agreeing == DIFF_CONTEXT || changes == DIFF_LINES {
            break;
        }
        let (sign, line) = match edit {
            Edit::Same(line) => {
                agreeing += 1;
                (i, j) = (i + 1, j + 1);
                (' ', line)
            }
            Edit::Removed(line) => {
                (changes, agreeing, i) = (changes + 1, 0, i + 1);
                ('-', line)
            }
            Edit::Added(line) => {
                (changes, agreeing, j) = (changes + 1, 0, j + 1);
                ('+', line)
            }
        };
        let _ = writeln!(out, "{sign}{}", show_line(line));
    }
    if i == left.len() && j < right.len() && changes < DIFF_LINES {
        let _ = writeln!(out, "-(end of output)");
    }
    if j == right.len() && i < left.len() && changes < DIFF_LINES {
        let _ = writeln!(out, "+(end of output)");
    }
    if left[i.min(left.len())..] != right[j.min(right.len())..] {
        let _ = writeln!(out, "… and more differences after these lines");
    }
    out
}

/// One step of turning one list of lines into another.
enum Edit<'a> {
    Same(&'a [u8]),
    Removed(&'a [u8]),
    Added(&'a [u8]),
}

/// The edits turning `left` into `right` along a longest common subsequence. Quadratic in
/// time and memory, so callers pass windows of at most [`DIFF_WINDOW`] lines.
fn edits<'a>(left: &[&'a [u8]], right: &[&'a [u8]]) -> Vec<Edit<'a>> {
    let (n, m) = (left.len(), right.len());
    // common[i][j] is the length of the longest common subsequence of left[i..] and right[j..].
    let mut common = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            common[i][j] = if left[i] == right[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut edits = Vec::new();
    while i < n || j < m {
        if i < n && j < m && left[i] == right[j] {
            edits.push(Edit::Same(left[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < n && (j == m || common[i + 1][j] >= common[i][j + 1]) {
            // Removals before additions, as unified diffs show them.
            edits.push(Edit::Removed(left[i]));
            i += 1;
        } else {
            edits.push(Edit::Added(right[j]));
            j += 1;
        }
    }
    edits
}

/// One output line made printable: control characters escaped, long lines cut, and a missing
/// final newline marked (otherwise two outputs that differ only there would look equal).
fn show_line(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let (body, newline) = match text.strip_suffix('\n') {
        Some(body) => (body, true),
        None => (&*text, false),
    };
    let mut shown = String::new();
    for (i, c) in body.chars().enumerate() {
        if i == DIFF_LINE_CHARS {
            shown.push('…');
            break;
        }
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    if !newline {
        shown.push_str(" \\ no newline at end");
    }
    shown
}
