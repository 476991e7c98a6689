//! Signal syscalls: dispositions (`rt_sigaction`), the mask (`rt_sigprocmask`,
//! `rt_sigpending`, `rt_sigsuspend`), the alternate stack (`sigaltstack`), sending (`kill`,
//! `tkill`, `tgkill`), the return from a handler (`rt_sigreturn`) and `ITIMER_REAL`
//! (`setitimer`, `getitimer`). What happens to a signal once sent is [`crate::signal`].

use super::{Ctx, GuestAddr};
use crate::abi::Errno;
use crate::abi::signal::{
    MINSIGSTKSZ, NSIG, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGKILL, SIGSET_SIZE, SIGSTOP,
    SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, SigAction, StackT, UAPI_SA_FLAGS, UNBLOCKABLE,
};
use crate::abi::signal::{SI_TKILL, SI_USER, SIGSEGV, SigInfo, sigmask};
use crate::abi::time::{CLOCK_MONOTONIC, ITIMER_REAL, Timespec, Timeval};
use crate::signal::{self, frame_riscv64};
use crate::syscall::time::now_ns;
use crate::task::{ExitStatus, Process, Wait, WaitOn};
use ctr2wasm_emulator::riscv64::reg::SP;

/// A signal number from a syscall argument: 1..=64, else `EINVAL`.
fn valid_signal(sig: i32) -> Result<u32, Errno> {
    u32::try_from(sig)
        .ok()
        .filter(|s| (1..=NSIG).contains(s))
        .ok_or(Errno::EINVAL)
}

