//! `ioctl` on terminals: line settings (`TCGETS`/`TCSETS*`), window size and the foreground
//! process group; on a raw host terminal ([`crate::tty`]) also `TCFLSH` and `FIONREAD`. Only stdio that is a host terminal is a tty; everything else is `ENOTTY`,
//! which is how programs (and libc's `isatty`) tell terminals from pipes and files. The few
//! requests Linux answers for any file (`FIONBIO`, `FIOCLEX`, `FIONCLEX`, `FIONREAD` on a
//! pipe) come first.

use super::{Ctx, GuestAddr};
use crate::abi::Errno;
use crate::abi::fs::O_NONBLOCK;
use crate::abi::signal::SIGWINCH;
use crate::abi::termios::{
    FIOCLEX, FIONBIO, FIONCLEX, FIONREAD, TCFLSH, TCGETS, TCIFLUSH, TCIOFLUSH, TCOFLUSH, TCSETS,
    TCSETSF, TCSETSW, TIOCGPGRP, TIOCGWINSZ, TIOCSPGRP, TIOCSWINSZ, Termios, Winsize,
};
use crate::task::fd::GuestFd;
use crate::tty;

pub fn sys_ioctl(c: &mut Ctx, fd: GuestFd, request: u32, arg: GuestAddr) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    // The requests `do_vfs_ioctl` answers for every kind of file.
    match request {
        FIONBIO => {
            let on = c.read_u32(arg)? != 0;
            let mut f = file.borrow_mut();
            f.flags = if on {
                f.flags | O_NONBLOCK
            } else {
                f.flags & !O_NONBLOCK
            };
            return Ok(0);
        }
        FIOCLEX | FIONCLEX => {
            c.proc.fds.set_cloexec(fd, request == FIOCLEX)?;
            return Ok(0);
        }
        _ => {}
    }
    if request == FIONREAD
        && let Some(n) = super::pipe::pipe_fionread(c, fd)
    {
        c.write_bytes(arg, &(n as u32).to_le_bytes())?;
        return Ok(0);
    }
    if !file.borrow().is_terminal() {
        return Err(Errno::ENOTTY);
    }
    match request {
        TCGETS => {
            let t = tty::termios().unwrap_or(c.kernel.tty.termios);
            c.write_bytes(arg, &t.to_bytes())?;
        }
        // A host terminal keeps its own settings: the guest's are remembered and read back.
        // A raw one (`CTR2WASM_TTY=raw`) runs the line discipline they describe.
        TCSETS | TCSETSW | TCSETSF => {
            let t = Termios::from_bytes(&c.read_array(arg)?);
            if !tty::set_termios(t, request == TCSETSF) {
                c.kernel.tty.termios = t;
            }
        }
        // Only a raw terminal has input of its own to discard; output is never held back.
        TCFLSH if tty::is_raw() => match u32::try_from(arg.0).unwrap_or(u32::MAX) {
            TCIFLUSH | TCIOFLUSH => {
                tty::flush_input();
            }
            TCOFLUSH => {}
            _ => return Err(Errno::EINVAL),
        },
        FIONREAD if tty::is_raw() => {
            let n = tty::readable_len().unwrap_or(0) as u32;
            c.write_bytes(arg, &n.to_le_bytes())?;
        }
        TIOCGWINSZ => {
            let b = c.kernel.tty.winsize.to_bytes();
            c.write_bytes(arg, &b)?;
        }
        TIOCSWINSZ => {
            let ws = Winsize::from_bytes(&c.read_array(arg)?);
            if tty::resize_to(c.kernel, ws) {
                tty::signal_foreground(c.kernel, Some(c.proc), SIGWINCH);
            }
        }
        // The host terminal is every process's controlling terminal (`tiocgpgrp`).
        TIOCGPGRP => {
            let pgrp = c.kernel.tty.pgrp;
            c.write_bytes(arg, &pgrp.to_le_bytes())?;
        }
        // `tiocspgrp`: the group must exist, in the caller's session. A background caller is
        // not stopped with SIGTTOU: no job is ever stopped here (TODO(#3): job control).
        TIOCSPGRP => {
            let pgrp = i32::from_le_bytes(c.read_array(arg)?);
            let pgrp = u32::try_from(pgrp).map_err(|_| Errno::EINVAL)?;
            let me = c.proc.pid;
            let session = if c.proc.pgid == pgrp {
                Some(c.proc.sid)
            } else {
                c.kernel.tasks.procs.iter().find_map(|(&p, pr)| {
                    let pr = pr.try_borrow().ok().filter(|_| p != me)?;
                    (pr.pgid == pgrp && !pr.zombie).then_some(pr.sid)
                })
            };
            match session {
                None => return Err(Errno::ESRCH),
                Some(sid) if sid != c.proc.sid => return Err(Errno::EPERM),
                Some(_) => c.kernel.tty.pgrp = pgrp,
            }
        }
        _ => return Err(Errno::ENOTTY),
    }
    Ok(0)
}
