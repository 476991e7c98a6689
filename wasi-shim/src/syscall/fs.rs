//! File syscalls: open, read, write, seek, stat, readlink, access, cwd, fcntl and dup.
//!
//! Paths go through the one walk in [`crate::vfs::path`]; data moves between the guest and
//! open file descriptions in chunks of at most [`CHUNK`] bytes, so a guest-sized count never
//! becomes a host allocation of that size. The rootfs is read-only until the writable overlay
//! lands: opening for writing answers `EROFS`.

use super::{Ctx, GuestAddr};
use crate::abi::Errno;
use crate::abi::fs::{
    AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_SYMLINK_NOFOLLOW, F_DUPFD,
    F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, Iovec, MAX_RW_COUNT,
    O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOCTTY, O_NOFOLLOW, O_PATH,
    O_RDONLY, O_TMPFILE, O_TRUNC, R_OK, S_IFDIR, S_IFLNK, SETFL_MASK, Stat, UIO_MAXIOV, W_OK, X_OK,
};
use crate::abi::resource::RLIMIT_NOFILE;
use crate::host;
use crate::task::fd::{FileRef, GuestFd};
use crate::vfs::file::{FileKind, OpenFile};
use crate::vfs::path::{Follow, Node, Resolved};
use crate::vfs::procfs::{ProcNode, ProcSelf};
use crate::vfs::{GuestPathBuf, ino_of};
use std::cell::RefCell;
use std::rc::Rc;

/// Most bytes moved between guest memory and a file per host call.
const CHUNK: usize = 64 << 10;

impl Ctx<'_> {
    fn nofile_limit(&self) -> u64 {
        self.proc.rlimits[RLIMIT_NOFILE as usize].cur
    }

    /// Resolves `path` relative to `dirfd` (`AT_FDCWD` or an open directory) for this process.
    fn resolve_at(
        &mut self,
        dirfd: GuestFd,
        path: &[u8],
        follow: Follow,
    ) -> Result<Resolved, Errno> {
        let base = if path.starts_with(b"/") {
            GuestPathBuf::root()
        } else {
            self.dir_of(dirfd)?
        };
        let me = ProcSelf {
            pid: self.proc.pid,
            exe: &self.proc.exe,
        };
        self.kernel.vfs.resolve(&me, &base, path, follow)
    }

    /// The directory `dirfd` stands for in `*at` calls.
    fn dir_of(&self, dirfd: GuestFd) -> Result<GuestPathBuf, Errno> {
        if dirfd.0 == AT_FDCWD {
            return Ok(self.proc.cwd.clone());
        }
        let file = self.proc.fds.get(dirfd)?;
        let file = file.borrow();
        match (&file.kind, &file.guest_path) {
            (FileKind::Dir { .. }, Some(p)) => Ok(p.clone()),
            _ => Err(Errno::ENOTDIR),
        }
    }
}

pub fn sys_read(c: &mut Ctx, fd: GuestFd, buf: GuestAddr, count: u64) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    read_into(c, &file, buf, count, None)
}

pub fn sys_pread64(
    c: &mut Ctx,
    fd: GuestFd,
    buf: GuestAddr,
    count: u64,
    offset: i64,
) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    let offset = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
    read_into(c, &file, buf, count, Some(offset))
}

pub fn sys_write(c: &mut Ctx, fd: GuestFd, buf: GuestAddr, count: u64) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    write_from(
        c,
        &file,
        &[Iovec {
            base: buf.0,
            len: count,
        }],
    )
}

pub fn sys_pwrite64(c: &mut Ctx, fd: GuestFd, offset: i64) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    if offset < 0 {
        return Err(Errno::EINVAL);
    }
    let file = file.borrow();
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    // Writable descriptions are stdio only until the overlay exists, and those cannot seek.
    Err(Errno::ESPIPE)
}

pub fn sys_readv(c: &mut Ctx, fd: GuestFd, iov: GuestAddr, iovcnt: i32) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    let iovs = read_iovecs(c, iov, iovcnt)?;
    let mut total = 0u64;
    for v in iovs {
        let n = match read_into(c, &file, GuestAddr(v.base), v.len, None) {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += n;
        if n < v.len {
            break;
        }
    }
    Ok(total)
}

pub fn sys_writev(c: &mut Ctx, fd: GuestFd, iov: GuestAddr, iovcnt: i32) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    let iovs = read_iovecs(c, iov, iovcnt)?;
    write_from(c, &file, &iovs)
}

