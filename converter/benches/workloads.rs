//! Workloads benchmark (issue 6): fixed whole-program workloads through the product path, the
//! Debian 13 riscv64 test rootfs converted to a module and run by `ctr2wasm run` (wasmtime,
//! compiled-module cache warm), and through `ctr2wasm exec` (the interpreter built for the
//! host), next to qemu-riscv64 (a binfmt chroot of the same rootfs, so every exec'd child runs
//! under qemu too) and the same programs natively from a Debian 13 amd64 root in a chroot.
//! Run with `cargo bench --bench workloads`; needs root (chroot, mounts, binfmt_misc).
//!
//! Prints a table of medians of `RUNS` runs (default 3) of the whole process, the ratios of
//! `ctr2wasm run` to qemu and to native, the guest's retired instructions and MIPS (from
//! `CTR2WASM_STATS`, the runtime's own time, excluding process start and module load), and
//! the peak RSS of each runner for python3's start-up. `WORKLOADS=python-startup,sha256`
//! selects workloads by name. Every run's stdout and stderr must equal the native run's, byte
//! for byte, or the benchmark fails.
//!
//! Inputs are generated deterministically into a host directory that every runner sees as
//! `/bench` (`--dir` for ctr2wasm, a bind mount in the chroots). The process re-executes
//! itself in a private mount namespace first, so the chroots' overlay, /dev, /proc and /bench
//! mounts vanish when it exits; the chroots' writable layers are overlays, so neither cached
//! rootfs is ever modified.

#[path = "common/stats.rs"]
mod stats;
use stats::Stats;
use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The guests' whole environment, the same under every runner. A fixed hash seed keeps
/// python's work (and so its instruction count) the same from run to run.
const GUEST_ENV: &[(&str, &str)] = &[
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("PYTHONHASHSEED", "0"),
];
/// Set in the re-executed benchmark, inside its private mount namespace.
const NS_MARKER: &str = "CTR2WASM_BENCH_WORKLOADS_NS";
/// The C programs of `benches/guest/`, shared with the cpu benchmark.
const C_PROGRAMS: &[&str] = &["sieve", "intloop", "fib", "fploop", "memstr"];

const PYTHON_LOOP: &str = "s = 0\nfor i in range(3000000):\n    s += i * i % 7\nprint(s)\n";
const PYTHON_STARTUP: &[&str] = &[
    "/usr/bin/python3",
    "-c",
    "import sys; print(sys.version_info[:3])",
];

/// One workload: an argv of guest paths, where `{bin}` stands for the directory of the C
/// programs built for the runner's architecture.
struct Workload {
    name: String,
    argv: Vec<String>,
    /// A guest directory the workload creates; emptied after each run in the chroots (the
    /// ctr2wasm runners start each run from the pristine rootfs anyway).
    creates: Option<&'static str>,
}

fn workloads() -> Vec<Workload> {
    let w = |name: &str, argv: &[&str]| Workload {
        name: name.to_string(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        creates: None,
    };
    let mut all = vec![
        w("python-startup", PYTHON_STARTUP),
        w("python-loop", &["/usr/bin/python3", "-c", PYTHON_LOOP]),
        w(
            "sha256sum-50M",
            &["/usr/bin/sha256sum", "/bench/random-50M"],
        ),
        w(
            "gzip-9-20M",
            &["/usr/bin/gzip", "-9", "-n", "-c", "/bench/text-20M"],
        ),
        Workload {
            creates: Some("tmp/usr"),
            ..w(
                "tar-xzf",
                &[
                    "/usr/bin/tar",
                    "-xvzf",
                    "/bench/python3.13.tar.gz",
                    "-C",
                    "/tmp",
                ],
            )
        },
        w(
            "bash-200-procs",
            &[
                "/bin/bash",
                "-c",
                "n=0; for i in $(seq 200); do /bin/true; n=$((n+1)); done; echo $n",
            ],
        ),
    ];
    for p in C_PROGRAMS {
        all.push(w(p, &[&format!("{{bin}}/{p}")]));
    }
    all
}

#[derive(Clone, Copy, PartialEq)]
enum Runner {
    Native,
    Qemu,
    Exec,
    Run,
}

impl Runner {
    const ALL: [Runner; 4] = [Runner::Native, Runner::Qemu, Runner::Exec, Runner::Run];

    fn name(self) -> &'static str {
        match self {
            Runner::Native => "native",
            Runner::Qemu => "qemu",
            Runner::Exec => "exec",
            Runner::Run => "run",
        }
    }
}

