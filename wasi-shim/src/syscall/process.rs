//! Process and thread syscalls: exit, thread bookkeeping, identity, limits, randomness,
//! futexes, CPU affinity and `riscv_hwprobe`.

use super::{Ctx, GuestAddr, time};
use crate::abi::Errno;
use crate::abi::fs::{AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use crate::abi::futex::{
    FUTEX_CLOCK_REALTIME, FUTEX_CMD_MASK, FUTEX_CMP_REQUEUE, FUTEX_REQUEUE, FUTEX_WAIT,
    FUTEX_WAIT_BITSET, FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP,
};
use crate::abi::hwprobe::*;
use crate::abi::process::*;
use crate::abi::resource::{RLIM_NLIMITS, RLIMIT_NOFILE, Rlimit};
use crate::abi::signal::{SIG_IGN, SIGCHLD, SS_DISABLE, SigAction, StackT};
use crate::abi::time::{CLOCK_MONOTONIC, CLOCK_REALTIME, Timespec};
use crate::abi::utsname;
use crate::loader::exec::{ExecRequest, exec_image};
use crate::signal::frame_riscv64;
use crate::task::fd::GuestFd;
use crate::task::{
    ExecArgs, ExitStatus, PROCESS_BYTES, Process, THREAD_BYTES, Thread, Wait, WaitOn, comm_of,
    futex,
};
use crate::vfs::procfs::ProcSelf;
use ctr2wasm_emulator::mmu::{ADDRESS_SPACE_END, memory_available};
use ctr2wasm_emulator::riscv64::reg::{A0, SP, TP};
use ctr2wasm_emulator::riscv64::{DecodeCache, Hart};
use std::cell::RefCell;
use std::rc::Rc;

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
    if c.proc.nthreads <= 1 {
        c.proc.exit = Some(ExitStatus::Exited(status as u8));
    }
    Ok(0)
}