/// Reads and checks an iovec array (`import_iovec`): at most `UIO_MAXIOV` entries whose
/// lengths sum to no more than `ssize_t` allows.
fn read_iovecs(c: &mut Ctx, iov: GuestAddr, iovcnt: i32) -> Result<Vec<Iovec>, Errno> {
    let n = u64::try_from(iovcnt).map_err(|_| Errno::EINVAL)?;
    if n > UIO_MAXIOV {
        return Err(Errno::EINVAL);
    }
    let mut out = Vec::with_capacity(n as usize);
    let mut total = 0u64;
    for i in 0..n {
        let raw = c.read_array::<{ Iovec::SIZE }>(iov.offset(i * Iovec::SIZE as u64)?)?;
        let v = Iovec::from_bytes(&raw);
        total = total
            .checked_add(v.len)
            .filter(|&t| t <= i64::MAX as u64)
            .ok_or(Errno::EINVAL)?;
        out.push(v);
    }
    Ok(out)
}

/// Reads up to `count` bytes from `file` into guest memory at `buf`, at the file offset
/// or at `at` (pread). Stops at the first short read: a terminal or pipe returns what it has.
fn read_into(
    c: &mut Ctx,
    file: &FileRef,
    buf: GuestAddr,
    count: u64,
    at: Option<u64>,
) -> Result<u64, Errno> {
    let count = count.min(MAX_RW_COUNT);
    let mut chunk = vec![0u8; (count as usize).min(CHUNK)];
    let mut total = 0u64;
    while total < count {
        let want = ((count - total) as usize).min(CHUNK);
        let got = {
            let mut f = file.borrow_mut();
            match at {
                Some(off) => f.pread(&mut chunk[..want], off + total),
                None => f.read(&mut chunk[..want]),
            }
        };
        let n = match got {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        if let Err(e) = c.write_bytes(buf.offset(total)?, &chunk[..n]) {
            return if total == 0 { Err(e) } else { Ok(total) };
        }
        total += n as u64;
        if n < want {
            break;
        }
    }
    Ok(total)
}

/// Writes the guest buffers `iovs` to `file`, gathering them into chunks so each host write
/// is one piece of output (a `writev` of a line stays one line on a shared terminal).
fn write_from(c: &mut Ctx, file: &FileRef, iovs: &[Iovec]) -> Result<u64, Errno> {
    if !file.borrow().writable() {
        return Err(Errno::EBADF);
    }
    let mut total = 0u64;
    let mut pending: Vec<u8> = Vec::new();
    let flush = |pending: &mut Vec<u8>, total: &mut u64| -> Result<(), Errno> {
        if pending.is_empty() {
            return Ok(());
        }
        let r = file.borrow_mut().write(pending);
        pending.clear();
        match r {
            Ok(n) => {
                *total += n as u64;
                Ok(())
            }
            Err(e) => Err(e),
        }
    };
    for v in iovs {
        let mut done = 0u64;
        let len = v.len.min(MAX_RW_COUNT - total.min(MAX_RW_COUNT));
        while done < len {
            let n = ((len - done) as usize).min(CHUNK);
            let start = pending.len();
            pending.resize(start + n, 0);
            let addr = GuestAddr(v.base).offset(done)?;
            if let Err(e) = c.read_bytes(addr, &mut pending[start..]) {
                pending.truncate(start);
                flush(&mut pending, &mut total)?;
                return if total == 0 { Err(e) } else { Ok(total) };
            }
            done += n as u64;
            if pending.len() >= CHUNK
                && let Err(e) = flush(&mut pending, &mut total)
            {
                return if total == 0 {
                    Err(broken_pipe(c, e))
                } else {
                    Ok(total)
                };
            }
        }
    }
    match flush(&mut pending, &mut total) {
        Ok(()) => Ok(total),
        Err(e) if total == 0 => Err(broken_pipe(c, e)),
        Err(_) => Ok(total),
    }
}

/// Writing to a pipe nobody reads raises `SIGPIPE` before returning `EPIPE`.
fn broken_pipe(c: &mut Ctx, e: Errno) -> Errno {
    if e == Errno::EPIPE {
        crate::signal::send(c.kernel, c.proc, c.thread, crate::abi::signal::SIGPIPE);
    }
    e
}

/// `openat(dirfd, path, flags, mode)`; `mode` matters only for creation, which needs the
/// overlay.
pub fn sys_openat(c: &mut Ctx, dirfd: GuestFd, path: GuestAddr, flags: u32) -> Result<u64, Errno> {
    let path = c.read_path(path)?;
    let follow = if flags & O_NOFOLLOW != 0 {
        Follow::NotFinal
    } else {
        Follow::Final
    };
    let res = c.resolve_at(dirfd, &path, follow)?;
    let wants_write = flags & O_ACCMODE != O_RDONLY || flags & (O_TRUNC | O_TMPFILE) != 0;
    let Some(node) = res.node else {
        return Err(if flags & O_CREAT != 0 {
            // TODO(#overlay): create files in the writable upper layer.
            Errno::EROFS
        } else {
            Errno::ENOENT
        });
    };
    if flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL {
        return Err(Errno::EEXIST);
    }
    if node.is_symlink() && flags & O_PATH == 0 {
        // Only reachable with O_NOFOLLOW: the final component is a symlink.
        return Err(Errno::ELOOP);
    }
    if node.is_dir() && wants_write {
        return Err(Errno::EISDIR);
    }
    if flags & O_DIRECTORY != 0 && !node.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if wants_write {
        return Err(Errno::EROFS);
    }
    let ino = ino_of(&res.guest);
    let kind = match node {
        Node::Host { path, meta } if meta.is_dir() => FileKind::Dir {
            host: Some(path),
            ino,
        },
        Node::Host { path, .. } => FileKind::Host {
            file: std::fs::File::open(&path).map_err(|e| host::errno_of(&e))?,
            ino,
        },
        Node::Proc(ProcNode::Dir) => FileKind::Dir { host: None, ino },
        Node::Proc(ProcNode::Symlink(_)) => return Err(Errno::ELOOP),
    };
    let file = OpenFile {
        kind,
        // What F_GETFL reports: open-time-only flags are dropped (`do_dentry_open`).
        flags: (flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) | O_LARGEFILE,
        offset: 0,
        guest_path: Some(res.guest),
    };
    let limit = c.nofile_limit();
    let fd = c.proc.fds.install(
        Rc::new(RefCell::new(file)),
        flags & O_CLOEXEC != 0,
        0,
        limit,
    )?;
    Ok(fd.0 as u64)
}

pub fn sys_close(c: &mut Ctx, fd: GuestFd) -> Result<u64, Errno> {
    c.proc.fds.close(fd)?;
    Ok(0)
}

pub fn sys_lseek(c: &mut Ctx, fd: GuestFd, offset: i64, whence: u32) -> Result<u64, Errno> {
    c.proc.fds.get(fd)?.borrow_mut().seek(offset, whence)
}

pub fn sys_fstat(c: &mut Ctx, fd: GuestFd, statbuf: GuestAddr) -> Result<u64, Errno> {
    let st = c.proc.fds.get(fd)?.borrow().stat()?;
    c.write_bytes(statbuf, &st.to_bytes())?;
    Ok(0)
}

pub fn sys_newfstatat(
    c: &mut Ctx,
    dirfd: GuestFd,
    path: GuestAddr,
    statbuf: GuestAddr,
    flags: u32,
) -> Result<u64, Errno> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = c.read_path(path)?;
    let st = if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        if dirfd.0 == AT_FDCWD {
            let cwd = c.proc.cwd.as_bytes().to_vec();
            stat_path(c, dirfd, &cwd, Follow::Final)?
        } else {
            c.proc.fds.get(dirfd)?.borrow().stat()?
        }
    } else {
        let follow = if flags & AT_SYMLINK_NOFOLLOW != 0 {
            Follow::NotFinal
        } else {
            Follow::Final
        };
        stat_path(c, dirfd, &path, follow)?
    };
    c.write_bytes(statbuf, &st.to_bytes())?;
    Ok(0)
}

