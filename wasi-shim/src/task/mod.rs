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
//!
//! How many tasks may exist mirrors `kernel/fork.c`: `threads-max` ([`max_threads`],
//! `set_max_threads`) caps all tasks, and `RLIMIT_NPROC`, which the first process gets as
//! half of it (`fork_init`), caps the tasks of one real user unless that user is root
//! ([`Tasks::check_fork`], `copy_process`); past either `fork` and `clone` fail with
//! `EAGAIN`. Each process and thread is charged against the memory limit
//! ([`ctr2wasm_emulator::mmu::charge`]) for its structs; past it they fail with `ENOMEM`.

pub mod fd;
pub mod futex;
pub mod mm;
pub mod run;

pub use run::run;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::abi::process::{MAX_ARG_STRINGS, MAX_ARG_STRLEN};
use crate::abi::resource::RLIMIT_NPROC;
use crate::abi::resource::{INIT_RLIMITS, RLIM_NLIMITS, Rlimit};
use crate::abi::signal::{NSIG, SS_DISABLE, SigAction, SigInfo, StackT};
use crate::vfs::GuestPathBuf;
use ctr2wasm_emulator::mmu::{AddressSpace, Charge, memory_limit};
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
    /// What `execve` put on the stack (after `#!` rewriting), for `/proc/<pid>/cmdline` and
    /// `environ`.
    pub args: Rc<ExecArgs>,
    /// The task name (`comm`): the last component of the path given to `execve`, at most
    /// [`TASK_COMM_LEN`]` - 1` bytes, as `begin_new_exec` sets it.
    pub comm: Vec<u8>,
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
    /// `CLONE_VM | CLONE_VFORK`: the pid of the parent whose address space and decode cache
    /// this process runs on. They are lent, not shared: the parent cannot run until the
    /// child execs or exits, and gets them back then ([`Process::return_vm`]).
    pub vm_from: Option<u32>,
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
    /// [`PROCESS_BYTES`] against the memory limit.
    _charge: Charge,
}

/// What a process costs the memory limit beyond its memory map: its struct, fd table and
/// table entry.
pub const PROCESS_BYTES: u64 = (std::mem::size_of::<Process>() + 4096) as u64;
/// What a thread costs the memory limit: its struct and table entry.
pub const THREAD_BYTES: u64 = (std::mem::size_of::<Thread>() + 256) as u64;

/// `threads-max` for the memory limit: one task per MiB, between 20 and 4096. Linux's
/// `set_max_threads` allows a task per eight kernel stacks of RAM (clamped to `MIN_THREADS`
/// and the tid space); a task here costs its structs and, for a process, its page tables
/// and decode cache, so the share is larger.
pub fn max_threads() -> u64 {
    (memory_limit() >> 20).clamp(20, 4096)
}

impl Process {
    pub fn new(pid: u32, cwd: GuestPathBuf, exe: GuestPathBuf) -> Process {
        let comm = comm_of(exe.as_bytes());
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
            args: Rc::default(),
            comm,
            sigactions: [SigAction::default(); NSIG as usize],
            pending: 0,
            siginfo: [SigInfo::default(); NSIG as usize],
            rlimits: INIT_RLIMITS,
            exit: None,
            zombie: false,
            nthreads: 0,
            exit_signal: crate::abi::signal::SIGCHLD,
            vfork_parent: None,
            vm_from: None,
            instret_done: 0,
            children_instret: 0,
            uids: [0; 3],
            gids: [0; 3],
            groups: Vec::new(),
            itimer_real: None,
            umask: 0o022,
            _charge: Charge::new_unchecked(PROCESS_BYTES),
        }
        .with_init_nproc()
    }

    /// `fork_init`: the first process's `RLIMIT_NPROC` is half of `threads-max`, "to keep
    /// fork bombs at bay"; every other process inherits it.
    fn with_init_nproc(mut self) -> Process {
        let n = max_threads() / 2;
        self.rlimits[RLIMIT_NPROC as usize] = Rlimit { cur: n, max: n };
        self
    }

    /// The child `fork` makes: a copy-on-write address space with a fresh decode cache, the
    /// same fds (sharing their open file descriptions), dispositions, limits and ids.
    /// `None` (`ENOMEM`) when it would pass the memory limit.
    pub fn fork(&mut self, pid: u32) -> Option<Process> {
        let charge = Charge::try_new(PROCESS_BYTES)?;
        Some(Process {
            pid,
            ppid: self.pid,
            pgid: self.pgid,
            sid: self.sid,
            mm: self.mm.fork()?,
            cache: DecodeCache::default(),
            fds: self.fds.clone(),
            cwd: self.cwd.clone(),
            exe: self.exe.clone(),
            args: self.args.clone(),
            comm: self.comm.clone(),
            sigactions: self.sigactions,
            pending: 0,
            siginfo: [SigInfo::default(); NSIG as usize],
            rlimits: self.rlimits,
            exit: None,
            zombie: false,
            nthreads: 0,
            exit_signal: crate::abi::signal::SIGCHLD,
            vfork_parent: None,
            vm_from: None,
            instret_done: 0,
            children_instret: 0,
            uids: self.uids,
            gids: self.gids,
            groups: self.groups.clone(),
            itimer_real: None,
            umask: self.umask,
            _charge: charge,
        })
    }

    /// Tasks this process counts for `threads-max` and `RLIMIT_NPROC`: its live threads, or
    /// 1 for a zombie (Linux releases a dead leader's task only when it is reaped).
    fn tasks(&self) -> u64 {
        if self.zombie {
            1
        } else {
            u64::from(self.nthreads)
        }
    }
}

