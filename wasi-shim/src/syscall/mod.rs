//! The syscall boundary: riscv64 syscall numbers to handlers, argument decoding, and the
//! `CTR2WASM_TRACE=syscalls` trace.
//!
//! A handler takes typed arguments and returns `Result<u64, Errno>`; it never touches
//! registers. [`dispatch`] reads the number from `a7` and the arguments from `a0`..`a5`,
//! writes the result (or `-errno`) to `a0` and steps over the `ecall`. A number without a
//! handler returns `ENOSYS` and shows up in the trace like any other call.

mod fs;
mod mm;
mod pipe;
mod process;
mod signal;
pub(crate) mod time;
mod tty;
mod uaccess;

use crate::abi::syscall_nr as nr;
use crate::abi::{Errno, fs::AT_FDCWD, signal as sig};
use crate::kernel::Kernel;
use crate::task::fd::GuestFd;
use crate::task::{Process, Thread};
use ctr2wasm_emulator::riscv64::reg::{A0, A1, A2, A3, A4, A5, A7};
use std::fmt::Write as _;

/// A guest virtual address as a syscall argument.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GuestAddr(pub u64);

impl GuestAddr {
    pub fn is_null(self) -> bool {
        self.0 == 0
    }

    /// `self + off`, or `EFAULT` on wrap-around.
    pub fn offset(self, off: u64) -> Result<GuestAddr, Errno> {
        self.0.checked_add(off).map(GuestAddr).ok_or(Errno::EFAULT)
    }
}

/// What a syscall handler may touch: the shared kernel state, the calling process and thread.
pub struct Ctx<'a> {
    pub kernel: &'a mut Kernel,
    pub proc: &'a mut Process,
    pub thread: &'a mut Thread,
}

/// The six argument registers, decoded per the C prototype of each call.
pub struct Args([u64; 6]);

impl Args {
    pub fn u64(&self, i: usize) -> u64 {
        self.0[i]
    }

    /// An `int` or `unsigned int` argument: the kernel uses the low 32 bits of the register.
    pub fn u32(&self, i: usize) -> u32 {
        self.0[i] as u32
    }

    pub fn i32(&self, i: usize) -> i32 {
        self.0[i] as u32 as i32
    }

    pub fn i64(&self, i: usize) -> i64 {
        self.0[i] as i64
    }

    pub fn fd(&self, i: usize) -> GuestFd {
        GuestFd(self.i32(i))
    }

    pub fn addr(&self, i: usize) -> GuestAddr {
        GuestAddr(self.0[i])
    }
}

/// How the trace shows an argument.
#[derive(Clone, Copy)]
enum Arg {
    /// Signed decimal (`int`, `off_t`, `pid_t`).
    Int,
    /// Unsigned decimal (`size_t`).
    Len,
    /// Hexadecimal (pointers, flags, masks).
    Hex,
    /// A file descriptor (`AT_FDCWD` by name).
    Fd,
    /// A NUL-terminated path, shown as a string.
    Path,
    /// A buffer the call reads, its length in the next argument: shown as a string.
    InBuf,
    /// A signal number, shown by name.
    Signal,
}

type Handler = fn(&mut Ctx, &Args) -> Result<u64, Errno>;

struct Syscall {
    args: &'static [Arg],
    run: Handler,
}

