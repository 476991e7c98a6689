//! File syscalls: open, read, write, seek, stat, directories, links, renames, metadata,
//! access, cwd, umask, fcntl and dup.
//!
//! Paths go through the one walk in [`crate::vfs::path`] and every change goes to the upper
//! layer of [`crate::vfs::overlay`], or below a host directory's mount point to the host
//! ([`crate::vfs::hostdir`]). Data moves between the guest and open file descriptions
//! in chunks of at most [`CHUNK`] bytes, so a guest-sized count never becomes a host
//! allocation of that size.

use super::{Ctx, GuestAddr};
use crate::abi::Errno;
use crate::abi::fs::{
    AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_REMOVEDIR, AT_STATX_SYNC_TYPE,
    AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETLK,
    F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETFD, F_SETFL, F_SETLK, F_SETLKW, F_UNLCK,
    FALLOC_FL_KEEP_SIZE, FD_CLOEXEC, Iovec, MAX_RW_COUNT, O_ACCMODE, O_APPEND, O_CLOEXEC, O_CREAT,
    O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOCTTY, O_NOFOLLOW, O_PATH, O_RDONLY, O_TMPFILE, O_TRUNC,
    OVERLAYFS_SUPER_MAGIC, PROC_SUPER_MAGIC, R_OK, RENAME_EXCHANGE, RENAME_NOREPLACE,
    RENAME_WHITEOUT, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, SETFL_MASK, ST_RELATIME, Stat, Statfs,
    TMPFS_MAGIC, UIO_MAXIOV, UTIME_NOW, UTIME_OMIT, V9FS_MAGIC, W_OK, X_OK, dirent64, statx,
};
use crate::abi::resource::RLIMIT_NOFILE;
use crate::host;
use crate::task::fd::{FileRef, GuestFd};
use crate::vfs::devfs::Device;
use crate::vfs::file::{FileKind, OpenFile, Stdio, stat_node};
use crate::vfs::hostdir::HostNode;
use crate::vfs::overlay::{Content, DirEntry, InodeRef, now};
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
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let base = if path.starts_with(b"/") {
            GuestPathBuf::root()
        } else {
            self.dir_of(dirfd)?
        };
        let me = ProcSelf::of(
            self.proc,
            &self.kernel.tasks.procs,
            self.kernel.vfs.booted.elapsed(),
        );
        let mut res = self.kernel.vfs.resolve(&me, &base, path, follow)?;
        if let Some(Node::Proc(ProcNode::OpenFd(fd))) = res.node
            && let Some((guest, node)) = self.node_of_fd(GuestFd(fd))
        {
            res.guest = guest;
            res.node = Some(node);
        }
        Ok(res)
    }

    /// The file an open fd refers to, as a node of the file system (a followed
    /// `/proc/self/fd/N`); `None` for pipes and terminals, and files whose name is gone, which
    /// only the open description itself can stand for.
    fn node_of_fd(&self, fd: GuestFd) -> Option<(GuestPathBuf, Node)> {
        let file = self.proc.fds.get(fd).ok()?;
        let f = file.borrow();
        let guest = f.guest_path.clone()?;
        match &f.kind {
            FileKind::Upper { inode, .. } => Some((guest, Node::Upper(inode.clone()))),
            FileKind::Dir { node, .. } | FileKind::Path(node) => Some((guest, node.clone())),
            FileKind::Lower { .. }
            | FileKind::Host(_)
            | FileKind::Device(_)
            | FileKind::Proc(_) => {
                let me = ProcSelf::of(
                    self.proc,
                    &self.kernel.tasks.procs,
                    self.kernel.vfs.booted.elapsed(),
                );
                let res = self
                    .kernel
                    .vfs
                    .resolve(
                        &me,
                        &GuestPathBuf::root(),
                        guest.as_bytes(),
                        Follow::NotFinal,
                    )
                    .ok()?;
                res.node.map(|n| (res.guest, n))
            }
            _ => None,
        }
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
            (FileKind::Path(n), Some(p)) if n.is_dir() => Ok(p.clone()),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// `path` (relative to `dirfd`) with `AT_EMPTY_PATH` and `AT_SYMLINK_NOFOLLOW` applied:
    /// the guest path and node, or `None` for "the file `dirfd` itself".
    fn resolve_flags(
        &mut self,
        dirfd: GuestFd,
        path: GuestAddr,
        flags: u32,
    ) -> Result<Option<(GuestPathBuf, Node)>, Errno> {
        let path = self.read_path(path)?;
        if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
            if dirfd.0 == AT_FDCWD {
                let cwd = self.proc.cwd.as_bytes().to_vec();
                return self
                    .resolve_at(dirfd, &cwd, Follow::Final)?
                    .existing()
                    .map(Some);
            }
            return Ok(None);
        }
        let follow = if flags & AT_SYMLINK_NOFOLLOW != 0 {
            Follow::NotFinal
        } else {
            Follow::Final
        };
        self.resolve_at(dirfd, &path, follow)?.existing().map(Some)
    }

    /// `stat` of a resolved node; a followed `/proc/self/fd` link to a pipe asks the fd.
    fn stat_of_node(&self, guest: &GuestPathBuf, node: &Node) -> Result<Stat, Errno> {
        match node {
            Node::Proc(ProcNode::OpenFd(fd)) => self.proc.fds.get(GuestFd(*fd))?.borrow().stat(),
            n => Ok(stat_node(n, ino_of(guest))),
        }
    }

    /// The upper inode behind an open file, copying it up first if it is a lower file; the
    /// description is switched to the upper inode so it sees its own changes.
    fn inode_of_fd(&mut self, file: &FileRef) -> Result<InodeRef, Errno> {
        let mut f = file.borrow_mut();
        if let FileKind::Upper { inode, .. } = &f.kind {
            return Ok(inode.clone());
        }
        if matches!(f.kind, FileKind::Stdio { .. } | FileKind::Pipe(_)) {
            // Pipe and terminal inodes live in file systems that do not keep modes here.
            return Err(Errno::EPERM);
        }
        let guest = f.guest_path.clone().ok_or(Errno::EPERM)?;
        let node = match &f.kind {
            FileKind::Dir { node, .. } | FileKind::Path(node) => node.clone(),
            _ => {
                let me = ProcSelf::of(
                    self.proc,
                    &self.kernel.tasks.procs,
                    self.kernel.vfs.booted.elapsed(),
                );
                self.kernel
                    .vfs
                    .resolve(
                        &me,
                        &GuestPathBuf::root(),
                        guest.as_bytes(),
                        Follow::NotFinal,
                    )?
                    .existing()?
                    .1
            }
        };
        let inode = self.kernel.vfs.copy_up(&guest, &node)?;
        let kind = std::mem::replace(&mut f.kind, FileKind::Proc(Vec::new()));
        f.kind = match kind {
            FileKind::Lower { file, .. } => FileKind::Upper {
                inode: inode.clone(),
                lower: Some(file),
            },
            FileKind::Dir { listing, .. } => FileKind::Dir {
                node: Node::Upper(inode.clone()),
                listing,
            },
            FileKind::Path(_) => FileKind::Path(Node::Upper(inode.clone())),
            k => k,
        };
        Ok(inode)
    }

    fn umask(&self) -> u32 {
        self.proc.umask
    }
}

