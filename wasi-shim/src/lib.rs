//! The Linux personality ("the kernel") that runs riscv64 Linux programs on the emulator.
//!
//! [`run_program`] is the whole story for one program: find it in the root file system, load
//! it, run it until it exits and report how it ended. Both front ends use it: the
//! `ctr2wasm exec` subcommand on the host, and the `ctr2wasm-runtime` binary built for
//! wasm32-wasip1, where the root file system is a WASI preopened directory (or the module's
//! bundle) and the other preopened directories are mounted at their names.
//!
//! Module map: [`abi`] holds every Linux constant and struct layout; [`loader`] the ELF
//! loader and initial stack; [`task`] processes, threads, memory maps and the run loop;
//! [`syscall`] the syscall table and handlers by family; [`vfs`] the path walk and open files;
//! [`tty`] the line discipline the runtime runs when the host terminal is raw (a browser);
//! `signal` signal generation and default actions; `host` the translation from host to guest
//! errors and metadata.

pub mod abi;
pub mod bundle;
mod host;
pub mod image;
mod kernel;
pub mod loader;
mod signal;
mod startup;
pub mod syscall;
pub mod task;
pub mod tty;
pub mod vfs;

pub use task::ExitStatus;

use crate::abi::Errno;
use crate::kernel::Kernel;
use crate::loader::exec::{ExecError, ExecRequest, describe};
use crate::task::run::Deadlock;
use crate::task::{Process, Thread};
use crate::vfs::file::{OpenFile, Stdio};
use crate::vfs::lower::Lower;
use crate::vfs::path::Follow;
use crate::vfs::procfs::ProcSelf;
use crate::vfs::{GuestPathBuf, Vfs};
use ctr2wasm_emulator::mmu;
use ctr2wasm_emulator::riscv64::{Hart, reg};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Where the guest's `/` comes from.
pub enum RootFs {
    /// A host directory: an unpacked rootfs (on WASI: a preopened directory).
    Dir(PathBuf),
    /// An image bundle (on WASI: the module's own).
    Bundle(bundle::reader::Source),
}

impl std::fmt::Debug for RootFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RootFs::Dir(p) => write!(f, "Dir({})", p.display()),
            RootFs::Bundle(_) => write!(f, "Bundle"),
        }
    }
}

/// A writable host directory mounted at a guest path: changes below it reach the host.
#[derive(Debug, Clone)]
pub struct HostMount {
    /// The mount point, an absolute guest path.
    pub guest: Vec<u8>,
    /// The host directory (on WASI: the name of the preopen that holds it).
    pub host: PathBuf,
}

/// What to run and how.
#[derive(Debug)]
pub struct Config {
    /// The guest's `/`.
    pub rootfs: RootFs,
    /// Host directories mounted over it, mounted shallowest first.
    pub mounts: Vec<HostMount>,
    /// The program's guest path, absolute or relative to `workdir`; also `argv[0]`.
    pub program: Vec<u8>,
    /// `argv[1..]`.
    pub args: Vec<Vec<u8>>,
    /// The environment, exactly as given (`K=V` strings, in order).
    pub env: Vec<Vec<u8>>,
    /// The initial working directory (guest path).
    pub workdir: Vec<u8>,
    /// The image's `User` (`uid[:gid]` or `name[:group]`); empty for root.
    pub user: String,
    /// `CTR2WASM_TRACE=syscalls`: one stderr line per syscall.
    pub trace: bool,
}

impl Config {
    /// A configuration with no arguments, an empty environment and `/` as working directory;
    /// diagnostics follow the runtime's environment ([`Config::trace_from_env`]).
    pub fn new(rootfs: RootFs, program: Vec<u8>) -> Config {
        Config {
            rootfs,
            mounts: Vec::new(),
            program,
            args: Vec::new(),
            env: Vec::new(),
            workdir: b"/".to_vec(),
            user: String::new(),
            trace: Config::trace_from_env(),
        }
    }

    /// True when the runtime process (not the guest) has `CTR2WASM_TRACE=syscalls`.
    pub fn trace_from_env() -> bool {
        std::env::var("CTR2WASM_TRACE").is_ok_and(|v| v.split(',').any(|f| f == "syscalls"))
    }