/// The handler and trace format of syscall `nr`, or `None` for `ENOSYS`.
fn lookup(nr: u64) -> Option<Syscall> {
    use Arg::*;
    macro_rules! sys {
        ([$($arg:expr),*], $run:expr) => {
            Some(Syscall { args: &[$($arg),*], run: $run })
        };
    }
    match nr {
        // Files.
        nr::READ => sys!([Fd, Hex, Len], |c, a| fs::sys_read(
            c,
            a.fd(0),
            a.addr(1),
            a.u64(2)
        )),
        nr::WRITE => sys!([Fd, InBuf, Len], |c, a| fs::sys_write(
            c,
            a.fd(0),
            a.addr(1),
            a.u64(2)
        )),
        nr::READV => sys!([Fd, Hex, Int], |c, a| fs::sys_readv(
            c,
            a.fd(0),
            a.addr(1),
            a.i32(2)
        )),
        nr::WRITEV => sys!([Fd, Hex, Int], |c, a| fs::sys_writev(
            c,
            a.fd(0),
            a.addr(1),
            a.i32(2)
        )),
        nr::PREAD64 => sys!([Fd, Hex, Len, Int], |c, a| {
            fs::sys_pread64(c, a.fd(0), a.addr(1), a.u64(2), a.i64(3))
        }),
        nr::PWRITE64 => sys!([Fd, InBuf, Len, Int], |c, a| {
            fs::sys_pwrite64(c, a.fd(0), a.addr(1), a.u64(2), a.i64(3))
        }),
        nr::PREADV => sys!([Fd, Hex, Int, Int], |c, a| {
            fs::sys_preadv(c, a.fd(0), a.addr(1), a.i32(2), a.i64(3))
        }),
        nr::PWRITEV => sys!([Fd, Hex, Int, Int], |c, a| {
            fs::sys_pwritev(c, a.fd(0), a.addr(1), a.i32(2), a.i64(3))
        }),
        nr::OPENAT => sys!([Fd, Path, Hex, Hex], |c, a| {
            fs::sys_openat(c, a.fd(0), a.addr(1), a.u32(2), a.u32(3))
        }),
        nr::STATX => sys!([Fd, Path, Hex, Hex, Hex], |c, a| {
            fs::sys_statx(c, a.fd(0), a.addr(1), a.u32(2), a.addr(4))
        }),
        nr::GETDENTS64 => sys!([Fd, Hex, Len], |c, a| {
            fs::sys_getdents64(c, a.fd(0), a.addr(1), a.u64(2))
        }),
        nr::MKDIRAT => sys!([Fd, Path, Hex], |c, a| {
            fs::sys_mkdirat(c, a.fd(0), a.addr(1), a.u32(2))
        }),
        nr::UNLINKAT => sys!([Fd, Path, Hex], |c, a| {
            fs::sys_unlinkat(c, a.fd(0), a.addr(1), a.u32(2))
        }),
        nr::RENAMEAT2 => sys!([Fd, Path, Fd, Path, Hex], |c, a| {
            fs::sys_renameat2(c, a.fd(0), a.addr(1), a.fd(2), a.addr(3), a.u32(4))
        }),
        nr::LINKAT => sys!([Fd, Path, Fd, Path, Hex], |c, a| {
            fs::sys_linkat(c, a.fd(0), a.addr(1), a.fd(2), a.addr(3), a.u32(4))
        }),
        nr::SYMLINKAT => sys!([Path, Fd, Path], |c, a| {
            fs::sys_symlinkat(c, a.addr(0), a.fd(1), a.addr(2))
        }),
        nr::FCHMODAT => sys!([Fd, Path, Hex], |c, a| {
            fs::sys_fchmodat(c, a.fd(0), a.addr(1), a.u32(2), 0)
        }),
        nr::FCHMODAT2 => sys!([Fd, Path, Hex, Hex], |c, a| {
            fs::sys_fchmodat(c, a.fd(0), a.addr(1), a.u32(2), a.u32(3))
        }),
        nr::FCHMOD => sys!([Fd, Hex], |c, a| fs::sys_fchmod(c, a.fd(0), a.u32(1))),
        nr::FCHOWNAT => sys!([Fd, Path, Int, Int, Hex], |c, a| {
            fs::sys_fchownat(c, a.fd(0), a.addr(1), a.u32(2), a.u32(3), a.u32(4))
        }),
        nr::FCHOWN => sys!([Fd, Int, Int], |c, a| fs::sys_fchown(
            c,
            a.fd(0),
            a.u32(1),
            a.u32(2)
        )),
        nr::UTIMENSAT => sys!([Fd, Path, Hex, Hex], |c, a| {
            fs::sys_utimensat(c, a.fd(0), a.addr(1), a.addr(2), a.u32(3))
        }),
        nr::FTRUNCATE => sys!([Fd, Int], |c, a| fs::sys_ftruncate(c, a.fd(0), a.i64(1))),
        nr::TRUNCATE => sys!([Path, Int], |c, a| fs::sys_truncate(c, a.addr(0), a.i64(1))),
        nr::FALLOCATE => sys!([Fd, Hex, Int, Int], |c, a| {
            fs::sys_fallocate(c, a.fd(0), a.u32(1), a.i64(2), a.i64(3))
        }),
        nr::FSYNC | nr::FDATASYNC | nr::SYNCFS => sys!([Fd], |c, a| fs::sys_fsync(c, a.fd(0))),
        nr::SYNC => sys!([], |_, _| Ok(0)),
        nr::STATFS => sys!([Path, Hex], |c, a| fs::sys_statfs(c, a.addr(0), a.addr(1))),
        nr::FSTATFS => sys!([Fd, Hex], |c, a| fs::sys_fstatfs(c, a.fd(0), a.addr(1))),
        nr::UMASK => sys!([Hex], |c, a| fs::sys_umask(c, a.u32(0))),
        nr::GETXATTR => sys!([Path, Path, Hex, Len], |c, a| {
            fs::sys_getxattr(c, GuestFd(-1), Some(a.addr(0)), false)
        }),
        nr::LGETXATTR => sys!([Path, Path, Hex, Len], |c, a| {
            fs::sys_getxattr(c, GuestFd(-1), Some(a.addr(0)), true)
        }),
        nr::FGETXATTR => sys!([Fd, Path, Hex, Len], |c, a| {
            fs::sys_getxattr(c, a.fd(0), None, false)
        }),
        nr::LISTXATTR => sys!([Path, Hex, Len], |c, a| {
            fs::sys_listxattr(c, GuestFd(-1), Some(a.addr(0)), false)
        }),
        nr::LLISTXATTR => sys!([Path, Hex, Len], |c, a| {
            fs::sys_listxattr(c, GuestFd(-1), Some(a.addr(0)), true)
        }),
        nr::FLISTXATTR => sys!([Fd, Hex, Len], |c, a| {
            fs::sys_listxattr(c, a.fd(0), None, false)
        }),
        nr::SETXATTR | nr::REMOVEXATTR => sys!([Path, Path], |c, a| {
            fs::sys_setxattr(c, GuestFd(-1), Some(a.addr(0)), false)
        }),
        nr::LSETXATTR | nr::LREMOVEXATTR => sys!([Path, Path], |c, a| {
            fs::sys_setxattr(c, GuestFd(-1), Some(a.addr(0)), true)
        }),
        nr::FSETXATTR | nr::FREMOVEXATTR => sys!([Fd, Path], |c, a| {
            fs::sys_setxattr(c, a.fd(0), None, false)
        }),
        nr::FADVISE64 => sys!([Fd, Int, Int, Int], |c, a| {
            fs::sys_fadvise64(c, a.fd(0), a.i64(2), a.u32(3))
        }),
        nr::FLOCK => sys!([Fd, Hex], |c, a| fs::sys_flock(c, a.fd(0), a.u32(1))),
        nr::SENDFILE => sys!([Fd, Fd, Hex, Len], |c, a| {
            fs::sys_sendfile(c, a.fd(0), a.fd(1), a.addr(2), a.u64(3))
        }),
        nr::COPY_FILE_RANGE => sys!([Fd, Hex, Fd, Hex, Len, Hex], |c, a| {
            fs::sys_copy_file_range(
                c,
                a.fd(0),
                a.addr(1),
                a.fd(2),
                a.addr(3),
                a.u64(4),
                a.u32(5),
            )
        }),
        nr::CLOSE => sys!([Fd], |c, a| fs::sys_close(c, a.fd(0))),
        nr::LSEEK => sys!([Fd, Int, Int], |c, a| fs::sys_lseek(
            c,
            a.fd(0),
            a.i64(1),
            a.u32(2)
        )),
        nr::FSTAT => sys!([Fd, Hex], |c, a| fs::sys_fstat(c, a.fd(0), a.addr(1))),
        nr::NEWFSTATAT => sys!([Fd, Path, Hex, Hex], |c, a| {
            fs::sys_newfstatat(c, a.fd(0), a.addr(1), a.addr(2), a.u32(3))
        }),
        nr::READLINKAT => sys!([Fd, Path, Hex, Len], |c, a| {
            fs::sys_readlinkat(c, a.fd(0), a.addr(1), a.addr(2), a.i32(3))
        }),
        nr::FACCESSAT => sys!([Fd, Path, Hex], |c, a| {
            fs::sys_faccessat2(c, a.fd(0), a.addr(1), a.u32(2), 0)
        }),
        nr::FACCESSAT2 => sys!([Fd, Path, Hex, Hex], |c, a| {
            fs::sys_faccessat2(c, a.fd(0), a.addr(1), a.u32(2), a.u32(3))
        }),
        nr::GETCWD => sys!([Hex, Len], |c, a| fs::sys_getcwd(c, a.addr(0), a.u64(1))),
        nr::CHDIR => sys!([Path], |c, a| fs::sys_chdir(c, a.addr(0))),
        nr::FCHDIR => sys!([Fd], |c, a| fs::sys_fchdir(c, a.fd(0))),
        nr::FCNTL => sys!([Fd, Int, Hex], |c, a| fs::sys_fcntl(
            c,
            a.fd(0),
            a.u32(1),
            a.u64(2)
        )),
        nr::DUP => sys!([Fd], |c, a| fs::sys_dup(c, a.fd(0))),
        nr::DUP3 => sys!([Fd, Fd, Hex], |c, a| fs::sys_dup3(
            c,
            a.fd(0),
            a.fd(1),
            a.u32(2)
        )),
        nr::IOCTL => sys!([Fd, Hex, Hex], |c, a| tty::sys_ioctl(
            c,
            a.fd(0),
            a.u32(1),
            a.addr(2)
        )),
        nr::PIPE2 => sys!([Hex, Hex], |c, a| pipe::sys_pipe2(c, a.addr(0), a.u32(1))),
        nr::PPOLL => sys!([Hex, Int, Hex, Hex, Len], |c, a| {
            pipe::sys_ppoll(c, a.addr(0), a.u64(1), a.addr(2), a.addr(3), a.u64(4))
        }),
        nr::PSELECT6 => sys!([Int, Hex, Hex, Hex, Hex, Hex], |c, a| {
            pipe::sys_pselect6(
                c,
                a.i32(0),
                [a.addr(1), a.addr(2), a.addr(3)],
                a.addr(4),
                a.addr(5),
            )
        }),
        // Memory.
        nr::BRK => sys!([Hex], |c, a| mm::sys_brk(c, a.u64(0))),
        nr::MMAP => sys!([Hex, Len, Hex, Hex, Fd, Hex], |c, a| {
            mm::sys_mmap(c, a.u64(0), a.u64(1), a.u64(2), a.u64(3), a.fd(4), a.u64(5))
        }),
        nr::MUNMAP => sys!([Hex, Len], |c, a| mm::sys_munmap(c, a.u64(0), a.u64(1))),
        nr::MPROTECT => sys!([Hex, Len, Hex], |c, a| mm::sys_mprotect(
            c,
            a.u64(0),
            a.u64(1),
            a.u64(2)
        )),
        nr::MREMAP => sys!([Hex, Len, Len, Hex, Hex], |c, a| {
            mm::sys_mremap(c, a.u64(0), a.u64(1), a.u64(2), a.u64(3), a.u64(4))
        }),
        nr::MADVISE => sys!([Hex, Len, Int], |c, a| mm::sys_madvise(
            c,
            a.u64(0),
            a.u64(1),
            a.u64(2)
        )),
        nr::RISCV_FLUSH_ICACHE => sys!([Hex, Hex, Hex], |c, a| {
            mm::sys_riscv_flush_icache(c, a.u64(2))
        }),
        // Processes and threads.
        nr::EXIT => sys!([Int], |c, a| process::sys_exit(c, a.i32(0))),
        nr::EXIT_GROUP => sys!([Int], |c, a| process::sys_exit_group(c, a.i32(0))),
        nr::SET_TID_ADDRESS => sys!([Hex], |c, a| process::sys_set_tid_address(c, a.u64(0))),
        nr::SET_ROBUST_LIST => sys!([Hex, Len], |c, a| process::sys_set_robust_list(
            c,
            a.u64(0),
            a.u64(1)
        )),
        nr::CLONE => sys!([Hex, Hex, Hex, Hex, Hex], |c, a| {
            process::sys_clone(c, a.u64(0), a.u64(1), a.addr(2), a.u64(3), a.addr(4))
        }),
        // glibc falls back to clone.
        nr::CLONE3 => sys!([Hex, Len], |_, _| Err(Errno::ENOSYS)),
        nr::EXECVE => sys!([Path, Hex, Hex], |c, a| process::sys_execve(
            c,
            a.addr(0),
            a.addr(1),
            a.addr(2)
        )),
        nr::EXECVEAT => sys!([Fd, Path, Hex, Hex, Hex], |c, a| {
            process::sys_execveat(c, a.fd(0), a.addr(1), a.addr(2), a.addr(3), a.u32(4))
        }),
        nr::WAIT4 => sys!([Int, Hex, Hex, Hex], |c, a| process::sys_wait4(
            c,
            a.i32(0),
            a.addr(1),
            a.u32(2),
            a.addr(3)
        )),
        nr::WAITID => sys!([Int, Int, Hex, Hex, Hex], |c, a| {
            process::sys_waitid(c, a.u32(0), a.i32(1), a.addr(2), a.u32(3), a.addr(4))
        }),
        nr::SETPGID => sys!([Int, Int], |c, a| process::sys_setpgid(
            c,
            a.i32(0),
            a.i32(1)
        )),
        nr::GETPGID => sys!([Int], |c, a| process::sys_getpgid(c, a.i32(0))),
        nr::GETSID => sys!([Int], |c, a| process::sys_getsid(c, a.i32(0))),
        nr::SETSID => sys!([], |c, _| process::sys_setsid(c)),
        nr::GETRUSAGE => sys!([Int, Hex], |c, a| process::sys_getrusage(
            c,
            a.i32(0),
            a.addr(1)
        )),
        nr::TIMES => sys!([Hex], |c, a| process::sys_times(c, a.addr(0))),
        nr::GETPID => sys!([], |c, _| Ok(u64::from(c.proc.pid))),
        nr::GETPPID => sys!([], |c, _| Ok(u64::from(c.proc.ppid))),
        nr::GETTID => sys!([], |c, _| Ok(u64::from(c.thread.tid))),
        // Everyone is root until the bundle carries the image's user; set*id is stored.
        nr::GETUID => sys!([], |c, _| Ok(u64::from(c.proc.uids[0]))),
        nr::GETEUID => sys!([], |c, _| Ok(u64::from(c.proc.uids[1]))),
        nr::GETGID => sys!([], |c, _| Ok(u64::from(c.proc.gids[0]))),
        nr::GETEGID => sys!([], |c, _| Ok(u64::from(c.proc.gids[1]))),
        nr::SETUID => sys!([Int], |c, a| process::sys_setresuid(
            c,
            a.i32(0),
            a.i32(0),
            a.i32(0)
        )),
        nr::SETGID => sys!([Int], |c, a| process::sys_setresgid(
            c,
            a.i32(0),
            a.i32(0),
            a.i32(0)
        )),
        nr::SETREUID => sys!([Int, Int], |c, a| process::sys_setresuid(
            c,
            a.i32(0),
            a.i32(1),
            -1
        )),
        nr::SETREGID => sys!([Int, Int], |c, a| process::sys_setresgid(
            c,
            a.i32(0),
            a.i32(1),
            -1
        )),
        nr::SETRESUID => sys!([Int, Int, Int], |c, a| process::sys_setresuid(
            c,
            a.i32(0),
            a.i32(1),
            a.i32(2)
        )),
        nr::SETRESGID => sys!([Int, Int, Int], |c, a| process::sys_setresgid(
            c,
            a.i32(0),
            a.i32(1),
            a.i32(2)
        )),
        nr::GETRESUID => sys!([Hex, Hex, Hex], |c, a| {
            let ids = c.proc.uids;
            process::sys_getresid(c, ids, [a.addr(0), a.addr(1), a.addr(2)])
        }),
        nr::GETRESGID => sys!([Hex, Hex, Hex], |c, a| {
            let ids = c.proc.gids;
            process::sys_getresid(c, ids, [a.addr(0), a.addr(1), a.addr(2)])
        }),
        // The fs ids follow the effective ones; the call returns the old value.
        nr::SETFSUID => sys!([Int], |c, _| Ok(u64::from(c.proc.uids[1]))),
        nr::SETFSGID => sys!([Int], |c, _| Ok(u64::from(c.proc.gids[1]))),
        nr::GETGROUPS => sys!([Int, Hex], |c, a| process::sys_getgroups(
            c,
            a.i32(0),
            a.addr(1)
        )),
        nr::SETGROUPS => sys!([Int, Hex], |c, a| process::sys_setgroups(
            c,
            a.i32(0),
            a.addr(1)
        )),
        nr::UNAME => sys!([Hex], |c, a| process::sys_uname(c, a.addr(0))),
        nr::PRLIMIT64 => sys!([Int, Int, Hex, Hex], |c, a| {
            process::sys_prlimit64(c, a.i32(0), a.u32(1), a.addr(2), a.addr(3))
        }),
        nr::GETRLIMIT => sys!([Int, Hex], |c, a| {
            process::sys_prlimit64(c, 0, a.u32(0), GuestAddr(0), a.addr(1))
        }),
        nr::SETRLIMIT => sys!([Int, Hex], |c, a| {
            process::sys_prlimit64(c, 0, a.u32(0), a.addr(1), GuestAddr(0))
        }),
        nr::GETRANDOM => sys!([Hex, Len, Hex], |c, a| process::sys_getrandom(
            c,
            a.addr(0),
            a.u64(1),
            a.u32(2)
        )),
        nr::FUTEX => sys!([Hex, Int, Int, Hex, Hex, Int], |c, a| {
            process::sys_futex(
                c,
                a.addr(0),
                a.u32(1),
                a.u32(2),
                a.addr(3),
                a.addr(4),
                a.u32(5),
            )
        }),
        nr::SCHED_GETAFFINITY => sys!([Int, Len, Hex], |c, a| {
            process::sys_sched_getaffinity(c, a.i32(0), a.u64(1), a.addr(2))
        }),
        nr::SCHED_YIELD => sys!([], |c, _| process::sys_sched_yield(c)),
        nr::RISCV_HWPROBE => sys!([Hex, Len, Len, Hex, Hex], |c, a| {
            process::sys_riscv_hwprobe(c, a.addr(0), a.u64(1), a.u64(2), a.addr(3), a.u64(4))
        }),
        // Signals.
        nr::RT_SIGACTION => sys!([Signal, Hex, Hex, Len], |c, a| {
            signal::sys_rt_sigaction(c, a.i32(0), a.addr(1), a.addr(2), a.u64(3))
        }),
        nr::RT_SIGPROCMASK => sys!([Int, Hex, Hex, Len], |c, a| {
            signal::sys_rt_sigprocmask(c, a.i32(0), a.addr(1), a.addr(2), a.u64(3))
        }),
        nr::SIGALTSTACK => sys!([Hex, Hex], |c, a| signal::sys_sigaltstack(
            c,
            a.addr(0),
            a.addr(1)
        )),
        nr::RT_SIGRETURN => sys!([], |c, _| signal::sys_rt_sigreturn(c)),
        nr::RT_SIGPENDING => sys!([Hex, Len], |c, a| signal::sys_rt_sigpending(
            c,
            a.addr(0),
            a.u64(1)
        )),
        nr::RT_SIGSUSPEND => sys!([Hex, Len], |c, a| signal::sys_rt_sigsuspend(
            c,
            a.addr(0),
            a.u64(1)
        )),
        nr::RT_SIGTIMEDWAIT => sys!([Hex, Hex, Hex, Len], |c, a| {
            signal::sys_rt_sigtimedwait(c, a.addr(0), a.addr(1), a.addr(2), a.u64(3))
        }),
        nr::SETITIMER => sys!([Int, Hex, Hex], |c, a| signal::sys_setitimer(
            c,
            a.i32(0),
            a.addr(1),
            a.addr(2)
        )),
        nr::GETITIMER => sys!([Int, Hex], |c, a| signal::sys_getitimer(
            c,
            a.i32(0),
            a.addr(1)
        )),
        nr::KILL => sys!([Int, Signal], |c, a| signal::sys_kill(
            c,
            a.i32(0),
            a.i32(1)
        )),
        nr::TKILL => sys!([Int, Signal], |c, a| signal::sys_tgkill(
            c,
            -1,
            a.i32(0),
            a.i32(1)
        )),
        nr::TGKILL => sys!([Int, Int, Signal], |c, a| signal::sys_tgkill(
            c,
            a.i32(0),
            a.i32(1),
            a.i32(2)
        )),
        // Time.
        nr::CLOCK_GETTIME => sys!([Int, Hex], |c, a| time::sys_clock_gettime(
            c,
            a.i32(0),
            a.addr(1)
        )),
        nr::CLOCK_GETRES => sys!([Int, Hex], |c, a| time::sys_clock_getres(
            c,
            a.i32(0),
            a.addr(1)
        )),
        nr::GETTIMEOFDAY => sys!([Hex, Hex], |c, a| time::sys_gettimeofday(
            c,
            a.addr(0),
            a.addr(1)
        )),
        nr::NANOSLEEP => sys!([Hex, Hex], |c, a| time::sys_nanosleep(
            c,
            a.addr(0),
            a.addr(1)
        )),
        nr::CLOCK_NANOSLEEP => sys!([Int, Hex, Hex, Hex], |c, a| {
            time::sys_clock_nanosleep(c, a.i32(0), a.u32(1), a.addr(2), a.addr(3))
        }),
        _ => None,
    }
}