/// The last component of a path as the guest wrote it (`.` and `..` included).
fn last_component(path: &[u8]) -> &[u8] {
    path.split(|&b| b == b'/')
        .rfind(|c| !c.is_empty())
        .unwrap_or_default()
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
        None,
    )
}

pub fn sys_pwrite64(
    c: &mut Ctx,
    fd: GuestFd,
    buf: GuestAddr,
    count: u64,
    offset: i64,
) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    let offset = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
    write_from(
        c,
        &file,
        &[Iovec {
            base: buf.0,
            len: count,
        }],
        Some(offset),
    )
}

pub fn sys_readv(c: &mut Ctx, fd: GuestFd, iov: GuestAddr, iovcnt: i32) -> Result<u64, Errno> {
    sys_preadv(c, fd, iov, iovcnt, -1)
}

/// `preadv` (and `readv` with `offset` -1: at the file offset).
pub fn sys_preadv(
    c: &mut Ctx,
    fd: GuestFd,
    iov: GuestAddr,
    iovcnt: i32,
    offset: i64,
) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    let iovs = read_iovecs(c, iov, iovcnt)?;
    let at = vector_offset(offset)?;
    let mut total = 0u64;
    for v in iovs {
        let n = match read_into(c, &file, GuestAddr(v.base), v.len, at.map(|o| o + total)) {
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
    sys_pwritev(c, fd, iov, iovcnt, -1)
}

/// `pwritev` (and `writev` with `offset` -1: at the file offset).
pub fn sys_pwritev(
    c: &mut Ctx,
    fd: GuestFd,
    iov: GuestAddr,
    iovcnt: i32,
    offset: i64,
) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    let iovs = read_iovecs(c, iov, iovcnt)?;
    let at = vector_offset(offset)?;
    write_from(c, &file, &iovs, at)
}

