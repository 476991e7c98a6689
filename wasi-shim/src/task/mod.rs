//! Processes and threads: what the kernel keeps per task, and the loop that runs them.
//!
//! A [`Process`] (a thread group) owns an address space with its decode cache and memory map,
//! an fd table, a working directory, signal dispositions and resource limits; its threads
//! share it through a [`ProcRef`]. A [`Thread`] owns registers, a signal mask, an alternate
//! signal stack and what it waits for. [`Tasks`] is the process and thread table; [`run`] the
//! round-robin scheduler over it.
//!
//! Threads always share everything `CLONE_THREAD` implies (address space, files, fs, signal
//! handlers). `fork` and `vfork` make a new process with a copy-on-write copy of the address
//! space, a copy of the fd table and dispositions.

pub mod fd;
pub mod futex;
pub mod mm;
pub mod run;

pub use run::run;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::abi::resource::{INIT_RLIMITS, RLIM_NLIMITS, Rlimit};
use crate::abi::signal::{NSIG, SS_DISABLE, SigAction, SigInfo, StackT};
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

    /// The status word `wait4` stores: the code in bits 8..16, or the signal in the low bits
    /// (no core-dump bit: nothing dumps core here).
    pub fn wait_status(self) -> i32 {
        match self {
            ExitStatus::Exited(n) => i32::from(n) << 8,
            ExitStatus::Signaled(sig) => sig as i32,
        }
    }
}

/// A process shared by its threads. The running thread's process is borrowed mutably for
/// the length of a syscall: code that walks the table must skip the caller's own pid.
pub type ProcRef = Rc<RefCell<Process>>;

pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub pgid: u32,
    pub sid: u32,
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
    /// The `siginfo` of each pending signal, index `sig - 1`.
    pub siginfo: [SigInfo; NSIG as usize],
    pub rlimits: [Rlimit; RLIM_NLIMITS],
    /// Set once the process is dead; its threads stop at the next syscall or block end.
    pub exit: Option<ExitStatus>,
    /// The process is a zombie: its threads are gone, its memory and files released; only
    /// its exit status waits for the parent's `wait`.
    pub zombie: bool,
    /// Live threads.
    pub nthreads: u32,
    /// Signal sent to the parent when this process dies (`clone`'s low byte, `SIGCHLD`).
    pub exit_signal: u32,
    /// The parent thread suspended in `vfork` until this process execs or exits.
    pub vfork_parent: Option<u32>,
    /// Instructions retired by threads that have exited, and by reaped children.
    pub instret_done: u64,
    pub children_instret: u64,
    /// `uid`, `euid`, `suid`, and the same for groups: stored, never enforced (root).
    pub uids: [u32; 3],
    pub gids: [u32; 3],
    pub groups: Vec<u32>,
    /// `ITIMER_REAL`: the monotonic deadline and reload interval, for `alarm`/`setitimer`.
    pub itimer_real: Option<(u64, u64)>,
    /// The file mode creation mask (`umask`), applied by every create.
    pub umask: u32,
}

impl Process {
    pub fn new(pid: u32, cwd: GuestPathBuf, exe: GuestPathBuf) -> Process {
        Process {
            pid,
            ppid: 0,
            pgid: pid,
            sid: pid,
            mm: Mm::new(),
            cache: DecodeCache::default(),
            fds: FdTable::default(),
            cwd,
            exe,
            sigactions: [SigAction::default(); NSIG as usize],
            pending: 0,
            siginfo: [SigInfo::default(); NSIG as usize],
            rlimits: INIT_RLIMITS,
            exit: None,
            zombie: false,
            nthreads: 0,
            exit_signal: crate::abi::signal::SIGCHLD,
            vfork_parent: None,
            instret_done: 0,
            children_instret: 0,
            uids: [0; 3],
            gids: [0; 3],
            groups: Vec::new(),
            itimer_real: None,
            umask: 0o022,
        }
    }

    /// The child `fork` makes: a copy-on-write address space with a fresh decode cache, the
    /// same fds (sharing their open file descriptions), dispositions, limits and ids.
    pub fn fork(&mut self, pid: u32) -> Process {
        Process {
            pid,
            ppid: self.pid,
            pgid: self.pgid,
            sid: self.sid,
            mm: self.mm.fork(),
            cache: DecodeCache::default(),
            fds: self.fds.clone(),
            cwd: self.cwd.clone(),
            exe: self.exe.clone(),
            sigactions: self.sigactions,
            pending: 0,
            siginfo: [SigInfo::default(); NSIG as usize],
            rlimits: self.rlimits,
            exit: None,
            zombie: false,
            nthreads: 0,
            exit_signal: crate::abi::signal::SIGCHLD,
            vfork_parent: None,
            instret_done: 0,
            children_instret: 0,
            uids: self.uids,
            gids: self.gids,
            groups: self.groups.clone(),
            itimer_real: None,
            umask: self.umask,
        }
    }
}