/// Handles the `ecall` the thread stopped at.
pub fn dispatch(ctx: &mut Ctx) {
    let x = &ctx.thread.hart.x;
    let nr = x[A7];
    let args = Args([x[A0], x[A1], x[A2], x[A3], x[A4], x[A5]]);
    let entry = lookup(nr);
    let call = ctx
        .kernel
        .trace
        .then(|| format_call(ctx, nr, entry.as_ref(), &args));
    let mut result = match &entry {
        Some(e) => (e.run)(ctx, &args),
        None => Err(Errno::ENOSYS),
    };
    // A blocking pipe that cannot move data now, or host stdin without input, parks the
    // thread; the call runs again.
    if result == Err(Errno::EAGAIN)
        && matches!(nr, nr::READ | nr::READV | nr::WRITE | nr::WRITEV)
        && pipe::block_on_io(ctx, args.fd(0))
    {
        result = Ok(0);
    }
    // A frame the kernel needed on this process's behalf (a copy to user memory, a mapping's
    // contents) would have passed the memory limit: the OOM killer answers, whatever the
    // call returned (Linux fails the copy with `EFAULT`, but the process never sees it).
    if ctx.proc.mm.space.take_out_of_memory() && ctx.proc.exit.is_none() {
        crate::signal::oom_kill(ctx.kernel, ctx.proc);
    }
    if ctx.proc.exit.is_some() || ctx.thread.exited || ctx.thread.wait.is_some() {
        // The thread is gone or blocked: there is no return value (yet).
        if let Some(call) = call {
            eprintln!("{call} = ?");
        }
        return;
    }
    ctx.thread.hart.x[A0] = match result {
        Ok(v) => v,
        Err(e) => e.as_syscall_return(),
    };
    ctx.thread.hart.pc = ctx.thread.hart.pc.wrapping_add(4);
    if let Some(call) = call {
        match result {
            Ok(v) if v > 0xffff => eprintln!("{call} = {v:#x}"),
            Ok(v) => eprintln!("{call} = {v}"),
            Err(e) => eprintln!("{call} = -1 {e}"),
        }
    }
}

