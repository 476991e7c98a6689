//! Open file descriptions: what an fd refers to, its status flags and file offset.
//!
//! Several fds (after `dup`) share one description, and with it the offset. Host stdio is
//! passed through unbuffered so the guest's stdout and stderr keep their order; whether each
//! is a terminal is asked of the host once, when the description is created. A file of the
//! read-only rootfs is read through the lower layer, by offset, never whole; a file of the upper
//! layer holds its inode, so it outlives an `unlink`; a file of a host directory mount is a
//! host file opened on the host, read and written there.

use super::GuestPathBuf;
use super::devfs::Device;
use super::hostdir::HostFile;
use super::lower::{LowerFile, LowerNode};
use super::overlay::{Content, DirEntry, InodeRef};
use super::path::Node;
use crate::abi::Errno;
use crate::abi::fs::{
    O_ACCMODE, O_APPEND, O_LARGEFILE, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, S_IFCHR, S_IFDIR,
    S_IFIFO, S_IFLNK, S_IFREG, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET, Stat,
};
use crate::host;
use std::fs::File;
use std::io::{IsTerminal, Write};

/// Which host standard stream a stdio description stands for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stdio {
    In,
    Out,
    Err,
}

impl Stdio {
    /// `fstat` of a stdio stream that is not a terminal: the host file or pipe behind it, so
    /// libc picks the same buffer size (`st_blksize`) as it would natively. Where the host
    /// cannot tell (WASI cannot duplicate stdio handles), a pipe.
    fn host_stat(self) -> Stat {
        use std::os::fd::AsFd;
        let fd = match self {
            Stdio::In => std::io::stdin().as_fd().try_clone_to_owned(),
            Stdio::Out => std::io::stdout().as_fd().try_clone_to_owned(),
            Stdio::Err => std::io::stderr().as_fd().try_clone_to_owned(),
        };
        match fd.and_then(|fd| File::from(fd).metadata()) {
            Ok(meta) => host::stat_of(&meta, 0),
            Err(_) => Stat {
                dev: 0xc,
                ino: 1,
                mode: S_IFIFO | 0o600,
                nlink: 1,
                blksize: 4096,
                ..Stat::default()
            },
        }
    }

    /// On a raw host terminal (`CTR2WASM_TTY=raw`) every stdio stream is the terminal.
    fn is_terminal(self) -> bool {
        if crate::tty::is_raw() {
            return true;
        }
        match self {
            Stdio::In => std::io::stdin().is_terminal(),
            Stdio::Out => std::io::stdout().is_terminal(),
            Stdio::Err => std::io::stderr().is_terminal(),
        }
    }
}

/// What an open file description refers to.
pub enum FileKind {
    Stdio {
        stream: Stdio,
        terminal: bool,
    },
    /// A regular file of the rootfs opened for reading, read by offset, never whole.
    Lower {
        file: LowerFile,
        node: LowerNode,
        ino: u64,
    },
    /// A regular file of the upper layer; `lower` caches the lower file while the inode's
    /// bytes are still the lower file's ([`Content::Lower`]).
    Upper {
        inode: InodeRef,
        lower: Option<LowerFile>,
    },
    /// A regular file of a mounted host directory.
    Host(HostFile),
    /// One end of a pipe (`pipe2`).
    Pipe(super::pipe::PipeEnd),
    /// A directory. The listing is taken at the first `getdents64` (and again after a rewind),
    /// so the offsets handed out stay valid whatever changes meanwhile.
    Dir {
        node: Node,
        listing: Option<Vec<DirEntry>>,
    },
    Device(Device),
    /// A `/proc` file: its contents as of `open`.
    Proc(Vec<u8>),
    /// `O_PATH`: names a file without opening it.
    Path(Node),
}

/// One open file description (`struct file`).
pub struct OpenFile {
    pub kind: FileKind,
    /// Access mode and status flags, as `F_GETFL` reports them.
    pub flags: u32,
    pub offset: u64,
    /// The guest path it was opened by (for `*at` lookups relative to a directory fd, and
    /// `/proc/self/fd`).
    pub guest_path: Option<GuestPathBuf>,
}

impl OpenFile {
    pub fn stdio(stream: Stdio) -> OpenFile {
        let terminal = stream.is_terminal();
        let access = if terminal {
            O_RDWR
        } else if stream == Stdio::In {
            O_RDONLY
        } else {
            O_WRONLY
        };
        OpenFile {
            kind: FileKind::Stdio { stream, terminal },
            flags: access | O_LARGEFILE,
            offset: 0,
            guest_path: None,
        }
    }

    pub fn readable(&self) -> bool {
        self.flags & O_PATH == 0 && self.flags & O_ACCMODE != O_WRONLY
    }