fn stat_path(c: &mut Ctx, dirfd: GuestFd, path: &[u8], follow: Follow) -> Result<Stat, Errno> {
    let (guest, node) = c.resolve_at(dirfd, path, follow)?.existing()?;
    let ino = ino_of(&guest);
    Ok(match node {
        Node::Host { meta, .. } => host::stat_of(&meta, ino),
        Node::Proc(ProcNode::Dir) => Stat {
            ino,
            mode: S_IFDIR | 0o555,
            nlink: 2,
            blksize: 1024,
            ..Stat::default()
        },
        Node::Proc(ProcNode::Symlink(t)) => Stat {
            ino,
            mode: S_IFLNK | 0o777,
            nlink: 1,
            size: t.len() as i64,
            blksize: 1024,
            ..Stat::default()
        },
    })
}

pub fn sys_readlinkat(
    c: &mut Ctx,
    dirfd: GuestFd,
    path: GuestAddr,
    buf: GuestAddr,
    bufsiz: i32,
) -> Result<u64, Errno> {
    let bufsiz = usize::try_from(bufsiz)
        .ok()
        .filter(|&n| n > 0)
        .ok_or(Errno::EINVAL)?;
    let path = c.read_path(path)?;
    let (_, node) = c.resolve_at(dirfd, &path, Follow::NotFinal)?.existing()?;
    if !node.is_symlink() {
        return Err(Errno::EINVAL);
    }
    let target = c.kernel.vfs.read_link(&node)?;
    let n = target.len().min(bufsiz);
    c.write_bytes(buf, &target[..n])?;
    Ok(n as u64)
}

