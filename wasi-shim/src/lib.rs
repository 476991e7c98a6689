//! The Linux personality ("the kernel") that runs riscv64 Linux programs on the emulator.
//!
//! [`run_program`] is the whole story for one program: find it in the root file system, load
//! it, run it until it exits and report how it ended. Both front ends use it: the
//! `ctr2wasm exec` subcommand on the host, and the `ctr2wasm-runtime` binary built for
//! wasm32-wasip1, where the root file system is a WASI preopened directory.
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
mod kernel;
pub mod loader;
mod signal;
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
use crate::vfs::path::Follow;
use crate::vfs::procfs::ProcSelf;
use crate::vfs::{GuestPathBuf, Vfs};
use ctr2wasm_emulator::mmu;
use ctr2wasm_emulator::riscv64::{Hart, reg};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What to run and how.
#[derive(Clone, Debug)]
pub struct Config {
    /// Host directory holding the guest's `/` (on WASI: a preopened directory).
    pub rootfs: PathBuf,
    /// The program's guest path, absolute or relative to `workdir`; also `argv[0]`.
    pub program: Vec<u8>,
    /// `argv[1..]`.
    pub args: Vec<Vec<u8>>,
    /// The environment, exactly as given (`K=V` strings, in order).
    pub env: Vec<Vec<u8>>,
    /// The initial working directory (guest path).
    pub workdir: Vec<u8>,
    /// `CTR2WASM_TRACE=syscalls`: one stderr line per syscall.
    pub trace: bool,
}

impl Config {
    /// A configuration with no arguments, an empty environment and `/` as working directory;
    /// diagnostics follow the runtime's environment ([`Config::trace_from_env`]).
    pub fn new(rootfs: PathBuf, program: Vec<u8>) -> Config {
        Config {
            rootfs,
            program,
            args: Vec::new(),
            env: Vec::new(),
            workdir: b"/".to_vec(),
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
    #[error("workdir {path}: {problem}")]
    Workdir { path: String, problem: String },
    #[error(transparent)]
    Deadlock(#[from] Deadlock),
    #[error("CTR2WASM_MEMORY_LIMIT_MB={value:?}: not a positive number of MiB")]
    MemoryLimit { value: String },
}

impl RunError {
    /// The exit status to report, as a shell would: 127 for a program (or its ELF
    /// interpreter) that does not exist, 126 for one that cannot be executed, 125 when the
    /// runtime itself failed.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Exec(e) => e.exit_code(),
            RunError::Rootfs { .. }
            | RunError::Workdir { .. }
            | RunError::Deadlock(_)
            | RunError::MemoryLimit { .. } => 125,
        }
    }
}

/// Runs `config.program` as a command does: reports a failure to start as `ctr2wasm: …` on
/// stderr, prints the stats line when asked, and returns the exit status a shell would see.
pub fn run_as_command(config: &Config) -> u8 {
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

/// Runs `config.program` in a new process until it exits.
pub fn run_program(config: &Config) -> Result<Outcome, RunError> {
    let started = Instant::now();
    mmu::set_memory_limit(Config::memory_limit_from_env()?);
    let rootfs_err = |problem: String| RunError::Rootfs {
        path: config.rootfs.display().to_string(),
        problem,
    };
    match std::fs::metadata(&config.rootfs) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(rootfs_err("not a directory".into())),
        Err(e) => return Err(rootfs_err(describe(host::errno_of(&e)))),
    }
    let mut kernel = Kernel::new(Vfs::new(config.rootfs.clone()), config.trace);
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
            path: &config.program,
            argv: &argv,
            envp: &config.env,
            random,
        },
    )?;
    let entry = image.entry;

    let mut proc = Process::new(task::run::INIT_PID, workdir, image.exe);
    proc.mm = image.mm;
    proc.args = Rc::new(task::ExecArgs::from_stack(&mut proc.mm.space, entry.sp));
    proc.comm = task::comm_of(&config.program);
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