/// What the runners need: the chroots, the module, the bench directory.
struct Setup {
    ctr2wasm: &'static str,
    rootfs_riscv64: PathBuf,
    chroot_riscv64: PathBuf,
    chroot_amd64: PathBuf,
    module: PathBuf,
    bench: PathBuf,
}

impl Setup {
    fn command(&self, runner: Runner, argv: &[String]) -> Command {
        let arch = if runner == Runner::Native {
            "x86_64"
        } else {
            "riscv64"
        };
        let argv: Vec<String> = argv
            .iter()
            .map(|a| a.replace("{bin}", &format!("/bench/bin-{arch}")))
            .collect();
        let bench_dir = format!("{}::/bench", self.bench.display());
        let env_args = GUEST_ENV
            .iter()
            .flat_map(|(k, v)| ["--env".into(), format!("{k}={v}")]);
        let mut cmd = match runner {
            Runner::Native | Runner::Qemu => {
                let mut cmd = Command::new("chroot");
                cmd.env_clear()
                    .envs(GUEST_ENV.iter().copied())
                    .arg(if runner == Runner::Native {
                        &self.chroot_amd64
                    } else {
                        &self.chroot_riscv64
                    });
                cmd
            }
            Runner::Exec => {
                let mut cmd = Command::new(self.ctr2wasm);
                cmd.arg("exec")
                    .arg("--rootfs")
                    .arg(&self.rootfs_riscv64)
                    .args(env_args)
                    .args(["--dir", &bench_dir, "--"])
                    .env("CTR2WASM_STATS", "1");
                cmd
            }
            Runner::Run => {
                let mut cmd = Command::new(self.ctr2wasm);
                cmd.arg("run")
                    .args(env_args)
                    .args(["--dir", &bench_dir])
                    .arg(&self.module)
                    .arg("--")
                    .env("CTR2WASM_STATS", "1");
                cmd
            }
        };
        cmd.args(argv).stdin(Stdio::null());
        cmd
    }

    /// Empties what a workload created inside a chroot.
    fn clean(&self, runner: Runner, w: &Workload) {
        let root = match runner {
            Runner::Native => &self.chroot_amd64,
            Runner::Qemu => &self.chroot_riscv64,
            Runner::Exec | Runner::Run => return,
        };
        if let Some(dir) = w.creates {
            let _ = std::fs::remove_dir_all(root.join(dir));
        }
    }
}

struct Outcome {
    wall: Duration,
    /// stdout, then stderr without the stats line.
    output: Vec<u8>,
    stats: Option<Stats>,
}

fn run_once(cmd: &mut Command) -> Outcome {
    let start = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {stderr}",
        out.status
    );
    let mut output = out.stdout;
    output.extend_from_slice(b"\n--- stderr ---\n");
    let mut stats = None;
    for line in stderr.split_inclusive('\n') {
        if line.starts_with("ctr2wasm-stats:") {
            stats = Some(Stats::parse(line));
        } else {
            output.extend_from_slice(line.as_bytes());
        }
    }
    Outcome {
        wall,
        output,
        stats,
    }
}

