//! The scheduler: round-robin over runnable threads, each for a time slice of guest
//! instructions, acting on why it stopped (a syscall, a fault, the end of its slice).
//!
//! A thread that blocks in a syscall is parked on a [`Wait`]; each round, parked threads
//! whose condition may hold are woken (see [`WaitOn`] for how each kind ends), deadlines are
//! checked, and a deliverable signal interrupts the wait. When no thread can run but some wait
//! for a deadline, the host sleeps until the nearest one; when none can ever run again the run
//! ends with [`Deadlock`]. The run ends when process 1 exits, as a container's does.
//!
//! Host stdin is a wait like the others: a `read` or `poll` that finds no input parks on it,
//! and when every thread waits on the host (stdin, deadlines), the runtime blocks in the host
//! (`poll` natively, `poll_oneoff` in WASI) until input comes or the nearest deadline passes.

use super::{ExitStatus, PollWatch, ProcRef, Thread, WaitOn};
use crate::abi::Errno;
use crate::abi::signal::{SIGBUS, SIGILL, SIGSEGV, SIGTRAP};
use crate::abi::time::{CLOCK_MONOTONIC, Timespec};
use crate::host;
use crate::kernel::Kernel;
use crate::signal;
use crate::syscall::{self, Ctx, time::now_ns};
use ctr2wasm_emulator::mmu::FaultKind;
use ctr2wasm_emulator::riscv64::{self, Exit, reg::A0};
use std::time::Duration;

/// Instructions a thread runs before another gets its turn. The emulator checks it at block
/// ends only, so this bounds how late a pending signal or another task gets its turn.
const TIME_SLICE: u64 = 1 << 20;

/// The pid of the first process, whose exit ends the run.
pub const INIT_PID: u32 = 1;

/// Every task waits for something that no other task can ever do.
#[derive(Debug, thiserror::Error)]
#[error("deadlock: thread {tid} waits on {reason} and no other task can wake it")]
pub struct Deadlock {
    pub tid: u32,
    pub reason: String,
}

impl std::fmt::Display for WaitOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitOn::Futex { addr, .. } => write!(f, "futex {addr:#x}"),
            WaitOn::PipeRead(_) => f.write_str("a pipe to read"),
            WaitOn::PipeWrite(_) => f.write_str("a pipe to write"),
            WaitOn::Children { .. } => f.write_str("a child to change state"),
            WaitOn::Vfork { child } => write!(f, "vfork child {child}"),
            WaitOn::Sleep { .. } => f.write_str("a timer"),
            WaitOn::Signal | WaitOn::SigWait { .. } => f.write_str("a signal"),
            WaitOn::Poll { .. } => f.write_str("poll"),
            WaitOn::HostStdin => f.write_str("host stdin"),
        }
    }
}

/// Ends a parked thread's syscall with `result` and makes it runnable.
pub fn complete(thread: &mut Thread, result: Result<u64, Errno>) {
    thread.hart.x[A0] = match result {
        Ok(v) => v,
        Err(e) => e.as_syscall_return(),
    };
    thread.hart.pc = thread.hart.pc.wrapping_add(4);
    thread.wait = None;
}

/// Runs every task until process 1 exits or nothing can run again.
pub fn run(kernel: &mut Kernel) -> Result<ExitStatus, Deadlock> {
    let mut last = 0u32;
    loop {
        reap_dead(kernel);
        if let Some(init) = kernel.tasks.procs.get(&INIT_PID) {
            let p = init.borrow();
            if p.zombie {
                return Ok(p.exit.unwrap_or(ExitStatus::Exited(0)));
            }
        }
        wake_ready(kernel);
        let runnable = |t: &&Thread| t.wait.is_none();
        let next = kernel
            .tasks
            .threads
            .range(last + 1..)
            .map(|(_, t)| t)
            .find(runnable)
            .or_else(|| kernel.tasks.threads.values().find(runnable))
            .map(|t| t.tid);
        match next {
            Some(tid) => {
                last = tid;
                run_slice(kernel, tid);
            }
            None => idle(kernel)?,
        }
    }
}

