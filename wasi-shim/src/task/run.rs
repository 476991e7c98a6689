//! The run loop: execute a thread on the emulator and act on why it stopped (a syscall, a
//! fault, the end of its time slice) until the process dies or nothing can run.

use super::{ExitStatus, Process, Thread, WaitReason};
use crate::abi::signal::{SIGBUS, SIGILL, SIGSEGV, SIGTRAP};
use crate::kernel::Kernel;
use crate::signal;
use crate::syscall::{self, Ctx};
use ctr2wasm_emulator::mmu::FaultKind;
use ctr2wasm_emulator::riscv64::{self, Exit};

/// Instructions a thread runs before the loop looks at it again. The emulator checks it at
/// block ends only, so this bounds how late a pending signal or another task gets its turn.
const TIME_SLICE: u64 = 1 << 22;

/// Every task waits for something that no other task can ever do.
#[derive(Debug, thiserror::Error)]
#[error("deadlock: thread {tid} waits on {reason} and no other task can wake it")]
pub struct Deadlock {
    pub tid: u32,
    pub reason: WaitReason,
}

impl std::fmt::Display for WaitReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitReason::Futex { addr } => write!(f, "futex {addr:#x}"),
        }
    }
}

/// Runs the process's only thread until the process exits or deadlocks.
pub fn run(
    kernel: &mut Kernel,
    proc: &mut Process,
    thread: &mut Thread,
) -> Result<ExitStatus, Deadlock> {
    loop {
        if let Some(status) = proc.exit {
            return Ok(status);
        }
        if let Some(reason) = thread.wait {
            return Err(Deadlock {
                tid: thread.tid,
                reason,
            });
        }
        match riscv64::run(
            &mut thread.hart,
            &mut proc.mm.space,
            &mut proc.cache,
            TIME_SLICE,
        ) {
            Exit::Ecall => syscall::dispatch(&mut Ctx {
                kernel,
                proc,
                thread,
            }),
            Exit::BudgetSpent => {}
            Exit::Fault(fault) => {
                let sig = if fault.kind == FaultKind::Misaligned {
                    SIGBUS
                } else {
                    SIGSEGV
                };
                signal::force_fault(kernel, proc, thread, sig, fault.addr);
            }
            Exit::IllegalInstruction => {
                let pc = thread.hart.pc;
                signal::force_fault(kernel, proc, thread, SIGILL, pc);
            }
            Exit::Breakpoint => {
                let pc = thread.hart.pc;
                signal::force_fault(kernel, proc, thread, SIGTRAP, pc);
            }
        }
    }
}
