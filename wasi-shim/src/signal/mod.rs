//! Signal generation, delivery and default actions.
//!
//! Sending marks a signal pending on the process (`kill`) or on one thread (`tgkill`, faults),
//! with the `siginfo` it carries; signals whose disposition is to ignore them are dropped when
//! sent (`sig_ignored`). Delivery happens only at instruction boundaries: before a thread runs
//! and after each syscall ([`deliver`]). A deliverable signal either runs the default action
//! (terminate, or ignore; stop signals are ignored: there is no job control) or builds the
//! riscv64 `rt_sigframe` ([`frame_riscv64`]) and enters the handler. A parked thread is
//! interrupted ([`interrupts`]) by any signal it would act on.

pub mod frame_riscv64;

use crate::abi::process::{CLD_EXITED, CLD_KILLED};
use crate::abi::signal::{
    DefaultAction, SA_NOCLDWAIT, SA_NODEFER, SA_RESETHAND, SA_RESTART, SI_TIMER, SI_USER, SIG_DFL,
    SIG_IGN, SIGALRM, SIGCHLD, SIGKILL, SigInfo, UNBLOCKABLE, default_action, name, sigmask,
};
use crate::kernel::Kernel;
use crate::task::{ExitStatus, Process, Thread};
use ctr2wasm_emulator::mmu::{FaultKind, MemFault};

/// True when the disposition of `sig` discards it.
pub fn is_ignored(proc: &Process, sig: u32) -> bool {
    let act = proc.sigactions[sig as usize - 1];
    sig != SIGKILL
        && (act.handler == SIG_IGN
            || (act.handler == SIG_DFL
                && matches!(
                    default_action(sig),
                    DefaultAction::Ignore | DefaultAction::Continue | DefaultAction::Stop
                )))
}

/// Sends `sig` (1..=64) to the process (`kill`).
pub fn send_process(proc: &mut Process, sig: u32, info: SigInfo) {
    if is_ignored(proc, sig) {
        return;
    }
    // Standard signals do not queue: a second one while pending keeps the first's info.
    if proc.pending & sigmask(sig) == 0 {
        proc.siginfo[sig as usize - 1] = info;
    }
    proc.pending |= sigmask(sig);
}

/// Sends `sig` to one thread (`tgkill`).
pub fn send_thread(proc: &Process, thread: &mut Thread, sig: u32, info: SigInfo) {
    if is_ignored(proc, sig) {
        return;
    }
    if thread.pending & sigmask(sig) == 0 {
        thread.siginfo[sig as usize - 1] = info;
    }
    thread.pending |= sigmask(sig);
}

/// A signal the kernel raises in the calling thread for what it just did (`SIGPIPE` on a
/// write to a broken pipe); acted on when the syscall returns.
pub fn send(_kernel: &Kernel, proc: &mut Process, thread: &mut Thread, sig: u32) {
    let info = SigInfo {
        code: SI_USER,
        pid: proc.pid,
        ..SigInfo::default()
    };
    send_thread(proc, thread, sig, info);
}

/// `SIGCHLD` (or the child's `exit_signal`) to the parent of a process that died.
pub fn send_child_exit(parent: &mut Process, sig: u32, pid: u32, status: ExitStatus) {
    let (code, status) = match status {
        ExitStatus::Exited(n) => (CLD_EXITED, i32::from(n)),
        ExitStatus::Signaled(s) => (CLD_KILLED, s as i32),
    };
    send_process(
        parent,
        sig,
        SigInfo {
            code,
            pid,
            status,
            addr: None,
        },
    );
}

/// True when the parent's dead children are reaped at once (`SIGCHLD` set to `SIG_IGN`, or
/// `SA_NOCLDWAIT`): they never become zombies to wait for.
pub fn reaps_children_itself(parent: &Process) -> bool {
    let act = parent.sigactions[SIGCHLD as usize - 1];
    act.handler == SIG_IGN || act.flags & SA_NOCLDWAIT != 0
}

/// The lowest-numbered signal the thread would act on now, if any.
fn next_signal(proc: &Process, thread: &Thread) -> Option<u32> {
    let ready = (proc.pending | thread.pending) & (!thread.sigmask | UNBLOCKABLE);
    (ready != 0).then(|| ready.trailing_zeros() + 1)
}

/// True when a parked thread must stop waiting to act on a signal.
pub fn interrupts(proc: &Process, thread: &Thread) -> bool {
    next_signal(proc, thread).is_some()
}

/// True when the signal about to interrupt a restartable call has an `SA_RESTART` handler:
/// the call is restarted after the handler instead of failing with `EINTR`.
pub fn restarts(proc: &Process, thread: &Thread) -> bool {
    next_signal(proc, thread).is_some_and(|sig| {
        let act = proc.sigactions[sig as usize - 1];
        act.handler != SIG_DFL && act.handler != SIG_IGN && act.flags & SA_RESTART != 0
    })
}

