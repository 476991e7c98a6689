//! `ioctl` on terminals: line settings (`TCGETS`/`TCSETS*`), window size and the foreground
//! process group. Only stdio that is a host terminal is a tty; everything else is `ENOTTY`,
//! which is how programs (and libc's `isatty`) tell terminals from pipes and files. The few
//! requests Linux answers for any file (`FIONBIO`, `FIOCLEX`, `FIONCLEX`, `FIONREAD` on a
//! pipe) come first.

use super::{Ctx, GuestAddr};
use crate::abi::Errno;
use crate::abi::fs::O_NONBLOCK;
use crate::abi::termios::{
    FIOCLEX, FIONBIO, FIONCLEX, FIONREAD, TCGETS, TCSETS, TCSETSF, TCSETSW, TIOCGPGRP, TIOCGWINSZ,
    TIOCSPGRP, TIOCSWINSZ, Termios, Winsize,
};
use crate::task::fd::GuestFd;

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