pub fn sys_faccessat2(
    c: &mut Ctx,
    dirfd: GuestFd,
    path: GuestAddr,
    mode: u32,
    flags: u32,
) -> Result<u64, Errno> {
    if mode & !(R_OK | W_OK | X_OK) != 0
        || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0
    {
        return Err(Errno::EINVAL);
    }
    let path = c.read_path(path)?;
    let follow = if flags & AT_SYMLINK_NOFOLLOW != 0 {
        Follow::NotFinal
    } else {
        Follow::Final
    };
    let (_, node) = c.resolve_at(dirfd, &path, follow)?.existing()?;
    // We run as root: reading and searching always succeed, execution needs an x bit.
    match node {
        Node::Host { meta, .. } => {
            if mode & W_OK != 0 {
                return Err(Errno::EROFS);
            }
            if mode & X_OK != 0 && !meta.is_dir() && !host::is_executable(&meta) {
                return Err(Errno::EACCES);
            }
        }
        Node::Proc(_) => {
            if mode & (W_OK | X_OK) != 0 {
                return Err(Errno::EACCES);
            }
        }
    }
    Ok(0)
}

pub fn sys_getcwd(c: &mut Ctx, buf: GuestAddr, size: u64) -> Result<u64, Errno> {
    let mut cwd = c.proc.cwd.as_bytes().to_vec();
    cwd.push(0);
    if (cwd.len() as u64) > size {
        return Err(Errno::ERANGE);
    }
    c.write_bytes(buf, &cwd)?;
    Ok(cwd.len() as u64)
}

pub fn sys_chdir(c: &mut Ctx, path: GuestAddr) -> Result<u64, Errno> {
    let path = c.read_path(path)?;
    let (guest, node) = c
        .resolve_at(GuestFd(AT_FDCWD), &path, Follow::Final)?
        .existing()?;
    if !node.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    c.proc.cwd = guest;
    Ok(0)
}

pub fn sys_fchdir(c: &mut Ctx, fd: GuestFd) -> Result<u64, Errno> {
    if fd.0 == AT_FDCWD {
        return Err(Errno::EBADF);
    }
    c.proc.cwd = c.dir_of(fd)?;
    Ok(0)
}

pub fn sys_fcntl(c: &mut Ctx, fd: GuestFd, cmd: u32, arg: u64) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let min = usize::try_from(arg as u32 as i32).map_err(|_| Errno::EINVAL)?;
            let limit = c.nofile_limit();
            let new = c
                .proc
                .fds
                .install(file, cmd == F_DUPFD_CLOEXEC, min, limit)?;
            Ok(new.0 as u64)
        }
        F_GETFD => Ok(u64::from(c.proc.fds.cloexec(fd)?)),
        F_SETFD => {
            c.proc.fds.set_cloexec(fd, arg & FD_CLOEXEC != 0)?;
            Ok(0)
        }
        F_GETFL => Ok(u64::from(file.borrow().flags)),
        F_SETFL => {
            let mut f = file.borrow_mut();
            f.flags = (f.flags & !SETFL_MASK) | (arg as u32 & SETFL_MASK);
            Ok(0)
        }
        // TODO(#overlay): record locks (F_GETLK, F_SETLK, F_OFD_*) once files can be written.
        _ => Err(Errno::EINVAL),
    }
}

pub fn sys_dup(c: &mut Ctx, fd: GuestFd) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    let limit = c.nofile_limit();
    Ok(c.proc.fds.install(file, false, 0, limit)?.0 as u64)
}

pub fn sys_dup3(c: &mut Ctx, old: GuestFd, new: GuestFd, flags: u32) -> Result<u64, Errno> {
    if flags & !O_CLOEXEC != 0 || old == new {
        return Err(Errno::EINVAL);
    }
    let file = c.proc.fds.get(old)?;
    let limit = c.nofile_limit();
    c.proc
        .fds
        .install_at(new, file, flags & O_CLOEXEC != 0, limit)?;
    Ok(new.0 as u64)
}