/// Nothing can run: block in the host until stdin has input (if a thread waits for it) or the
/// nearest deadline passes, or report the deadlock.
fn idle(kernel: &mut Kernel) -> Result<(), Deadlock> {
    let deadlines = kernel
        .tasks
        .threads
        .values()
        .filter_map(|t| t.wait.as_ref().and_then(|w| w.deadline_ns));
    let timers = kernel
        .tasks
        .procs
        .values()
        .filter_map(|p| p.borrow().itimer_real.map(|(at, _)| at));
    let nearest = deadlines.chain(timers).min();
    let stdin = crate::tty::watches_host()
        || kernel
            .tasks
            .threads
            .values()
            .any(|t| t.wait.as_ref().is_some_and(|w| w.on.waits_on_host_stdin()));
    let now = now_ns(kernel, CLOCK_MONOTONIC);
    let timeout_ns = nearest.map(|at| at.saturating_sub(now));
    if stdin {
        host::wait_stdin(timeout_ns);
        return Ok(());
    }
    match timeout_ns {
        Some(ns) => {
            if ns > 0 {
                std::thread::sleep(Duration::from_nanos(ns));
            }
            Ok(())
        }
        None => {
            let (tid, reason) = kernel
                .tasks
                .threads
                .values()
                .find_map(|t| t.wait.as_ref().map(|w| (t.tid, w.on.to_string())))
                .unwrap_or((0, "nothing".into()));
            Err(Deadlock { tid, reason })
        }
    }
}

/// Wakes parked threads whose wait may be over: condition met, deadline passed, or a signal
/// to act on. Fires due interval timers first.
fn wake_ready(kernel: &mut Kernel) {
    crate::tty::pump(kernel);
    let now = now_ns(kernel, CLOCK_MONOTONIC);
    signal::fire_timers(kernel, now);
    let events = kernel.tasks.events;
    let procs = kernel.tasks.procs.clone();
    for t in kernel.tasks.threads.values_mut() {
        let Some(w) = &t.wait else { continue };
        let Some(proc) = procs.get(&t.tgid) else {
            continue;
        };
        let mut proc = proc.borrow_mut();
        let timed_out = w.deadline_ns.is_some_and(|d| now >= d);
        // A vfork parent has its result already; only the child lets it go.
        if let WaitOn::Vfork { child } = &w.on {
            let done = procs.get(child).is_none_or(|c| {
                let c = c.borrow();
                c.zombie || c.vfork_parent != Some(t.tid)
            });
            if done {
                t.wait = None;
            }
            continue;
        }
        if matches!(w.on, WaitOn::Sleep { .. }) && timed_out {
            complete(t, Ok(0));
            continue;
        }
        if signal::interrupts(&proc, t) {
            if let (WaitOn::Sleep { rem }, Some(deadline)) = (&w.on, w.deadline_ns)
                && *rem != 0
            {
                // `nanosleep`'s remaining time; a bad pointer only loses it, as in Linux.
                let left = Timespec::from_ns(deadline.saturating_sub(now));
                let _ = proc.mm.space.write(*rem, &left.to_bytes());
            }
            let restart = w.restartable && signal::restarts(&proc, t);
            if restart {
                t.wait = None;
            } else {
                complete(t, Err(Errno::EINTR));
            }
            continue;
        }
        match &w.on {
            WaitOn::SigWait { set } if (proc.pending | t.pending) & set != 0 => t.wait = None,
            WaitOn::SigWait { .. } if timed_out => complete(t, Err(Errno::EAGAIN)),
            WaitOn::Futex { .. } if timed_out => complete(t, Err(Errno::ETIMEDOUT)),
            WaitOn::Poll { .. } if timed_out => {
                complete(t, Ok(0));
                // ppoll's temporary mask ends with the call.
                if let Some(m) = t.saved_mask.take() {
                    t.sigmask = m;
                }
            }
            WaitOn::Poll { watch }
                if watch.iter().any(|w| match w {
                    PollWatch::PipeRead(p) => p.borrow().readable(),
                    PollWatch::PipeWrite(p) => p.borrow().writable(),
                    PollWatch::HostStdin => crate::tty::stdin_ready(),
                }) =>
            {
                t.wait = None
            }
            // A raw terminal's `VTIME` deadline passing retries the read too.
            WaitOn::HostStdin if timed_out || crate::tty::stdin_ready() => t.wait = None,
            WaitOn::PipeRead(p) if p.borrow().readable() => t.wait = None,
            WaitOn::PipeWrite(p) if p.borrow().writable() => t.wait = None,
            WaitOn::Children { events: e } if *e != events => t.wait = None,
            _ => {}
        }
    }
}

