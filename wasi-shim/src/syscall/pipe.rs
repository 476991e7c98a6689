//! Pipes and readiness: `pipe2`, blocking pipe and host stdin I/O, `ppoll` and `pselect6`.
//!
//! A read or write that finds a blocking pipe empty (full), or host stdin without input,
//! parks the thread and is re-executed when the pipe changes or the host reports input
//! ([`block_on_io`], called from the dispatcher for every read and write family call); with
//! `O_NONBLOCK` it fails with `EAGAIN` instead. Readiness: pipes by their state, host stdin
//! by asking the host; regular files and directories are always ready; stdout and stderr are
//! always writable.

use super::{Ctx, GuestAddr};
use crate::abi::Errno;
use crate::abi::fs::{
    O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_WRONLY, POLLERR, POLLFD_SIZE, POLLHUP, POLLIN, POLLNVAL,
    POLLOUT, POLLRDNORM, POLLWRNORM,
};
use crate::abi::signal::UNBLOCKABLE;
use crate::abi::time::{CLOCK_MONOTONIC, Timespec};
use crate::syscall::time::now_ns;
use crate::task::fd::GuestFd;
use crate::task::{PollWatch, Wait, WaitOn};
use crate::vfs::file::{FileKind, OpenFile};
use crate::vfs::pipe::{Pipe, PipeEnd, PipeRef};
use std::cell::RefCell;
use std::rc::Rc;

/// Most fds one `poll` takes (`RLIMIT_NOFILE`'s hard default); more is `EINVAL`.
const POLL_MAX_FDS: u64 = 1 << 20;

/// `pipe2(fds, flags)`.
pub fn sys_pipe2(c: &mut Ctx, fds: GuestAddr, flags: u32) -> Result<u64, Errno> {
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    c.kernel.tasks.notify();
    let ino = c.kernel.tasks.events;
    let pipe = Pipe::new(ino);
    let status = flags & O_NONBLOCK;
    let end = |write: bool| OpenFile {
        kind: FileKind::Pipe(PipeEnd::new(&pipe, write)),
        flags: status | if write { O_WRONLY } else { O_RDONLY },
        offset: 0,
        guest_path: None,
    };
    let cloexec = flags & O_CLOEXEC != 0;
    let limit = c.proc.rlimits[crate::abi::resource::RLIMIT_NOFILE as usize].cur;
    let r = c
        .proc
        .fds
        .install(Rc::new(RefCell::new(end(false))), cloexec, 0, limit)?;
    let w = match c
        .proc
        .fds
        .install(Rc::new(RefCell::new(end(true))), cloexec, 0, limit)
    {
        Ok(w) => w,
        Err(e) => {
            let _ = c.proc.fds.close(r);
            return Err(e);
        }
    };
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&r.0.to_le_bytes());
    b[4..].copy_from_slice(&w.0.to_le_bytes());
    if let Err(e) = c.write_bytes(fds, &b) {
        let _ = c.proc.fds.close(r);
        let _ = c.proc.fds.close(w);
        return Err(e);
    }
    Ok(0)
}

/// The pipe behind `fd` and whether it is the write end, if `fd` is a pipe.
fn pipe_of(c: &Ctx, fd: GuestFd) -> Option<(PipeRef, bool, u32)> {
    let file = c.proc.fds.get(fd).ok()?;
    let f = file.borrow();
    match &f.kind {
        FileKind::Pipe(end) => Some((end.pipe.clone(), end.write, f.flags)),
        _ => None,
    }
}

/// After a read or write on `fd` answered `EAGAIN`: if `fd` is a blocking pipe or host
/// stdin, parks the thread until the pipe changes or stdin has input, and the call runs
/// again. Returns true when parked.
pub fn block_on_io(c: &mut Ctx, fd: GuestFd) -> bool {
    let Ok(file) = c.proc.fds.get(fd) else {
        return false;
    };
    let on = {
        let f = file.borrow();
        if f.flags & O_NONBLOCK != 0 {
            return false;
        }
        match &f.kind {
            FileKind::Pipe(end) if end.write => WaitOn::PipeWrite(end.pipe.clone()),
            FileKind::Pipe(end) => WaitOn::PipeRead(end.pipe.clone()),
            _ if f.reads_host_stdin() => WaitOn::HostStdin,
            _ => return false,
        }
    };
    // A raw terminal's read may have a `VTIME` deadline, after which it runs again.
    let deadline_ns = match on {
        WaitOn::HostStdin => crate::tty::read_deadline_ns(),
        _ => None,
    };
    c.kernel.tasks.park(
        c.thread,
        Wait {
            on,
            deadline_ns,
            restartable: true,
        },
    );
    true
}