impl Process {
    /// Gives the address space and decode cache lent by a `CLONE_VM | CLONE_VFORK` parent
    /// back to it (at the child's exec or exit), leaving this process with none. A parent
    /// that died meanwhile, or whose pid now names another process (which has memory of its
    /// own), gets nothing: the memory is dropped.
    pub fn return_vm(&mut self, procs: &BTreeMap<u32, ProcRef>) {
        let Some(ppid) = self.vm_from.take() else {
            return;
        };
        let mm = std::mem::take(&mut self.mm);
        let cache = std::mem::take(&mut self.cache);
        if let Some(parent) = procs.get(&ppid)
            && let Ok(mut parent) = parent.try_borrow_mut()
            && !parent.zombie
            && parent.mm.vmas().next().is_none()
        {
            parent.mm = mm;
            parent.cache = cache;
        }
    }
}

/// `TASK_COMM_LEN`: `comm` holds this many bytes with its NUL.
pub const TASK_COMM_LEN: usize = 16;

/// The task name `execve(path, ...)` gives (`__set_task_comm(kbasename(bprm->filename))`): the
/// text after the last `/` of the path as passed, truncated. A script keeps its own name and a
/// symlink its link name, since the path is taken before either is resolved.
pub fn comm_of(path: &[u8]) -> Vec<u8> {
    let base = path.rsplit(|&b| b == b'/').next().unwrap_or_default();
    base.iter().copied().take(TASK_COMM_LEN - 1).collect()
}

/// The argument and environment strings of the running image, each NUL-terminated and
/// concatenated, as `/proc/<pid>/cmdline` and `environ` print them.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct ExecArgs {
    pub cmdline: Vec<u8>,
    pub environ: Vec<u8>,
}

impl ExecArgs {
    /// Reads the strings back from a fresh image's initial stack (`argc`, `argv[]`, NULL,
    /// `envp[]`, NULL at `sp`), so that the `#!` rewriting the loader did is included. The
    /// loader wrote the stack, so a missing string only shortens the result.
    pub fn from_stack(space: &mut AddressSpace, sp: u64) -> ExecArgs {
        let slot = |i: u64| sp.checked_add(i.checked_mul(8)?);
        let max = MAX_ARG_STRINGS as u64;
        let argc = space.read_u64(sp).unwrap_or(0).min(max);
        let cmdline = Self::strings(space, (1..=argc).filter_map(slot));
        let env = argc + 2;
        let mut envc = 0;
        while envc < max
            && slot(env + envc)
                .and_then(|at| space.read_u64(at).ok())
                .is_some_and(|p| p != 0)
        {
            envc += 1;
        }
        let environ = Self::strings(space, (env..env + envc).filter_map(slot));
        ExecArgs { cmdline, environ }
    }