/// Runs thread `tid` for one time slice, or until it blocks or its process dies.
fn run_slice(kernel: &mut Kernel, tid: u32) {
    let Some(mut thread) = kernel.tasks.threads.remove(&tid) else {
        return;
    };
    let Some(proc_rc) = kernel.tasks.procs.get(&thread.tgid).cloned() else {
        return;
    };
    {
        let mut proc = proc_rc.borrow_mut();
        let limit = thread.hart.instret.saturating_add(TIME_SLICE);
        loop {
            // A vfork parent takes signals only once the child lets go: until then its
            // address space may be lent to the child (`sys_clone`), with no stack to use.
            let in_vfork = matches!(&thread.wait, Some(w) if matches!(w.on, WaitOn::Vfork { .. }));
            if !in_vfork {
                signal::deliver(kernel, &mut proc, &mut thread);
            }
            if proc.exit.is_some() || thread.exited || thread.wait.is_some() {
                break;
            }
            let budget = limit.saturating_sub(thread.hart.instret);
            if budget == 0 {
                break;
            }
            let p = &mut *proc;
            match riscv64::run(&mut thread.hart, &mut p.mm.space, &mut p.cache, budget) {
                Exit::Ecall => syscall::dispatch(&mut Ctx {
                    kernel,
                    proc: p,
                    thread: &mut thread,
                }),
                Exit::BudgetSpent => break,
                Exit::Fault(fault) => {
                    let sig = if fault.kind == FaultKind::Misaligned {
                        SIGBUS
                    } else {
                        SIGSEGV
                    };
                    signal::force_fault(kernel, p, &mut thread, sig, fault);
                }
                Exit::IllegalInstruction => {
                    signal::force_fault_at(kernel, p, &mut thread, SIGILL);
                }
                Exit::Breakpoint => {
                    signal::force_fault_at(kernel, p, &mut thread, SIGTRAP);
                }
            }
        }
    }
    let dead = proc_rc.borrow().exit.is_some();
    if thread.exited || dead {
        thread_gone(kernel, &proc_rc, thread);
    } else {
        kernel.tasks.threads.insert(tid, thread);
    }
}

/// Bookkeeping for a thread that ended: its CPU time, `CLONE_CHILD_CLEARTID`, the count of
/// live threads (the last one out ends the process).
fn thread_gone(kernel: &mut Kernel, proc_rc: &ProcRef, thread: Thread) {
    let mut proc = proc_rc.borrow_mut();
    proc.instret_done = proc.instret_done.saturating_add(thread.hart.instret);
    proc.nthreads = proc.nthreads.saturating_sub(1);
    // `exit_mm_release`: the robust list first, then the child tid word.
    if proc.exit.is_none() && thread.robust_list != 0 {
        super::futex::exit_robust_list(
            &mut kernel.tasks,
            &mut proc.mm.space,
            thread.tgid,
            thread.tid,
            thread.robust_list,
        );
    }
    if proc.exit.is_none() && thread.clear_child_tid != 0 {
        // `mm_release`: the word is cleared and one waiter woken, as pthread_join expects.
        if proc
            .mm
            .space
            .write(thread.clear_child_tid, &0u32.to_le_bytes())
            .is_ok()
        {
            super::futex::wake(
                &mut kernel.tasks,
                thread.tgid,
                thread.clear_child_tid,
                1,
                u32::MAX,
            );
        }
    }
    if proc.nthreads == 0 && proc.exit.is_none() {
        proc.exit = Some(ExitStatus::Exited(0));
    }
}