/// `FIONREAD` on a pipe: the bytes waiting in it.
pub fn pipe_fionread(c: &Ctx, fd: GuestFd) -> Option<u64> {
    let (pipe, _, _) = pipe_of(c, fd)?;
    Some(pipe.borrow().len() as u64)
}

/// Poll events ready on `fd` now, and what to watch if it may become ready later.
fn readiness(c: &Ctx, fd: GuestFd) -> (u16, Option<PollWatch>) {
    let Ok(file) = c.proc.fds.get(fd) else {
        return (POLLNVAL, None);
    };
    let f = file.borrow();
    match &f.kind {
        FileKind::Pipe(end) => {
            let p = end.pipe.borrow();
            let ready = if end.write {
                if p.readers == 0 {
                    POLLERR
                } else if p.writable() {
                    POLLOUT | POLLWRNORM
                } else {
                    0
                }
            } else {
                let data = if p.is_empty() { 0 } else { POLLIN | POLLRDNORM };
                data | if p.writers == 0 { POLLHUP } else { 0 }
            };
            let watch = if end.write {
                PollWatch::PipeWrite(end.pipe.clone())
            } else {
                PollWatch::PipeRead(end.pipe.clone())
            };
            (ready, Some(watch))
        }
        _ => {
            let mut ready = 0;
            let mut watch = None;
            if f.reads_host_stdin() {
                // End of file and errors make the host report it readable too, as Linux does.
                if crate::tty::stdin_ready() {
                    ready |= POLLIN | POLLRDNORM;
                } else {
                    watch = Some(PollWatch::HostStdin);
                }
            } else if f.readable() {
                ready |= POLLIN | POLLRDNORM;
            }
            if f.writable() {
                ready |= POLLOUT | POLLWRNORM;
            }
            (ready, watch)
        }
    }
}

/// Applies ppoll/pselect's temporary signal mask (kept in `saved_mask` across re-executions
/// of the same call and until a handler returns).
fn apply_sigmask(c: &mut Ctx, mask: Option<u64>) {
    if let Some(m) = mask
        && c.thread.saved_mask.is_none()
    {
        c.thread.saved_mask = Some(c.thread.sigmask);
        c.thread.sigmask = m & !UNBLOCKABLE;
    }
}

/// The call returns without waiting: the temporary mask ends.
fn restore_sigmask(c: &mut Ctx) {
    if let Some(m) = c.thread.saved_mask.take() {
        c.thread.sigmask = m;
    }
}

/// Parks the thread on `watch` until the deadline (`None`: forever).
fn park_poll(c: &mut Ctx, watch: Vec<PollWatch>, timeout_ns: Option<u64>) {
    let deadline_ns = timeout_ns.map(|t| now_ns(c.kernel, CLOCK_MONOTONIC).saturating_add(t));
    c.kernel.tasks.park(
        c.thread,
        Wait {
            on: WaitOn::Poll { watch },
            deadline_ns,
            restartable: false,
        },
    );
}

fn read_timeout(c: &mut Ctx, tmo: GuestAddr) -> Result<Option<u64>, Errno> {
    if tmo.is_null() {
        return Ok(None);
    }
    let ts = Timespec::from_bytes(&c.read_array(tmo)?);
    ts.to_ns().map(Some).ok_or(Errno::EINVAL)
}

fn read_sigmask(c: &mut Ctx, set: GuestAddr, size: u64) -> Result<Option<u64>, Errno> {
    if set.is_null() {
        return Ok(None);
    }
    super::signal::check_sigset_size(size)?;
    Ok(Some(u64::from_le_bytes(c.read_array(set)?)))
}

