//! `ioctl` on terminals: line settings (`TCGETS`/`TCSETS*`), window size and the foreground
//! process group. Only stdio that is a host terminal is a tty; everything else is `ENOTTY`,
//! which is how programs (and libc's `isatty`) tell terminals from pipes and files.

use super::{Ctx, GuestAddr};
use crate::abi::Errno;
use crate::abi::termios::{
    FIONREAD, TCGETS, TCSETS, TCSETSF, TCSETSW, TIOCGPGRP, TIOCGWINSZ, TIOCSPGRP, TIOCSWINSZ,
    Termios, Winsize,
};
use crate::task::fd::GuestFd;

pub fn sys_ioctl(c: &mut Ctx, fd: GuestFd, request: u32, arg: GuestAddr) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
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
            let b = c.kernel.tty.termios.to_bytes();
            c.write_bytes(arg, &b)?;
        }
        // The host terminal keeps its own settings; the guest's are remembered and read back.
        // TODO(#tty): run the line discipline ourselves when the host side is raw.
        TCSETS | TCSETSW | TCSETSF => {
            c.kernel.tty.termios = Termios::from_bytes(&c.read_array(arg)?);
        }
        TIOCGWINSZ => {
            let b = c.kernel.tty.winsize.to_bytes();
            c.write_bytes(arg, &b)?;
        }
        TIOCSWINSZ => {
            c.kernel.tty.winsize = Winsize::from_bytes(&c.read_array(arg)?);
        }
        // The only process is the terminal's foreground process group.
        TIOCGPGRP => {
            let pgrp = c.proc.pid;
            c.write_bytes(arg, &pgrp.to_le_bytes())?;
        }
        TIOCSPGRP => {
            let pgrp = c.read_u32(arg)?;
            if pgrp != c.proc.pid {
                return Err(Errno::EPERM);
            }
        }
        _ => return Err(Errno::ENOTTY),
    }
    Ok(0)
}
