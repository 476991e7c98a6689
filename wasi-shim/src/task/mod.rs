//! Processes and threads: what the kernel keeps per task, and the loop that runs them.
//!
//! A [`Process`] owns an address space with its decode cache and memory map, an fd table, a
//! working directory, signal dispositions and resource limits. A [`Thread`] owns registers, a
//! signal mask and an alternate signal stack. This issue runs one process with one thread;
//! fork, clone and the scheduler will add more without changing what each struct owns.

pub mod fd;
pub mod mm;
pub mod run;

pub use run::run;

use crate::abi::resource::{INIT_RLIMITS, RLIM_NLIMITS, Rlimit};
use crate::abi::signal::{NSIG, SS_DISABLE, SigAction, StackT};
use crate::vfs::GuestPathBuf;
use ctr2wasm_emulator::riscv64::{DecodeCache, Hart};
use fd::FdTable;
use mm::Mm;

/// How a process ended, as `wait` would report it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExitStatus {
    /// `exit_group(n)`: the low 8 bits of `n`.
    Exited(u8),
    /// Killed by a signal.
    Signaled(u32),
}

impl ExitStatus {
    /// The status a shell reports: the exit code, or 128 + the signal number.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Exited(n) => i32::from(n),
            ExitStatus::Signaled(sig) => 128 + sig as i32,
        }
    }
}

pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub mm: Mm,
    pub cache: DecodeCache,
    pub fds: FdTable,
    pub cwd: GuestPathBuf,
    /// The guest path of the running program (`/proc/self/exe`).
    pub exe: GuestPathBuf,
    /// Dispositions of signals 1..=64, index `sig - 1`.
    pub sigactions: [SigAction; NSIG as usize],
    /// Signals sent to the process and not yet acted on.
    pub pending: u64,
    pub rlimits: [Rlimit; RLIM_NLIMITS],
    /// Set once the process is dead; the run loop stops at the next syscall or block end.
    pub exit: Option<ExitStatus>,
}

impl Process {
    pub fn new(pid: u32, cwd: GuestPathBuf, exe: GuestPathBuf) -> Process {
        Process {
            pid,
            ppid: 0,
            mm: Mm::new(),
            cache: DecodeCache::default(),
            fds: FdTable::default(),
            cwd,
            exe,
            sigactions: [SigAction::default(); NSIG as usize],
            pending: 0,
            rlimits: INIT_RLIMITS,
            exit: None,
        }
    }
}

/// Why a thread cannot run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WaitReason {
    /// `FUTEX_WAIT` on this guest address, with no timeout.
    Futex { addr: u64 },
}

pub struct Thread {
    pub tid: u32,
    pub hart: Hart,
    pub sigmask: u64,
    pub altstack: StackT,
    /// `set_tid_address`: cleared and futex-woken when the thread exits.
    pub clear_child_tid: u64,
    /// `set_robust_list`: head pointer (its length is checked, not kept).
    pub robust_list: u64,
    /// Set when the thread blocked in a syscall.
    pub wait: Option<WaitReason>,
    /// `exit(2)` was called: the thread is gone.
    pub exited: bool,
}

impl Thread {
    pub fn new(tid: u32, hart: Hart) -> Thread {
        Thread {
            tid,
            hart,
            sigmask: 0,
            altstack: StackT {
                sp: 0,
                flags: SS_DISABLE,
                size: 0,
            },
            clear_child_tid: 0,
            robust_list: 0,
            wait: None,
            exited: false,
        }
    }
}
