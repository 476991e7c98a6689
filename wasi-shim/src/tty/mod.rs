//! The guest's terminal when the host hands over raw keystrokes (a browser page), where the
//! runtime must be the kernel's tty layer itself.
//!
//! The host says so in the runtime's environment (not the guest's):
//! - `CTR2WASM_TTY=raw`: stdin, stdout and stderr are one terminal that does no processing of
//!   its own; the runtime runs the line discipline ([`ldisc`]) on what stdin delivers and does
//!   output processing (`ONLCR`) on what the guest writes.
//! - `CTR2WASM_TTY_SIZE=COLSxROWS`: its size at start (`TIOCGWINSZ`). Later changes come
//!   in-band on stdin ([`inband`]) and send `SIGWINCH` to the foreground process group.
//!
//! Without `CTR2WASM_TTY=raw` nothing here is active: stdio is read and written as the host
//! gives it, and a host terminal keeps its own line discipline.
//!
//! The raw terminal is a singleton beside host fd 0, whose bytes only it reads: it lives in a
//! thread-local, so the open-file layer ([`crate::vfs::file`]) can read and write it without
//! the kernel at hand. Host input is taken in by [`pump`], which the scheduler calls each round
//! and which needs the kernel to raise the signals the input asks for.

pub mod inband;
pub mod ldisc;

use crate::abi::Errno;
use crate::abi::signal::{SI_KERNEL, SIGWINCH, SigInfo};
use crate::abi::termios::{IUTF8, Termios, Winsize};
use crate::host;
use crate::kernel::Kernel;
use crate::signal;
use crate::task::Process;
use crate::vfs::file::Stdio;
use inband::{InBand, Input};
use ldisc::{Ldisc, Read};
use std::cell::RefCell;
use std::io::Write;
use std::time::Instant;

/// The runtime environment variable that says the host terminal is raw.
pub const ENV_TTY: &str = "CTR2WASM_TTY";
/// The runtime environment variable with the host terminal's size, `COLSxROWS`.
pub const ENV_TTY_SIZE: &str = "CTR2WASM_TTY_SIZE";

/// Most host bytes taken in one [`pump`]: enough for a paste, and a bound on the echo and
/// input work one scheduler round does.
const PUMP_MAX_BYTES: usize = 16 * 1024;

struct RawTerminal {
    ldisc: Ldisc,
    inband: InBand,
    /// The kernel's boot instant: deadlines are on its `CLOCK_MONOTONIC`.
    boot: Instant,
    /// Host stdin reached end of file (or failed): nothing more will come.
    host_closed: bool,
    /// The deadline of the last read that had to wait (`VTIME`).
    read_deadline_ns: Option<u64>,
}

impl RawTerminal {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.boot.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

thread_local! {
    static RAW: RefCell<Option<RawTerminal>> = const { RefCell::new(None) };
}

fn with_raw<T>(f: impl FnOnce(&mut RawTerminal) -> T) -> Option<T> {
    RAW.with(|r| r.borrow_mut().as_mut().map(f))
}

/// How the runtime's environment describes the host terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostTerminal {
    /// `CTR2WASM_TTY=raw`.
    pub raw: bool,
    /// `CTR2WASM_TTY_SIZE`, when set and well-formed.
    pub size: Option<Winsize>,
}

impl HostTerminal {
    pub fn from_env() -> HostTerminal {
        HostTerminal {
            raw: std::env::var(ENV_TTY).is_ok_and(|v| v == "raw"),
            size: std::env::var(ENV_TTY_SIZE)
                .ok()
                .and_then(|v| parse_size(&v)),
        }
    }
}

/// `COLSxROWS`, both at least 1.
fn parse_size(s: &str) -> Option<Winsize> {
    let (cols, rows) = s.split_once('x')?;
    let cols: u16 = cols.parse().ok().filter(|&c| c > 0)?;
    let rows: u16 = rows.parse().ok().filter(|&r| r > 0)?;
    Some(Winsize { rows, cols })
}

