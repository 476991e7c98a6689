//! Signal syscalls: dispositions (`rt_sigaction`), the mask (`rt_sigprocmask`), the alternate
//! stack (`sigaltstack`) and sending (`kill`, `tkill`, `tgkill`). What happens to a signal once
//! sent is [`crate::signal`].

use super::{Ctx, GuestAddr};
use crate::abi::Errno;
use crate::abi::signal::{
    MINSIGSTKSZ, NSIG, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGKILL, SIGSET_SIZE, SIGSTOP,
    SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, SigAction, StackT, UAPI_SA_FLAGS, UNBLOCKABLE,
};
use crate::signal;
use ctr2wasm_emulator::riscv64::reg::SP;

/// A signal number from a syscall argument: 1..=64, else `EINVAL`.
fn valid_signal(sig: i32) -> Result<u32, Errno> {
    u32::try_from(sig)
        .ok()
        .filter(|s| (1..=NSIG).contains(s))
        .ok_or(Errno::EINVAL)
}

pub fn sys_rt_sigaction(
    c: &mut Ctx,
    sig: i32,
    act: GuestAddr,
    oldact: GuestAddr,
    sigsetsize: u64,
) -> Result<u64, Errno> {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let sig = valid_signal(sig)?;
    let new = if act.is_null() {
        None
    } else {
        if sig == SIGKILL || sig == SIGSTOP {
            return Err(Errno::EINVAL);
        }
        let mut a = SigAction::from_bytes(&c.read_array(act)?);
        // Unknown flags are dropped so programs can probe for them; KILL and STOP cannot
        // be blocked by a handler's mask either (`do_sigaction`).
        a.flags &= UAPI_SA_FLAGS;
        a.mask &= !UNBLOCKABLE;
        Some(a)
    };
    let i = sig as usize - 1;
    if !oldact.is_null() {
        let old = c.proc.sigactions[i].to_bytes();
        c.write_bytes(oldact, &old)?;
    }
    if let Some(a) = new {
        c.proc.sigactions[i] = a;
        // Setting SIG_IGN (or SIG_DFL for an ignored-by-default signal) discards it if pending.
        signal::act_on_pending(c.kernel, c.proc, c.thread);
    }
    Ok(0)
}

pub fn sys_rt_sigprocmask(
    c: &mut Ctx,
    how: i32,
    set: GuestAddr,
    oldset: GuestAddr,
    sigsetsize: u64,
) -> Result<u64, Errno> {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let old = c.thread.sigmask;
    if !set.is_null() {
        let new = u64::from_le_bytes(c.read_array(set)?);
        let mask = match u32::try_from(how) {
            Ok(SIG_BLOCK) => old | new,
            Ok(SIG_UNBLOCK) => old & !new,
            Ok(SIG_SETMASK) => new,
            _ => return Err(Errno::EINVAL),
        };
        c.thread.sigmask = mask & !UNBLOCKABLE;
    }
    if !oldset.is_null() {
        c.write_bytes(oldset, &old.to_le_bytes())?;
    }
    signal::act_on_pending(c.kernel, c.proc, c.thread);
    Ok(0)
}

pub fn sys_sigaltstack(c: &mut Ctx, ss: GuestAddr, old: GuestAddr) -> Result<u64, Errno> {
    let cur = c.thread.altstack;
    // The user stack pointer at the syscall, as `current_user_stack_pointer()` gives it.
    let sp = c.thread.hart.x[SP];
    let on_stack = cur.flags & SS_DISABLE == 0 && sp.wrapping_sub(cur.sp) < cur.size;
    let new = if ss.is_null() {
        None
    } else {
        let s = StackT::from_bytes(&c.read_array(ss)?);
        // `do_sigaltstack`: no change while running on the alternate stack.
        if on_stack {
            return Err(Errno::EPERM);
        }
        let mode = s.flags & !SS_AUTODISARM;
        if mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0 {
            return Err(Errno::EINVAL);
        }
        Some(if mode == SS_DISABLE {
            StackT {
                sp: 0,
                flags: SS_DISABLE,
                size: 0,
            }
        } else {
            if s.size < MINSIGSTKSZ {
                return Err(Errno::ENOMEM);
            }
            StackT {
                sp: s.sp,
                flags: s.flags & SS_AUTODISARM,
                size: s.size,
            }
        })
    };
    if !old.is_null() {
        let mut o = cur;
        // The flags read back say whether we are on it (`SS_ONSTACK`) or it is off.
        o.flags = if cur.size == 0 || cur.flags & SS_DISABLE != 0 {
            SS_DISABLE
        } else {
            (cur.flags & SS_AUTODISARM) | if on_stack { SS_ONSTACK } else { 0 }
        };
        c.write_bytes(old, &o.to_bytes())?;
    }
    if let Some(s) = new {
        c.thread.altstack = s;
    }
    Ok(0)
}

/// `kill(pid, sig)`: only this process exists; pid 0, -1 and our own pid reach it.
pub fn sys_kill(c: &mut Ctx, pid: i32, sig: i32) -> Result<u64, Errno> {
    let me = c.proc.pid as i32;
    if !(pid == me || pid == 0 || pid == -1 || pid == -me) {
        return Err(Errno::ESRCH);
    }
    send(c, sig)
}

/// `tgkill(tgid, tid, sig)`; `tkill` passes `tgid = -1`.
pub fn sys_tgkill(c: &mut Ctx, tgid: i32, tid: i32, sig: i32) -> Result<u64, Errno> {
    if tid <= 0 || (tgid != -1 && tgid <= 0) {
        return Err(Errno::EINVAL);
    }
    if tid != c.thread.tid as i32 || (tgid != -1 && tgid != c.proc.pid as i32) {
        return Err(Errno::ESRCH);
    }
    send(c, sig)
}

fn send(c: &mut Ctx, sig: i32) -> Result<u64, Errno> {
    // Signal 0 only checks that the target exists.
    if sig == 0 {
        return Ok(0);
    }
    let sig = valid_signal(sig)?;
    signal::send(c.kernel, c.proc, c.thread, sig);
    Ok(0)
}