/// Acts on every signal the thread can take now: default actions, or one handler frame per
/// signal (nested, the last one set up runs first, as Linux does).
pub fn deliver(kernel: &Kernel, proc: &mut Process, thread: &mut Thread) {
    while proc.exit.is_none()
        && let Some(sig) = next_signal(proc, thread)
    {
        let bit = sigmask(sig);
        let info = if thread.pending & bit != 0 {
            thread.pending &= !bit;
            thread.siginfo[sig as usize - 1]
        } else {
            proc.pending &= !bit;
            proc.siginfo[sig as usize - 1]
        };
        let act = proc.sigactions[sig as usize - 1];
        if sig == SIGKILL || act.handler == SIG_DFL {
            match default_action(sig) {
                DefaultAction::Terminate | DefaultAction::CoreDump => {
                    kill(kernel, proc, sig);
                    return;
                }
                DefaultAction::Stop | DefaultAction::Ignore | DefaultAction::Continue => {}
            }
            continue;
        }
        if act.handler == SIG_IGN {
            continue;
        }
        trace(
            kernel,
            format_args!("--- {} {{si_code={}}} ---", signame(sig), info.code),
        );
        let old_mask = thread.saved_mask.take().unwrap_or(thread.sigmask);
        if frame_riscv64::setup(proc, thread, sig, &act, &info, old_mask).is_err() {
            // `force_sigsegv`: a frame that cannot be written kills the process.
            kill(kernel, proc, crate::abi::signal::SIGSEGV);
            return;
        }
        let mut mask = thread.sigmask | act.mask;
        if act.flags & SA_NODEFER == 0 {
            mask |= bit;
        }
        thread.sigmask = mask & !UNBLOCKABLE;
        if act.flags & SA_RESETHAND != 0 {
            proc.sigactions[sig as usize - 1].handler = SIG_DFL;
        }
    }
}

/// A synchronous fault (`force_sig_fault`): delivered to a handler if one is installed and
/// the signal is not blocked; otherwise (and for a fault inside a handler that blocks it) the
/// process dies of it.
pub fn force_fault(
    kernel: &Kernel,
    proc: &mut Process,
    thread: &mut Thread,
    sig: u32,
    fault: MemFault,
) {
    use crate::abi::signal::{BUS_ADRALN, SEGV_ACCERR, SEGV_MAPERR};
    let code = match fault.kind {
        FaultKind::Misaligned => BUS_ADRALN,
        FaultKind::Protection => SEGV_ACCERR,
        FaultKind::Unmapped => SEGV_MAPERR,
        FaultKind::OutOfMemory => {
            proc.mm.space.take_out_of_memory();
            oom_kill(kernel, proc);
            return;
        }
    };
    force(kernel, proc, thread, sig, code, fault.addr);
}

/// What Linux's OOM killer does when a page cannot be had (`mm/oom_kill.c`): the process
/// dies of `SIGKILL`, which no handler can catch, and one line says so on stderr, worded like
/// the kernel's `Out of memory: Killed process N (comm)`. Linux picks the process with the
/// largest footprint; here it is always the one whose access or syscall needed the page.
pub fn oom_kill(kernel: &Kernel, proc: &mut Process) {
    eprintln!(
        "ctr2wasm: out of memory: killed process {} ({})",
        proc.pid,
        String::from_utf8_lossy(&proc.comm)
    );
    kill(kernel, proc, SIGKILL);
}

/// `SIGILL` or `SIGTRAP` at the current instruction.
pub fn force_fault_at(kernel: &Kernel, proc: &mut Process, thread: &mut Thread, sig: u32) {
    use crate::abi::signal::{ILL_ILLOPC, SIGILL, TRAP_BRKPT};
    let code = if sig == SIGILL {
        ILL_ILLOPC
    } else {
        TRAP_BRKPT
    };
    let pc = thread.hart.pc;
    force(kernel, proc, thread, sig, code, pc);
}

fn force(kernel: &Kernel, proc: &mut Process, thread: &mut Thread, sig: u32, code: i32, addr: u64) {
    trace(
        kernel,
        format_args!(
            "--- {} {{si_code={code}, si_addr={addr:#x}}} pc={:#x} ---",
            signame(sig),
            thread.hart.pc
        ),
    );
    let act = proc.sigactions[sig as usize - 1];
    let blocked = thread.sigmask & sigmask(sig) != 0;
    if act.handler == SIG_DFL || act.handler == SIG_IGN || blocked {
        kill(kernel, proc, sig);
        return;
    }
    thread.pending |= sigmask(sig);
    thread.siginfo[sig as usize - 1] = SigInfo {
        code,
        pid: 0,
        status: 0,
        addr: Some(addr),
    };
    deliver(kernel, proc, thread);
}

/// Fires the `ITIMER_REAL` timers that are due: `SIGALRM` to their process, then reload.
pub fn fire_timers(kernel: &mut Kernel, now_ns: u64) {
    for p in kernel.tasks.procs.values() {
        let mut p = p.borrow_mut();
        if let Some((at, interval)) = p.itimer_real
            && at <= now_ns
        {
            p.itimer_real = (interval != 0).then(|| (now_ns.saturating_add(interval), interval));
            send_process(
                &mut p,
                SIGALRM,
                SigInfo {
                    code: SI_TIMER,
                    ..SigInfo::default()
                },
            );
        }
    }
}

fn kill(kernel: &Kernel, proc: &mut Process, sig: u32) {
    trace(kernel, format_args!("+++ killed by {} +++", signame(sig)));
    proc.exit = Some(ExitStatus::Signaled(sig));
}

pub fn signame(sig: u32) -> String {
    name(sig).map_or_else(
        || format!("SIGRT_{}", sig.saturating_sub(32)),
        str::to_owned,
    )
}

fn trace(kernel: &Kernel, msg: std::fmt::Arguments) {
    if kernel.trace {
        eprintln!("{msg}");
    }
}