    pub fn writable(&self) -> bool {
        self.flags & O_PATH == 0 && matches!(self.flags & O_ACCMODE, O_WRONLY | O_RDWR)
    }

    /// True for a stdio stream that is a host terminal (`isatty`).
    pub fn is_terminal(&self) -> bool {
        matches!(self.kind, FileKind::Stdio { terminal: true, .. })
    }

    /// What `/proc/self/fd/N` shows for this description.
    pub fn describe(&self) -> Vec<u8> {
        match &self.kind {
            FileKind::Stdio { terminal: true, .. } => b"/dev/pts/0".to_vec(),
            FileKind::Stdio { stream, .. } => format!("pipe:[{}]", *stream as u32 + 1).into_bytes(),
            FileKind::Pipe(end) => format!("pipe:[{}]", end.pipe.borrow().ino).into_bytes(),
            _ => self.guest_path.as_ref().map_or_else(
                || b"anon_inode:[unknown]".to_vec(),
                |p| p.as_bytes().to_vec(),
            ),
        }
    }

    /// Whether a read would take its bytes from host stdin (stdin, or a terminal opened
    /// read-write on another fd).
    pub fn reads_host_stdin(&self) -> bool {
        matches!(
            self.kind,
            FileKind::Stdio {
                stream: Stdio::In,
                ..
            } | FileKind::Stdio { terminal: true, .. }
        ) && self.readable()
    }