    /// The NUL-terminated strings the pointers stored at `slots` point to.
    fn strings(space: &mut AddressSpace, slots: impl Iterator<Item = u64>) -> Vec<u8> {
        let mut out = Vec::new();
        for at in slots {
            let s = space
                .read_u64(at)
                .ok()
                .and_then(|p| space.read_cstr(p, MAX_ARG_STRLEN).ok().flatten());
            let Some(s) = s else { break };
            out.extend_from_slice(&s);
            out.push(0);
        }
        out
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
    /// Retry: `poll`/`select` when one of these may be ready; completed with 0 at the
    /// deadline.
    Poll { watch: Vec<PollWatch> },
    /// Retry: a `read` of host stdin, once the host says a read would not block.
    HostStdin,
}

/// What a parked `poll` or `select` watches.
#[derive(Clone)]
pub enum PollWatch {
    PipeRead(crate::vfs::pipe::PipeRef),
    PipeWrite(crate::vfs::pipe::PipeRef),
    /// Host stdin, which only the host can make readable.
    HostStdin,
}

impl WaitOn {
    /// Whether only the host can end this wait (input on host stdin).
    pub fn waits_on_host_stdin(&self) -> bool {
        match self {
            WaitOn::HostStdin => true,
            WaitOn::Poll { watch } => watch.iter().any(|w| matches!(w, PollWatch::HostStdin)),
            _ => false,
        }
    }
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
    /// [`THREAD_BYTES`] against the memory limit; `clone` checks it fits first.
    _charge: Charge,
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
            _charge: Charge::new_unchecked(THREAD_BYTES),
        }
    }
}

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
    /// Whether `caller` may make one more task, as `copy_process` decides: `EAGAIN` when
    /// its real user already has `RLIMIT_NPROC` tasks (live threads and zombies) and is not
    /// root (`INIT_USER`, or an effective root with `CAP_SYS_RESOURCE`), or when
    /// `threads-max` tasks exist. The caller's process is borrowed by the running syscall,
    /// so it is passed in and skipped in the table.
    pub fn check_fork(&self, caller: &Process) -> Result<(), crate::abi::Errno> {
        let uid = caller.uids[0];
        let (mut all, mut users) = (caller.tasks(), caller.tasks());
        for (&pid, p) in &self.procs {
            if pid == caller.pid {
                continue;
            }
            let Ok(p) = p.try_borrow() else { continue };
            all += p.tasks();
            if p.uids[0] == uid {
                users += p.tasks();
            }
        }
        let nproc = caller.rlimits[RLIMIT_NPROC as usize].cur;
        let root = uid == 0 || caller.uids[1] == 0;
        if users >= nproc && !root || all >= max_threads() {
            return Err(crate::abi::Errno::EAGAIN);
        }
        Ok(())
    }

    /// A fresh pid/tid; [`Self::check_fork`] bounds how many are taken.
    pub fn alloc_id(&mut self) -> u32 {
        loop {
            self.last_id = if self.last_id >= (1 << 22) {
                2
            } else {
                self.last_id + 1
            };
            if !self.procs.contains_key(&self.last_id) && !self.threads.contains_key(&self.last_id)
            {
                return self.last_id;
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

#[cfg(test)]
mod tests {
    use super::*;
    use ctr2wasm_emulator::mmu::Prot;

    #[test]
    fn comm_is_the_last_component_of_the_exec_path_cut_to_15_bytes() {
        assert_eq!(comm_of(b"/usr/bin/python3"), b"python3");
        assert_eq!(comm_of(b"s.sh"), b"s.sh");
        assert_eq!(comm_of(b"/tmp/a-long-name-for-cat"), b"a-long-name-for");
        assert_eq!(comm_of(b"/dir/"), b"");
    }

    #[test]
    fn exec_args_are_read_back_from_the_initial_stack() {
        let mut space = AddressSpace::new();
        let sp = 0x10000;
        space.map(sp, 0x1000, Prot::RW);
        let strings = sp + 0x800;
        space.write(strings, b"prog\0-x\0A=1\0").unwrap();
        // argc, argv[0], argv[1], NULL, envp[0], NULL
        for (i, v) in [2, strings, strings + 5, 0, strings + 8, 0]
            .iter()
            .enumerate()
        {
            space.write_u64(sp + 8 * i as u64, *v).unwrap();
        }
        assert_eq!(
            ExecArgs::from_stack(&mut space, sp),
            ExecArgs {
                cmdline: b"prog\0-x\0".to_vec(),
                environ: b"A=1\0".to_vec(),
            }
        );
    }
}
