//! Machine-wide state that every task shares: the mounted file systems, the boot clock, the
//! terminal's line settings and the runtime's diagnostic switches.

use crate::abi::termios::{Termios, Winsize};
use crate::task::Tasks;
use crate::vfs::Vfs;
use std::time::Instant;

/// The terminal the runtime was given, as the guest configures it (`TCSETS`, `TIOCSWINSZ`).
/// The host side is not changed: the host terminal stays as the user set it.
pub struct Tty {
    /// The line settings of a host terminal that does its own line discipline. On a raw host
    /// terminal they live in its line discipline instead ([`crate::tty::termios`]).
    pub termios: Termios,
    pub winsize: Winsize,
    /// The foreground process group (`TIOCGPGRP`/`TIOCSPGRP`): the first process's group
    /// until a shell hands the terminal to a job.
    pub pgrp: u32,
}

pub struct Kernel {
    pub vfs: Vfs,
    /// `CLOCK_MONOTONIC` and `CLOCK_BOOTTIME` count from here.
    pub boot: Instant,
    pub tty: Tty,
    /// Every process and thread.
    pub tasks: Tasks,
    /// `CTR2WASM_TRACE=syscalls`: one stderr line per syscall.
    pub trace: bool,
}

impl Kernel {
    pub fn new(vfs: Vfs, trace: bool) -> Kernel {
        let boot = Instant::now();
        let host = crate::tty::HostTerminal::from_env();
        let termios = crate::tty::attach(host, boot);
        Kernel {
            vfs,
            boot,
            tty: Tty {
                termios,
                winsize: host.size.unwrap_or_else(host_winsize),
                pgrp: crate::task::run::INIT_PID,
            },
            tasks: Tasks::default(),
            trace,
        }
    }
}

/// The host terminal's size. Neither std nor WASI can ask the terminal, so the `COLUMNS` and
/// `LINES` the runtime was started with are used, else the classic 80x24.
fn host_winsize() -> Winsize {
    let get = |var: &str, default: u16| {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Winsize {
        rows: get("LINES", 24),
        cols: get("COLUMNS", 80),
    }
}