/// The `sigsetsize` argument of the rt_sig* calls: the kernel's sigset is exactly 8 bytes,
/// anything else is `EINVAL`.
pub(super) fn check_sigset_size(sigsetsize: u64) -> Result<(), Errno> {
    if sigsetsize == SIGSET_SIZE {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

pub fn sys_rt_sigaction(
    c: &mut Ctx,
    sig: i32,
    act: GuestAddr,
    oldact: GuestAddr,
    sigsetsize: u64,
) -> Result<u64, Errno> {
    check_sigset_size(sigsetsize)?;
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
        // Setting SIG_IGN (or SIG_DFL for an ignored-by-default signal) discards it if pending,
        // in every thread (`do_sigaction`).
        if signal::is_ignored(c.proc, sig) {
            let bit = sigmask(sig);
            c.proc.pending &= !bit;
            c.thread.pending &= !bit;
            let me = c.proc.pid;
            for t in c.kernel.tasks.threads.values_mut().filter(|t| t.tgid == me) {
                t.pending &= !bit;
            }
        }
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
    check_sigset_size(sigsetsize)?;
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

/// `kill(pid, sig)`: one process (`pid > 0`), the caller's process group (0), every process
/// but init and the caller (-1), or process group `-pid`.
pub fn sys_kill(c: &mut Ctx, pid: i32, sig: i32) -> Result<u64, Errno> {
    let sig = if sig == 0 { 0 } else { valid_signal(sig)? };
    let me = c.proc.pid;
    let info = SigInfo {
        code: SI_USER,
        pid: me,
        ..SigInfo::default()
    };
    let my_pgid = c.proc.pgid;
    let target = |p: &Process| -> bool {
        match pid {
            0 => p.pgid == my_pgid,
            -1 => p.pid != 1 && p.pid != me,
            p_ if p_ < 0 => p.pgid == p_.unsigned_abs(),
            p_ => p.pid == p_ as u32,
        }
    };
    let mut found = false;
    if target(c.proc) {
        found = true;
        if sig != 0 {
            signal::send_process(c.proc, sig, info);
        }
    }
    for (&other, p) in &c.kernel.tasks.procs {
        if other == me {
            continue;
        }
        let mut p = p.borrow_mut();
        if !target(&p) || (p.zombie && pid <= 0) {
            continue;
        }
        found = true;
        if sig != 0 && !p.zombie {
            signal::send_process(&mut p, sig, info);
        }
    }
    if !found {
        return Err(Errno::ESRCH);
    }
    Ok(0)
}

/// `tgkill(tgid, tid, sig)`; `tkill` passes `tgid = -1`.
pub fn sys_tgkill(c: &mut Ctx, tgid: i32, tid: i32, sig: i32) -> Result<u64, Errno> {
    if tid <= 0 || (tgid != -1 && tgid <= 0) {
        return Err(Errno::EINVAL);
    }
    let sig = if sig == 0 { 0 } else { valid_signal(sig)? };
    let info = SigInfo {
        code: SI_TKILL,
        pid: c.proc.pid,
        ..SigInfo::default()
    };
    let tid = tid as u32;
    if tid == c.thread.tid {
        if tgid != -1 && tgid as u32 != c.proc.pid {
            return Err(Errno::ESRCH);
        }
        if sig != 0 {
            signal::send_thread(c.proc, c.thread, sig, info);
        }
        return Ok(0);
    }
    let Some(t) = c.kernel.tasks.threads.get_mut(&tid) else {
        return Err(Errno::ESRCH);
    };
    if tgid != -1 && tgid as u32 != t.tgid {
        return Err(Errno::ESRCH);
    }
    if sig == 0 {
        return Ok(0);
    }
    if t.tgid == c.proc.pid {
        signal::send_thread(c.proc, t, sig, info);
    } else if let Some(p) = c.kernel.tasks.procs.get(&t.tgid) {
        signal::send_thread(&p.borrow(), t, sig, info);
    }
    Ok(0)
}

/// `rt_sigreturn`: back from a handler to the interrupted code. The syscall return path adds
/// 4 to the pc and stores the result in `a0`, so the restored pc is pre-biased and the
/// restored `a0` returned.
pub fn sys_rt_sigreturn(c: &mut Ctx) -> Result<u64, Errno> {
    match frame_riscv64::restore(c.proc, c.thread) {
        Ok(a0) => {
            c.thread.hart.pc = c.thread.hart.pc.wrapping_sub(4);
            Ok(a0)
        }
        Err(_) => {
            // `force_sig(SIGSEGV)`: a frame that cannot be read kills the process.
            c.proc.exit = Some(ExitStatus::Signaled(SIGSEGV));
            Ok(0)
        }
    }
}

pub fn sys_rt_sigpending(c: &mut Ctx, set: GuestAddr, sigsetsize: u64) -> Result<u64, Errno> {
    if sigsetsize > SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let pending = (c.proc.pending | c.thread.pending) & c.thread.sigmask;
    let b = pending.to_le_bytes();
    c.write_bytes(set, &b[..sigsetsize as usize])?;
    Ok(0)
}

/// `rt_sigsuspend(mask)`: waits with `mask` for a signal that runs a handler; the old mask
/// comes back when the handler returns. Always `EINTR`.
pub fn sys_rt_sigsuspend(c: &mut Ctx, set: GuestAddr, sigsetsize: u64) -> Result<u64, Errno> {
    check_sigset_size(sigsetsize)?;
    let mask = u64::from_le_bytes(c.read_array(set)?);
    c.thread.saved_mask = Some(c.thread.sigmask);
    c.thread.sigmask = mask & !UNBLOCKABLE;
    c.kernel.tasks.park(
        c.thread,
        Wait {
            on: WaitOn::Signal,
            deadline_ns: None,
            restartable: false,
        },
    );
    Ok(0)
}

/// `rt_sigtimedwait(set, info, timeout)`: takes a pending signal of `set` (normally blocked)
/// without running its handler, waiting for one up to `timeout`.
pub fn sys_rt_sigtimedwait(
    c: &mut Ctx,
    set: GuestAddr,
    info: GuestAddr,
    timeout: GuestAddr,
    sigsetsize: u64,
) -> Result<u64, Errno> {
    check_sigset_size(sigsetsize)?;
    let set = u64::from_le_bytes(c.read_array(set)?) & !UNBLOCKABLE;
    let timeout_ns = if timeout.is_null() {
        None
    } else {
        Some(
            Timespec::from_bytes(&c.read_array(timeout)?)
                .to_ns()
                .ok_or(Errno::EINVAL)?,
        )
    };
    let ready = (c.proc.pending | c.thread.pending) & set;
    if ready != 0 {
        let sig = ready.trailing_zeros() + 1;
        let bit = sigmask(sig);
        let si = if c.thread.pending & bit != 0 {
            c.thread.pending &= !bit;
            c.thread.siginfo[sig as usize - 1]
        } else {
            c.proc.pending &= !bit;
            c.proc.siginfo[sig as usize - 1]
        };
        if !info.is_null() {
            c.write_bytes(info, &si.to_bytes(sig))?;
        }
        return Ok(u64::from(sig));
    }
    if timeout_ns == Some(0) {
        return Err(Errno::EAGAIN);
    }
    let now = now_ns(c.kernel, CLOCK_MONOTONIC);
    c.kernel.tasks.park(
        c.thread,
        Wait {
            on: WaitOn::SigWait { set },
            deadline_ns: timeout_ns.map(|t| now.saturating_add(t)),
            restartable: false,
        },
    );
    Ok(0)
}

/// `setitimer(ITIMER_REAL, new, old)` (and `alarm` in libc): `SIGALRM` at the deadline, then
/// every interval. The virtual and profiling timers count CPU time, which we do not.
/// Only `ITIMER_REAL` exists here: the virtual and profiling timers answer `ENOSYS`, unknown
/// timers `EINVAL` as Linux does.
fn itimer_real_only(which: i32) -> Result<(), Errno> {
    if which == ITIMER_REAL {
        Ok(())
    } else if (0..=2).contains(&which) {
        Err(Errno::ENOSYS)
    } else {
        Err(Errno::EINVAL)
    }
}

pub fn sys_setitimer(
    c: &mut Ctx,
    which: i32,
    new: GuestAddr,
    old: GuestAddr,
) -> Result<u64, Errno> {
    itimer_real_only(which)?;
    let now = now_ns(c.kernel, CLOCK_MONOTONIC);
    let set = if new.is_null() {
        None
    } else {
        let b: [u8; 32] = c.read_array(new)?;
        let interval = Timeval::from_bytes(&b[..16]).to_ns().ok_or(Errno::EINVAL)?;
        let value = Timeval::from_bytes(&b[16..]).to_ns().ok_or(Errno::EINVAL)?;
        Some((value != 0).then(|| (now.saturating_add(value), interval)))
    };
    if !old.is_null() {
        let b = itimerval_bytes(c.proc.itimer_real, now);
        c.write_bytes(old, &b)?;
    }
    if let Some(t) = set {
        c.proc.itimer_real = t;
    }
    Ok(0)
}

pub fn sys_getitimer(c: &mut Ctx, which: i32, cur: GuestAddr) -> Result<u64, Errno> {
    itimer_real_only(which)?;
    let now = now_ns(c.kernel, CLOCK_MONOTONIC);
    let b = itimerval_bytes(c.proc.itimer_real, now);
    c.write_bytes(cur, &b)?;
    Ok(0)
}

/// `struct itimerval` for a timer due at `at` (monotonic ns) with reload `interval`.
fn itimerval_bytes(timer: Option<(u64, u64)>, now: u64) -> [u8; 32] {
    let (left, interval) = match timer {
        // A due timer not yet fired still reads as a tiny remainder, never as disarmed.
        Some((at, interval)) => (at.saturating_sub(now).max(1000), interval),
        None => (0, 0),
    };
    let mut b = [0u8; 32];
    b[..16].copy_from_slice(&Timeval::from_ns(interval).to_bytes());
    b[16..].copy_from_slice(&Timeval::from_ns(left).to_bytes());
    b
}
