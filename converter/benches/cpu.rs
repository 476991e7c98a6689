//! CPU benchmark: CPU-bound C programs under `ctr2wasm exec` (the interpreter built natively,
//! and the runtime module in wasmtime), next to qemu-riscv64 and the same C built for the
//! host. Prints guest MIPS and time ratios; run with `cargo bench --bench cpu`.
//!
//! Times are medians of several runs of the whole process. The interpreter's own figure
//! (`elapsed_ns` from `CTR2WASM_STATS`) excludes process start and, for wasm, loading the
//! module from wasmtime's cache; both are shown.

#[path = "common/stats.rs"]
mod stats;
use stats::Stats;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PROGRAMS: &[&str] = &["sieve", "intloop", "fib", "fploop", "memstr"];
const RUNS: usize = 3;

fn main() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/guest");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-cpu");
    let rootfs = out.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).expect("create bench rootfs");
    let ctr2wasm = env!("CARGO_BIN_EXE_ctr2wasm");

    println!(
        "{:<8} {:>9} {:>8} {:>8} | {:>8} {:>7} {:>6} {:>7} | {:>8} {:>8} {:>7} {:>6} {:>7}",
        "program",
        "Minstr",
        "native",
        "qemu",
        "interp",
        "MIPS",
        "×qemu",
        "×native",
        "wasm",
        "(guest)",
        "MIPS",
        "×qemu",
        "×native"
    );
    for name in PROGRAMS {
        let c = src.join(format!("{name}.c"));
        let guest = rootfs.join("bin").join(name);
        let host = out.join(format!("{name}.x86_64"));
        compile("riscv64-linux-gnu-gcc", &c, &guest, &["-static"]);
        compile("gcc", &c, &host, &[]);
        let guest_path = format!("/bin/{name}");
        let rootfs_arg = rootfs.to_str().expect("utf-8 path");

        let native = median(|| time(&mut Command::new(&host)).0);
        let qemu = median(|| time(Command::new("qemu-riscv64").arg(&guest)).0);
        let ours = |wasm: bool| {
            let mut runs: Vec<(Duration, Stats)> = (0..RUNS)
                .map(|_| {
                    let mut cmd = Command::new(ctr2wasm);
                    cmd.arg("exec");
                    if wasm {
                        cmd.arg("--wasm");
                    }
                    cmd.args(["--rootfs", rootfs_arg, "--", &guest_path])
                        .env("CTR2WASM_STATS", "1");
                    let (wall, stderr) = time(&mut cmd);
                    (wall, Stats::parse(&stderr))
                })
                .collect();
            runs.sort_by_key(|r| r.0);
            runs.swap_remove(RUNS / 2)
        };
        let (interp, istats) = ours(false);
        let (wasm, wstats) = ours(true);
        let minstr = istats.instret as f64 / 1e6;
        let mips = |d: Duration| minstr / d.as_secs_f64();
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
        println!(
            "{:<8} {:>9.1} {:>8} {:>8} | {:>8} {:>7.0} {:>6.1} {:>7.1} | {:>8} {:>8} {:>7.0} {:>6.1} {:>7.1}",
            name,
            minstr,
            ms(native),
            ms(qemu),
            ms(interp),
            mips(interp),
            ratio(interp, qemu),
            ratio(interp, native),
            ms(wasm),
            ms(wstats.elapsed),
            mips(wstats.elapsed),
            ratio(wasm, qemu),
            ratio(wasm, native),
        );
    }
    println!(
        "\nnative/qemu/interp/wasm: whole-process wall time, median of {RUNS}; (guest): the wasm \
         runtime's own time from CTR2WASM_STATS, excluding module load; MIPS from the guest's \
         retired instructions."
    );
}

fn compile(cc: &str, src: &Path, out: &Path, extra: &[&str]) {
    let status = Command::new(cc)
        .args(["-O2", "-o"])
        .arg(out)
        .arg(src)
        .args(extra)
        .arg("-lm")
        .status()
        .unwrap_or_else(|e| panic!("{cc} is missing ({e}): run .ci/setup"));
    assert!(status.success(), "{cc} failed on {}", src.display());
}

/// Runs to completion, checking success; returns wall time and stderr.
fn time(cmd: &mut Command) -> (Duration, String) {
    let start = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let wall = start.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (wall, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn median(mut f: impl FnMut() -> Duration) -> Duration {
    let mut v: Vec<Duration> = (0..RUNS).map(|_| f()).collect();
    v.sort();
    v[RUNS / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0}ms", d.as_secs_f64() * 1e3)
}
