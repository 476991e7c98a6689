//! Signal generation and default actions.
//!
//! Signals sent to a process are recorded as pending and acted on when no thread blocks them.
//! Default actions are carried out (terminate, ignore); running a guest handler needs the
//! riscv64 `rt_sigframe`, which is not built yet. TODO(#signals): deliver to handlers; until
//! then a signal with a handler stays pending, and a fault with a handler kills the process
//! as if no handler were installed.

use crate::abi::signal::{
    DefaultAction, SIG_DFL, SIG_IGN, SIGKILL, UNBLOCKABLE, default_action, name, sigmask,
};
use crate::kernel::Kernel;
use crate::task::{ExitStatus, Process, Thread};

/// Sends `sig` (1..=64) to the process, as `kill` does, and acts on it if it is not blocked.
pub fn send(kernel: &Kernel, proc: &mut Process, thread: &Thread, sig: u32) {
    let act = proc.sigactions[sig as usize - 1];
    // Ignored signals are discarded when sent, not when delivered (`sig_ignored`).
    let ignored = act.handler == SIG_IGN
        || (act.handler == SIG_DFL
            && matches!(
                default_action(sig),
                DefaultAction::Ignore | DefaultAction::Continue
            ));
    if ignored && sig != SIGKILL {
        return;
    }
    proc.pending |= sigmask(sig);
    act_on_pending(kernel, proc, thread);
}

/// Acts on the pending signals the thread does not block (after a send or a mask change).
pub fn act_on_pending(kernel: &Kernel, proc: &mut Process, thread: &Thread) {
    let ready = proc.pending & (!thread.sigmask | UNBLOCKABLE);
    for sig in 1..=64u32 {
        if ready & sigmask(sig) == 0 {
            continue;
        }
        let act = proc.sigactions[sig as usize - 1];
        if act.handler != SIG_DFL && act.handler != SIG_IGN && sig != SIGKILL {
            // TODO(#signals): build the rt_sigframe and run the handler.
            trace(
                kernel,
                format_args!(
                    "--- {} left pending: handlers are not delivered yet ---",
                    signame(sig)
                ),
            );
            continue;
        }
        proc.pending &= !sigmask(sig);
        match default_action(sig) {
            _ if act.handler == SIG_IGN && sig != SIGKILL => {}
            DefaultAction::Terminate | DefaultAction::CoreDump => {
                kill(kernel, proc, sig);
                return;
            }
            // No job control yet: a stop signal is dropped rather than stopping the only task.
            DefaultAction::Stop | DefaultAction::Ignore | DefaultAction::Continue => {}
        }
    }
}

/// A synchronous fault (`force_sig_fault`): the signal cannot be blocked or ignored, so with
/// no handler to run the process dies of it.
pub fn force_fault(kernel: &Kernel, proc: &mut Process, thread: &Thread, sig: u32, addr: u64) {
    trace(
        kernel,
        format_args!(
            "--- {} {{si_addr={addr:#x}}} pc={:#x} ---",
            signame(sig),
            thread.hart.pc
        ),
    );
    kill(kernel, proc, sig);
}

fn kill(kernel: &Kernel, proc: &mut Process, sig: u32) {
    trace(kernel, format_args!("+++ killed by {} +++", signame(sig)));
    proc.exit = Some(ExitStatus::Signaled(sig));
}

fn signame(sig: u32) -> String {
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