/// Makes the runtime's stdio a raw terminal (`host.raw`) or plain host stdio, for a kernel
/// booted at `boot`. Returns the line settings the guest starts with.
pub fn attach(host: HostTerminal, boot: Instant) -> Termios {
    let mut termios = Termios::SANE;
    let raw = host.raw.then(|| {
        // The page's terminal speaks UTF-8, so erase takes a character whole, as on a Linux
        // console set up by a UTF-8 locale.
        termios.iflag |= IUTF8;
        RawTerminal {
            ldisc: Ldisc::new(termios),
            inband: InBand::default(),
            boot,
            host_closed: false,
            read_deadline_ns: None,
        }
    });
    RAW.with(|r| *r.borrow_mut() = raw);
    termios
}

/// Whether stdio is the raw terminal (then every stdio stream is a terminal).
pub fn is_raw() -> bool {
    RAW.with(|r| r.borrow().is_some())
}

/// The raw terminal's line settings (`TCGETS`); `None` on plain host stdio.
pub fn termios() -> Option<Termios> {
    with_raw(|t| t.ldisc.termios)
}

/// `TCSETS*` on the raw terminal, discarding pending input first when `flush` (`TCSETSF`).
/// Returns false on plain host stdio.
pub fn set_termios(termios: Termios, flush: bool) -> bool {
    with_raw(|t| {
        if flush {
            t.ldisc.flush_input();
        }
        t.ldisc.set_termios(termios);
    })
    .is_some()
}

/// `TCFLSH` with `TCIFLUSH`/`TCIOFLUSH`: discards input. Returns false on plain host stdio.
pub fn flush_input() -> bool {
    with_raw(|t| t.ldisc.flush_input()).is_some()
}

/// `FIONREAD` on the raw terminal.
pub fn readable_len() -> Option<usize> {
    with_raw(|t| t.ldisc.readable_len())
}

/// Whether a read of the terminal (or host stdin) would return now, as `poll` reports it.
pub fn stdin_ready() -> bool {
    with_raw(|t| t.ldisc.poll_readable()).unwrap_or_else(host::stdin_ready)
}

/// `read(2)` of the raw terminal: `EAGAIN` when the read has to wait (see
/// [`read_deadline_ns`] for how long at most).
pub fn read(buf: &mut [u8]) -> Result<usize, Errno> {
    with_raw(|t| {
        let now = t.now_ns();
        match t.ldisc.read(buf, now) {
            Read::Done(n) => {
                t.read_deadline_ns = None;
                Ok(n)
            }
            Read::Wait { deadline_ns } => {
                t.read_deadline_ns = deadline_ns;
                Err(Errno::EAGAIN)
            }
        }
    })
    .unwrap_or(Err(Errno::EBADF))
}

/// When a read that just had to wait should be tried again without new input (`VTIME`).
pub fn read_deadline_ns() -> Option<u64> {
    with_raw(|t| t.read_deadline_ns).flatten()
}

/// A guest write to the raw terminal: output processing, then the host stream.
pub fn write(stream: Stdio, data: &[u8]) -> std::io::Result<()> {
    let out = with_raw(|t| {
        t.ldisc.output(data);
        t.ldisc.take_echo()
    })
    .unwrap_or_else(|| data.to_vec());
    write_host(stream, &out)
}

fn write_host(stream: Stdio, data: &[u8]) -> std::io::Result<()> {
    if stream == Stdio::Err {
        let mut e = std::io::stderr().lock();
        e.write_all(data).and_then(|()| e.flush())
    } else {
        let mut o = std::io::stdout().lock();
        o.write_all(data).and_then(|()| o.flush())
    }
}

/// Whether the scheduler, with nothing to run, must wait on host stdin even if no thread
/// reads it: a raw terminal's input may raise a signal or resize the window.
pub fn watches_host() -> bool {
    with_raw(|t| !t.host_closed).unwrap_or(false)
}

/// Takes in the input the raw host terminal has ready: echoes it, queues it for readers,
/// raises the signals it asks for and applies resizes. Does nothing on plain host stdio.
/// Called by the scheduler between time slices, when no process is borrowed.
pub fn pump(kernel: &mut Kernel) {
    let Some((signals, resize)) = with_raw(take_host_input) else {
        return;
    };
    if let Some(ws) = resize
        && resize_to(kernel, ws)
    {
        signal_foreground(kernel, None, SIGWINCH);
    }
    for sig in signals {
        signal_foreground(kernel, None, sig);
    }
}