    /// The cap on guest memory: `CTR2WASM_MEMORY_LIMIT_MB=N` in the runtime's environment
    /// (N MiB, at least 1), else [`mmu::DEFAULT_MEMORY_LIMIT`]. Past it the process touching
    /// a new page is OOM-killed.
    pub fn memory_limit_from_env() -> Result<u64, RunError> {
        let Ok(v) = std::env::var("CTR2WASM_MEMORY_LIMIT_MB") else {
            return Ok(mmu::DEFAULT_MEMORY_LIMIT);
        };
        v.parse::<u64>()
            .ok()
            .filter(|&mb| mb > 0)
            .and_then(|mb| mb.checked_mul(1 << 20))
            .ok_or(RunError::MemoryLimit { value: v })
    }

    /// Hot-code translation (the JIT build only): `CTR2WASM_JIT=off`, or `CTR2WASM_JIT=N` to
    /// translate a block after N entries; unset, the emulator's default.
    #[cfg(feature = "jit")]
    pub fn jit_from_env() -> Result<(), RunError> {
        let v = match std::env::var("CTR2WASM_JIT") {
            Ok(v) if !v.is_empty() => v,
            _ => return Ok(()),
        };
        let threshold = match v.as_str() {
            "off" => None,
            n => Some(
                n.parse::<u32>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(RunError::JitSetting { value: v })?,
            ),
        };
        ctr2wasm_emulator::riscv64::set_jit_threshold(threshold);
        Ok(())
    }

    /// True when the runtime process has `CTR2WASM_STATS=1`: print [`Outcome::stats_line`].
    pub fn stats_from_env() -> bool {
        std::env::var("CTR2WASM_STATS").is_ok_and(|v| v == "1")
    }
}

/// How a run ended, with the numbers the benchmark reads.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    /// Guest instructions retired by the first process and the children it reaped.
    pub instret: u64,
    /// Wall time from start-up to exit.
    pub elapsed: Duration,
}

impl Outcome {
    /// `ctr2wasm-stats: instret=<n> elapsed_ns=<n>`, the line `CTR2WASM_STATS=1` prints.
    pub fn stats_line(&self) -> String {
        format!(
            "ctr2wasm-stats: instret={} elapsed_ns={}",
            self.instret,
            self.elapsed.as_nanos()
        )
    }
}

