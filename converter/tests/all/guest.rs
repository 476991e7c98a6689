//! Builds the riscv64 guest programs of `tests/guest/` into a rootfs, once per test process.
//!
//! Every `NAME.c` becomes two static glibc executables inside `guest-rootfs/bin/` under
//! Cargo's per-target scratch directory: `NAME` for rv64gc and `NAME.noc` for rv64g, whose own
//! code has no compressed instructions (the prebuilt static glibc linked into both is rv64gc,
//! so both variants still mix in compressed code from libc). A binary is rebuilt only when its
//! source or a shared header (`*.h`) is newer, or when the compiler or its flags changed
//! (recorded in a stamp file). Builds run in parallel and write to a temporary name first,
//! so concurrent test processes never see half-written binaries.
//!
//! A program that qemu-riscv64 cannot run as written also gets a reference build with the
//! defines listed in [`QEMU_REFERENCE_DEFINES`]; it is kept outside the rootfs, so the
//! emulator never runs it.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::SystemTime;

/// The cross compiler, from Debian's `gcc-riscv64-linux-gnu`.
const CROSS_CC: &str = "riscv64-linux-gnu-gcc";

/// The Debian packages that provide [`CROSS_CC`] and the static glibc it links against.
const CROSS_PACKAGES: &str = "gcc-riscv64-linux-gnu libc6-dev-riscv64-cross";

/// Flags for every program; `-march` comes from the [`Variant`]. Warnings are errors so a
/// program that quietly depends on undefined behaviour does not reach the oracle.
const CFLAGS: &[&str] = &[
    "-static",
    "-O2",
    "-mabi=lp64d",
    "-Wall",
    "-Wextra",
    "-Werror",
];

/// Libraries, after the source: libm for the FP programs, and libatomic because gcc 12 calls
/// it for 1- and 2-byte atomics instead of inlining the LR/SC loops.
const LIBS: &[&str] = &["-lm", "-latomic"];

/// Programs whose copy for qemu-riscv64 is built with an extra define, and why. Each entry
/// is a known gap in the reference, not in us: keep the list short.
const QEMU_REFERENCE_DEFINES: &[(&str, &str)] = &[
    // qemu 7.2 (Debian bookworm) predates Zicond, which arrived in qemu 8.1: its copy computes
    // czero.eqz/czero.nez from the specification's definition in C.
    ("zicond", "-DZICOND_IN_C"),
    // qemu 7.2's ctzw counts on past bit 31 when the low word is zero (63 instead of 32 for
    // 1 << 63); its copy computes ctzw in C.
    ("zb", "-DCTZW_IN_C"),
    // qemu 7.2 runs clone(CLONE_VM | CLONE_VFORK) as fork, so posix_spawn cannot report a
    // failed exec and a vfork child's writes stay its own; its copy carries them over by exit
    // status.
    ("spawn", "-DVFORK_IS_FORK"),
];

/// How a program is compiled; each program runs in every variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The Debian riscv64 baseline, with compressed instructions.
    Rv64gc,
    /// No C extension for the program's own code: every instruction gcc emits for it is 32
    /// bits wide, which moves block boundaries and branch offsets relative to `Rv64gc`.
    Rv64g,
}

impl Variant {
    pub const ALL: [Variant; 2] = [Variant::Rv64gc, Variant::Rv64g];

    fn march(self) -> &'static str {
        match self {
            Variant::Rv64gc => "-march=rv64gc",
            Variant::Rv64g => "-march=rv64g",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Variant::Rv64gc => "",
            Variant::Rv64g => ".noc",
        }
    }
}

/// The built programs: a rootfs directory for `ctr2wasm exec --rootfs`, the reference builds
/// beside it, and the error of every build that failed.
pub struct Rootfs {
    root: PathBuf,
    reference_dir: PathBuf,
    /// Set when nothing could be built (no cross compiler); every test reports it.
    setup_error: Option<String>,
    /// Build errors keyed by output path.
    failures: BTreeMap<PathBuf, String>,
}

/// The rootfs with every program built, building it on first use.
pub fn rootfs() -> &'static Rootfs {
    static ROOTFS: OnceLock<Rootfs> = OnceLock::new();
    ROOTFS.get_or_init(build_all)
}

/// The directory holding the guest sources.
pub fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guest")
}

/// The name of every guest program (`NAME` for each `tests/guest/NAME.c`), sorted.
pub fn program_names() -> Vec<String> {
    let dir = source_dir();
    let entries =
        fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path()
        })
        .filter(|path| path.extension().is_some_and(|ext| ext == "c"))
        .filter_map(|path| path.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
        .collect();
    names.sort();
    names
}

impl Rootfs {
    /// The directory to pass as `--rootfs`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The program's path inside the rootfs, as the guest sees it.
    pub fn guest_path(&self, name: &str, variant: Variant) -> String {
        format!("/bin/{name}{}", variant.suffix())
    }

    /// The host path of the binary qemu-riscv64 runs: the reference build if there is one.
    pub fn reference_binary(&self, name: &str, variant: Variant) -> PathBuf {
        if reference_define(name).is_some() {
            self.reference_dir
                .join(format!("{name}{}", variant.suffix()))
        } else {
            self.rootfs_binary(name, variant)
        }
    }

