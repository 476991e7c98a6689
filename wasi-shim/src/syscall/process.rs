//! Process and thread syscalls: exit, thread bookkeeping, identity, limits, randomness,
//! futexes, CPU affinity and `riscv_hwprobe`.

use super::{Ctx, GuestAddr, time};
use crate::abi::Errno;
use crate::abi::futex::{
    FUTEX_CLOCK_REALTIME, FUTEX_CMD_MASK, FUTEX_CMP_REQUEUE, FUTEX_REQUEUE, FUTEX_WAIT,
    FUTEX_WAIT_BITSET, FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP,
};
use crate::abi::hwprobe::*;
use crate::abi::resource::{RLIM_NLIMITS, RLIMIT_NOFILE, Rlimit};
use crate::abi::time::{CLOCK_MONOTONIC, CLOCK_REALTIME, Timespec};
use crate::abi::utsname;
use crate::task::{ExitStatus, WaitReason};
use ctr2wasm_emulator::mmu::ADDRESS_SPACE_END;

/// `nr_open`: the highest `RLIMIT_NOFILE` anyone may set (`fs/file.c`).
const NR_OPEN: u64 = 1 << 20;
/// `sizeof(struct robust_list_head)`.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;
/// Most random bytes one `getrandom` returns (`MAX_RW_COUNT` would allow more; Linux's
/// `get_random_bytes_user` stops at signals, we stop here so one call stays short).
const GETRANDOM_MAX: u64 = 32 << 20;
/// Bytes of a CPU set `sched_getaffinity` writes: one `unsigned long` covers our one CPU.
const CPUMASK_SIZE: u64 = 8;
/// Frequency of the emulator's `time` CSR (`TIMEBASE_HZ` in `ctr2wasm-emulator`).
const TIMEBASE_HZ: u64 = 10_000_000;

/// `exit(2)`: ends the calling thread. The process ends with it when it was the last one.
pub fn sys_exit(c: &mut Ctx, status: i32) -> Result<u64, Errno> {
    c.thread.exited = true;
    c.proc.exit = Some(ExitStatus::Exited(status as u8));
    Ok(0)
}

pub fn sys_exit_group(c: &mut Ctx, status: i32) -> Result<u64, Errno> {
    c.proc.exit = Some(ExitStatus::Exited(status as u8));
    Ok(0)
}

pub fn sys_set_tid_address(c: &mut Ctx, tidptr: u64) -> Result<u64, Errno> {
    c.thread.clear_child_tid = tidptr;
    Ok(u64::from(c.thread.tid))
}

pub fn sys_set_robust_list(c: &mut Ctx, head: u64, len: u64) -> Result<u64, Errno> {
    if len != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    c.thread.robust_list = head;
    Ok(0)
}

pub fn sys_uname(c: &mut Ctx, buf: GuestAddr) -> Result<u64, Errno> {
    let b = utsname::to_bytes([
        utsname::SYSNAME,
        utsname::NODENAME,
        utsname::RELEASE,
        utsname::VERSION,
        utsname::MACHINE,
        utsname::DOMAINNAME,
    ]);
    c.write_bytes(buf, &b)?;
    Ok(0)
}

/// `prlimit64`, and `getrlimit`/`setrlimit` through it (pid 0, one of the two pointers null).
pub fn sys_prlimit64(
    c: &mut Ctx,
    pid: i32,
    resource: u32,
    new: GuestAddr,
    old: GuestAddr,
) -> Result<u64, Errno> {
    if pid != 0 && pid != c.proc.pid as i32 {
        return Err(Errno::ESRCH);
    }
    let r = resource as usize;
    if r >= RLIM_NLIMITS {
        return Err(Errno::EINVAL);
    }
    let new = if new.is_null() {
        None
    } else {
        let lim = Rlimit::from_bytes(&c.read_array(new)?);
        if lim.cur > lim.max || (resource == RLIMIT_NOFILE && lim.max > NR_OPEN) {
            return Err(if lim.cur > lim.max {
                Errno::EINVAL
            } else {
                Errno::EPERM
            });
        }
        Some(lim)
    };
    if !old.is_null() {
        let b = c.proc.rlimits[r].to_bytes();
        c.write_bytes(old, &b)?;
    }
    // We are root (CAP_SYS_RESOURCE): raising the hard limit is allowed.
    if let Some(lim) = new {
        c.proc.rlimits[r] = lim;
    }
    Ok(0)
}