/// Why a program could not be run (as opposed to running and failing).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error("rootfs {path}: {problem}")]
    Rootfs { path: String, problem: String },
    #[error("the image bundle: {0}")]
    Bundle(#[from] bundle::format::FormatError),
    #[error("workdir {path}: {problem}")]
    Workdir { path: String, problem: String },
    #[error(transparent)]
    Mount(#[from] vfs::hostdir::MountError),
    #[error(transparent)]
    Deadlock(#[from] Deadlock),
    #[error(transparent)]
    User(#[from] startup::UserError),
    #[error("CTR2WASM_MEMORY_LIMIT_MB={value:?}: not a positive number of MiB")]
    MemoryLimit { value: String },
    #[error("CTR2WASM_JIT={value:?}: not `off` or a positive number of block entries")]
    JitSetting { value: String },
}

impl RunError {
    /// The exit status to report, as a shell would: 127 for a program (or its ELF
    /// interpreter) that does not exist, 126 for one that cannot be executed, 125 when the
    /// runtime itself failed.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Exec(e) => e.exit_code(),
            RunError::Rootfs { .. }
            | RunError::Bundle(_)
            | RunError::Workdir { .. }
            | RunError::Mount(_)
            | RunError::Deadlock(_)
            | RunError::User(_)
            | RunError::MemoryLimit { .. }
            | RunError::JitSetting { .. } => 125,
        }
    }
}

/// Runs `config.program` as a command does: reports a failure to start as `ctr2wasm: …` on
/// stderr, prints the stats line when asked, and returns the exit status a shell would see.
pub fn run_as_command(config: Config) -> u8 {
    match run_program(config) {
        Ok(outcome) => {
            if Config::stats_from_env() {
                eprintln!("{}", outcome.stats_line());
            }
            outcome.status.shell_code() as u8
        }
        Err(e) => {
            eprintln!("ctr2wasm: {e}");
            e.exit_code() as u8
        }
    }
}

/// The names of the directories the WASI host preopened, in descriptor order
/// (`wasmtime run --dir HOST::GUEST` names one `GUEST`).
#[cfg(target_os = "wasi")]
pub fn wasi_preopens() -> Vec<Vec<u8>> {
    host::preopens()
}

/// Runs `config.program` in a new process until it exits.
pub fn run_program(config: Config) -> Result<Outcome, RunError> {
    let started = Instant::now();
    mmu::set_memory_limit(Config::memory_limit_from_env()?);
    #[cfg(feature = "jit")]
    Config::jit_from_env()?;
    let lower = match config.rootfs {
        RootFs::Dir(ref dir) => {
            let rootfs_err = |problem: String| RunError::Rootfs {
                path: dir.display().to_string(),
                problem,
            };
            match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(rootfs_err("not a directory".into())),
                Err(e) => return Err(rootfs_err(describe(host::errno_of(&e)))),
            }
            Lower::Host(dir.clone())
        }
        RootFs::Bundle(source) => Lower::bundle(bundle::reader::Bundle::open(source)?),
    };
    let mut vfs = Vfs::new(lower);
    // Shallowest first, so a mount inside another finds its mount point in the host
    // directory below it.
    let mut mounts = config.mounts.clone();
    mounts.sort_by_key(|m| {
        m.guest
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .count()
    });
    for m in mounts {
        vfs.mount(&m.guest, m.host)?;
    }
    let mut kernel = Kernel::new(vfs, config.trace);
    let show = |p: &[u8]| String::from_utf8_lossy(p).into_owned();

    // Nothing runs yet, so /proc/self/exe cannot be looked at: any placeholder will do.
    let none = GuestPathBuf::root();
    let nobody = ProcSelf::nobody(&none);
    let workdir_err = |e: Errno| RunError::Workdir {
        path: show(&config.workdir),
        problem: describe(e),
    };
    let (workdir, node) = kernel
        .vfs
        .resolve(
            &nobody,
            &GuestPathBuf::root(),
            &config.workdir,
            Follow::Final,
        )
        .and_then(|r| r.existing())
        .map_err(workdir_err)?;
    if !node.is_dir() {
        return Err(workdir_err(Errno::ENOTDIR));
    }

    // A bare command name is looked up in the guest's `$PATH`, as a container runtime does;
    // argv[0] stays as given.
    let program =
        startup::find_command(&kernel.vfs, &nobody, &workdir, &config.program, &config.env)
            .unwrap_or_else(|| config.program.clone());
    let (uid, gid) = startup::resolve_user(&kernel.vfs, &nobody, &config.user)?;
    let mut argv = Vec::with_capacity(config.args.len() + 1);
    argv.push(config.program.clone());
    argv.extend(config.args.iter().cloned());
    let mut random = [0u8; 16];
    // Without host randomness the program still runs; AT_RANDOM just is not random.
    let _ = getrandom::fill(&mut random);
    let image = loader::exec::exec_image(
        &kernel.vfs,
        &nobody,
        &workdir,
        &ExecRequest {
            path: &program,
            argv: &argv,
            envp: &config.env,
            random,
        },
    )?;
    let entry = image.entry;

    let mut proc = Process::new(task::run::INIT_PID, workdir, image.exe);
    proc.mm = image.mm;
    proc.args = Rc::new(task::ExecArgs::from_stack(&mut proc.mm.space, entry.sp));
    proc.comm = task::comm_of(&program);
    proc.uids = [uid; 3];
    proc.gids = [gid; 3];
    signal::frame_riscv64::map_vdso(&mut proc.mm);
    for stream in [Stdio::In, Stdio::Out, Stdio::Err] {
        proc.fds
            .install(Rc::new(RefCell::new(OpenFile::stdio(stream))), false, 0, 3)
            .expect("a new fd table has room for stdio");
    }

    let mut hart = Hart::default();
    hart.pc = entry.pc;
    hart.x[reg::SP] = entry.sp;
    proc.nthreads = 1;
    let pid = proc.pid;
    let init = Rc::new(RefCell::new(proc));
    kernel.tasks.procs.insert(pid, init.clone());
    kernel
        .tasks
        .threads
        .insert(pid, Thread::new(pid, pid, hart));
    kernel.tasks.reserve_id(pid);
    let status = task::run(&mut kernel)?;
    // The first process and the children it reaped.
    let instret = {
        let p = init.borrow();
        p.instret_done.saturating_add(p.children_instret)
    };
    Ok(Outcome {
        status,
        instret,
        elapsed: started.elapsed(),
    })
}