    /// Whether both binaries the test of `name` in `variant` needs were built; the error
    /// says why not.
    pub fn check_built(&self, name: &str, variant: Variant) -> Result<(), String> {
        if let Some(error) = &self.setup_error {
            return Err(error.clone());
        }
        for path in [
            self.rootfs_binary(name, variant),
            self.reference_binary(name, variant),
        ] {
            if let Some(error) = self.failures.get(&path) {
                return Err(error.clone());
            }
            if !path.is_file() {
                return Err(format!(
                    "{} was not built: is there a tests/guest/{name}.c?",
                    path.display()
                ));
            }
        }
        Ok(())
    }

    fn rootfs_binary(&self, name: &str, variant: Variant) -> PathBuf {
        self.root
            .join("bin")
            .join(format!("{name}{}", variant.suffix()))
    }
}

fn reference_define(name: &str) -> Option<&'static str> {
    QEMU_REFERENCE_DEFINES
        .iter()
        .find(|(program, _)| *program == name)
        .map(|(_, define)| *define)
}

/// One compiler run.
struct Job {
    source: PathBuf,
    output: PathBuf,
    variant: Variant,
    define: Option<&'static str>,
}

fn build_all() -> Rootfs {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let mut rootfs = Rootfs {
        root: scratch.join("guest-rootfs"),
        reference_dir: scratch.join("guest-reference"),
        setup_error: None,
        failures: BTreeMap::new(),
    };
    let compiler = match compiler_version() {
        Ok(version) => version,
        Err(error) => {
            rootfs.setup_error = Some(error);
            return rootfs;
        }
    };
    for dir in [rootfs.root.join("bin"), rootfs.reference_dir.clone()] {
        if let Err(e) = fs::create_dir_all(&dir) {
            rootfs.setup_error = Some(format!("cannot create {}: {e}", dir.display()));
            return rootfs;
        }
    }

    // A change of compiler or flags invalidates every binary, whatever the timestamps say.
    let stamp_path = rootfs.root.join(".build-flags");
    let stamp = format!("{compiler}\n{}\n{}\n", CFLAGS.join(" "), LIBS.join(" "));
    let flags_changed = fs::read_to_string(&stamp_path).map_or(true, |old| old != stamp);

    let sources = source_dir();
    let headers_mtime = newest_header(&sources);
    let mut jobs = Vec::new();
    for name in program_names() {
        let source = sources.join(format!("{name}.c"));
        for variant in Variant::ALL {
            jobs.push(Job {
                source: source.clone(),
                output: rootfs.rootfs_binary(&name, variant),
                variant,
                define: None,
            });
            if let Some(define) = reference_define(&name) {
                jobs.push(Job {
                    source: source.clone(),
                    output: rootfs.reference_binary(&name, variant),
                    variant,
                    define: Some(define),
                });
            }
        }
    }
    jobs.retain(|job| flags_changed || is_stale(job, headers_mtime));

    let failures = Mutex::new(BTreeMap::new());
    let queue = Mutex::new(jobs);
    let workers = thread::available_parallelism().map_or(2, |n| n.get());
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let job = queue.lock().expect("a build worker panicked").pop();
                    let Some(job) = job else { break };
                    if let Err(error) = compile(&job, &sources) {
                        failures
                            .lock()
                            .expect("a build worker panicked")
                            .insert(job.output, error);
                    }
                }
            });
        }
    });
    rootfs.failures = failures.into_inner().expect("a build worker panicked");
    // A failed build leaves its output missing or older than its source, so it is retried
    // next time; only a complete build under new flags may record them.
    if flags_changed
        && rootfs.failures.is_empty()
        && let Err(e) = fs::write(&stamp_path, stamp)
    {
        rootfs.setup_error = Some(format!("cannot write {}: {e}", stamp_path.display()));
    }
    rootfs
}

/// The cross compiler's version line, which also proves that it is installed.
fn compiler_version() -> Result<String, String> {
    let missing = || {
        format!(
            "{CROSS_CC} is missing: install the Debian packages {CROSS_PACKAGES} (.ci/setup does)"
        )
    };
    let output = match Command::new(CROSS_CC).arg("--version").output() {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(missing()),
        Err(e) => return Err(format!("cannot run {CROSS_CC}: {e}")),
    };
    if !output.status.success() {
        return Err(missing());
    }
    let version = String::from_utf8_lossy(&output.stdout);
    Ok(version.lines().next().unwrap_or_default().to_owned())
}

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The modification time of the newest shared header; every program includes them.
fn newest_header(dir: &Path) -> Option<SystemTime> {
    fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "h"))
        .filter_map(|path| mtime(&path))
        .max()
}

fn is_stale(job: &Job, headers_mtime: Option<SystemTime>) -> bool {
    let Some(built) = mtime(&job.output) else {
        return true;
    };
    let inputs = [mtime(&job.source), headers_mtime];
    inputs.into_iter().flatten().any(|input| input > built)
}

fn compile(job: &Job, include_dir: &Path) -> Result<(), String> {
    let file_name = job
        .output
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("guest");
    let temporary = job
        .output
        .with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let mut command = Command::new(CROSS_CC);
    command
        .arg(job.variant.march())
        .args(CFLAGS)
        .arg("-I")
        .arg(include_dir);
    command.args(job.define);
    command
        .arg("-o")
        .arg(&temporary)
        .arg(&job.source)
        .args(LIBS);
    let output = command
        .output()
        .map_err(|e| format!("cannot run {CROSS_CC}: {e}"))?;
    if !output.status.success() {
        let _ = fs::remove_file(&temporary);
        return Err(format!(
            "building {} failed ({}):\n{:?}\n{}",
            job.output.display(),
            output.status,
            command,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    fs::rename(&temporary, &job.output)
        .map_err(|e| format!("cannot move {} into place: {e}", temporary.display()))
}