/// `ppoll(fds, nfds, tmo, sigmask, sigsetsize)`.
pub fn sys_ppoll(
    c: &mut Ctx,
    fds: GuestAddr,
    nfds: u64,
    tmo: GuestAddr,
    sigmask: GuestAddr,
    sigsetsize: u64,
) -> Result<u64, Errno> {
    if nfds > POLL_MAX_FDS {
        return Err(Errno::EINVAL);
    }
    let timeout = read_timeout(c, tmo)?;
    let mask = read_sigmask(c, sigmask, sigsetsize)?;
    let mut raw = vec![0u8; (nfds * POLLFD_SIZE) as usize];
    c.read_bytes(fds, &mut raw)?;
    let mut count = 0;
    let mut watch = Vec::new();
    for entry in raw.chunks_exact_mut(POLLFD_SIZE as usize) {
        let fd = i32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]);
        let events = u16::from_le_bytes([entry[4], entry[5]]);
        let revents = if fd < 0 {
            0
        } else {
            let (ready, pipe) = readiness(c, GuestFd(fd));
            watch.extend(pipe);
            ready & (events | POLLERR | POLLHUP | POLLNVAL)
        };
        if revents != 0 {
            count += 1;
        }
        entry[6..8].copy_from_slice(&revents.to_le_bytes());
    }
    if count > 0 || timeout == Some(0) {
        c.write_bytes(fds, &raw)?;
        restore_sigmask(c);
        return Ok(count);
    }
    apply_sigmask(c, mask);
    park_poll(c, watch, timeout);
    Ok(0)
}

/// `pselect6(n, readfds, writefds, exceptfds, timeout, sigmask_and_size)`.
pub fn sys_pselect6(
    c: &mut Ctx,
    n: i32,
    sets: [GuestAddr; 3],
    tmo: GuestAddr,
    sig: GuestAddr,
) -> Result<u64, Errno> {
    let n = usize::try_from(n).map_err(|_| Errno::EINVAL)?;
    if n as u64 > POLL_MAX_FDS {
        return Err(Errno::EINVAL);
    }
    let timeout = read_timeout(c, tmo)?;
    let mask = if sig.is_null() {
        None
    } else {
        let b: [u8; 16] = c.read_array(sig)?;
        let set = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        let size = u64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
        read_sigmask(c, GuestAddr(set), size)?
    };
    let nbytes = n.div_ceil(64) * 8;
    let mut bits: [Vec<u8>; 3] = Default::default();
    for (i, set) in sets.iter().enumerate() {
        if !set.is_null() {
            bits[i] = vec![0u8; nbytes];
            c.read_bytes(*set, &mut bits[i])?;
        }
    }
    let mut out: [Vec<u8>; 3] = [vec![0u8; nbytes], vec![0u8; nbytes], vec![0u8; nbytes]];
    let mut count = 0;
    let mut watch = Vec::new();
    for fd in 0..n {
        let (byte, bit) = (fd / 8, 1u8 << (fd % 8));
        let wanted: Vec<bool> = bits
            .iter()
            .map(|b| b.get(byte).is_some_and(|v| v & bit != 0))
            .collect();
        if !wanted.iter().any(|&w| w) {
            continue;
        }
        let (ready, pipe) = readiness(c, GuestFd(fd as i32));
        if ready & POLLNVAL != 0 {
            return Err(Errno::EBADF);
        }
        watch.extend(pipe);
        let hits = [
            ready & (POLLIN | POLLHUP | POLLERR) != 0,
            ready & (POLLOUT | POLLERR) != 0,
            false,
        ];
        for i in 0..3 {
            if wanted[i] && hits[i] {
                out[i][byte] |= bit;
                count += 1;
            }
        }
    }
    if count > 0 || timeout == Some(0) {
        for (i, set) in sets.iter().enumerate() {
            if !set.is_null() {
                c.write_bytes(*set, &out[i])?;
            }
        }
        restore_sigmask(c);
        return Ok(count);
    }
    apply_sigmask(c, mask);
    park_poll(c, watch, timeout);
    Ok(0)
}
