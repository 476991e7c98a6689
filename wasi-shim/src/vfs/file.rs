//! Open file descriptions: what an fd refers to, its status flags and file offset.
//!
//! Several fds (after `dup`) share one description, and with it the offset. Host stdio is
//! passed through unbuffered so the guest's stdout and stderr keep their order; whether each
//! is a terminal is asked of the host once, when the description is created.

use super::GuestPathBuf;
use crate::abi::Errno;
use crate::abi::fs::{
    O_ACCMODE, O_LARGEFILE, O_RDONLY, O_RDWR, O_WRONLY, S_IFCHR, S_IFIFO, SEEK_CUR, SEEK_END,
    SEEK_SET, Stat, makedev,
};
use crate::host;
use std::fs::File;
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

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

    fn is_terminal(self) -> bool {
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
    /// A regular file of the rootfs, read through the host.
    Host {
        file: File,
        ino: u64,
    },
    /// A directory, kept as its paths for `*at` lookups, `fchdir` and `getdents64`.
    Dir {
        host: Option<PathBuf>,
        ino: u64,
    },
}

/// One open file description (`struct file`).
pub struct OpenFile {
    pub kind: FileKind,
    /// Access mode and status flags, as `F_GETFL` reports them.
    pub flags: u32,
    pub offset: u64,
    /// The guest path it was opened by (for `*at` lookups relative to a directory fd).
    pub guest_path: Option<GuestPathBuf>,
}

/// The device number reported for a terminal on stdio: `/dev/pts/0`.
const PTS_RDEV: u64 = makedev(136, 0);

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
        self.flags & O_ACCMODE != O_WRONLY
    }

    pub fn writable(&self) -> bool {
        matches!(self.flags & O_ACCMODE, O_WRONLY | O_RDWR)
    }

    /// True for a stdio stream that is a host terminal (`isatty`).
    pub fn is_terminal(&self) -> bool {
        matches!(self.kind, FileKind::Stdio { terminal: true, .. })
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
                    std::io::stdin().read(buf).map_err(|e| host::errno_of(&e))
                } else {
                    Err(Errno::EBADF)
                }
            }
            FileKind::Host { file, .. } => {
                let n = read_at(file, self.offset, buf)?;
                self.offset += n as u64;
                Ok(n)
            }
            FileKind::Dir { .. } => Err(Errno::EISDIR),
        }
    }

    /// `pread64(2)`: read at `offset` without moving the file offset.
    pub fn pread(&mut self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        match &mut self.kind {
            FileKind::Stdio { .. } => Err(Errno::ESPIPE),
            FileKind::Host { file, .. } => read_at(file, offset, buf),
            FileKind::Dir { .. } => Err(Errno::EISDIR),
        }
    }

    /// `write(2)`. Stdio is flushed at once: the guest's libc already buffers.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        match &mut self.kind {
            FileKind::Stdio { stream, .. } => {
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
            // Files are opened read-only until the writable overlay exists.
            FileKind::Host { .. } | FileKind::Dir { .. } => Err(Errno::EBADF),
        }
    }

    /// `lseek(2)`; returns the new offset.
    pub fn seek(&mut self, offset: i64, whence: u32) -> Result<u64, Errno> {
        let base = match (&mut self.kind, whence) {
            (FileKind::Stdio { .. }, _) => return Err(Errno::ESPIPE),
            (_, SEEK_SET) => 0,
            (_, SEEK_CUR) => self.offset,
            (FileKind::Host { file, .. }, SEEK_END) => {
                file.metadata().map_err(|e| host::errno_of(&e))?.len()
            }
            // Directory offsets are getdents cookies; only rewinding and telling make sense.
            (FileKind::Dir { .. }, SEEK_END) => return Err(Errno::EINVAL),
            _ => return Err(Errno::EINVAL),
        };
        let new = i64::try_from(base)
            .ok()
            .and_then(|b| b.checked_add(offset))
            .filter(|&n| n >= 0)
            .ok_or(Errno::EINVAL)?;
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
                // devpts: crw--w---- root tty, like a login terminal.
                dev: 0x19,
                ino: 3,
                mode: S_IFCHR | 0o620,
                nlink: 1,
                gid: 5,
                rdev: PTS_RDEV,
                blksize: 1024,
                ..Stat::default()
            }),
            FileKind::Host { file, ino } => {
                let meta = file.metadata().map_err(|e| host::errno_of(&e))?;
                Ok(host::stat_of(&meta, *ino))
            }
            FileKind::Dir {
                host: Some(path),
                ino,
            } => {
                let meta = std::fs::metadata(path).map_err(|e| host::errno_of(&e))?;
                Ok(host::stat_of(&meta, *ino))
            }
            FileKind::Dir { host: None, ino } => Ok(Stat {
                ino: *ino,
                mode: crate::abi::fs::S_IFDIR | 0o555,
                nlink: 2,
                blksize: 1024,
                ..Stat::default()
            }),
        }
    }
}

/// Reads at `offset` through the host file's own cursor (WASI has no stable `pread` in std).
fn read_at(file: &mut File, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| host::errno_of(&e))?;
    let mut done = 0;
    while done < buf.len() {
        match file.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(host::errno_of(&e)),
        }
    }
    Ok(done)
}