    /// `read(2)` at the file offset, advancing it.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        match &mut self.kind {
            FileKind::Stdio { stream, terminal } => {
                // Reading a terminal opened O_RDWR reads the keyboard, whichever fd it is.
                if *stream == Stdio::In || *terminal {
                    if *terminal && crate::tty::is_raw() {
                        return crate::tty::read(buf);
                    }
                    // Nothing to read yet: the caller parks the thread (or, with
                    // `O_NONBLOCK`, returns `EAGAIN`) instead of blocking every task here.
                    if !buf.is_empty() && !host::stdin_ready() {
                        return Err(Errno::EAGAIN);
                    }
                    host::read_stdin(buf).map_err(|e| host::errno_of(&e))
                } else {
                    Err(Errno::EBADF)
                }
            }
            FileKind::Pipe(end) => end.pipe.borrow_mut().read(buf),
            FileKind::Device(d) => d.read(buf),
            _ => {
                let n = self.pread(buf, self.offset)?;
                self.offset += n as u64;
                Ok(n)
            }
        }
    }

    /// `pread64(2)`: read at `offset` without moving the file offset.
    pub fn pread(&mut self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        match &mut self.kind {
            FileKind::Stdio { .. } | FileKind::Pipe(_) => Err(Errno::ESPIPE),
            FileKind::Lower { file, .. } => file.read_at(offset, buf),
            FileKind::Host(f) => f.read_at(offset, buf),
            FileKind::Upper { inode, lower } => {
                let i = inode.borrow();
                match &i.content {
                    Content::Data(d) => Ok(copy_at(d, offset, buf)),
                    Content::Lower(node) => {
                        if lower.is_none() {
                            *lower = Some(node.open()?);
                        }
                        match lower {
                            Some(f) => f.read_at(offset, buf),
                            None => Err(Errno::EIO),
                        }
                    }
                    Content::Dir { .. } => Err(Errno::EISDIR),
                    _ => Err(Errno::EINVAL),
                }
            }
            FileKind::Proc(data) => Ok(copy_at(data, offset, buf)),
            FileKind::Device(d) => d.read(buf),
            FileKind::Dir { .. } => Err(Errno::EISDIR),
            FileKind::Path(_) => Err(Errno::EBADF),
        }
    }

    /// `write(2)` at the file offset (at the end with `O_APPEND`), advancing it. Stdio is
    /// flushed at once: the guest's libc already buffers.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        match &mut self.kind {
            FileKind::Stdio { stream, terminal } => {
                if *terminal && crate::tty::is_raw() {
                    return crate::tty::write(*stream, data)
                        .map(|()| data.len())
                        .map_err(|e| host::errno_of(&e));
                }
                let r = match stream {
                    Stdio::Err => {
                        let mut e = std::io::stderr().lock();
                        e.write_all(data).and_then(|()| e.flush())
                    }
                    // A terminal on stdin opened O_RDWR writes to the screen, as stdout does.
                    Stdio::Out | Stdio::In => {
                        let mut o = std::io::stdout().lock();
                        o.write_all(data).and_then(|()| o.flush())
                    }
                };
                r.map(|()| data.len()).map_err(|e| host::errno_of(&e))
            }
            FileKind::Pipe(end) => end.pipe.borrow_mut().write(data),
            FileKind::Upper { inode, .. } => {
                let mut i = inode.borrow_mut();
                if self.flags & O_APPEND != 0 {
                    self.offset = i.size();
                }
                let n = i.write_at(self.offset, data)?;
                self.offset += n as u64;
                Ok(n)
            }
            FileKind::Host(f) => {
                if self.flags & O_APPEND != 0 {
                    self.offset = f.size()?;
                }
                let n = f.write_at(self.offset, data)?;
                self.offset += n as u64;
                Ok(n)
            }
            FileKind::Device(d) => d.write(data),
            FileKind::Lower { .. }
            | FileKind::Dir { .. }
            | FileKind::Proc(_)
            | FileKind::Path(_) => Err(Errno::EBADF),
        }
    }

    /// `pwrite64(2)`: write at `offset` without moving the file offset. Like Linux, a file
    /// opened `O_APPEND` appends whatever the offset.
    pub fn pwrite(&mut self, data: &[u8], offset: u64) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        match &mut self.kind {
            FileKind::Upper { inode, .. } => {
                let mut i = inode.borrow_mut();
                let at = if self.flags & O_APPEND != 0 {
                    i.size()
                } else {
                    offset
                };
                i.write_at(at, data)
            }
            FileKind::Host(f) => {
                let at = if self.flags & O_APPEND != 0 {
                    f.size()?
                } else {
                    offset
                };
                f.write_at(at, data)
            }
            FileKind::Device(d) => d.write(data),
            FileKind::Stdio { .. } | FileKind::Pipe(_) => Err(Errno::ESPIPE),
            _ => Err(Errno::EBADF),
        }
    }

    /// The size of a regular file (for `SEEK_END`, `sendfile`).
    pub fn size(&self) -> Result<u64, Errno> {
        match &self.kind {
            FileKind::Lower { file, .. } => file.size(),
            FileKind::Upper { inode, .. } => Ok(inode.borrow().size()),
            FileKind::Host(f) => f.size(),
            FileKind::Proc(d) => Ok(d.len() as u64),
            _ => Ok(0),
        }
    }

    /// `lseek(2)`; returns the new offset.
    pub fn seek(&mut self, offset: i64, whence: u32) -> Result<u64, Errno> {
        let regular = matches!(
            self.kind,
            FileKind::Lower { .. } | FileKind::Upper { .. } | FileKind::Host(_) | FileKind::Proc(_)
        );
        let base = match (&self.kind, whence) {
            (FileKind::Stdio { .. } | FileKind::Pipe(_), _) => return Err(Errno::ESPIPE),
            (FileKind::Path(_), _) => return Err(Errno::EBADF),
            // Device offsets mean nothing; Linux lets them be set and reports 0.
            (FileKind::Device(_), _) => return Ok(0),
            (_, SEEK_SET) => 0,
            (_, SEEK_CUR) => self.offset,
            (_, SEEK_END) if regular => self.size()?,
            // A file without holes: data runs from 0 to the end, then the one hole.
            (_, SEEK_DATA | SEEK_HOLE) if regular => {
                let size = self.size()?;
                let off = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
                if off >= size {
                    return Err(Errno::ENXIO);
                }
                self.offset = if whence == SEEK_DATA { off } else { size };
                return Ok(self.offset);
            }
            // Directory offsets are getdents cookies; only rewinding and telling make sense.
            _ => return Err(Errno::EINVAL),
        };
        let new = i64::try_from(base)
            .ok()
            .and_then(|b| b.checked_add(offset))
            .filter(|&n| n >= 0)
            .ok_or(Errno::EINVAL)?;
        if let FileKind::Dir { listing, .. } = &mut self.kind
            && new == 0
        {
            // rewinddir: the next getdents64 lists the directory afresh.
            *listing = None;
        }
        self.offset = new as u64;
        Ok(self.offset)
    }

    /// `fstat(2)`.
    pub fn stat(&self) -> Result<Stat, Errno> {
        match &self.kind {
            FileKind::Stdio {
                stream,
                terminal: false,
            } => Ok(stream.host_stat()),
            FileKind::Stdio { terminal: true, .. } => Ok(Stat {
                // devpts: crw--w---- root tty, like a login terminal (`/dev/pts/0`).
                dev: super::devfs::PTS_DEV,
                ino: super::devfs::PTS0_INO,
                mode: S_IFCHR | 0o620,
                nlink: 1,
                gid: 5,
                rdev: super::devfs::PTS0_RDEV,
                blksize: 1024,
                ..Stat::default()
            }),
            FileKind::Pipe(end) => Ok(Stat {
                // pipefs: prw------- with the pipe's own inode.
                dev: 0xc,
                ino: end.pipe.borrow().ino,
                mode: S_IFIFO | 0o600,
                nlink: 1,
                blksize: 4096,
                ..Stat::default()
            }),
            FileKind::Lower { node, ino, .. } => Ok(node.stat(*ino)),
            FileKind::Upper { inode, .. } => Ok(inode.borrow().stat()),
            FileKind::Host(f) => f.stat(),
            FileKind::Dir { node, .. } | FileKind::Path(node) => {
                let ino = self.guest_path.as_ref().map_or(0, super::ino_of);
                Ok(stat_node(node, ino))
            }
            FileKind::Device(_) | FileKind::Proc(_) => {
                let ino = self.guest_path.as_ref().map_or(0, super::ino_of);
                Ok(match &self.kind {
                    FileKind::Proc(d) => proc_stat(S_IFREG | 0o444, ino, d.len()),
                    _ => proc_stat(S_IFCHR | 0o666, ino, 0),
                })
            }
        }
    }
}