/// The offset argument of `preadv`/`pwritev`: -1 means the file offset, other negatives are
/// `EINVAL`.
fn vector_offset(offset: i64) -> Result<Option<u64>, Errno> {
    match offset {
        -1 => Ok(None),
        o => u64::try_from(o).map(Some).map_err(|_| Errno::EINVAL),
    }
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

/// Writes the guest buffers `iovs` to `file` at the file offset or at `at` (pwrite),
/// gathering them into chunks so each host write is one piece of output (a `writev` of a line
/// stays one line on a shared terminal).
fn write_from(c: &mut Ctx, file: &FileRef, iovs: &[Iovec], at: Option<u64>) -> Result<u64, Errno> {
    if !file.borrow().writable() {
        return Err(Errno::EBADF);
    }
    let mut total = 0u64;
    let mut pending: Vec<u8> = Vec::new();
    let flush = |pending: &mut Vec<u8>, total: &mut u64| -> Result<(), Errno> {
        if pending.is_empty() {
            return Ok(());
        }
        let r = match at {
            Some(off) => file.borrow_mut().pwrite(pending, off + *total),
            None => file.borrow_mut().write(pending),
        };
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

fn install(c: &mut Ctx, file: OpenFile, cloexec: bool) -> Result<u64, Errno> {
    let limit = c.nofile_limit();
    let fd = c
        .proc
        .fds
        .install(Rc::new(RefCell::new(file)), cloexec, 0, limit)?;
    Ok(fd.0 as u64)
}

/// `openat(dirfd, path, flags, mode)`.
pub fn sys_openat(
    c: &mut Ctx,
    dirfd: GuestFd,
    path: GuestAddr,
    flags: u32,
    mode: u32,
) -> Result<u64, Errno> {
    let path = c.read_path(path)?;
    if flags & O_TMPFILE == O_TMPFILE {
        return open_tmpfile(c, dirfd, &path, flags, mode);
    }
    if flags & (O_CREAT | O_DIRECTORY) == O_CREAT | O_DIRECTORY {
        return Err(Errno::EINVAL);
    }
    // O_CREAT|O_EXCL never follows a final symlink: a dangling one is "existing" (EEXIST).
    let follow = if flags & O_NOFOLLOW != 0 || flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL {
        Follow::NotFinal
    } else {
        Follow::Final
    };
    let res = c.resolve_at(dirfd, &path, follow)?;
    let cloexec = flags & O_CLOEXEC != 0;
    let status = (flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) | O_LARGEFILE;
    let wants_write =
        flags & O_PATH == 0 && (flags & O_ACCMODE != O_RDONLY || flags & O_TRUNC != 0);
    let guest = res.guest;
    let node = match res.node {
        Some(n) => n,
        None if flags & O_CREAT == 0 => return Err(Errno::ENOENT),
        None if res.trailing_slash => return Err(Errno::EISDIR),
        None => {
            let mode = S_IFREG | (mode & 0o7777 & !c.umask());
            let kind = match c.kernel.vfs.host_path(&guest) {
                Some(at) => FileKind::Host(at.create_file(mode, flags, ino_of(&guest))?),
                None => FileKind::Upper {
                    inode: c
                        .kernel
                        .vfs
                        .create(&guest, mode, Content::Data(Vec::new()))?,
                    lower: None,
                },
            };
            let file = OpenFile {
                kind,
                flags: status,
                offset: 0,
                guest_path: Some(guest),
            };
            return install(c, file, cloexec);
        }
    };
    if flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL {
        return Err(Errno::EEXIST);
    }
    if flags & O_PATH != 0 {
        let kind = if node.is_dir() {
            FileKind::Dir {
                node,
                listing: None,
            }
        } else {
            FileKind::Path(node)
        };
        let file = OpenFile {
            kind,
            flags: flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW) | O_LARGEFILE,
            offset: 0,
            guest_path: Some(guest),
        };
        return install(c, file, cloexec);
    }
    if node.is_symlink() {
        // Only reachable with O_NOFOLLOW (or O_EXCL): the final component is a symlink.
        return Err(Errno::ELOOP);
    }
    if node.is_dir() {
        if wants_write || flags & O_CREAT != 0 {
            return Err(Errno::EISDIR);
        }
        let file = OpenFile {
            kind: FileKind::Dir {
                node,
                listing: None,
            },
            flags: status,
            offset: 0,
            guest_path: Some(guest),
        };
        return install(c, file, cloexec);
    }
    if flags & O_DIRECTORY != 0 {
        return Err(Errno::ENOTDIR);
    }
    let kind = match node {
        Node::Proc(ProcNode::OpenFd(fd)) => {
            // A followed /proc/self/fd link to a pipe or terminal: the open file itself.
            let file = c.proc.fds.get(GuestFd(fd))?;
            let limit = c.nofile_limit();
            return Ok(c.proc.fds.install(file, cloexec, 0, limit)?.0 as u64);
        }
        Node::Proc(ProcNode::File(data)) => {
            if wants_write {
                return Err(Errno::EACCES);
            }
            FileKind::Proc(data)
        }
        Node::Proc(_) => return Err(Errno::ENOENT),
        Node::Host(h) => FileKind::Host(h.open(flags, ino_of(&guest))?),
        Node::Lower(lower) => {
            if !lower.is_file() {
                // Device nodes and fifos of the image have no driver behind them.
                return Err(Errno::ENXIO);
            }
            if wants_write {
                let inode = c.kernel.vfs.copy_up(&guest, &Node::Lower(lower))?;
                if flags & O_TRUNC != 0 {
                    inode.borrow_mut().clear_data();
                } else {
                    inode.borrow_mut().materialise()?;
                }
                FileKind::Upper { inode, lower: None }
            } else {
                FileKind::Lower {
                    file: lower.open()?,
                    node: lower,
                    ino: ino_of(&guest),
                }
            }
        }
        Node::Upper(inode) => {
            let rdev = match inode.borrow().content {
                Content::Device(rdev) => Some(rdev),
                _ => None,
            };
            match rdev.map(Device::of).transpose()? {
                Some(Device::Tty) => return open_tty(c, flags, cloexec),
                Some(d) => FileKind::Device(d),
                None => {
                    if flags & O_TRUNC != 0 && wants_write {
                        inode.borrow_mut().truncate(0)?;
                    }
                    FileKind::Upper { inode, lower: None }
                }
            }
        }
    };
    let file = OpenFile {
        kind,
        flags: status,
        offset: 0,
        guest_path: Some(guest),
    };
    install(c, file, cloexec)
}

/// `O_TMPFILE`: a regular file with no name in the directory `path`, until `linkat` gives
/// it one.
fn open_tmpfile(
    c: &mut Ctx,
    dirfd: GuestFd,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> Result<u64, Errno> {
    if flags & O_ACCMODE == O_RDONLY {
        return Err(Errno::EINVAL);
    }
    let (dir, node) = c.resolve_at(dirfd, path, Follow::Final)?.existing()?;
    if !node.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let mode = S_IFREG | (mode & 0o7777 & !c.umask());
    let inode = c.kernel.vfs.create_unnamed(&dir, mode)?;
    let name = format!("#{} (deleted)", inode.borrow().ino);
    let file = OpenFile {
        kind: FileKind::Upper { inode, lower: None },
        flags: (flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC | O_TMPFILE))
            | O_LARGEFILE,
        offset: 0,
        guest_path: Some(dir.join(name.as_bytes())),
    };
    install(c, file, flags & O_CLOEXEC != 0)
}

/// `/dev/tty`: the terminal the runtime was started on, whichever stdio stream it is;
/// `ENXIO` when there is none, as for a process without a controlling terminal.
fn open_tty(c: &mut Ctx, flags: u32, cloexec: bool) -> Result<u64, Errno> {
    let mut file = OpenFile::stdio(Stdio::In);
    if !file.is_terminal() {
        file = OpenFile::stdio(Stdio::Out);
    }
    if !file.is_terminal() {
        return Err(Errno::ENXIO);
    }
    file.flags = (flags & (O_ACCMODE | SETFL_MASK)) | O_LARGEFILE;
    file.guest_path = Some(GuestPathBuf::root().join(b"dev").join(b"tty"));
    install(c, file, cloexec)
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

/// The `stat` of `path` relative to `dirfd` under `AT_*` `flags`.
fn stat_at(c: &mut Ctx, dirfd: GuestFd, path: GuestAddr, flags: u32) -> Result<Stat, Errno> {
    match c.resolve_flags(dirfd, path, flags)? {
        None => c.proc.fds.get(dirfd)?.borrow().stat(),
        Some((guest, node)) => c.stat_of_node(&guest, &node),
    }
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
    let st = stat_at(c, dirfd, path, flags)?;
    c.write_bytes(statbuf, &st.to_bytes())?;
    Ok(0)
}

pub fn sys_statx(
    c: &mut Ctx,
    dirfd: GuestFd,
    path: GuestAddr,
    flags: u32,
    buf: GuestAddr,
) -> Result<u64, Errno> {
    let known = AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE;
    if flags & !known != 0 || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE {
        return Err(Errno::EINVAL);
    }
    let st = stat_at(c, dirfd, path, flags)?;
    c.write_bytes(buf, &statx::to_bytes(&st))?;
    Ok(0)
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
    let (st, executable) = match c.resolve_flags(dirfd, path, flags)? {
        None => {
            let st = c.proc.fds.get(dirfd)?.borrow().stat()?;
            (st, st.mode & 0o111 != 0)
        }
        // The lower layer decides for rootfs files: WASI reports no permission bits.
        Some((_, Node::Lower(lower))) => (lower.stat(0), lower.is_executable()),
        Some((_, Node::Host(h))) => (h.stat(0), h.is_executable()),
        Some((guest, node)) => {
            let st = c.stat_of_node(&guest, &node)?;
            (st, st.mode & 0o111 != 0)
        }
    };
    // We run as root: reading and writing always succeed (the upper layer takes the writes)
    // except in /proc; execution needs some x bit unless it is a directory.
    if st.dev == crate::vfs::procfs::PROC_DEV && mode & W_OK != 0 && st.mode & 0o222 == 0 {
        return Err(Errno::EACCES);
    }
    if mode & X_OK != 0 && st.mode & S_IFMT != S_IFDIR && !executable {
        return Err(Errno::EACCES);
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
        // Record locks: every lock is granted, because all processes of this machine share
        // one kernel and nothing outside it can see the files. TODO(#3): real lock tables
        // if two guest processes ever contend.
        F_GETLK | F_OFD_GETLK => {
            let at = GuestAddr(arg);
            c.read_array::<32>(at)?;
            c.write_bytes(at, &F_UNLCK.to_le_bytes())?;
            Ok(0)
        }
        F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW => {
            c.read_array::<32>(GuestAddr(arg))?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// `flock`: granted, like the record locks of [`sys_fcntl`].
pub fn sys_flock(c: &mut Ctx, fd: GuestFd, op: u32) -> Result<u64, Errno> {
    c.proc.fds.get(fd)?;
    // LOCK_SH, LOCK_EX, LOCK_UN, optionally with LOCK_NB.
    match op & !4 {
        1 | 2 | 8 => Ok(0),
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

pub fn sys_getdents64(c: &mut Ctx, fd: GuestFd, dirp: GuestAddr, count: u64) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    let mut f = file.borrow_mut();
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    let guest = f.guest_path.clone().unwrap_or_else(GuestPathBuf::root);
    let offset = f.offset;
    let FileKind::Dir { node, listing } = &mut f.kind else {
        return Err(Errno::ENOTDIR);
    };
    if listing.is_none() {
        let me = ProcSelf::of(c.proc, &c.kernel.tasks.procs, c.kernel.vfs.booted.elapsed());
        let mut all = vec![
            DirEntry {
                name: b".".to_vec(),
                ino: stat_node(node, ino_of(&guest)).ino,
                dtype: crate::abi::fs::DT_DIR,
            },
            DirEntry {
                name: b"..".to_vec(),
                ino: ino_of(&GuestPathBuf::root()),
                dtype: crate::abi::fs::DT_DIR,
            },
        ];
        all.extend(c.kernel.vfs.list(&me, &guest, node)?);
        *listing = Some(all);
    }
    let entries = listing.as_deref().unwrap_or_default();
    let count = count.min(MAX_RW_COUNT) as usize;
    let mut out = Vec::new();
    let mut next = offset;
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    for (i, e) in entries.iter().enumerate().skip(start) {
        let rec = dirent64(e.ino, i as u64 + 1, e.dtype, &e.name);
        if out.len() + rec.len() > count {
            if out.is_empty() {
                return Err(Errno::EINVAL);
            }
            break;
        }
        out.extend_from_slice(&rec);
        next = i as u64 + 1;
    }
    drop(f);
    c.write_bytes(dirp, &out)?;
    file.borrow_mut().offset = next;
    Ok(out.len() as u64)
}

pub fn sys_mkdirat(c: &mut Ctx, dirfd: GuestFd, path: GuestAddr, mode: u32) -> Result<u64, Errno> {
    let path = c.read_path(path)?;
    let res = c.resolve_at(dirfd, &path, Follow::NotFinal)?;
    if res.node.is_some() {
        return Err(Errno::EEXIST);
    }
    let mode = S_IFDIR | (mode & 0o1777 & !c.umask());
    match c.kernel.vfs.host_path(&res.guest) {
        Some(at) => at.mkdir(mode)?,
        None => {
            c.kernel
                .vfs
                .create(&res.guest, mode, Content::Dir { opaque: true })?;
        }
    }
    Ok(0)
}

pub fn sys_unlinkat(
    c: &mut Ctx,
    dirfd: GuestFd,
    path: GuestAddr,
    flags: u32,
) -> Result<u64, Errno> {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let path = c.read_path(path)?;
    if flags & AT_REMOVEDIR != 0 {
        match last_component(&path) {
            b"." => return Err(Errno::EINVAL),
            b".." => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
    }
    let (guest, node) = c.resolve_at(dirfd, &path, Follow::NotFinal)?.existing()?;
    if flags & AT_REMOVEDIR != 0 {
        let me = ProcSelf::of(c.proc, &c.kernel.tasks.procs, c.kernel.vfs.booted.elapsed());
        // `rmdir` of a process's cwd is allowed; the cwd then names a deleted directory.
        c.kernel.vfs.rmdir(&me, &guest, &node)?;
    } else {
        c.kernel.vfs.unlink(&guest, &node)?;
    }
    Ok(0)
}

pub fn sys_renameat2(
    c: &mut Ctx,
    olddirfd: GuestFd,
    oldpath: GuestAddr,
    newdirfd: GuestFd,
    newpath: GuestAddr,
    flags: u32,
) -> Result<u64, Errno> {
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0
        || flags & (RENAME_NOREPLACE | RENAME_EXCHANGE) == RENAME_NOREPLACE | RENAME_EXCHANGE
        || flags & RENAME_WHITEOUT != 0
    {
        return Err(Errno::EINVAL);
    }
    let oldpath = c.read_path(oldpath)?;
    let newpath = c.read_path(newpath)?;
    for p in [&oldpath, &newpath] {
        if matches!(last_component(p), b"." | b"..") {
            return Err(Errno::EBUSY);
        }
    }
    let (old, node) = c
        .resolve_at(olddirfd, &oldpath, Follow::NotFinal)?
        .existing()?;
    let new = c.resolve_at(newdirfd, &newpath, Follow::NotFinal)?;
    if new.trailing_slash && !node.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let me = ProcSelf::of(c.proc, &c.kernel.tasks.procs, c.kernel.vfs.booted.elapsed());
    if flags & RENAME_EXCHANGE != 0 {
        let other = new.node.ok_or(Errno::ENOENT)?;
        c.kernel.vfs.exchange(&old, &node, &new.guest, &other)?;
        return Ok(0);
    }
    if flags & RENAME_NOREPLACE != 0 && new.node.is_some() {
        return Err(Errno::EEXIST);
    }
    c.kernel
        .vfs
        .rename(&me, &old, &node, &new.guest, new.node.as_ref())?;
    // The working directory (or one of its ancestors) may have moved: it follows the
    // directory, as the kernel's cwd is a dentry and not a name. TODO(#3): the same for open
    // directory descriptions and other processes' working directories.
    let cwd = c.proc.cwd.as_bytes();
    if let Some(rest) = cwd.strip_prefix(old.as_bytes())
        && (rest.is_empty() || rest.starts_with(b"/"))
    {
        let mut moved = new.guest.as_bytes().to_vec();
        moved.extend_from_slice(rest);
        c.proc.cwd =
            GuestPathBuf::from_components(moved.split(|&b| b == b'/').filter(|c| !c.is_empty()));
    }
    Ok(0)
}

pub fn sys_linkat(
    c: &mut Ctx,
    olddirfd: GuestFd,
    oldpath: GuestAddr,
    newdirfd: GuestFd,
    newpath: GuestAddr,
    flags: u32,
) -> Result<u64, Errno> {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    // AT_EMPTY_PATH links the file dirfd names; linkat follows only with AT_SYMLINK_FOLLOW.
    let nofollow = if flags & AT_SYMLINK_FOLLOW != 0 {
        0
    } else {
        AT_SYMLINK_NOFOLLOW
    };
    let (old, node) =
        match c.resolve_flags(olddirfd, oldpath, (flags & AT_EMPTY_PATH) | nofollow)? {
            Some(found) => found,
            None => {
                let file = c.proc.fds.get(olddirfd)?;
                let f = file.borrow();
                let guest = f.guest_path.clone().ok_or(Errno::ENOENT)?;
                let node = match &f.kind {
                    FileKind::Upper { inode, .. } => Node::Upper(inode.clone()),
                    FileKind::Dir { node, .. } | FileKind::Path(node) => node.clone(),
                    _ => {
                        drop(f);
                        c.resolve_at(GuestFd(AT_FDCWD), guest.as_bytes(), Follow::NotFinal)?
                            .existing()?
                            .1
                    }
                };
                (guest, node)
            }
        };
    let newpath = c.read_path(newpath)?;
    let new = c.resolve_at(newdirfd, &newpath, Follow::NotFinal)?;
    if new.node.is_some() {
        return Err(Errno::EEXIST);
    }
    if new.trailing_slash {
        return Err(Errno::ENOENT);
    }
    c.kernel.vfs.link(&old, &node, &new.guest)?;
    Ok(0)
}

pub fn sys_symlinkat(
    c: &mut Ctx,
    target: GuestAddr,
    newdirfd: GuestFd,
    linkpath: GuestAddr,
) -> Result<u64, Errno> {
    let target = c.read_path(target)?;
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    let linkpath = c.read_path(linkpath)?;
    let new = c.resolve_at(newdirfd, &linkpath, Follow::NotFinal)?;
    if new.node.is_some() {
        return Err(Errno::EEXIST);
    }
    if new.trailing_slash {
        return Err(Errno::ENOENT);
    }
    match c.kernel.vfs.host_path(&new.guest) {
        Some(at) => at.symlink(&target)?,
        None => {
            c.kernel
                .vfs
                .create(&new.guest, S_IFLNK | 0o777, Content::Symlink(target))?;
        }
    }
    Ok(0)
}

/// What a metadata change (`chmod`, `chown`, `utimensat`) applies to: an upper inode (a
/// rootfs file is copied up first), or a file of a host directory mount, changed on the host.
enum MetaTarget {
    Inode(InodeRef),
    Host(Box<HostNode>),
}

impl MetaTarget {
    fn is_symlink(&self) -> bool {
        match self {
            MetaTarget::Inode(i) => matches!(i.borrow().content, Content::Symlink(_)),
            MetaTarget::Host(h) => h.is_symlink(),
        }
    }
}

/// The target of a metadata change of `path` under `flags` (`AT_EMPTY_PATH`: `dirfd` itself).
fn meta_at(c: &mut Ctx, dirfd: GuestFd, path: GuestAddr, flags: u32) -> Result<MetaTarget, Errno> {
    match c.resolve_flags(dirfd, path, flags)? {
        Some((_, Node::Host(h))) => Ok(MetaTarget::Host(Box::new(h))),
        Some((guest, node)) => c.kernel.vfs.copy_up(&guest, &node).map(MetaTarget::Inode),
        None => {
            let file = c.proc.fds.get(dirfd)?;
            meta_of_fd(c, &file)
        }
    }
}

/// The target of a metadata change through the open file `file` (`fchmod` and friends).
fn meta_of_fd(c: &mut Ctx, file: &FileRef) -> Result<MetaTarget, Errno> {
    let host = match &file.borrow().kind {
        FileKind::Host(f) => Some(f.node().clone()),
        FileKind::Dir {
            node: Node::Host(h),
            ..
        }
        | FileKind::Path(Node::Host(h)) => Some(h.clone()),
        _ => None,
    };
    match host {
        Some(h) => Ok(MetaTarget::Host(Box::new(h))),
        None => c.inode_of_fd(file).map(MetaTarget::Inode),
    }
}

fn chmod(target: &MetaTarget, mode: u32) -> Result<(), Errno> {
    match target {
        MetaTarget::Host(h) => h.chmod(mode),
        MetaTarget::Inode(inode) => {
            let mut i = inode.borrow_mut();
            i.mode = (i.mode & S_IFMT) | (mode & 0o7777);
            i.ctime = now();
            Ok(())
        }
    }
}

pub fn sys_fchmodat(
    c: &mut Ctx,
    dirfd: GuestFd,
    path: GuestAddr,
    mode: u32,
    flags: u32,
) -> Result<u64, Errno> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let target = meta_at(c, dirfd, path, flags)?;
    if flags & AT_SYMLINK_NOFOLLOW != 0 && target.is_symlink() {
        // Symlink modes cannot change (`fchmodat2` with AT_SYMLINK_NOFOLLOW).
        return Err(Errno::EOPNOTSUPP);
    }
    chmod(&target, mode)?;
    Ok(0)
}

pub fn sys_fchmod(c: &mut Ctx, fd: GuestFd, mode: u32) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    let target = meta_of_fd(c, &file)?;
    chmod(&target, mode)?;
    Ok(0)
}

/// Sets the owner; `u32::MAX` (`-1`) leaves a field as it is. Like Linux, a change of owner
/// drops the set-user-ID bit (and set-group-ID on group-executable files).
fn chown(target: &MetaTarget, uid: u32, gid: u32) -> Result<(), Errno> {
    let inode = match target {
        MetaTarget::Host(h) => return h.chown(uid, gid),
        MetaTarget::Inode(inode) => inode,
    };
    let mut i = inode.borrow_mut();
    if uid != u32::MAX {
        i.uid = uid;
    }
    if gid != u32::MAX {
        i.gid = gid;
    }
    if i.mode & S_IFMT == S_IFREG && (uid != u32::MAX || gid != u32::MAX) {
        i.mode &= !0o4000;
        if i.mode & 0o010 != 0 {
            i.mode &= !0o2000;
        }
    }
    i.ctime = now();
    Ok(())
}

pub fn sys_fchownat(
    c: &mut Ctx,
    dirfd: GuestFd,
    path: GuestAddr,
    uid: u32,
    gid: u32,
    flags: u32,
) -> Result<u64, Errno> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let target = meta_at(c, dirfd, path, flags)?;
    chown(&target, uid, gid)?;
    Ok(0)
}

pub fn sys_fchown(c: &mut Ctx, fd: GuestFd, uid: u32, gid: u32) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    let target = meta_of_fd(c, &file)?;
    chown(&target, uid, gid)?;
    Ok(0)
}

pub fn sys_utimensat(
    c: &mut Ctx,
    dirfd: GuestFd,
    path: GuestAddr,
    times: GuestAddr,
    flags: u32,
) -> Result<u64, Errno> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let t = now();
    let (atime, mtime) = if times.is_null() {
        (Some(t), Some(t))
    } else {
        let raw = c.read_array::<32>(times)?;
        let get = |off: usize| crate::abi::get_u64(&raw, off);
        let pick = |sec: u64, nsec: u64| -> Result<Option<_>, Errno> {
            match nsec {
                UTIME_NOW => Ok(Some(t)),
                UTIME_OMIT => Ok(None),
                n if n < 1_000_000_000 => Ok(Some(crate::abi::fs::StatTime {
                    sec: sec as i64,
                    nsec: n,
                })),
                _ => Err(Errno::EINVAL),
            }
        };
        (pick(get(0), get(8))?, pick(get(16), get(24))?)
    };
    // utimensat(fd, NULL, ...) changes the file fd refers to.
    let target = if path.is_null() {
        if dirfd.0 == AT_FDCWD {
            return Err(Errno::EFAULT);
        }
        let file = c.proc.fds.get(dirfd)?;
        meta_of_fd(c, &file)?
    } else {
        meta_at(c, dirfd, path, flags)?
    };
    let inode = match target {
        MetaTarget::Host(h) => return h.set_times(atime, mtime).map(|()| 0),
        MetaTarget::Inode(inode) => inode,
    };
    let mut i = inode.borrow_mut();
    if let Some(a) = atime {
        i.atime = a;
    }
    if let Some(m) = mtime {
        i.mtime = m;
    }
    i.ctime = t;
    Ok(0)
}

/// A regular file open for writing (`ftruncate`, `fallocate`): an upper inode, or the
/// description of a host file.
enum Writable {
    Inode(InodeRef),
    Host(FileRef),
}

impl Writable {
    fn size(&self) -> Result<u64, Errno> {
        match self {
            Writable::Inode(i) => Ok(i.borrow().size()),
            Writable::Host(f) => f.borrow().size(),
        }
    }

    fn truncate(&self, len: u64) -> Result<(), Errno> {
        match self {
            Writable::Inode(i) => i.borrow_mut().truncate(len),
            Writable::Host(f) => match &f.borrow().kind {
                FileKind::Host(h) => h.set_len(len),
                _ => Err(Errno::EINVAL),
            },
        }
    }
}

/// The regular file open for writing at `fd`.
fn writable_file(c: &mut Ctx, fd: GuestFd) -> Result<Writable, Errno> {
    let file = c.proc.fds.get(fd)?;
    let f = file.borrow();
    if !f.writable() {
        return Err(Errno::EINVAL);
    }
    match &f.kind {
        FileKind::Upper { inode, .. } => Ok(Writable::Inode(inode.clone())),
        FileKind::Host(_) => Ok(Writable::Host(file.clone())),
        FileKind::Dir { .. } => Err(Errno::EISDIR),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sys_ftruncate(c: &mut Ctx, fd: GuestFd, length: i64) -> Result<u64, Errno> {
    let len = u64::try_from(length).map_err(|_| Errno::EINVAL)?;
    writable_file(c, fd)?.truncate(len)?;
    Ok(0)
}

pub fn sys_truncate(c: &mut Ctx, path: GuestAddr, length: i64) -> Result<u64, Errno> {
    let len = u64::try_from(length).map_err(|_| Errno::EINVAL)?;
    let path = c.read_path(path)?;
    let (guest, node) = c
        .resolve_at(GuestFd(AT_FDCWD), &path, Follow::Final)?
        .existing()?;
    if node.is_dir() {
        return Err(Errno::EISDIR);
    }
    if let Node::Host(h) = &node {
        if !h.is_file() {
            return Err(Errno::EINVAL);
        }
        h.truncate(len)?;
        return Ok(0);
    }
    if !matches!(&node, Node::Lower(lower) if lower.is_file())
        && !matches!(&node, Node::Upper(i) if i.borrow().mode & S_IFMT == S_IFREG)
    {
        return Err(Errno::EINVAL);
    }
    let inode = c.kernel.vfs.copy_up(&guest, &node)?;
    inode.borrow_mut().truncate(len)?;
    Ok(0)
}

pub fn sys_fallocate(
    c: &mut Ctx,
    fd: GuestFd,
    mode: u32,
    offset: i64,
    len: i64,
) -> Result<u64, Errno> {
    let (offset, len) = match (u64::try_from(offset), u64::try_from(len)) {
        (Ok(o), Ok(l)) if l > 0 => (o, l),
        _ => return Err(Errno::EINVAL),
    };
    let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
    let file = c.proc.fds.get(fd)?;
    if !file.borrow().writable() {
        return Err(Errno::EBADF);
    }
    let target =
        writable_file(c, fd).map_err(|e| if e == Errno::EINVAL { Errno::ENODEV } else { e })?;
    match mode {
        0 => {
            if end > target.size()? {
                target.truncate(end)?;
            }
            Ok(0)
        }
        // Space is never reserved ahead in memory, nor on the host (std and WASI have no call
        // for it), so keeping the size is all there is to do.
        FALLOC_FL_KEEP_SIZE => Ok(0),
        _ => Err(Errno::EOPNOTSUPP),
    }
}

/// `fsync`, `fdatasync`, `syncfs`: the upper layer lives in memory and the lower layer is
/// never written, so only a host file of a mounted directory has anything to flush; the fd
/// must still be valid.
pub fn sys_fsync(c: &mut Ctx, fd: GuestFd) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    if let FileKind::Host(f) = &file.borrow().kind {
        f.sync()?;
    }
    Ok(0)
}

/// `statfs` numbers for the file system holding `st`; `on_host` when it is a mounted host
/// directory.
fn statfs_of(st: &Stat, on_host: bool) -> Statfs {
    let fs_type = match st.dev {
        // What container VMs mount host directories with; tools that trust `st_nlink` only
        // on file systems they know (fts's leaf optimisation) must not trust it here, where
        // WASI reports every directory with two links.
        _ if on_host => V9FS_MAGIC,
        crate::vfs::procfs::PROC_DEV => PROC_SUPER_MAGIC,
        host::ROOTFS_DEV => OVERLAYFS_SUPER_MAGIC,
        _ => TMPFS_MAGIC,
    };
    // Sizes of the machine's memory, which is where written files go; /proc holds nothing.
    let blocks = if fs_type == PROC_SUPER_MAGIC {
        0
    } else {
        (4u64 << 30) / 4096
    };
    Statfs {
        fs_type,
        bsize: 4096,
        blocks,
        bfree: blocks / 2,
        bavail: blocks / 2,
        files: 1 << 20,
        ffree: 1 << 19,
        namelen: crate::abi::fs::NAME_MAX as u64,
        flags: ST_RELATIME,
    }
}

pub fn sys_statfs(c: &mut Ctx, path: GuestAddr, buf: GuestAddr) -> Result<u64, Errno> {
    let st = stat_at(c, GuestFd(AT_FDCWD), path, 0)?;
    let on_host = c.kernel.vfs.is_host_dev(st.dev);
    c.write_bytes(buf, &statfs_of(&st, on_host).to_bytes())?;
    Ok(0)
}

pub fn sys_fstatfs(c: &mut Ctx, fd: GuestFd, buf: GuestAddr) -> Result<u64, Errno> {
    let st = c.proc.fds.get(fd)?.borrow().stat()?;
    let on_host = c.kernel.vfs.is_host_dev(st.dev);
    c.write_bytes(buf, &statfs_of(&st, on_host).to_bytes())?;
    Ok(0)
}

pub fn sys_umask(c: &mut Ctx, mask: u32) -> Result<u64, Errno> {
    let old = c.proc.umask;
    c.proc.umask = mask & 0o777;
    Ok(u64::from(old))
}

/// Copies up to `count` bytes from `input` (at `*in_off`, else its offset) to `output` (at
/// `out_off`, else its offset), a chunk at a time; the shared loop of `sendfile` and
/// `copy_file_range`. Returns the bytes copied and the advanced explicit offsets.
fn copy_between(
    input: &FileRef,
    mut in_off: Option<u64>,
    output: &FileRef,
    mut out_off: Option<u64>,
    count: u64,
) -> Result<u64, Errno> {
    let count = count.min(MAX_RW_COUNT);
    let mut buf = vec![0u8; (count as usize).min(CHUNK)];
    let mut total = 0u64;
    while total < count {
        let want = ((count - total) as usize).min(CHUNK);
        let r = {
            let mut f = input.borrow_mut();
            match in_off {
                Some(o) => f.pread(&mut buf[..want], o),
                None => f.read(&mut buf[..want]),
            }
        };
        let n = match r {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        let w = {
            let mut f = output.borrow_mut();
            match out_off {
                Some(o) => f.pwrite(&buf[..n], o),
                None => f.write(&buf[..n]),
            }
        };
        match w {
            Ok(m) => {
                total += m as u64;
                in_off = in_off.map(|o| o + m as u64);
                out_off = out_off.map(|o| o + m as u64);
                if m < n {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
        if n < want {
            break;
        }
    }
    Ok(total)
}

pub fn sys_sendfile(
    c: &mut Ctx,
    out_fd: GuestFd,
    in_fd: GuestFd,
    offset: GuestAddr,
    count: u64,
) -> Result<u64, Errno> {
    let input = c.proc.fds.get(in_fd)?;
    let output = c.proc.fds.get(out_fd)?;
    if !input.borrow().readable() || !output.borrow().writable() {
        return Err(Errno::EBADF);
    }
    if output.borrow().flags & O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    let in_off = if offset.is_null() {
        None
    } else {
        let o = i64::from_le_bytes(c.read_array(offset)?);
        Some(u64::try_from(o).map_err(|_| Errno::EINVAL)?)
    };
    let n = copy_between(&input, in_off, &output, None, count).map_err(|e| broken_pipe(c, e))?;
    if let Some(o) = in_off {
        c.write_bytes(offset, &(o + n).to_le_bytes())?;
    }
    Ok(n)
}

pub fn sys_copy_file_range(
    c: &mut Ctx,
    fd_in: GuestFd,
    off_in: GuestAddr,
    fd_out: GuestFd,
    off_out: GuestAddr,
    len: u64,
    flags: u32,
) -> Result<u64, Errno> {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let input = c.proc.fds.get(fd_in)?;
    let output = c.proc.fds.get(fd_out)?;
    if !input.borrow().readable() || !output.borrow().writable() {
        return Err(Errno::EBADF);
    }
    if output.borrow().flags & O_APPEND != 0 {
        return Err(Errno::EBADF);
    }
    let regular = |f: &FileRef| {
        matches!(
            f.borrow().kind,
            FileKind::Lower { .. } | FileKind::Upper { .. } | FileKind::Host(_)
        )
    };
    if !regular(&input) || !regular(&output) {
        return Err(Errno::EINVAL);
    }
    let read_off = |c: &mut Ctx, p: GuestAddr| -> Result<Option<u64>, Errno> {
        if p.is_null() {
            return Ok(None);
        }
        let o = i64::from_le_bytes(c.read_array(p)?);
        Ok(Some(u64::try_from(o).map_err(|_| Errno::EINVAL)?))
    };
    let in_off = read_off(c, off_in)?;
    let out_off = read_off(c, off_out)?;
    let n = copy_between(&input, in_off, &output, out_off, len)?;
    for (p, o) in [(off_in, in_off), (off_out, out_off)] {
        if let Some(o) = o {
            c.write_bytes(p, &(o + n).to_le_bytes())?;
        }
    }
    Ok(n)
}

/// The file named by an xattr call: `path` (following a final symlink unless `nofollow`,
/// for the `l*xattr` calls), or the open file `fd` when there is no path (`f*xattr`).
fn xattr_target(
    c: &mut Ctx,
    fd: GuestFd,
    path: Option<GuestAddr>,
    nofollow: bool,
) -> Result<(), Errno> {
    let Some(path) = path else {
        c.proc.fds.get(fd)?;
        return Ok(());
    };
    let path = c.read_path(path)?;
    let follow = if nofollow {
        Follow::NotFinal
    } else {
        Follow::Final
    };
    c.resolve_at(GuestFd(AT_FDCWD), &path, follow)?.existing()?;
    Ok(())
}

/// `getxattr`, `lgetxattr`, `fgetxattr`: no extended attributes are stored, so every name is
/// absent (`ENODATA`, which `ls` and `cp -a` take as "no ACL, no label").
pub fn sys_getxattr(
    c: &mut Ctx,
    fd: GuestFd,
    path: Option<GuestAddr>,
    nofollow: bool,
) -> Result<u64, Errno> {
    xattr_target(c, fd, path, nofollow)?;
    Err(Errno::ENODATA)
}

/// `listxattr` and friends: the empty list.
pub fn sys_listxattr(
    c: &mut Ctx,
    fd: GuestFd,
    path: Option<GuestAddr>,
    nofollow: bool,
) -> Result<u64, Errno> {
    xattr_target(c, fd, path, nofollow)?;
    Ok(0)
}

/// `setxattr`, `removexattr` and friends: refused as by a file system without xattr support.
pub fn sys_setxattr(
    c: &mut Ctx,
    fd: GuestFd,
    path: Option<GuestAddr>,
    nofollow: bool,
) -> Result<u64, Errno> {
    xattr_target(c, fd, path, nofollow)?;
    Err(Errno::EOPNOTSUPP)
}

/// `fadvise64`: access-pattern advice. Files are in memory or read on demand from the host,
/// so no advice changes anything; the fd and advice are still checked as Linux does.
pub fn sys_fadvise64(c: &mut Ctx, fd: GuestFd, len: i64, advice: u32) -> Result<u64, Errno> {
    let file = c.proc.fds.get(fd)?;
    if matches!(file.borrow().kind, FileKind::Pipe(_)) {
        return Err(Errno::ESPIPE);
    }
    // POSIX_FADV_NORMAL ..= POSIX_FADV_NOREUSE.
    if advice > 5 || len < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}