/// Reads host stdin while it has bytes ready and feeds them through the in-band parser and
/// the line discipline. Returns the signals raised and the last size announced.
fn take_host_input(t: &mut RawTerminal) -> (Vec<u32>, Option<Winsize>) {
    let mut resize = None;
    let mut taken = 0;
    let mut buf = [0u8; 4096];
    let mut items = Vec::new();
    while !t.host_closed && taken < PUMP_MAX_BYTES && host::stdin_ready() {
        let n = match host::read_stdin(&mut buf) {
            Ok(0) | Err(_) => {
                t.host_closed = true;
                t.ldisc.hang_up();
                break;
            }
            Ok(n) => n,
        };
        taken += n;
        t.inband.feed(&buf[..n], &mut items);
    }
    t.inband.end_of_burst(&mut items);
    let now = t.now_ns();
    for item in items {
        match item {
            Input::Byte(b) => t.ldisc.receive(b, now),
            Input::Resize(ws) => resize = Some(ws),
        }
    }
    let echo = t.ldisc.take_echo();
    if !echo.is_empty() {
        // A terminal that cannot be written to loses its echo, as a hung-up one would.
        let _ = write_host(Stdio::Out, &echo);
    }
    (t.ldisc.take_signals(), resize)
}

/// Sets the terminal's size. Returns whether it changed, in which case the caller sends
/// `SIGWINCH` to the foreground process group (`tty_do_resize`).
pub fn resize_to(kernel: &mut Kernel, ws: Winsize) -> bool {
    let changed = kernel.tty.winsize != ws;
    kernel.tty.winsize = ws;
    changed
}

/// A signal from the terminal to its foreground process group (`isig`, `kill_pgrp`).
/// `current` is the process making a syscall, whose `RefCell` its caller holds borrowed.
pub fn signal_foreground(kernel: &Kernel, mut current: Option<&mut Process>, sig: u32) {
    let pgrp = kernel.tty.pgrp;
    let info = SigInfo {
        code: SI_KERNEL,
        ..SigInfo::default()
    };
    if let Some(p) = current.as_deref_mut()
        && p.pgid == pgrp
    {
        signal::send_process(p, sig, info);
    }
    let current_pid = current.map(|p| p.pid);
    for (&pid, p) in &kernel.tasks.procs {
        if Some(pid) == current_pid {
            continue;
        }
        let mut p = p.borrow_mut();
        if p.pgid == pgrp && !p.zombie {
            signal::send_process(&mut p, sig, info);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_variable_is_cols_by_rows() {
        assert_eq!(
            parse_size("132x43"),
            Some(Winsize {
                rows: 43,
                cols: 132
            })
        );
        for bad in ["", "80", "0x24", "80x0", "80x24x1", "-1x24", "80 x 24"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn attaching_plain_stdio_leaves_no_raw_terminal() {
        let plain = HostTerminal {
            raw: false,
            size: None,
        };
        assert_eq!(attach(plain, Instant::now()), Termios::SANE);
        assert!(!is_raw());
        assert_eq!(termios(), None);
        assert!(!set_termios(Termios::SANE, false));
        assert_eq!(read(&mut [0u8; 4]), Err(Errno::EBADF));
        assert!(!watches_host());
    }

    #[test]
    fn a_raw_terminal_reads_through_the_line_discipline() {
        let raw = HostTerminal {
            raw: true,
            size: None,
        };
        let t = attach(raw, Instant::now());
        assert!(is_raw());
        assert_ne!(t.iflag & IUTF8, 0);
        with_raw(|t| {
            for &b in b"ls\r" {
                t.ldisc.receive(b, 0);
            }
        });
        let mut buf = [0u8; 8];
        assert_eq!(read(&mut buf), Ok(3));
        assert_eq!(&buf[..3], b"ls\n");
        assert_eq!(read(&mut buf), Err(Errno::EAGAIN));
        assert_eq!(read_deadline_ns(), None);
        attach(
            HostTerminal {
                raw: false,
                size: None,
            },
            Instant::now(),
        );
    }
}