fn proc_stat(mode: u32, ino: u64, size: usize) -> Stat {
    Stat {
        dev: super::procfs::PROC_DEV,
        ino,
        mode,
        nlink: 1,
        size: size as i64,
        blksize: 1024,
        ..Stat::default()
    }
}

/// `stat` of a node the walk found at a path whose stand-in inode number is `ino`.
pub fn stat_node(node: &Node, ino: u64) -> Stat {
    use super::procfs::ProcNode;
    match node {
        Node::Lower(lower) => lower.stat(ino),
        Node::Upper(i) => i.borrow().stat(),
        Node::Host(h) => h.stat(ino),
        Node::Proc(ProcNode::Dir) => Stat {
            nlink: 2,
            ..proc_stat(S_IFDIR | 0o555, ino, 0)
        },
        Node::Proc(ProcNode::Symlink(t) | ProcNode::FdLink(_, t)) => {
            proc_stat(S_IFLNK | 0o777, ino, t.len())
        }
        Node::Proc(ProcNode::File(d)) => proc_stat(S_IFREG | 0o444, ino, d.len()),
        // Only reached through `stat` of a descriptor, which asks the open file instead.
        Node::Proc(ProcNode::OpenFd(_)) => proc_stat(S_IFIFO | 0o600, ino, 0),
    }
}

/// Copies from `data` at `offset` into `buf`; 0 at or past the end.
fn copy_at(data: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let Some(src) = usize::try_from(offset).ok().and_then(|o| data.get(o..)) else {
        return 0;
    };
    let n = src.len().min(buf.len());
    buf[..n].copy_from_slice(&src[..n]);
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::fs::O_RDWR;
    use crate::vfs::overlay::Upper;

    fn upper_file(flags: u32) -> (OpenFile, InodeRef) {
        let inode = Upper::default().new_inode(S_IFREG | 0o644, Content::Data(b"hello".to_vec()));
        let file = OpenFile {
            kind: FileKind::Upper {
                inode: inode.clone(),
                lower: None,
            },
            flags,
            offset: 0,
            guest_path: None,
        };
        (file, inode)
    }

    #[test]
    fn upper_files_read_write_seek_and_append() {
        let (mut f, inode) = upper_file(O_RDWR);
        let mut buf = [0u8; 8];
        assert_eq!(f.read(&mut buf[..3]), Ok(3));
        assert_eq!(f.write(b"LO!"), Ok(3));
        assert_eq!(inode.borrow().read_all().unwrap(), b"helLO!");
        assert_eq!(f.pwrite(b"H", 0), Ok(1));
        assert_eq!(f.offset, 6);
        assert_eq!(f.seek(-2, SEEK_END), Ok(4));
        assert_eq!(f.seek(1, SEEK_DATA), Ok(1));
        assert_eq!(f.seek(1, SEEK_HOLE), Ok(6));
        assert_eq!(f.seek(6, SEEK_DATA), Err(Errno::ENXIO));
        assert_eq!(f.seek(-1, SEEK_SET), Err(Errno::EINVAL));
        assert_eq!(f.pread(&mut buf, 0), Ok(6));
        assert_eq!(&buf[..6], b"HelLO!");

        let (mut a, inode) = upper_file(O_WRONLY | O_APPEND);
        assert_eq!(a.pwrite(b"+", 0), Ok(1));
        assert_eq!(a.write(b"++"), Ok(2));
        assert_eq!(inode.borrow().read_all().unwrap(), b"hello+++");
        assert_eq!(a.read(&mut buf), Err(Errno::EBADF));
    }

    #[test]
    fn o_path_descriptions_neither_read_nor_write() {
        let (mut f, _) = upper_file(O_RDWR | O_PATH);
        assert!(!f.readable() && !f.writable());
        assert_eq!(f.write(b"x"), Err(Errno::EBADF));
    }
}