fn main() {
    if std::env::var_os(NS_MARKER).is_none() {
        let uid = std::fs::metadata("/proc/self").expect("/proc/self").uid();
        assert_eq!(
            uid, 0,
            "the workloads benchmark must run as root (chroot, mounts, binfmt_misc)"
        );
        let exe = std::env::current_exe().expect("current exe");
        let err = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--"])
            .arg(exe)
            .args(std::env::args_os().skip(1))
            .env(NS_MARKER, "1")
            .exec();
        panic!("cannot re-execute under unshare: {err}");
    }

    let runs: usize = std::env::var("RUNS")
        .ok()
        .map(|s| s.parse().expect("RUNS is a number"))
        .unwrap_or(3)
        .max(1);
    let mut selected = workloads();
    if let Ok(filter) = std::env::var("WORKLOADS") {
        let names: Vec<&str> = filter.split(',').map(str::trim).collect();
        for n in &names {
            assert!(
                selected.iter().any(|w| w.name == *n),
                "WORKLOADS: no workload {n}; there are {}",
                workloads()
                    .iter()
                    .map(|w| w.name.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
        }
        selected.retain(|w| names.contains(&w.name.as_str()));
    }

    let t_bench = Instant::now();
    let setup = prepare();
    eprintln!(
        "workloads: set up in {:.1} s",
        t_bench.elapsed().as_secs_f64()
    );

    println!(
        "{:<15} {:>8} {:>8} {:>8} {:>9} {:>9} | {:>6} {:>7} | {:>9} {:>10}",
        "workload",
        "Minstr",
        "native",
        "qemu",
        "exec",
        "run",
        "×qemu",
        "×native",
        "MIPS(run)",
        "MIPS(exec)"
    );
    for w in &selected {
        let t = Instant::now();
        let mut reference: Option<Vec<u8>> = None;
        let mut medians = Vec::new();
        for runner in Runner::ALL {
            let mut outcomes: Vec<Outcome> = (0..runs)
                .map(|_| {
                    let o = run_once(&mut setup.command(runner, &w.argv));
                    setup.clean(runner, w);
                    o
                })
                .collect();
            for o in &outcomes {
                match &reference {
                    None => reference = Some(o.output.clone()),
                    Some(r) => assert!(
                        *r == o.output,
                        "workload {}: {} printed something else than native:\n{}\n--- native printed ---\n{}",
                        w.name,
                        runner.name(),
                        tail(&o.output),
                        tail(r)
                    ),
                }
            }
            outcomes.sort_by_key(|o| o.wall);
            medians.push(outcomes.swap_remove(runs / 2));
        }
        let [native, qemu, exec, run] = <[Outcome; 4]>::try_from(medians)
            .ok()
            .expect("one median per runner");
        let stats = run.stats.as_ref().expect("ctr2wasm run printed no stats");
        let exec_stats = exec.stats.as_ref().expect("ctr2wasm exec printed no stats");
        let minstr = stats.instret as f64 / 1e6;
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
        println!(
            "{:<15} {:>8.1} {:>8} {:>8} {:>9} {:>9} | {:>6.1} {:>7.1} | {:>9.0} {:>10.0}",
            w.name,
            minstr,
            ms(native.wall),
            ms(qemu.wall),
            ms(exec.wall),
            ms(run.wall),
            ratio(run.wall, qemu.wall),
            ratio(run.wall, native.wall),
            minstr / stats.elapsed.as_secs_f64(),
            exec_stats.instret as f64 / 1e6 / exec_stats.elapsed.as_secs_f64(),
        );
        eprintln!(
            "workloads: {} took {:.1} s",
            w.name,
            t.elapsed().as_secs_f64()
        );
    }

    if selected.iter().any(|w| w.name == "python-startup") {
        let argv: Vec<String> = PYTHON_STARTUP.iter().map(|s| s.to_string()).collect();
        let mut line = String::from("peak RSS of python3 start-up:");
        for runner in Runner::ALL {
            let _ = write!(
                line,
                " {} {:.1} MB",
                runner.name(),
                peak_rss_kb(&setup.command(runner, &argv)) as f64 / 1024.0
            );
        }
        println!("\n{line}");
    }
    println!(
        "\nnative: Debian 13 amd64 in a chroot; qemu: qemu-riscv64 (binfmt chroot of the riscv64 \
         rootfs); exec: `ctr2wasm exec` (interpreter built for the host); run: `ctr2wasm run` of \
         the converted rootfs (wasmtime, compiled module cached). Whole-process wall time, median \
         of {runs}; ×qemu, ×native: run's time over theirs; Minstr, MIPS: the guest's retired \
         instructions under run, and per second of the runtime's own time (run, then exec)."
    );
    eprintln!(
        "workloads: the benchmark took {:.0} s",
        t_bench.elapsed().as_secs_f64()
    );
}

/// Builds or finds the rootfs trees, generates the inputs, builds the C programs, converts the
/// riscv64 rootfs, mounts the chroots and warms the compiled-module cache.
fn prepare() -> Setup {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scripts = manifest.join("tests/rootfs");
    let rootfs_riscv64 = PathBuf::from(last_line(&sh(&mut Command::new(
        scripts.join("build-debian-rootfs.sh"),
    ))));
    let rootfs_amd64 = PathBuf::from(last_line(&sh(&mut Command::new(
        scripts.join("build-debian-amd64-rootfs.sh"),
    ))));
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-workloads");
    let _ = std::fs::remove_dir_all(&work);
    let bench = work.join("bench");
    std::fs::create_dir_all(&bench).expect("bench dir");

    // binfmt_misc: qemu-chroot.sh registers qemu-riscv64 (with the F flag) when it is missing.
    sh(Command::new(scripts.join("qemu-chroot.sh"))
        .arg(&rootfs_riscv64)
        .arg(work.join("qemu-register"))
        .args(["--", "/usr/bin/true"]));

    generate_inputs(&bench, &rootfs_riscv64);
    for arch in ["riscv64", "x86_64"] {
        let dir = bench.join(format!("bin-{arch}"));
        std::fs::create_dir_all(&dir).expect("bin dir");
        let cc = if arch == "x86_64" {
            "gcc"
        } else {
            "riscv64-linux-gnu-gcc"
        };
        for p in C_PROGRAMS {
            // Static, so the host's gcc output also runs in the Debian 13 chroot.
            sh(Command::new(cc)
                .args(["-O2", "-static", "-o"])
                .arg(dir.join(p))
                .arg(manifest.join(format!("benches/guest/{p}.c")))
                .arg("-lm"));
        }
    }

    let ctr2wasm = env!("CARGO_BIN_EXE_ctr2wasm");
    let module = work.join("debian-riscv64.wasm");
    sh(Command::new(ctr2wasm)
        .args(["convert", "--quiet"])
        .arg(format!("dir:{}", rootfs_riscv64.display()))
        .arg(&module));

    let setup = Setup {
        ctr2wasm,
        chroot_riscv64: mount_chroot(&rootfs_riscv64, &work.join("chroot-riscv64"), &bench),
        chroot_amd64: mount_chroot(&rootfs_amd64, &work.join("chroot-amd64"), &bench),
        rootfs_riscv64,
        module,
        bench,
    };
    // The first run compiles the module's runtime and caches it; later runs map the cache.
    let warm = ["/usr/bin/true".to_string()];
    for runner in Runner::ALL {
        run_once(&mut setup.command(runner, &warm));
    }
    setup
}

/// Mounts an overlay of `rootfs` (writes go to `scratch`) with /dev, a fresh /proc and the
/// bench directory at /bench; returns the tree to chroot into. The mounts live in this
/// process's private mount namespace.
fn mount_chroot(rootfs: &Path, scratch: &Path, bench: &Path) -> PathBuf {
    let merged = scratch.join("merged");
    for d in ["upper", "work", "merged"] {
        std::fs::create_dir_all(scratch.join(d)).expect("chroot scratch dir");
    }
    sh(Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o"])
        .arg(format!(
            "lowerdir={},upperdir={},workdir={}",
            rootfs.display(),
            scratch.join("upper").display(),
            scratch.join("work").display()
        ))
        .arg(&merged));
    for d in ["dev", "proc", "bench", "tmp"] {
        std::fs::create_dir_all(merged.join(d)).expect("chroot mount point");
    }
    sh(Command::new("mount")
        .arg("--rbind")
        .arg("/dev")
        .arg(merged.join("dev")));
    sh(Command::new("mount")
        .args(["-t", "proc", "proc"])
        .arg(merged.join("proc")));
    sh(Command::new("mount")
        .arg("--bind")
        .arg(bench)
        .arg(merged.join("bench")));
    merged
}

/// Writes the inputs: 50 MB of pseudo-random bytes (sha256sum), 20 MB of text with noise
/// (gzip: compressible, but not trivially), and a gzipped tarball of the riscv64 rootfs's
/// /usr/lib/python3.13 (tar xzf), made reproducible by sorting and fixing owners and times.
fn generate_inputs(bench: &Path, rootfs: &Path) {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let random: Vec<u8> = (0..50_000_000 / 8)
        .flat_map(|_| rng.next().to_le_bytes())
        .collect();
    std::fs::write(bench.join("random-50M"), random).expect("write random-50M");

    const WORDS: &[&str] = &[
        "container",
        "image",
        "layer",
        "module",
        "riscv64",
        "interpreter",
        "syscall",
        "the",
        "of",
        "and",
        "a",
        "page",
        "table",
        "signal",
        "process",
        "thread",
        "wasm",
        "bundle",
        "debian",
        "python",
        "kernel",
        "memory",
        "decode",
        "cache",
        "block",
        "fork",
        "exec",
    ];
    let mut text = Vec::with_capacity(20_000_000 + 200);
    while text.len() < 20_000_000 {
        let r = rng.next();
        if r.is_multiple_of(8) {
            // A line of noise: 32 hex digits.
            let _ = writeln!(
                StringSink(&mut text),
                "{:016x}{:016x}",
                rng.next(),
                rng.next()
            );
        } else {
            let n = 4 + (r >> 8) % 10;
            for i in 0..n {
                let word = WORDS[(rng.next() % WORDS.len() as u64) as usize];
                text.extend_from_slice(word.as_bytes());
                text.push(if i + 1 == n { b'\n' } else { b' ' });
            }
        }
    }
    text.truncate(20_000_000);
    std::fs::write(bench.join("text-20M"), text).expect("write text-20M");

    sh(Command::new("tar")
        .args([
            "--sort=name",
            "--mtime=@0",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "-czf",
        ])
        .arg(bench.join("python3.13.tar.gz"))
        .arg("-C")
        .arg(rootfs)
        .arg("usr/lib/python3.13"));
}

/// xorshift64*: a fixed, dependency-free generator, so the inputs never change.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// `write!` into a byte vector.
struct StringSink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for StringSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Max RSS of `cmd`'s process, from GNU time.
fn peak_rss_kb(cmd: &Command) -> u64 {
    let out = std::env::temp_dir().join(format!("ctr2wasm-bench-rss-{}", std::process::id()));
    let mut timed = Command::new("/usr/bin/time");
    timed.arg("-f").arg("%M").arg("-o").arg(&out);
    timed.arg(cmd.get_program()).args(cmd.get_args());
    if cmd.get_program() == "chroot" {
        // Setup::command clears the chroots' environment.
        timed.env_clear();
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    run_once(&mut timed);
    let kb = std::fs::read_to_string(&out).expect("GNU time output");
    let _ = std::fs::remove_file(&out);
    kb.trim().parse().expect("GNU time printed a number")
}

/// Runs `cmd` to success; returns its stdout.
fn sh(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn last_line(s: &str) -> &str {
    s.lines().last().expect("a path on the last line").trim()
}

/// The end of an output, for an error message.
fn tail(output: &[u8]) -> String {
    let start = output.len().saturating_sub(2000);
    String::from_utf8_lossy(&output[start..]).into_owned()
}

fn ms(d: Duration) -> String {
    format!("{:.0}ms", d.as_secs_f64() * 1e3)
}
