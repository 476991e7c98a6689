//! Signals: numbers, default actions, `struct sigaction`, `stack_t` and the mask operations
//! (`include/uapi/asm-generic/signal.h`, `signal-defs.h`, `arch/riscv/kernel/signal.c`).

use super::{get_u32, get_u64, put_u32, put_u64};

pub const SIGHUP: u32 = 1;
pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGILL: u32 = 4;
pub const SIGTRAP: u32 = 5;
pub const SIGABRT: u32 = 6;
pub const SIGBUS: u32 = 7;
pub const SIGFPE: u32 = 8;
pub const SIGKILL: u32 = 9;
pub const SIGUSR1: u32 = 10;
pub const SIGSEGV: u32 = 11;
pub const SIGUSR2: u32 = 12;
pub const SIGPIPE: u32 = 13;
pub const SIGALRM: u32 = 14;
pub const SIGTERM: u32 = 15;
pub const SIGSTKFLT: u32 = 16;
pub const SIGCHLD: u32 = 17;
pub const SIGCONT: u32 = 18;
pub const SIGSTOP: u32 = 19;
pub const SIGTSTP: u32 = 20;
pub const SIGTTIN: u32 = 21;
pub const SIGTTOU: u32 = 22;
pub const SIGURG: u32 = 23;
pub const SIGXCPU: u32 = 24;
pub const SIGXFSZ: u32 = 25;
pub const SIGVTALRM: u32 = 26;
pub const SIGPROF: u32 = 27;
pub const SIGWINCH: u32 = 28;
pub const SIGIO: u32 = 29;
pub const SIGPWR: u32 = 30;
pub const SIGSYS: u32 = 31;
/// Highest signal number (`_NSIG`); signals run 1..=NSIG.
pub const NSIG: u32 = 64;

/// The kernel's name of a signal, for diagnostics and the trace.
pub fn name(sig: u32) -> Option<&'static str> {
    const NAMES: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    NAMES
        .get(usize::try_from(sig.checked_sub(1)?).ok()?)
        .copied()
}

/// What a signal does when its handler is `SIG_DFL` (`sig_kernel_*` in `include/linux/signal.h`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DefaultAction {
    Terminate,
    /// Terminate and dump core; the shell reports the same `128+n` status.
    CoreDump,
    Ignore,
    Stop,
    Continue,
}

pub fn default_action(sig: u32) -> DefaultAction {
    match sig {
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGCONT => DefaultAction::Continue,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ
        | SIGSYS => DefaultAction::CoreDump,
        _ => DefaultAction::Terminate,
    }
}

/// The bit of `sig` in a `sigset_t`.
pub const fn sigmask(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// Signals that can be neither caught, blocked nor ignored.
pub const UNBLOCKABLE: u64 = sigmask(SIGKILL) | sigmask(SIGSTOP);

/// `sizeof(sigset_t)` the kernel accepts in `rt_sig*` calls.
pub const SIGSET_SIZE: u64 = 8;

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

pub const SIG_BLOCK: u32 = 0;
pub const SIG_UNBLOCK: u32 = 1;
pub const SIG_SETMASK: u32 = 2;

pub const SA_NOCLDSTOP: u64 = 0x0000_0001;
pub const SA_NOCLDWAIT: u64 = 0x0000_0002;
pub const SA_SIGINFO: u64 = 0x0000_0004;
pub const SA_EXPOSE_TAGBITS: u64 = 0x0000_0800;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;
/// The flags the kernel keeps (`UAPI_SA_FLAGS`; riscv has no `SA_RESTORER`). Others are
/// cleared so programs can probe for support (`SA_UNSUPPORTED`).
pub const UAPI_SA_FLAGS: u64 = SA_NOCLDSTOP
    | SA_NOCLDWAIT
    | SA_SIGINFO
    | SA_ONSTACK
    | SA_RESTART
    | SA_NODEFER
    | SA_RESETHAND
    | SA_EXPOSE_TAGBITS;

/// `struct sigaction` as the riscv64 kernel reads it: handler, flags, mask (no restorer).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub mask: u64,
}

impl SigAction {
    pub const SIZE: usize = 24;

    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, 0, self.handler);
        put_u64(&mut b, 8, self.flags);
        put_u64(&mut b, 16, self.mask);
        b
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> SigAction {
        SigAction {
            handler: get_u64(b, 0),
            flags: get_u64(b, 8),
            mask: get_u64(b, 16),
        }
    }
}

pub const SS_ONSTACK: u32 = 1;
pub const SS_DISABLE: u32 = 2;
pub const SS_AUTODISARM: u32 = 1 << 31;
/// `MINSIGSTKSZ` of the uapi headers: the smallest alternate stack `sigaltstack` accepts.
pub const MINSIGSTKSZ: u64 = 2048;