/// `name(arg, ...)` for the trace, reading strings from guest memory before the call runs.
fn format_call(ctx: &mut Ctx, nr: u64, entry: Option<&Syscall>, args: &Args) -> String {
    /// Bytes of a buffer or path the trace shows, like strace's default `-s 32`.
    const SHOWN: usize = 32;
    let mut out = match nr::name(nr) {
        Some(n) => format!("{n}("),
        None => format!("syscall_{nr}("),
    };
    let kinds: &[Arg] = entry.map_or(&[Arg::Hex; 6][..], |e| e.args);
    for (i, kind) in kinds.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let v = args.0[i];
        match kind {
            Arg::Int => write!(out, "{}", v as i64),
            Arg::Len => write!(out, "{v}"),
            Arg::Hex => write!(out, "{v:#x}"),
            Arg::Fd if args.i32(i) == AT_FDCWD => write!(out, "AT_FDCWD"),
            Arg::Fd => write!(out, "{}", args.i32(i)),
            Arg::Signal => match sig::name(args.u32(i)) {
                Some(n) => write!(out, "{n}"),
                None => write!(out, "{}", args.i32(i)),
            },
            Arg::Path => match ctx.proc.mm.space.read_cstr(v, 4096) {
                Ok(Some(p)) => write!(out, "{}", quote(&p, 4096)),
                _ => write!(out, "{v:#x}"),
            },
            Arg::InBuf => {
                let len = args.0.get(i + 1).copied().unwrap_or(0).min(SHOWN as u64) as usize;
                let mut buf = vec![0u8; len];
                match ctx.proc.mm.space.read(v, &mut buf) {
                    Ok(()) => {
                        let more = args.0.get(i + 1).is_some_and(|&l| l > SHOWN as u64);
                        write!(
                            out,
                            "{}{}",
                            quote(&buf, SHOWN),
                            if more { "..." } else { "" }
                        )
                    }
                    Err(_) => write!(out, "{v:#x}"),
                }
            }
        }
        .expect("writing to a String cannot fail");
    }
    out.push(')');
    out
}

/// A C-style quoted string with escapes.
fn quote(bytes: &[u8], max: usize) -> String {
    let mut s = String::from("\"");
    for &b in bytes.iter().take(max) {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(b as char),
            _ => write!(s, "\\x{b:02x}").expect("writing to a String cannot fail"),
        }
    }
    s.push('"');
    s
}