/// `exit_group(2)`: ends every thread of the process (the scheduler removes the others).
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
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    // Another process's limits (`prlimit --pid`); it must exist and not be a zombie.
    with_process(
        c,
        pid,
        |p| {
            if p.zombie { Err(Errno::ESRCH) } else { Ok(()) }
        },
    )?;
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
        let b = with_process(c, pid, |p| Ok(p.rlimits[r].to_bytes()))?;
        c.write_bytes(old, &b)?;
    }
    // Raising the hard limit needs CAP_SYS_RESOURCE, which only an effective root has here
    // (`do_prlimit`).
    let root = c.proc.uids[1] == 0;
    if let Some(lim) = new {
        with_process(c, pid, |p| {
            if lim.max > p.rlimits[r].max && !root {
                return Err(Errno::EPERM);
            }
            p.rlimits[r] = lim;
            Ok(())
        })?;
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

/// `futex(uaddr, op, val, timeout_or_val2, uaddr2, val3)`: waits park the thread on the
/// word's queue ([`crate::task::futex`]); wakes complete the waiters' calls.
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
    if op & FUTEX_CLOCK_REALTIME != 0 && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT {
        return Err(Errno::ENOSYS);
    }
    if uaddr.0 & 3 != 0 {
        return Err(Errno::EINVAL);
    }
    let tgid = c.proc.pid;
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT { u32::MAX } else { val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            // The deadline is read before the futex word, as `futex_init_timeout` does.
            let deadline = if timeout.is_null() {
                None
            } else {
                let ts = Timespec::from_bytes(&c.read_array(timeout)?);
                let ns = ts.to_ns().ok_or(Errno::EINVAL)?;
                let now = time::now_ns(c.kernel, CLOCK_MONOTONIC);
                Some(if cmd == FUTEX_WAIT {
                    now.saturating_add(ns)
                } else if op & FUTEX_CLOCK_REALTIME != 0 {
                    // An absolute CLOCK_REALTIME deadline, turned into a monotonic one.
                    let real = time::now_ns(c.kernel, CLOCK_REALTIME);
                    now.saturating_add(ns.saturating_sub(real))
                } else {
                    ns
                })
            };
            if c.read_u32(uaddr)? != val {
                return Err(Errno::EAGAIN);
            }
            c.kernel.tasks.park(
                c.thread,
                Wait {
                    on: WaitOn::Futex {
                        addr: uaddr.0,
                        bitset,
                    },
                    deadline_ns: deadline,
                    restartable: true,
                },
            );
            Ok(0)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { u32::MAX } else { val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(u64::from(futex::wake(
                &mut c.kernel.tasks,
                tgid,
                uaddr.0,
                val,
                bitset,
            )))
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if uaddr2.0 & 3 != 0 {
                return Err(Errno::EINVAL);
            }
            if cmd == FUTEX_CMP_REQUEUE && c.read_u32(uaddr)? != val3 {
                return Err(Errno::EAGAIN);
            }
            // `val2` travels in the timeout argument's register.
            let nmove = timeout.0 as u32;
            Ok(u64::from(futex::requeue(
                &mut c.kernel.tasks,
                tgid,
                uaddr.0,
                uaddr2.0,
                val,
                nmove,
            )))
        }
        FUTEX_WAKE_OP => {
            let cond = futex_wake_op(c, uaddr2, val3)?;
            let mut n = futex::wake(&mut c.kernel.tasks, tgid, uaddr.0, val, u32::MAX);
            if cond {
                n += futex::wake(
                    &mut c.kernel.tasks,
                    tgid,
                    uaddr2.0,
                    timeout.0 as u32,
                    u32::MAX,
                );
            }
            Ok(u64::from(n))
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// The read-modify-write half of `FUTEX_WAKE_OP` (`futex_atomic_op_inuser`); returns the
/// comparison of the old value.
fn futex_wake_op(c: &mut Ctx, uaddr2: GuestAddr, encoded: u32) -> Result<bool, Errno> {
    if uaddr2.0 & 3 != 0 {
        return Err(Errno::EINVAL);
    }
    let op = (encoded >> 28) & 7;
    let shift_arg = encoded >> 31 != 0;
    let cmp = (encoded >> 24) & 15;
    let cmparg = ((encoded << 20) as i32 >> 20) as u32;
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
    c.write_bytes(uaddr2, &new.to_le_bytes())?;
    let (old, arg) = (old as i32, cmparg as i32);
    Ok(match cmp {
        0 => old == arg,
        1 => old != arg,
        2 => old < arg,
        3 => old >= arg,
        4 => old <= arg,
        5 => old > arg,
        _ => return Err(Errno::ENOSYS),
    })
}

pub fn sys_sched_getaffinity(
    c: &mut Ctx,
    pid: i32,
    len: u64,
    mask: GuestAddr,
) -> Result<u64, Errno> {
    // Every thread runs on our one CPU; only a thread that does not exist has no mask.
    let exists = pid == 0
        || pid == c.thread.tid as i32
        || u32::try_from(pid).is_ok_and(|t| c.kernel.tasks.threads.contains_key(&t));
    if !exists {
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

/// `clone(flags, newsp, parent_tid, tls, child_tid)` (riscv64 argument order): a thread with
/// `CLONE_THREAD`, otherwise a new process with a copy-on-write copy of the caller's memory.
/// `vfork` (`CLONE_VM | CLONE_VFORK`) suspends the caller until the child execs or exits and
/// lends the child the caller's address space meanwhile, so what the child writes
/// (posix_spawn's error word) is what the parent reads. Otherwise a new process gets copies:
/// `CLONE_VM` without `CLONE_VFORK` (or from a multi-threaded caller), `CLONE_FILES`,
/// `CLONE_FS` and `CLONE_SIGHAND` without `CLONE_THREAD` share nothing here (TODO(#3): a
/// shared fd table and address space between running processes, should a program need them).
pub fn sys_clone(
    c: &mut Ctx,
    flags: u64,
    newsp: u64,
    parent_tid: GuestAddr,
    tls: u64,
    child_tid: GuestAddr,
) -> Result<u64, Errno> {
    if flags & CLONE_NEW_ANY != 0 {
        return Err(Errno::EPERM);
    }
    // pidfds need an fd kind of their own; glibc falls back to plain clone without them.
    if flags & CLONE_PIDFD != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0
        || flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0
    {
        return Err(Errno::EINVAL);
    }
    c.kernel.tasks.check_fork(c.proc)?;
    let structs = if flags & CLONE_THREAD != 0 {
        THREAD_BYTES
    } else {
        THREAD_BYTES + PROCESS_BYTES
    };
    if !memory_available(structs) {
        return Err(Errno::ENOMEM);
    }
    let id = c.kernel.tasks.alloc_id();
    let mut hart = c.thread.hart.clone();
    // The new task has retired nothing yet: a copied count would be added again when it is
    // reaped, once per fork (bash forking 200 children reported ~5x its real instructions).
    hart.instret = 0;
    hart.x[A0] = 0;
    hart.pc = hart.pc.wrapping_add(4);
    if newsp != 0 {
        hart.x[SP] = newsp;
    }
    if flags & CLONE_SETTLS != 0 {
        hart.x[TP] = tls;
    }
    let mut t = Thread::new(id, id, hart);
    t.sigmask = c.thread.sigmask;
    if flags & CLONE_CHILD_CLEARTID != 0 {
        t.clear_child_tid = child_tid.0;
    }
    if flags & CLONE_THREAD != 0 {
        t.tgid = c.proc.pid;
        if flags & CLONE_CHILD_SETTID != 0 {
            c.write_bytes(child_tid, &id.to_le_bytes())?;
        }
        if flags & CLONE_PARENT_SETTID != 0 {
            c.write_bytes(parent_tid, &id.to_le_bytes())?;
        }
        c.proc.nthreads += 1;
        c.kernel.tasks.threads.insert(id, t);
        return Ok(u64::from(id));
    }
    // A new process. The alternate stack survives fork but not a new VM-sharing task.
    if flags & CLONE_VM == 0 {
        t.altstack = c.thread.altstack;
    }
    let vfork = flags & CLONE_VFORK != 0;
    // posix_spawn's `CLONE_VM | CLONE_VFORK` child writes its exec error into the parent's
    // memory: it runs on the parent's own address space, lent to it while the parent waits.
    // With other threads the parent still runs, so the child gets a copy instead.
    let lend_vm = flags & CLONE_VM != 0 && vfork && c.proc.nthreads == 1;
    if lend_vm {
        // One address space: both ids land in it, written before it is lent so that a bad
        // pointer fails the call with the parent's memory in place.
        for (flag, at) in [
            (CLONE_CHILD_SETTID, child_tid),
            (CLONE_PARENT_SETTID, parent_tid),
        ] {
            if flags & flag != 0 {
                c.write_bytes(at, &id.to_le_bytes())?;
            }
        }
    }
    let mut child = if lend_vm {
        let mm = std::mem::take(&mut c.proc.mm);
        let cache = std::mem::take(&mut c.proc.cache);
        let Some(mut child) = c.proc.fork(id) else {
            c.proc.mm = mm;
            c.proc.cache = cache;
            return Err(Errno::ENOMEM);
        };
        child.mm = mm;
        child.cache = cache;
        child.vm_from = Some(c.proc.pid);
        child
    } else {
        // `dup_mmap` and the task structs past the memory limit: `ENOMEM`, as in Linux.
        c.proc.fork(id).ok_or(Errno::ENOMEM)?
    };
    child.exit_signal = (flags & CSIGNAL) as u32;
    child.nthreads = 1;
    if flags & CLONE_PARENT != 0 {
        child.ppid = c.proc.ppid;
    }
    if !lend_vm && flags & CLONE_CHILD_SETTID != 0 {
        child
            .mm
            .space
            .write(child_tid.0, &id.to_le_bytes())
            .map_err(|_| Errno::EFAULT)?;
    }
    if !lend_vm && flags & CLONE_PARENT_SETTID != 0 {
        c.write_bytes(parent_tid, &id.to_le_bytes())?;
    }
    if vfork {
        child.vfork_parent = Some(c.thread.tid);
    }
    c.kernel
        .tasks
        .procs
        .insert(id, Rc::new(RefCell::new(child)));
    c.kernel.tasks.threads.insert(id, t);
    if vfork {
        // The call is complete; the caller just may not run until the child lets go.
        c.thread.hart.x[A0] = u64::from(id);
        c.thread.hart.pc = c.thread.hart.pc.wrapping_add(4);
        c.kernel.tasks.park(
            c.thread,
            Wait {
                on: WaitOn::Vfork { child: id },
                deadline_ns: None,
                restartable: false,
            },
        );
    }
    Ok(u64::from(id))
}

/// Which children a wait selects.
#[derive(Clone, Copy)]
enum Which {
    Any,
    Pid(u32),
    Pgid(u32),
}

/// A zombie child found by a wait: its pid, status and CPU time.
struct Reaped {
    pid: u32,
    status: ExitStatus,
    instret: u64,
}

/// Looks for a zombie child; `Err(ECHILD)` when no child matches at all, `Ok(None)` when
/// matching children are all alive. Reaps it unless `keep` (`WNOWAIT`).
fn find_zombie(c: &mut Ctx, which: Which, keep: bool) -> Result<Option<Reaped>, Errno> {
    let me = c.proc.pid;
    let mut any = false;
    let mut found = None;
    for (&pid, p) in &c.kernel.tasks.procs {
        if pid == me {
            continue;
        }
        let p = p.borrow();
        if p.ppid != me {
            continue;
        }
        let matches = match which {
            Which::Any => true,
            Which::Pid(x) => pid == x,
            Which::Pgid(g) => p.pgid == g,
        };
        if !matches {
            continue;
        }
        any = true;
        if p.zombie {
            found = Some(Reaped {
                pid,
                status: p.exit.unwrap_or(ExitStatus::Exited(0)),
                instret: p.instret_done.saturating_add(p.children_instret),
            });
            break;
        }
    }
    if !any {
        return Err(Errno::ECHILD);
    }
    if let Some(r) = &found
        && !keep
    {
        c.kernel.tasks.procs.remove(&r.pid);
        c.proc.children_instret = c.proc.children_instret.saturating_add(r.instret);
        c.kernel.tasks.notify();
    }
    Ok(found)
}

fn park_for_children(c: &mut Ctx) {
    let events = c.kernel.tasks.events;
    c.kernel.tasks.park(
        c.thread,
        Wait {
            on: WaitOn::Children { events },
            deadline_ns: None,
            restartable: true,
        },
    );
}

/// `wait4(pid, wstatus, options, rusage)`.
pub fn sys_wait4(
    c: &mut Ctx,
    pid: i32,
    wstatus: GuestAddr,
    options: u32,
    rusage: GuestAddr,
) -> Result<u64, Errno> {
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL) != 0 {
        return Err(Errno::EINVAL);
    }
    let which = match pid {
        -1 => Which::Any,
        0 => Which::Pgid(c.proc.pgid),
        p if p < 0 => Which::Pgid(p.unsigned_abs()),
        p => Which::Pid(p as u32),
    };
    match find_zombie(c, which, false)? {
        Some(r) => {
            if !wstatus.is_null() {
                c.write_bytes(wstatus, &r.status.wait_status().to_le_bytes())?;
            }
            if !rusage.is_null() {
                c.write_bytes(rusage, &rusage_bytes(r.instret, 0))?;
            }
            Ok(u64::from(r.pid))
        }
        None if options & WNOHANG != 0 => Ok(0),
        None => {
            park_for_children(c);
            Ok(0)
        }
    }
}

/// `waitid(idtype, id, infop, options, rusage)`.
pub fn sys_waitid(
    c: &mut Ctx,
    idtype: u32,
    id: i32,
    infop: GuestAddr,
    options: u32,
    rusage: GuestAddr,
) -> Result<u64, Errno> {
    if options
        & !(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)
        != 0
        || options & (WEXITED | WSTOPPED | WCONTINUED) == 0
    {
        return Err(Errno::EINVAL);
    }
    let which = match idtype {
        P_ALL => Which::Any,
        P_PID if id > 0 => Which::Pid(id as u32),
        P_PGID if id == 0 => Which::Pgid(c.proc.pgid),
        P_PGID if id > 0 => Which::Pgid(id as u32),
        _ => return Err(Errno::EINVAL),
    };
    if options & WEXITED == 0 {
        // Only stop/continue events were asked for, and nothing here ever stops.
        find_zombie(c, which, true)?;
        return if options & WNOHANG != 0 {
            Ok(0)
        } else {
            park_for_children(c);
            Ok(0)
        };
    }
    match find_zombie(c, which, options & WNOWAIT != 0)? {
        Some(r) => {
            let (code, status) = match r.status {
                ExitStatus::Exited(n) => (CLD_EXITED, i32::from(n)),
                ExitStatus::Signaled(s) => (CLD_KILLED, s as i32),
            };
            if !infop.is_null() {
                c.write_bytes(infop, &sigchld_info(SIGCHLD, code, r.pid, status))?;
            }
            if !rusage.is_null() {
                c.write_bytes(rusage, &rusage_bytes(r.instret, 0))?;
            }
            Ok(0)
        }
        None if options & WNOHANG != 0 => {
            if !infop.is_null() {
                c.write_bytes(infop, &[0u8; 128])?;
            }
            Ok(0)
        }
        None => {
            park_for_children(c);
            Ok(0)
        }
    }
}

/// Reads a NULL-terminated array of string pointers (`argv`, `envp`), adding to `total` the
/// bytes it takes; `E2BIG` past the caps.
fn read_strings(c: &mut Ctx, array: GuestAddr, total: &mut usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if array.is_null() {
        return Ok(out);
    }
    for i in 0u64.. {
        if out.len() >= MAX_ARG_STRINGS {
            return Err(Errno::E2BIG);
        }
        let ptr = u64::from_le_bytes(c.read_array(array.offset(i * 8)?)?);
        if ptr == 0 {
            break;
        }
        let s = match c.proc.mm.space.read_cstr(ptr, MAX_ARG_STRLEN) {
            Ok(Some(s)) => s,
            Ok(None) => return Err(Errno::E2BIG),
            Err(_) => return Err(Errno::EFAULT),
        };
        *total = total.saturating_add(s.len() + 1 + 8);
        if *total > EXEC_ARGS_MAX_BYTES {
            return Err(Errno::E2BIG);
        }
        out.push(s);
    }
    Ok(out)
}

/// `execve(path, argv, envp)`.
pub fn sys_execve(
    c: &mut Ctx,
    path: GuestAddr,
    argv: GuestAddr,
    envp: GuestAddr,
) -> Result<u64, Errno> {
    let path = c.read_path(path)?;
    exec(c, path, argv, envp)
}

/// `execveat(dirfd, path, argv, envp, flags)`: a relative path is looked up from `dirfd`;
/// `AT_EMPTY_PATH` runs the file `dirfd` itself was opened as.
pub fn sys_execveat(
    c: &mut Ctx,
    dirfd: GuestFd,
    path: GuestAddr,
    argv: GuestAddr,
    envp: GuestAddr,
    flags: u32,
) -> Result<u64, Errno> {
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = c.read_path(path)?;
    if path.first() == Some(&b'/') || dirfd.0 == AT_FDCWD && !path.is_empty() {
        return exec(c, path, argv, envp);
    }
    let file = c.proc.fds.get(dirfd)?;
    let Some(base) = file.borrow().guest_path.clone() else {
        return Err(Errno::ENOENT);
    };
    let full = if path.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        base.as_bytes().to_vec()
    } else {
        let mut p = base.as_bytes().to_vec();
        if p != b"/" {
            p.push(b'/');
        }
        p.extend_from_slice(&path);
        p
    };
    exec(c, full, argv, envp)
}

/// Replaces the process image (`begin_new_exec`): other threads end, the new memory image
/// and an empty decode cache come in, `O_CLOEXEC` fds close, handled signals go back to their
/// default, the alternate stack and robust list are forgotten, and a `vfork` parent resumes.
fn exec(c: &mut Ctx, path: Vec<u8>, argv: GuestAddr, envp: GuestAddr) -> Result<u64, Errno> {
    let mut total = 0;
    let argv = read_strings(c, argv, &mut total)?;
    let envp = read_strings(c, envp, &mut total)?;
    let mut random = [0u8; 16];
    // Without host randomness the program still runs; AT_RANDOM just is not random.
    let _ = getrandom::fill(&mut random);
    let uptime = c.kernel.boot.elapsed();
    let image = {
        let me = ProcSelf::of(c.proc, &c.kernel.tasks.procs, uptime);
        exec_image(
            &c.kernel.vfs,
            &me,
            &c.proc.cwd,
            &ExecRequest {
                path: &path,
                argv: &argv,
                envp: &envp,
                random,
            },
        )
        .map_err(|e| e.errno())?
    };
    // The point of no return.
    let me = c.proc.pid;
    let others: Vec<u32> = c
        .kernel
        .tasks
        .threads
        .values()
        .filter(|t| t.tgid == me)
        .map(|t| t.tid)
        .collect();
    for tid in others {
        if let Some(t) = c.kernel.tasks.threads.remove(&tid) {
            c.proc.instret_done = c.proc.instret_done.saturating_add(t.hart.instret);
        }
    }
    c.proc.nthreads = 1;
    c.proc.return_vm(&c.kernel.tasks.procs);
    c.proc.mm = image.mm;
    c.proc.args = Rc::new(ExecArgs::from_stack(&mut c.proc.mm.space, image.entry.sp));
    c.proc.comm = comm_of(&path);
    frame_riscv64::map_vdso(&mut c.proc.mm);
    c.proc.cache = DecodeCache::default();
    c.proc.exe = image.exe;
    c.proc.fds.close_on_exec();
    for act in c.proc.sigactions.iter_mut() {
        if act.handler != SIG_IGN {
            *act = SigAction::default();
        }
    }
    c.proc.vfork_parent = None;
    c.kernel.tasks.notify();
    let t = &mut *c.thread;
    t.altstack = StackT {
        sp: 0,
        flags: SS_DISABLE,
        size: 0,
    };
    t.robust_list = 0;
    t.clear_child_tid = 0;
    let instret = t.hart.instret;
    t.hart = Hart::default();
    t.hart.instret = instret;
    t.hart.x[SP] = image.entry.sp;
    // The return path adds 4 and stores 0 in a0 (`ELF_PLAT_INIT` clears every register).
    t.hart.pc = image.entry.pc.wrapping_sub(4);
    Ok(0)
}

pub fn sys_getpgid(c: &mut Ctx, pid: i32) -> Result<u64, Errno> {
    with_process(c, pid, |p| Ok(u64::from(p.pgid)))
}

pub fn sys_getsid(c: &mut Ctx, pid: i32) -> Result<u64, Errno> {
    with_process(c, pid, |p| Ok(u64::from(p.sid)))
}

/// Runs `f` on process `pid` (0 = the caller); `ESRCH` when there is none.
fn with_process<T>(
    c: &mut Ctx,
    pid: i32,
    f: impl FnOnce(&mut Process) -> Result<T, Errno>,
) -> Result<T, Errno> {
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    if pid == 0 || pid as u32 == c.proc.pid {
        return f(c.proc);
    }
    let p = c
        .kernel
        .tasks
        .procs
        .get(&(pid as u32))
        .ok_or(Errno::ESRCH)?;
    f(&mut p.borrow_mut())
}

/// `setpgid(pid, pgid)`: the caller or one of its children joins or starts a group in the
/// caller's session.
pub fn sys_setpgid(c: &mut Ctx, pid: i32, pgid: i32) -> Result<u64, Errno> {
    if pgid < 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let me = c.proc.pid;
    let sid = c.proc.sid;
    let target = if pid == 0 { me } else { pid as u32 };
    let pgid = if pgid == 0 { target } else { pgid as u32 };
    // The group must exist in the session, unless the process starts its own.
    if pgid != target {
        let exists = (c.proc.pgid == pgid && c.proc.sid == sid)
            || c.kernel.tasks.procs.iter().any(|(&p, pr)| {
                p != me
                    && pr
                        .try_borrow()
                        .is_ok_and(|pr| !pr.zombie && pr.pgid == pgid && pr.sid == sid)
            });
        if !exists {
            return Err(Errno::EPERM);
        }
    }
    with_process(c, target as i32, |p| {
        if p.pid != me && p.ppid != me {
            return Err(Errno::ESRCH);
        }
        if p.sid != sid || p.sid == p.pid {
            return Err(Errno::EPERM);
        }
        p.pgid = pgid;
        Ok(0)
    })
}

/// `setsid()`: a new session and group led by the caller, unless it leads a group already.
pub fn sys_setsid(c: &mut Ctx) -> Result<u64, Errno> {
    let me = c.proc.pid;
    let leads = c
        .kernel
        .tasks
        .procs
        .iter()
        .any(|(&p, pr)| p != me && pr.try_borrow().is_ok_and(|pr| pr.pgid == me));
    if c.proc.pgid == me || leads {
        return Err(Errno::EPERM);
    }
    c.proc.pgid = me;
    c.proc.sid = me;
    Ok(u64::from(me))
}

/// CPU time of the whole process so far, in instructions: exited threads, the caller and
/// every other live thread.
pub(super) fn process_instret(c: &Ctx) -> u64 {
    let me = c.proc.pid;
    c.kernel
        .tasks
        .threads
        .values()
        .filter(|t| t.tgid == me)
        .fold(
            c.proc.instret_done.saturating_add(c.thread.hart.instret),
            |a, t| a.saturating_add(t.hart.instret),
        )
}

pub fn sys_getrusage(c: &mut Ctx, who: i32, usage: GuestAddr) -> Result<u64, Errno> {
    let instret = match who {
        RUSAGE_SELF => process_instret(c),
        RUSAGE_CHILDREN => c.proc.children_instret,
        RUSAGE_THREAD => c.thread.hart.instret,
        _ => return Err(Errno::EINVAL),
    };
    c.write_bytes(usage, &rusage_bytes(instret, 0))?;
    Ok(0)
}

/// `times(buf)`: CPU times in `USER_HZ` ticks; returns ticks since boot.
pub fn sys_times(c: &mut Ctx, buf: GuestAddr) -> Result<u64, Errno> {
    let tick_ns = 1_000_000_000 / USER_HZ;
    if !buf.is_null() {
        let mut b = [0u8; TMS_SIZE];
        b[..8].copy_from_slice(&(process_instret(c) / tick_ns).to_le_bytes());
        b[16..24].copy_from_slice(&(c.proc.children_instret / tick_ns).to_le_bytes());
        c.write_bytes(buf, &b)?;
    }
    Ok(time::now_ns(c.kernel, CLOCK_MONOTONIC) / tick_ns)
}

/// `sched_yield`: ends the time slice; the other runnable threads go first.
pub fn sys_sched_yield(c: &mut Ctx) -> Result<u64, Errno> {
    c.kernel.tasks.park(
        c.thread,
        Wait {
            on: WaitOn::Sleep { rem: 0 },
            deadline_ns: Some(0),
            restartable: false,
        },
    );
    Ok(0)
}

/// `setresuid`-style update of a (real, effective, saved) triple; -1 keeps a value. We are
/// root, so any value is allowed and stored.
fn set_ids(ids: &mut [u32; 3], new: [i32; 3]) {
    for (id, n) in ids.iter_mut().zip(new) {
        if n != -1 {
            *id = n as u32;
        }
    }
}

pub fn sys_setresuid(c: &mut Ctx, r: i32, e: i32, s: i32) -> Result<u64, Errno> {
    set_ids(&mut c.proc.uids, [r, e, s]);
    Ok(0)
}

pub fn sys_setresgid(c: &mut Ctx, r: i32, e: i32, s: i32) -> Result<u64, Errno> {
    set_ids(&mut c.proc.gids, [r, e, s]);
    Ok(0)
}

pub fn sys_getresid(c: &mut Ctx, ids: [u32; 3], at: [GuestAddr; 3]) -> Result<u64, Errno> {
    for (id, a) in ids.iter().zip(at) {
        c.write_bytes(a, &id.to_le_bytes())?;
    }
    Ok(0)
}

/// Most supplementary groups (`NGROUPS_MAX`).
const NGROUPS_MAX: u64 = 65536;

pub fn sys_getgroups(c: &mut Ctx, size: i32, list: GuestAddr) -> Result<u64, Errno> {
    let n = c.proc.groups.len();
    if size == 0 {
        return Ok(n as u64);
    }
    if size < 0 || (size as usize) < n {
        return Err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = c.proc.groups.iter().flat_map(|g| g.to_le_bytes()).collect();
    c.write_bytes(list, &bytes)?;
    Ok(n as u64)
}

pub fn sys_setgroups(c: &mut Ctx, size: i32, list: GuestAddr) -> Result<u64, Errno> {
    let n = u64::try_from(size).map_err(|_| Errno::EINVAL)?;
    if n > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    let mut bytes = vec![0u8; n as usize * 4];
    c.read_bytes(list, &mut bytes)?;
    c.proc.groups = bytes
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(0)
}
