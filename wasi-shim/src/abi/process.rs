//! Process and thread creation, waiting and accounting: `clone` flags, `wait4`/`waitid`
//! options and statuses, `struct rusage`, `struct tms` (`include/uapi/linux/sched.h`,
//! `include/uapi/linux/wait.h`, `include/uapi/linux/resource.h`).

use super::put_u64;

pub const CSIGNAL: u64 = 0x0000_00ff;
pub const CLONE_VM: u64 = 0x0000_0100;
pub const CLONE_FS: u64 = 0x0000_0200;
pub const CLONE_FILES: u64 = 0x0000_0400;
pub const CLONE_SIGHAND: u64 = 0x0000_0800;
pub const CLONE_PIDFD: u64 = 0x0000_1000;
pub const CLONE_PTRACE: u64 = 0x0000_2000;
pub const CLONE_VFORK: u64 = 0x0000_4000;
pub const CLONE_PARENT: u64 = 0x0000_8000;
pub const CLONE_THREAD: u64 = 0x0001_0000;
pub const CLONE_NEWNS: u64 = 0x0002_0000;
pub const CLONE_SYSVSEM: u64 = 0x0004_0000;
pub const CLONE_SETTLS: u64 = 0x0008_0000;
pub const CLONE_PARENT_SETTID: u64 = 0x0010_0000;
pub const CLONE_CHILD_CLEARTID: u64 = 0x0020_0000;
pub const CLONE_DETACHED: u64 = 0x0040_0000;
pub const CLONE_UNTRACED: u64 = 0x0080_0000;
pub const CLONE_CHILD_SETTID: u64 = 0x0100_0000;
/// Every namespace flag: creating namespaces needs a real kernel (`EPERM` would mislead).
pub const CLONE_NEW_ANY: u64 = 0x7e02_0080;

pub const WNOHANG: u32 = 0x0000_0001;
pub const WUNTRACED: u32 = 0x0000_0002;
pub const WSTOPPED: u32 = WUNTRACED;
pub const WEXITED: u32 = 0x0000_0004;
pub const WCONTINUED: u32 = 0x0000_0008;
pub const WNOWAIT: u32 = 0x0100_0000;
pub const __WNOTHREAD: u32 = 0x2000_0000;
pub const __WALL: u32 = 0x4000_0000;
pub const __WCLONE: u32 = 0x8000_0000;

pub const P_ALL: u32 = 0;
pub const P_PID: u32 = 1;
pub const P_PGID: u32 = 2;
pub const P_PIDFD: u32 = 3;

/// `si_code` values of `SIGCHLD` (`CLD_*`).
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_DUMPED: i32 = 3;

pub const RUSAGE_SELF: i32 = 0;
pub const RUSAGE_CHILDREN: i32 = -1;
pub const RUSAGE_THREAD: i32 = 1;

/// `sizeof(struct rusage)`: two timevals and fourteen longs.
pub const RUSAGE_SIZE: usize = 144;

/// `struct rusage` with the two CPU times filled in (the other counters stay zero).
pub fn rusage_bytes(utime_ns: u64, stime_ns: u64) -> [u8; RUSAGE_SIZE] {
    let mut b = [0u8; RUSAGE_SIZE];
    put_u64(&mut b, 0, utime_ns / 1_000_000_000);
    put_u64(&mut b, 8, (utime_ns % 1_000_000_000) / 1000);
    put_u64(&mut b, 16, stime_ns / 1_000_000_000);
    put_u64(&mut b, 24, (stime_ns % 1_000_000_000) / 1000);
    b
}

/// `sizeof(struct tms)`: four `clock_t`.
pub const TMS_SIZE: usize = 32;
/// `USER_HZ`: the unit of `times(2)`.
pub const USER_HZ: u64 = 100;

/// `ARG_MAX`-like cap on argv plus envp bytes that `execve` copies (`MAX_ARG_STRLEN` is per
/// string; Linux's real limit is a quarter of the stack limit, 2 MiB by default).
pub const EXEC_ARGS_MAX_BYTES: usize = 2 << 20;
/// Most argv or envp entries `execve` takes (`MAX_ARG_STRINGS`).
pub const MAX_ARG_STRINGS: usize = 0x7fff_ffff;
/// Longest single argument or environment string (`MAX_ARG_STRLEN`, 32 pages).
pub const MAX_ARG_STRLEN: usize = 32 * 4096;

/// `struct siginfo` fields for `waitid` (`si_signo`, `si_errno`, `si_code`, then `_sigchld`:
/// `si_pid`, `si_uid`, `si_status`, `si_utime`, `si_stime`).
pub fn sigchld_info(signo: u32, code: i32, pid: u32, status: i32) -> [u8; 128] {
    let mut b = [0u8; 128];
    b[0..4].copy_from_slice(&signo.to_le_bytes());
    b[8..12].copy_from_slice(&code.to_le_bytes());
    b[16..20].copy_from_slice(&pid.to_le_bytes());
    b[24..28].copy_from_slice(&status.to_le_bytes());
    b
}