/// `stack_t { void *ss_sp; int ss_flags; size_t ss_size; }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackT {
    pub sp: u64,
    pub flags: u32,
    pub size: u64,
}

impl StackT {
    pub const SIZE: usize = 24;

    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, 0, self.sp);
        put_u32(&mut b, 8, self.flags);
        put_u64(&mut b, 16, self.size);
        b
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> StackT {
        StackT {
            sp: get_u64(b, 0),
            flags: get_u32(b, 8),
            size: get_u64(b, 16),
        }
    }
}

/// `sizeof(struct rt_sigframe)` on riscv64 without the vector extension: `siginfo_t` (128)
/// plus `struct ucontext` (960). Reported as `AT_MINSIGSTKSZ` (`get_rt_sigframe_size`).
pub const RT_SIGFRAME_SIZE: u64 = 128 + 960;

/// `si_code` values (`include/uapi/asm-generic/siginfo.h`).
pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_TKILL: i32 = -6;
pub const SI_TIMER: i32 = -2;
pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;
pub const BUS_ADRALN: i32 = 1;
pub const ILL_ILLOPC: i32 = 1;
pub const TRAP_BRKPT: i32 = 1;

/// What a `siginfo_t` says beyond the signal number: the code and the one union member the
/// code selects (`_kill`, `_sigchld` or `_sigfault`).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub code: i32,
    /// `si_pid` (kill, sigchld).
    pub pid: u32,
    /// `si_status` (sigchld).
    pub status: i32,
    /// `si_addr` (faults); when set, the fault layout is used.
    pub addr: Option<u64>,
}

impl SigInfo {
    /// `sizeof(siginfo_t)`.
    pub const SIZE: usize = 128;

    pub fn to_bytes(self, signo: u32) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u32(&mut b, 0, signo);
        put_u32(&mut b, 8, self.code as u32);
        match self.addr {
            Some(addr) => put_u64(&mut b, 16, addr),
            None => {
                put_u32(&mut b, 16, self.pid);
                put_u32(&mut b, 24, self.status as u32);
            }
        }
        b
    }
}

/// Byte offsets in the riscv64 `struct rt_sigframe` (`arch/riscv/kernel/signal.c`): the
/// `siginfo_t`, then `struct ucontext` (`uc_flags`, `uc_link`, `uc_stack`, `uc_sigmask` padded
/// to 128 bytes of sigset, then the 16-byte aligned `struct sigcontext`: `sc_regs` = pc and
/// x1..x31, then the FP union: `__riscv_d_ext_state` f[32] + fcsr, sized as the Q state,
/// whose tail is the `__riscv_extra_ext_header`, left zero = `END_MAGIC`, no extensions).
pub mod frame {
    pub const INFO: u64 = 0;
    pub const UC: u64 = 128;
    pub const UC_FLAGS: u64 = UC;
    pub const UC_LINK: u64 = UC + 8;
    pub const UC_STACK: u64 = UC + 16;
    pub const UC_SIGMASK: u64 = UC + 40;
    /// `uc_mcontext`: after 1024 bits of sigset, rounded up to 16.
    pub const UC_MCONTEXT: u64 = UC + 176;
    pub const SC_REGS: u64 = UC_MCONTEXT;
    pub const SC_FPREGS: u64 = UC_MCONTEXT + 32 * 8;
    pub const SC_FCSR: u64 = SC_FPREGS + 32 * 8;
    /// `sizeof(union __riscv_fp_state)`: the Q state, f[64] + fcsr + 3 reserved words.
    pub const FP_STATE_SIZE: u64 = 64 * 8 + 16;
    pub const SIZE: u64 = SC_FPREGS + FP_STATE_SIZE;
}

const _: () = assert!(frame::SIZE == RT_SIGFRAME_SIZE);
const _: () = assert!(frame::UC_MCONTEXT.is_multiple_of(16));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_defaults() {
        assert_eq!(name(SIGSEGV), Some("SIGSEGV"));
        assert_eq!(name(SIGSYS), Some("SIGSYS"));
        assert_eq!(name(0), None);
        assert_eq!(name(32), None);
        assert_eq!(default_action(SIGSEGV), DefaultAction::CoreDump);
        assert_eq!(default_action(SIGPIPE), DefaultAction::Terminate);
        assert_eq!(default_action(SIGCHLD), DefaultAction::Ignore);
    }

    #[test]
    fn struct_round_trips() {
        let a = SigAction {
            handler: 0x1234,
            flags: SA_SIGINFO | SA_RESTART,
            mask: 0x8000_0001,
        };
        assert_eq!(SigAction::from_bytes(&a.to_bytes()), a);
        let s = StackT {
            sp: 0x7000,
            flags: SS_DISABLE,
            size: 8192,
        };
        assert_eq!(StackT::from_bytes(&s.to_bytes()), s);
        assert_eq!(&s.to_bytes()[8..12], &SS_DISABLE.to_le_bytes());
    }
}