/// Turns every process whose exit is decided into a zombie: ends its remaining threads,
/// releases its memory and files, hands its children to process 1, wakes a `vfork` parent,
/// and tells its parent (`exit_signal`, normally `SIGCHLD`).
fn reap_dead(kernel: &mut Kernel) {
    let dying: Vec<(u32, ProcRef)> = kernel
        .tasks
        .procs
        .iter()
        .filter(|(_, p)| {
            let p = p.borrow();
            p.exit.is_some() && !p.zombie
        })
        .map(|(&pid, p)| (pid, p.clone()))
        .collect();
    for (pid, proc_rc) in dying {
        let threads: Vec<u32> = kernel
            .tasks
            .threads
            .values()
            .filter(|t| t.tgid == pid)
            .map(|t| t.tid)
            .collect();
        let (ppid, exit_signal, status) = {
            let mut p = proc_rc.borrow_mut();
            for tid in threads {
                if let Some(t) = kernel.tasks.threads.remove(&tid) {
                    p.instret_done = p.instret_done.saturating_add(t.hart.instret);
                }
            }
            p.nthreads = 0;
            p.zombie = true;
            p.fds = Default::default();
            p.return_vm(&kernel.tasks.procs);
            p.mm = Default::default();
            p.cache = Default::default();
            p.vfork_parent = None;
            (
                p.ppid,
                p.exit_signal,
                p.exit.unwrap_or(ExitStatus::Exited(0)),
            )
        };
        for other in kernel.tasks.procs.values() {
            if let Ok(mut o) = other.try_borrow_mut()
                && o.ppid == pid
            {
                o.ppid = INIT_PID;
            }
        }
        if let Some(parent) = kernel.tasks.procs.get(&ppid).cloned() {
            let mut parent = parent.borrow_mut();
            if signal::reaps_children_itself(&parent) {
                parent.children_instret = parent
                    .children_instret
                    .saturating_add(proc_rc.borrow().instret_done);
                drop(parent);
                kernel.tasks.procs.remove(&pid);
            } else if exit_signal != 0 {
                signal::send_child_exit(&mut parent, exit_signal, pid, status);
            }
        }
        kernel.tasks.notify();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{Process, Wait};
    use crate::vfs::{GuestPathBuf, Vfs};
    use ctr2wasm_emulator::riscv64::Hart;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A kernel with process 1 whose only thread is parked on `on`.
    fn parked(on: WaitOn, deadline_ns: Option<u64>) -> Kernel {
        let mut k = Kernel::new(
            Vfs::new(crate::vfs::lower::Lower::Host(std::env::temp_dir())),
            false,
        );
        let mut p = Process::new(INIT_PID, GuestPathBuf::root(), GuestPathBuf::root());
        p.nthreads = 1;
        k.tasks.procs.insert(INIT_PID, Rc::new(RefCell::new(p)));
        let mut t = Thread::new(INIT_PID, INIT_PID, Hart::default());
        k.tasks.park(
            &mut t,
            Wait {
                on,
                deadline_ns,
                restartable: true,
            },
        );
        k.tasks.threads.insert(INIT_PID, t);
        k
    }

    #[test]
    fn a_wait_nobody_can_end_is_a_deadlock() {
        let mut k = parked(
            WaitOn::Futex {
                addr: 0x100,
                bitset: u32::MAX,
            },
            None,
        );
        let e = run(&mut k).unwrap_err();
        assert_eq!(
            e.to_string(),
            "deadlock: thread 1 waits on futex 0x100 and no other task can wake it"
        );
    }

    #[test]
    fn deadlines_end_waits() {
        let mut k = parked(
            WaitOn::Futex {
                addr: 0x100,
                bitset: u32::MAX,
            },
            Some(0),
        );
        wake_ready(&mut k);
        let t = &k.tasks.threads[&INIT_PID];
        assert!(t.wait.is_none());
        assert_eq!(t.hart.x[A0], Errno::ETIMEDOUT.as_syscall_return());
        assert_eq!(t.hart.pc, 4);
        let mut k = parked(WaitOn::Sleep { rem: 0 }, Some(0));
        wake_ready(&mut k);
        assert_eq!(k.tasks.threads[&INIT_PID].hart.x[A0], 0);
    }

    #[test]
    fn a_signal_interrupts_a_wait() {
        let mut k = parked(WaitOn::Signal, None);
        let p = k.tasks.procs[&INIT_PID].clone();
        signal::send_process(
            &mut p.borrow_mut(),
            crate::abi::signal::SIGTERM,
            Default::default(),
        );
        wake_ready(&mut k);
        let t = &k.tasks.threads[&INIT_PID];
        assert_eq!(t.hart.x[A0], Errno::EINTR.as_syscall_return());
        // The pending SIGTERM then kills the process when the thread runs.
        run_slice(&mut k, INIT_PID);
        assert_eq!(
            p.borrow().exit,
            Some(ExitStatus::Signaled(crate::abi::signal::SIGTERM))
        );
    }
}