/// What a parked thread waits for. Each kind says how it ends: `Retry` kinds re-execute the
/// syscall when their condition may hold; the others are completed by whoever wakes them.
#[derive(Clone)]
pub enum WaitOn {
    /// `FUTEX_WAIT`: completed with 0 by a `FUTEX_WAKE` on the same word (of the same
    /// process), with `ETIMEDOUT` at the deadline.
    Futex { addr: u64, bitset: u32 },
    /// Retry: the pipe has data or lost its last writer.
    PipeRead(crate::vfs::pipe::PipeRef),
    /// Retry: the pipe has room or lost its last reader.
    PipeWrite(crate::vfs::pipe::PipeRef),
    /// Retry: some process changed state (`Tasks::events` moved past this value).
    Children { events: u64 },
    /// Resume: the `vfork` child with this pid has exec'd or exited.
    Vfork { child: u32 },
    /// `nanosleep`: completed with 0 at the deadline. When a signal interrupts it, the time
    /// left is written to `rem` (a guest `struct timespec`, 0 for none).
    Sleep { rem: u64 },
    /// `pause`, `rt_sigsuspend`: only a signal ends it.
    Signal,
    /// Retry: `rt_sigtimedwait` when one of these signals is pending; `EAGAIN` at the deadline.
    SigWait { set: u64 },
    /// Retry: `poll`/`select` when one of these pipe ends may be ready (`true` = the write
    /// end); completed with 0 at the deadline.
    Poll {
        watch: Vec<(crate::vfs::pipe::PipeRef, bool)>,
    },
}

#[derive(Clone)]
pub struct Wait {
    pub on: WaitOn,
    /// `CLOCK_MONOTONIC` deadline in nanoseconds since the kernel booted.
    pub deadline_ns: Option<u64>,
    /// May a signal with `SA_RESTART` restart the call (else it fails with `EINTR`).
    pub restartable: bool,
}

pub struct Thread {
    pub tid: u32,
    /// The thread group (process) this thread belongs to.
    pub tgid: u32,
    pub hart: Hart,
    pub sigmask: u64,
    /// Signals sent to this thread alone (`tgkill`, faults).
    pub pending: u64,
    pub siginfo: [SigInfo; NSIG as usize],
    /// `rt_sigsuspend`: the mask to restore once the handler returns.
    pub saved_mask: Option<u64>,
    pub altstack: StackT,
    /// `set_tid_address`: cleared and futex-woken when the thread exits.
    pub clear_child_tid: u64,
    /// `set_robust_list`: head pointer (its length is checked, not kept).
    pub robust_list: u64,
    /// Set when the thread blocked in a syscall.
    pub wait: Option<Wait>,
    /// Order of going to sleep, so futex wakes are first come first served.
    pub wait_seq: u64,
    /// `exit(2)` was called: the thread is gone.
    pub exited: bool,
}

impl Thread {
    pub fn new(tid: u32, tgid: u32, hart: Hart) -> Thread {
        Thread {
            tid,
            tgid,
            hart,
            sigmask: 0,
            pending: 0,
            siginfo: [SigInfo::default(); NSIG as usize],
            saved_mask: None,
            altstack: StackT {
                sp: 0,
                flags: SS_DISABLE,
                size: 0,
            },
            clear_child_tid: 0,
            robust_list: 0,
            wait: None,
            wait_seq: 0,
            exited: false,
        }
    }
}

/// Most processes and threads alive at once (zombies included), against fork bombs.
pub const MAX_TASKS: usize = 4096;

/// The process and thread table.
#[derive(Default)]
pub struct Tasks {
    pub procs: BTreeMap<u32, ProcRef>,
    /// Every thread except the one running right now (the scheduler holds that one).
    pub threads: BTreeMap<u32, Thread>,
    /// The last pid or tid handed out (one number space, as in Linux).
    last_id: u32,
    /// Bumped whenever a process exits, execs or is reaped, and whenever a pipe or file
    /// changes state, so that parked `wait4`, `poll` and `vfork` waiters re-check.
    pub events: u64,
    /// Source of [`Thread::wait_seq`].
    pub wait_seq: u64,
}

impl Tasks {
    /// A fresh pid/tid, or `EAGAIN` at [`MAX_TASKS`].
    pub fn alloc_id(&mut self) -> Result<u32, crate::abi::Errno> {
        if self.procs.len() + self.threads.len() >= MAX_TASKS {
            return Err(crate::abi::Errno::EAGAIN);
        }
        loop {
            self.last_id = if self.last_id >= (1 << 22) {
                2
            } else {
                self.last_id + 1
            };
            if !self.procs.contains_key(&self.last_id) && !self.threads.contains_key(&self.last_id)
            {
                return Ok(self.last_id);
            }
        }
    }

    /// Marks `id` as taken (the first process's pid).
    pub fn reserve_id(&mut self, id: u32) {
        self.last_id = self.last_id.max(id);
    }

    /// Parks `thread` on `wait`.
    pub fn park(&mut self, thread: &mut Thread, wait: Wait) {
        self.wait_seq += 1;
        thread.wait_seq = self.wait_seq;
        thread.wait = Some(wait);
    }

    /// Something that `Retry` waiters may be waiting for happened.
    pub fn notify(&mut self) {
        self.events += 1;
    }
}
