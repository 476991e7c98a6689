//! Clock syscalls: `clock_gettime`, `clock_getres`, `gettimeofday`, `nanosleep` and
//! `clock_nanosleep`.
//!
//! `CLOCK_REALTIME` is the host's wall clock. `CLOCK_MONOTONIC` and `CLOCK_BOOTTIME` count
//! from the kernel's start (the guest machine "booted" with the runtime). The CPU-time clocks
//! count retired guest instructions at a nominal 1 GHz, so they measure the guest's work and
//! not the emulator's speed.

use super::{Ctx, GuestAddr};
use crate::abi::Errno;
use crate::abi::time::{
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
    CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI,
    CLOCK_THREAD_CPUTIME_ID, COARSE_RESOLUTION_NS, TIMER_ABSTIME, TIMEZONE_UTC, Timespec, Timeval,
};
use crate::kernel::Kernel;
use crate::task::{Wait, WaitOn};
use std::time::{SystemTime, UNIX_EPOCH};

/// Guest instructions per nanosecond of CPU time reported (a nominal 1 GHz hart).
const INSTRUCTIONS_PER_NS: u64 = 1;

fn realtime_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The wall and boot clocks, in nanoseconds. CPU-time clocks are per task: see
/// [`clock_ns`].
pub fn now_ns(kernel: &Kernel, clock: u32) -> u64 {
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_TAI => realtime_ns(),
        _ => u64::try_from(kernel.boot.elapsed().as_nanos()).unwrap_or(u64::MAX),
    }
}

/// A clock id from a syscall argument. TODO(#3): negative ids, other processes' and threads'
/// CPU clocks (`clock_getcpuclockid`).
fn clock_id(clock: i32) -> Result<u32, Errno> {
    match u32::try_from(clock) {
        Ok(
            c @ (CLOCK_REALTIME
            | CLOCK_MONOTONIC
            | CLOCK_PROCESS_CPUTIME_ID
            | CLOCK_THREAD_CPUTIME_ID
            | CLOCK_MONOTONIC_RAW
            | CLOCK_REALTIME_COARSE
            | CLOCK_MONOTONIC_COARSE
            | CLOCK_BOOTTIME
            | CLOCK_TAI),
        ) => Ok(c),
        _ => Err(Errno::EINVAL),
    }
}

fn clock_ns(c: &Ctx, clock: u32) -> u64 {
    match clock {
        CLOCK_PROCESS_CPUTIME_ID => super::process::process_instret(c) / INSTRUCTIONS_PER_NS,
        CLOCK_THREAD_CPUTIME_ID => c.thread.hart.instret / INSTRUCTIONS_PER_NS,
        _ => now_ns(c.kernel, clock),
    }
}

pub fn sys_clock_gettime(c: &mut Ctx, clock: i32, tp: GuestAddr) -> Result<u64, Errno> {
    let clock = clock_id(clock)?;
    let ts = Timespec::from_ns(clock_ns(c, clock));
    c.write_bytes(tp, &ts.to_bytes())?;
    Ok(0)
}

pub fn sys_clock_getres(c: &mut Ctx, clock: i32, res: GuestAddr) -> Result<u64, Errno> {
    let clock = clock_id(clock)?;
    if !res.is_null() {
        let ns = match clock {
            CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE => COARSE_RESOLUTION_NS,
            _ => 1,
        };
        c.write_bytes(res, &Timespec::from_ns(ns).to_bytes())?;
    }
    Ok(0)
}

pub fn sys_gettimeofday(c: &mut Ctx, tv: GuestAddr, tz: GuestAddr) -> Result<u64, Errno> {
    if !tv.is_null() {
        let ns = realtime_ns();
        let t = Timeval {
            sec: (ns / 1_000_000_000) as i64,
            usec: ((ns % 1_000_000_000) / 1000) as i64,
        };
        c.write_bytes(tv, &t.to_bytes())?;
    }
    if !tz.is_null() {
        c.write_bytes(tz, &TIMEZONE_UTC)?;
    }
    Ok(0)
}

/// Parks the thread until `clock` reads `deadline_ns`. The scheduler keeps deadlines on the
/// monotonic clock, so a `CLOCK_REALTIME` deadline is converted now (a later jump of the wall
/// clock does not move it).
fn sleep_until(c: &mut Ctx, clock: u32, deadline_ns: u64, rem: GuestAddr) {
    let now = now_ns(c.kernel, CLOCK_MONOTONIC);
    let left = deadline_ns.saturating_sub(now_ns(c.kernel, clock));
    c.kernel.tasks.park(
        c.thread,
        Wait {
            on: WaitOn::Sleep { rem: rem.0 },
            deadline_ns: Some(now.saturating_add(left)),
            // `nanosleep` returns EINTR whatever SA_RESTART says.
            restartable: false,
        },
    );
}

fn read_timespec_ns(c: &mut Ctx, at: GuestAddr) -> Result<u64, Errno> {
    Timespec::from_bytes(&c.read_array(at)?)
        .to_ns()
        .ok_or(Errno::EINVAL)
}

/// `nanosleep(req, rem)`: other threads run meanwhile; a signal ends it with `EINTR` and the
/// time left in `rem`.
pub fn sys_nanosleep(c: &mut Ctx, req: GuestAddr, rem: GuestAddr) -> Result<u64, Errno> {
    let ns = read_timespec_ns(c, req)?;
    let deadline = now_ns(c.kernel, CLOCK_MONOTONIC).saturating_add(ns);
    sleep_until(c, CLOCK_MONOTONIC, deadline, rem);
    Ok(0)
}

pub fn sys_clock_nanosleep(
    c: &mut Ctx,
    clock: i32,
    flags: u32,
    req: GuestAddr,
    rem: GuestAddr,
) -> Result<u64, Errno> {
    let clock = clock_id(clock)?;
    if clock == CLOCK_THREAD_CPUTIME_ID {
        return Err(Errno::EINVAL);
    }
    // TODO(#3): a sleep on the process CPU clock needs a deadline in instructions.
    if clock == CLOCK_PROCESS_CPUTIME_ID {
        return Err(Errno::EOPNOTSUPP);
    }
    let ns = read_timespec_ns(c, req)?;
    // An absolute sleep has no remaining time to report.
    let (deadline, rem) = if flags & TIMER_ABSTIME != 0 {
        (ns, GuestAddr(0))
    } else {
        (now_ns(c.kernel, clock).saturating_add(ns), rem)
    };
    sleep_until(c, clock, deadline, rem);
    Ok(0)
}