pub fn sys_getrandom(c: &mut Ctx, buf: GuestAddr, len: u64, flags: u32) -> Result<u64, Errno> {
    const GRND_NONBLOCK: u32 = 1;
    const GRND_RANDOM: u32 = 2;
    const GRND_INSECURE: u32 = 4;
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == GRND_RANDOM | GRND_INSECURE
    {
        return Err(Errno::EINVAL);
    }
    let len = len.min(GETRANDOM_MAX);
    let mut chunk = [0u8; 256];
    let mut done = 0u64;
    while done < len {
        let n = ((len - done) as usize).min(chunk.len());
        getrandom::fill(&mut chunk[..n]).map_err(|_| Errno::EIO)?;
        if let Err(e) = c.write_bytes(buf.offset(done)?, &chunk[..n]) {
            return if done == 0 { Err(e) } else { Ok(done) };
        }
        done += n as u64;
    }
    Ok(done)
}

/// `futex(uaddr, op, val, timeout_or_val2, uaddr2, val3)`. With one thread nobody else can
/// wake a waiter: a wait with a timeout sleeps it out, a wait without one is a deadlock.
pub fn sys_futex(
    c: &mut Ctx,
    uaddr: GuestAddr,
    op: u32,
    val: u32,
    timeout: GuestAddr,
    uaddr2: GuestAddr,
    val3: u32,
) -> Result<u64, Errno> {
    let cmd = op & FUTEX_CMD_MASK;
    if op & FUTEX_CLOCK_REALTIME != 0 && cmd != FUTEX_WAIT_BITSET {
        return Err(Errno::ENOSYS);
    }
    if uaddr.0 & 3 != 0 {
        return Err(Errno::EINVAL);
    }
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if cmd == FUTEX_WAIT_BITSET && val3 == 0 {
                return Err(Errno::EINVAL);
            }
            // The deadline is read before the futex word, as `futex_init_timeout` does.
            let deadline = if timeout.is_null() {
                None
            } else {
                let ts = Timespec::from_bytes(&c.read_array(timeout)?);
                let ns = ts.to_ns().ok_or(Errno::EINVAL)?;
                Some(if cmd == FUTEX_WAIT {
                    (
                        CLOCK_MONOTONIC,
                        time::now_ns(c.kernel, CLOCK_MONOTONIC).saturating_add(ns),
                    )
                } else if op & FUTEX_CLOCK_REALTIME != 0 {
                    (CLOCK_REALTIME, ns)
                } else {
                    (CLOCK_MONOTONIC, ns)
                })
            };
            if c.read_u32(uaddr)? != val {
                return Err(Errno::EAGAIN);
            }
            match deadline {
                Some((clock, at)) => {
                    time::sleep_until(c.kernel, clock, at);
                    Err(Errno::ETIMEDOUT)
                }
                None => {
                    c.thread.wait = Some(WaitReason::Futex { addr: uaddr.0 });
                    Ok(0)
                }
            }
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            if cmd == FUTEX_WAKE_BITSET && val3 == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(0)
        }
        FUTEX_REQUEUE => Ok(0),
        FUTEX_CMP_REQUEUE => {
            if c.read_u32(uaddr)? != val3 {
                return Err(Errno::EAGAIN);
            }
            Ok(0)
        }
        FUTEX_WAKE_OP => {
            // The atomic update of *uaddr2 happens even with nobody to wake.
            futex_wake_op(c, uaddr2, val3)?;
            Ok(0)
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// The read-modify-write half of `FUTEX_WAKE_OP` (`futex_atomic_op_inuser`).
fn futex_wake_op(c: &mut Ctx, uaddr2: GuestAddr, encoded: u32) -> Result<(), Errno> {
    if uaddr2.0 & 3 != 0 {
        return Err(Errno::EINVAL);
    }
    let op = (encoded >> 28) & 7;
    let shift_arg = encoded >> 31 != 0;
    let mut oparg = ((encoded << 8) as i32 >> 20) as u32;
    if shift_arg {
        if oparg > 31 {
            oparg &= 31;
        }
        oparg = 1u32 << oparg;
    }
    let old = c.read_u32(uaddr2)?;
    let new = match op {
        0 => oparg,
        1 => old.wrapping_add(oparg),
        2 => old | oparg,
        3 => old & !oparg,
        4 => old ^ oparg,
        _ => return Err(Errno::ENOSYS),
    };
    c.write_bytes(uaddr2, &new.to_le_bytes())
}

pub fn sys_sched_getaffinity(
    c: &mut Ctx,
    pid: i32,
    len: u64,
    mask: GuestAddr,
) -> Result<u64, Errno> {
    if pid != 0 && pid != c.thread.tid as i32 {
        return Err(Errno::ESRCH);
    }
    if len < CPUMASK_SIZE || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    c.write_bytes(mask, &1u64.to_le_bytes())?;
    Ok(CPUMASK_SIZE)
}

/// What our one hart answers for `key`, or `None` for a key Linux does not define.
fn hwprobe_value(key: i64) -> Option<u64> {
    Some(match key {
        RISCV_HWPROBE_KEY_MVENDORID | RISCV_HWPROBE_KEY_MARCHID | RISCV_HWPROBE_KEY_MIMPID => 0,
        RISCV_HWPROBE_KEY_BASE_BEHAVIOR => RISCV_HWPROBE_BASE_BEHAVIOR_IMA,
        RISCV_HWPROBE_KEY_IMA_EXT_0 => {
            RISCV_HWPROBE_IMA_FD
                | RISCV_HWPROBE_IMA_C
                | RISCV_HWPROBE_EXT_ZBA
                | RISCV_HWPROBE_EXT_ZBB
                | RISCV_HWPROBE_EXT_ZBS
                | RISCV_HWPROBE_EXT_ZICOND
        }
        // Misaligned accesses work, through the emulator's slow path.
        RISCV_HWPROBE_KEY_CPUPERF_0 | RISCV_HWPROBE_KEY_MISALIGNED_SCALAR_PERF => {
            RISCV_HWPROBE_MISALIGNED_EMULATED
        }
        // No Zicboz.
        RISCV_HWPROBE_KEY_ZICBOZ_BLOCK_SIZE => 0,
        RISCV_HWPROBE_KEY_HIGHEST_VIRT_ADDRESS => ADDRESS_SPACE_END - 1,
        RISCV_HWPROBE_KEY_TIME_CSR_FREQ => TIMEBASE_HZ,
        _ => return None,
    })
}

/// Whether `value` asked for in a `RISCV_HWPROBE_WHICH_CPUS` query matches ours: bitmask
/// keys match when we have every bit asked for, the others when equal.
fn hwprobe_matches(key: i64, value: u64) -> bool {
    match (key, hwprobe_value(key)) {
        (RISCV_HWPROBE_KEY_BASE_BEHAVIOR | RISCV_HWPROBE_KEY_IMA_EXT_0, Some(ours)) => {
            ours & value == value
        }
        (_, Some(ours)) => ours == value,
        (_, None) => false,
    }
}

pub fn sys_riscv_hwprobe(
    c: &mut Ctx,
    pairs: GuestAddr,
    count: u64,
    cpusetsize: u64,
    cpus: GuestAddr,
    flags: u64,
) -> Result<u64, Errno> {
    if flags & !RISCV_HWPROBE_WHICH_CPUS != 0 {
        return Err(Errno::EINVAL);
    }
    // Only the first byte of a CPU set can name our CPU 0.
    let cpu0 = if cpusetsize == 0 || cpus.is_null() {
        if flags != 0 {
            return Err(Errno::EINVAL);
        }
        true
    } else {
        let mut b = [0u8; 1];
        c.read_bytes(cpus, &mut b)?;
        b[0] & 1 != 0
    };
    if flags == 0 && !cpu0 {
        return Err(Errno::EINVAL);
    }
    let mut all_match = true;
    for i in 0..count {
        let at = pairs.offset(i.checked_mul(PAIR_SIZE).ok_or(Errno::EFAULT)?)?;
        let raw: [u8; 16] = c.read_array(at)?;
        let key = i64::from_le_bytes(raw[..8].try_into().expect("8 bytes"));
        let value = u64::from_le_bytes(raw[8..].try_into().expect("8 bytes"));
        if flags == 0 {
            let out = match hwprobe_value(key) {
                Some(v) => [key.to_le_bytes(), v.to_le_bytes()],
                None => [(-1i64).to_le_bytes(), 0u64.to_le_bytes()],
            };
            c.write_bytes(at, &out.concat())?;
        } else {
            all_match &= hwprobe_matches(key, value);
        }
    }
    if flags != 0 {
        // Keep CPU 0 in the set only if it has everything asked for.
        let mut b = [0u8; 1];
        c.read_bytes(cpus, &mut b)?;
        b[0] &= if all_match { 1 } else { 0 };
        c.write_bytes(cpus, &b)?;
    }
    Ok(0)
}
