//! Host directories mounted at guest paths (`wasmtime run --dir HOST::GUEST`, `ctr2wasm exec
//! --dir HOST::GUEST`): below a mount point every operation goes to the host directory, with
//! no upper layer and no copy-up, so the guest's writes reach the host.
//!
//! Invariants:
//! - Only the path walk ([`super::path`]) finds files here, one component at a time; a host
//!   file is named by its mount and the components below the mount's root, never by a host
//!   path. Symlinks inside a mount are read and resolved by the walk against the guest root,
//!   and `..` at a mount's root leads to the mount point's parent.
//! - Every host call goes through [`super::beneath`]: from the mount's root handle, opened
//!   once at mount time, each directory on the way is opened relative to its parent with
//!   `O_NOFOLLOW`, and the operation itself is the `*at` call on the last directory's handle
//!   with the last name, not following a symlink there either. So a directory the host (or a
//!   second runtime sharing the directory) swaps for a symlink between the walk's look and
//!   the operation is never followed out of the mount: the operation fails instead. The same
//!   code serves both builds: natively a mount's root is the host directory itself, on WASI
//!   the preopen's name, which wasi-libc opens relative to the preopened directory.
//! - A mount is a file system of its own: its files have the mount's device number, `rename`
//!   and `link` across its boundary fail with `EXDEV`, and its root (the mount point) cannot
//!   be removed or renamed (`EBUSY`), nor can a directory of the overlay holding one move.
//! - Owners are not mapped: every host file shows as root's (as rootfs files do), a `chown`
//!   to root changes nothing and succeeds, any other owner is `EPERM`, as on a file system
//!   that squashes ownership. `chmod` reaches the host natively; WASI preview 1 has no call
//!   for permission bits, so there it succeeds without effect (see [`beneath::chmod_at`]).
//!
//! How far this holds depends on the WASI host: wasmtime resolves each `path_*` call beneath
//! the descriptor it is given, while node's `node:wasi` (uvwasi) turns every descriptor back
//! into a host path string and opens that, following symlinks, so under node a host process
//! swapping directories can still redirect a call (see the README).

use super::beneath::{self, Dir, Name};
use super::overlay::{DirEntry, dtype_of_mode};
use super::path::Follow;
use super::procfs::ProcSelf;
use super::{GuestPathBuf, Vfs, ino_of};
use crate::abi::Errno;
use crate::abi::fs::{O_ACCMODE, O_RDWR, O_TRUNC, O_WRONLY, S_IFDIR, Stat, StatTime, makedev};
use crate::host::{self, HostStat};
use crate::loader::exec::describe;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::rc::Rc;

/// The first mount's minor device number (`0:48`, after the root's `0:47`); each further
/// mount takes the next.
const FIRST_MINOR: u32 = 48;

/// A mounted host directory's root, held open for the whole run.
struct Root {
    fd: OwnedFd,
    /// As given at mount time (the preopen's name on WASI): for messages only.
    host: PathBuf,
}

/// A host directory mounted at a guest path.
struct Mount {
    /// The mount point, as the walk resolved it when mounting (no symlinks, no `..`).
    guest: GuestPathBuf,
    root: Rc<Root>,
}

/// The mounted host directories, in mount order (a later mount at the same point wins).
#[derive(Default)]
pub struct Mounts(Vec<Mount>);

/// Where a guest path lies on the host: a name that need not exist yet (a file to create,
/// the target of a rename).
#[derive(Clone)]
pub struct HostPath {
    /// The mount's index in [`Mounts`].
    mount: usize,
    root: Rc<Root>,
    /// The components below the mount's root; none for the root itself.
    names: Vec<Vec<u8>>,
}

impl std::fmt::Debug for HostPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.root.host.display())?;
        for n in &self.names {
            write!(f, "/{}", String::from_utf8_lossy(n))?;
        }
        Ok(())
    }
}

/// A file of a mounted host directory, as the walk found it.
#[derive(Clone)]
pub struct HostNode {
    at: HostPath,
    meta: HostStat,
}

impl std::fmt::Debug for HostNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Host({:?})", self.at)
    }
}

/// A regular file of a mounted host directory, open on the host.
pub struct HostFile {
    file: File,
    node: HostNode,
    /// Stands in for the inode number where the host exposes none (WASI).
    ino: u64,
}

/// Why a host directory could not be mounted.
#[derive(Debug, thiserror::Error)]
#[error("mount {host} at {guest}: {problem}")]
pub struct MountError {
    pub host: String,
    pub guest: String,
    pub problem: String,
}

fn errno(e: std::io::Error) -> Errno {
    host::errno_of(&e)
}

/// The minor device number of the mount with index `mount`.
fn minor_of(mount: usize) -> u32 {
    u32::try_from(mount)
        .ok()
        .and_then(|m| m.checked_add(FIRST_MINOR))
        .unwrap_or(u32::MAX)
}

/// The device number of the mount with index `mount` (`st_dev`).
fn dev_of(mount: usize) -> u64 {
    makedev(0, minor_of(mount))
}

/// `s` with the characters `/proc/mounts` escapes written as octal (`\040` for a space).
fn escape_mount_field(s: &[u8]) -> String {
    let mut out = String::new();
    for &b in s {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' => out.push_str(&format!("\\{b:03o}")),
            _ => out.push(char::from(b)),
        }
    }
    out
}

impl Mounts {
    /// The mount holding the guest path `components` (the longest mount point that is a
    /// prefix of it; the later one of equals), and the host name it has there.
    fn find<C: AsRef<[u8]>>(&self, components: &[C]) -> Option<HostPath> {
        let mut best: Option<(usize, usize)> = None;
        for (i, m) in self.0.iter().enumerate() {
            let depth = m.guest.components().count();
            let inside = depth <= components.len()
                && m.guest
                    .components()
                    .zip(components)
                    .all(|(a, b)| a == b.as_ref());
            if inside && best.is_none_or(|(_, d)| depth >= d) {
                best = Some((i, depth));
            }
        }
        let (mount, depth) = best?;
        Some(HostPath {
            mount,
            root: self.0[mount].root.clone(),
            names: components[depth..]
                .iter()
                .map(|c| c.as_ref().to_vec())
                .collect(),
        })
    }

    /// Where `guest` lies on the host, if it is at or below a mount point.
    pub fn path_of(&self, guest: &GuestPathBuf) -> Option<HostPath> {
        let components: Vec<&[u8]> = guest.components().collect();
        self.find(&components)
    }

    /// The walk's look-up: `None` when `components` is in no mount, else the host file there
    /// (`Ok(None)` when it does not exist, or a directory on the way no longer does).
    pub fn lookup(&self, components: &[Vec<u8>]) -> Option<Result<Option<HostNode>, Errno>> {
        let at = self.find(components)?;
        Some(at.lstat().map(|m| m.map(|meta| HostNode { at, meta })))
    }

    /// True when a mount point lies strictly below the directory `dir`.
    fn holds_mount_point(&self, dir: &GuestPathBuf) -> bool {
        let depth = dir.components().count();
        self.0.iter().any(|m| {
            m.guest.components().count() > depth
                && dir
                    .components()
                    .zip(m.guest.components())
                    .all(|(a, b)| a == b)
        })
    }

    fn is_mount_dev(&self, dev: u64) -> bool {
        (0..self.0.len()).any(|i| dev_of(i) == dev)
    }

    /// The `/proc/mounts` lines of the host directories. Their type is `9p`, the remote file
    /// system container VMs use for the same job (and what `statfs` reports for them).
    pub fn proc_mounts(&self) -> String {
        self.0
            .iter()
            .map(|m| {
                format!(
                    "hostdir {} 9p rw,relatime 0 0\n",
                    escape_mount_field(m.guest.as_bytes())
                )
            })
            .collect()
    }

    /// The `/proc/<pid>/mountinfo` lines, numbered from `first_id`, with the device numbers
    /// `stat` reports.
    pub fn proc_mountinfo(&self, first_id: usize) -> String {
        self.0
            .iter()
            .enumerate()
            .map(|(i, m)| {
                format!(
                    "{} 1 0:{} / {} rw,relatime - 9p hostdir rw\n",
                    first_id + i,
                    minor_of(i),
                    escape_mount_field(m.guest.as_bytes())
                )
            })
            .collect()
    }

    /// `rename` when a mount is concerned (either name is in one, or `old` is an overlay
    /// directory holding a mount point); `None` when the overlay alone is. Within one mount
    /// the host renames, with its own checks (`ENOTDIR`, `EISDIR`, `ENOTEMPTY`, `EINVAL`).
    pub fn rename(&self, old: &GuestPathBuf, new: &GuestPathBuf) -> Option<Result<(), Errno>> {
        let (from, to) = match (self.path_of(old), self.path_of(new)) {
            (None, None) => return self.holds_mount_point(old).then_some(Err(Errno::EBUSY)),
            (Some(f), Some(t)) if f.mount == t.mount && !f.is_root() && !t.is_root() => (f, t),
            (f, t) => {
                let busy = f.is_some_and(|f| f.is_root()) || t.is_some_and(|t| t.is_root());
                return Some(Err(if busy { Errno::EBUSY } else { Errno::EXDEV }));
            }
        };
        Some((|| {
            let (from_dir, old) = from.parent()?;
            let (to_dir, new) = to.parent()?;
            beneath::rename_at(&from_dir, &old, &to_dir, &new)
        })())
    }

    /// `RENAME_EXCHANGE` when a mount is concerned; `None` when the overlay alone is. WASI
    /// preview 1 cannot swap two host names atomically, so within one mount the answer is
    /// `EINVAL`, as from a file system without the flag.
    pub fn exchange(&self, a: &GuestPathBuf, b: &GuestPathBuf) -> Option<Result<(), Errno>> {
        match (self.path_of(a), self.path_of(b)) {
            (None, None) => (self.holds_mount_point(a) || self.holds_mount_point(b))
                .then_some(Err(Errno::EBUSY)),
            (Some(x), Some(y)) if x.mount == y.mount && !x.is_root() && !y.is_root() => {
                Some(Err(Errno::EINVAL))
            }
            (x, y) => {
                let busy = x.is_some_and(|x| x.is_root()) || y.is_some_and(|y| y.is_root());
                Some(Err(if busy { Errno::EBUSY } else { Errno::EXDEV }))
            }
        }
    }

    /// `link` of the non-directory `old` when a mount is concerned; `None` when the overlay
    /// alone is.
    pub fn link(&self, old: &GuestPathBuf, new: &GuestPathBuf) -> Option<Result<(), Errno>> {
        match (self.path_of(old), self.path_of(new)) {
            (None, None) => None,
            (Some(f), Some(t)) if f.mount == t.mount => Some((|| {
                // Without AT_SYMLINK_FOLLOW: the walk already followed or not.
                let (from_dir, old) = f.parent()?;
                let (to_dir, new) = t.parent()?;
                beneath::link_at(&from_dir, &old, &to_dir, &new)
            })()),
            _ => Some(Err(Errno::EXDEV)),
        }
    }
}

/// The host `open` flags for an `open` with guest `flags`. The host file is opened for what
/// the guest asked (the description's flags still decide what it may do), for writing too
/// when `write`; `O_TRUNC` truncates even a read-only open, as Linux does.
fn open_flags(flags: u32, write: bool) -> libc::c_int {
    let access = flags & O_ACCMODE;
    let truncate = flags & O_TRUNC != 0;
    let read = access != O_WRONLY;
    let write = write || matches!(access, O_WRONLY | O_RDWR) || truncate;
    let access = match (read, write) {
        (true, false) => libc::O_RDONLY,
        (false, true) => libc::O_WRONLY,
        _ => libc::O_RDWR,
    };
    access | if truncate { libc::O_TRUNC } else { 0 }
}

impl HostPath {
    /// The host path this names, for tests to compare (the code itself never uses one).
    #[cfg(test)]
    fn host_path(&self) -> PathBuf {
        let mut p = self.root.host.clone();
        for n in &self.names {
            p.push(host::os_str(n));
        }
        p
    }

    /// The mount's root: the mount point itself.
    fn is_root(&self) -> bool {
        self.names.is_empty()
    }

    /// The directory holding this name, opened beneath the mount's root, and the name in it
    /// (the root is `.` in itself).
    fn parent(&self) -> Result<(Dir<'_>, Name), Errno> {
        let root = self.root.fd.as_fd();
        match self.names.split_last() {
            None => Ok((Dir::Root(root), Name::itself())),
            Some((last, dirs)) => Ok((beneath::open_dir(root, dirs)?, Name::new(last)?)),
        }
    }

    /// `lstat`, with a missing file (or a directory on the way that is missing or no longer
    /// one) as `None`.
    fn lstat(&self) -> Result<Option<HostStat>, Errno> {
        let found = if self.is_root() {
            beneath::fstat(self.root.fd.as_raw_fd())
        } else {
            self.parent()
                .and_then(|(dir, name)| beneath::lstat_at(&dir, &name))
        };
        match found {
            Ok(meta) => Ok(Some(meta)),
            Err(Errno::ENOENT | Errno::ENOTDIR) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Opens the file here with host `flags` (never through a symlink) as a regular file.
    fn open_file(&self, flags: libc::c_int, mode: u32) -> Result<(File, HostStat), Errno> {
        let (dir, name) = self.parent()?;
        let file = File::from(beneath::open_at(&dir, &name, flags, mode)?);
        let meta = beneath::fstat(file.as_raw_fd())?;
        if !meta.is_file() {
            // Swapped for a device, FIFO or socket since the walk looked: no driver here.
            return Err(Errno::ENXIO);
        }
        Ok((file, meta))
    }

    /// Creates a regular file here with permission bits `mode` (`O_CREAT` of a missing name)
    /// and opens it under `flags`.
    pub fn create_file(&self, mode: u32, flags: u32, ino: u64) -> Result<HostFile, Errno> {
        // Opened for writing too, as std would; the guest's flags still apply.
        let host_flags = open_flags(flags, true) | libc::O_CREAT | libc::O_EXCL;
        let (file, meta) = self.open_file(host_flags, mode & 0o7777)?;
        Ok(HostFile {
            file,
            node: HostNode {
                at: self.clone(),
                meta,
            },
            ino,
        })
    }

    pub fn mkdir(&self, mode: u32) -> Result<(), Errno> {
        let (dir, name) = self.parent()?;
        beneath::mkdir_at(&dir, &name, mode)
    }

    /// A symlink here to `target`, stored as given (the walk resolves it in the guest).
    pub fn symlink(&self, target: &[u8]) -> Result<(), Errno> {
        let (dir, name) = self.parent()?;
        beneath::symlink_at(target, &dir, &name)
    }
}

impl HostNode {
    pub fn is_dir(&self) -> bool {
        self.meta.is_dir()
    }

    pub fn is_symlink(&self) -> bool {
        self.meta.is_symlink()
    }

    /// A regular file (not a host device, FIFO or socket).
    pub fn is_file(&self) -> bool {
        self.meta.is_file()
    }

    pub fn size(&self) -> u64 {
        self.meta.len()
    }

    /// True if anyone may execute it (`X_OK` for root, and `execve`).
    pub fn is_executable(&self) -> bool {
        self.meta.is_executable()
    }

    /// `struct stat`, with the mount's device number; `ino_hint` stands in for the inode
    /// number where the host exposes none.
    pub fn stat(&self, ino_hint: u64) -> Stat {
        Stat {
            dev: dev_of(self.at.mount),
            ..self.meta.stat(ino_hint)
        }
    }

    pub fn read_link(&self) -> Result<Vec<u8>, Errno> {
        if !self.is_symlink() {
            return Err(Errno::EINVAL);
        }
        let (dir, name) = self.at.parent()?;
        beneath::readlink_at(&dir, &name)
    }

    /// The whole file (`execve`, which reads the image anyway; the loader caps the size).
    pub fn read_all(&self) -> Result<Vec<u8>, Errno> {
        let (mut file, meta) = self.at.open_file(libc::O_RDONLY, 0)?;
        let mut data = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.read_to_end(&mut data).map_err(errno)?;
        Ok(data)
    }

    /// Opens this regular file under the guest's `flags`.
    pub fn open(&self, flags: u32, ino: u64) -> Result<HostFile, Errno> {
        if !self.is_file() {
            // Host devices, FIFOs and sockets have no driver behind them here.
            return Err(Errno::ENXIO);
        }
        let (file, _) = self.at.open_file(open_flags(flags, false), 0)?;
        Ok(HostFile {
            file,
            node: self.clone(),
            ino,
        })
    }

    /// The entries of this directory at `guest`, sorted, without `.` and `..`.
    pub fn list(&self, guest: &GuestPathBuf) -> Result<Vec<DirEntry>, Errno> {
        let (dir, name) = self.at.parent()?;
        let mut out: Vec<DirEntry> = beneath::list_at(&dir, &name)?
            .into_iter()
            .map(|(name, meta)| {
                let st = meta.stat(ino_of(&guest.join(&name)));
                DirEntry {
                    name,
                    ino: st.ino,
                    dtype: dtype_of_mode(st.mode),
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// `unlink` of a non-directory (a symlink itself, never its target).
    pub fn unlink(&self) -> Result<(), Errno> {
        let (dir, name) = self.at.parent()?;
        beneath::unlink_at(&dir, &name, false)
    }

    /// `rmdir`; the mount's root is the mount point, which is busy.
    pub fn rmdir(&self) -> Result<(), Errno> {
        if self.at.is_root() {
            return Err(Errno::EBUSY);
        }
        let (dir, name) = self.at.parent()?;
        beneath::unlink_at(&dir, &name, true)
    }

    /// `truncate` of a regular file.
    pub fn truncate(&self, len: u64) -> Result<(), Errno> {
        let (file, _) = self.at.open_file(libc::O_WRONLY, 0)?;
        file.set_len(len).map_err(errno)
    }

    pub fn chmod(&self, mode: u32) -> Result<(), Errno> {
        let (dir, name) = self.at.parent()?;
        beneath::chmod_at(&dir, &name, mode)
    }

    /// `chown` (`u32::MAX` keeps a field): see the module docs for why only root is an owner.
    pub fn chown(&self, uid: u32, gid: u32) -> Result<(), Errno> {
        if [uid, gid].iter().all(|&id| id == 0 || id == u32::MAX) {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    /// `utimensat`: `None` leaves a time as it is (`UTIME_OMIT`); a symlink's own times
    /// where it is one (the walk followed the ones the guest wanted followed).
    pub fn set_times(&self, atime: Option<StatTime>, mtime: Option<StatTime>) -> Result<(), Errno> {
        let (dir, name) = self.at.parent()?;
        beneath::set_times_at(&dir, &name, atime, mtime)
    }
}

impl HostFile {
    /// The file as the walk found it when it was opened (for `fchmod` and friends).
    pub fn node(&self) -> &HostNode {
        &self.node
    }

    /// Reads at `offset` (`pread`); 0 at the end. Through the file's own cursor: WASI has
    /// no stable `pread` in std.
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        self.file.seek(SeekFrom::Start(offset)).map_err(errno)?;
        let mut done = 0;
        while done < buf.len() {
            match self.file.read(&mut buf[done..]) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(errno(e)),
            }
        }
        Ok(done)
    }

    /// Writes all of `buf` at `offset` (`pwrite`).
    pub fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<usize, Errno> {
        self.file.seek(SeekFrom::Start(offset)).map_err(errno)?;
        self.file.write_all(buf).map_err(errno)?;
        Ok(buf.len())
    }

    pub fn size(&self) -> Result<u64, Errno> {
        beneath::fstat(self.file.as_raw_fd()).map(|m| m.len())
    }

    /// `fstat`: the open file, wherever its name went since.
    pub fn stat(&self) -> Result<Stat, Errno> {
        let meta = beneath::fstat(self.file.as_raw_fd())?;
        Ok(Stat {
            dev: dev_of(self.node.at.mount),
            ..meta.stat(self.ino)
        })
    }

    /// `ftruncate` (the caller checked the description is writable).
    pub fn set_len(&self, len: u64) -> Result<(), Errno> {
        self.file.set_len(len).map_err(errno)
    }

    /// `fsync`: the host's, since the data lives there.
    pub fn sync(&self) -> Result<(), Errno> {
        self.file.sync_all().map_err(errno)
    }
}

impl Vfs {
    /// Mounts the host directory `host` at the guest path `guest`. The mount point is
    /// resolved by the walk (so a symlink in the image leads where it points) and made as
    /// directories of the upper layer where the image has none; a directory of the image
    /// there is hidden. The host directory is opened here, once: everything below the mount
    /// is reached through that handle.
    pub fn mount(&mut self, guest: &[u8], host: PathBuf) -> Result<(), MountError> {
        let err = |problem: String| MountError {
            host: host.display().to_string(),
            guest: String::from_utf8_lossy(guest).into_owned(),
            problem,
        };
        match std::fs::metadata(&host) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(err("not a directory".into())),
            Err(e) => return Err(err(describe(errno(e)))),
        }
        if !guest.starts_with(b"/") {
            return Err(err("the guest path must be absolute".into()));
        }
        let fd = beneath::open_root(&host).map_err(|e| err(describe(e)))?;
        let exe = GuestPathBuf::root();
        let me = ProcSelf::nobody(&exe);
        let mut at = GuestPathBuf::root();
        for c in guest.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            let r = self
                .resolve(&me, &at, c, Follow::Final)
                .map_err(|e| err(describe(e)))?;
            at = r.guest;
            match r.node {
                Some(n) if n.is_dir() => {}
                Some(_) => return Err(err(format!("{} is not a directory", at.display()))),
                None if self.mounts.path_of(&at).is_some() => {
                    return Err(err(format!(
                        "{} is missing from the host directory mounted above it",
                        at.display()
                    )));
                }
                None => {
                    self.create(
                        &at,
                        S_IFDIR | 0o755,
                        super::overlay::Content::Dir { opaque: true },
                    )
                    .map_err(|e| err(describe(e)))?;
                }
            }
        }
        match at.components().next() {
            None => return Err(err("the root is the image's".into())),
            Some(b"proc") => return Err(err("/proc is the kernel's".into())),
            Some(_) => {}
        }
        self.mounts.0.push(Mount {
            guest: at,
            root: Rc::new(Root { fd, host }),
        });
        Ok(())
    }

    /// Where `guest` lies on the host, if it is at or below a mount point: where a file,
    /// directory or symlink the guest creates there is made.
    pub fn host_path(&self, guest: &GuestPathBuf) -> Option<HostPath> {
        self.mounts.path_of(guest)
    }

    /// True for the device number of a mounted host directory (`statfs`).
    pub fn is_host_dev(&self, dev: u64) -> bool {
        self.mounts.is_mount_dev(dev)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::abi::fs::O_RDONLY;
    use crate::vfs::lower::Lower;
    use crate::vfs::path::{Node, Resolved};
    use std::os::unix::fs::symlink;
    use std::path::Path;

    /// A rootfs (`/etc/passwd`, `/srv/old`, symlink `/mnt -> srv`) and a host directory to
    /// mount (`hostfile`, `sub/deep`), side by side in one scratch directory.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let p = std::env::temp_dir()
                .join(format!("ctr2wasm-hostdir-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(p.join("root/etc")).unwrap();
            std::fs::create_dir_all(p.join("root/srv/old")).unwrap();
            std::fs::write(p.join("root/etc/passwd"), b"guest passwd").unwrap();
            symlink("srv", p.join("root/mnt")).unwrap();
            std::fs::create_dir_all(p.join("host/sub")).unwrap();
            std::fs::write(p.join("host/hostfile"), b"on the host").unwrap();
            std::fs::write(p.join("host/sub/deep"), b"deep").unwrap();
            Scratch(p)
        }

        fn host(&self) -> PathBuf {
            self.0.join("host")
        }

        /// The rootfs with the host directory mounted at `at`.
        fn vfs(&self, at: &str) -> Vfs {
            let mut vfs = Vfs::new(Lower::Host(self.0.join("root")));
            vfs.mount(at.as_bytes(), self.host()).unwrap();
            vfs
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn walk(vfs: &Vfs, path: &str, follow: Follow) -> Result<Resolved, Errno> {
        let exe = GuestPathBuf::root();
        vfs.resolve(
            &ProcSelf::nobody(&exe),
            &GuestPathBuf::root(),
            path.as_bytes(),
            follow,
        )
    }

    fn node(vfs: &Vfs, path: &str) -> (GuestPathBuf, Node) {
        walk(vfs, path, Follow::NotFinal)
            .unwrap()
            .existing()
            .unwrap()
    }

    /// The host path behind a guest path, or what the walk says instead.
    fn host_of(vfs: &Vfs, path: &str) -> Result<PathBuf, String> {
        match walk(vfs, path, Follow::Final)
            .map_err(|e| e.to_string())?
            .node
        {
            Some(Node::Host(h)) => Ok(h.at.host_path()),
            Some(Node::Lower(l)) => Err(format!("lower {l:?}")),
            other => Err(format!("{other:?}")),
        }
    }

    fn names(vfs: &Vfs, path: &str) -> Vec<String> {
        let (g, n) = node(vfs, path);
        let exe = GuestPathBuf::root();
        vfs.list(&ProcSelf::nobody(&exe), &g, &n)
            .unwrap()
            .into_iter()
            .map(|e| String::from_utf8(e.name).unwrap())
            .collect()
    }

    #[test]
    fn the_walk_reaches_host_files_below_the_mount_point() {
        let s = Scratch::new("walk");
        let vfs = s.vfs("/data");
        assert_eq!(
            host_of(&vfs, "/data/sub/deep"),
            Ok(s.host().join("sub/deep"))
        );
        assert_eq!(host_of(&vfs, "/data"), Ok(s.host()));
        // The mount point was made in the upper layer, so `/` lists it.
        assert_eq!(
            names(&vfs, "/"),
            ["data", "dev", "etc", "mnt", "proc", "srv", "tmp"]
        );
        assert_eq!(names(&vfs, "/data"), ["hostfile", "sub"]);
        let (g, n) = node(&vfs, "/data/hostfile");
        let st = stat_of(&g, &n);
        assert_eq!((st.dev, st.size), (makedev(0, 48), 11));
    }

    fn stat_of(guest: &GuestPathBuf, node: &Node) -> Stat {
        crate::vfs::file::stat_node(node, ino_of(guest))
    }

    #[test]
    fn dot_dot_at_the_mount_root_goes_to_the_mount_points_parent() {
        let s = Scratch::new("dotdot");
        let vfs = s.vfs("/srv/data");
        // On the host, host/.. is the scratch directory holding `root/`; in the guest it is
        // `/srv`, whose `old` is the image's.
        assert_eq!(
            walk(&vfs, "/srv/data/../old", Follow::Final)
                .unwrap()
                .guest
                .display(),
            "/srv/old"
        );
        assert!(matches!(
            walk(&vfs, "/srv/data/sub/../../old", Follow::Final)
                .unwrap()
                .node,
            Some(Node::Lower(_))
        ));
        assert_eq!(
            walk(&vfs, "/srv/data/../../../root", Follow::Final)
                .unwrap()
                .node
                .map(|_| "found"),
            None
        );
        assert_eq!(
            host_of(&vfs, "/srv/data/sub/../hostfile"),
            Ok(s.host().join("hostfile"))
        );
    }

    #[test]
    fn symlinks_in_the_host_directory_resolve_in_the_guest() {
        let s = Scratch::new("symlink");
        // Followed by the host, each would reach a host file outside the mounted directory.
        symlink("/etc/passwd", s.host().join("abs")).unwrap();
        symlink("../../../../../../etc/passwd", s.host().join("rel")).unwrap();
        symlink("../root/etc", s.host().join("sib")).unwrap();
        symlink("sub", s.host().join("inside")).unwrap();
        let vfs = s.vfs("/data");
        for link in ["/data/abs", "/data/rel"] {
            let r = walk(&vfs, link, Follow::Final).unwrap();
            assert_eq!(r.guest.display(), "/etc/passwd", "{link}");
            let Some(Node::Lower(l)) = r.node else {
                panic!("{link} left the guest's rootfs");
            };
            assert_eq!(l.read_all().unwrap(), b"guest passwd");
        }
        // `../root/etc` from /data is /root/etc in the guest, which the image lacks.
        assert_eq!(
            walk(&vfs, "/data/sib", Follow::Final).unwrap_err(),
            Errno::ENOENT
        );
        assert_eq!(
            host_of(&vfs, "/data/inside/deep"),
            Ok(s.host().join("sub/deep"))
        );
        let (_, link) = node(&vfs, "/data/abs");
        assert_eq!(vfs.read_link(&link).unwrap(), b"/etc/passwd");
    }

    #[test]
    fn a_mount_point_through_an_image_symlink_and_over_a_directory() {
        let s = Scratch::new("point");
        // `/mnt` is a symlink to `srv` in the image: the mount lands on /srv, hiding `old`.
        let vfs = s.vfs("/mnt");
        assert_eq!(
            host_of(&vfs, "/srv/hostfile"),
            Ok(s.host().join("hostfile"))
        );
        assert_eq!(
            host_of(&vfs, "/mnt/hostfile"),
            Ok(s.host().join("hostfile"))
        );
        assert!(
            walk(&vfs, "/srv/old", Follow::Final)
                .unwrap()
                .node
                .is_none()
        );
        let mut vfs = Vfs::new(Lower::Host(s.0.join("root")));
        let e = vfs.mount(b"/etc/passwd", s.host()).unwrap_err();
        assert_eq!(e.problem, "/etc/passwd is not a directory");
        assert_eq!(
            vfs.mount(b"/", s.host()).unwrap_err().problem,
            "the root is the image's"
        );
        assert_eq!(
            vfs.mount(b"/x", s.0.join("nope")).unwrap_err().to_string(),
            format!(
                "mount {} at /x: no such file or directory",
                s.0.join("nope").display()
            )
        );
    }

    #[test]
    fn renames_and_links_across_the_boundary_are_exdev() {
        let s = Scratch::new("exdev");
        let mut vfs = s.vfs("/data");
        let exe = GuestPathBuf::root();
        let me = ProcSelf::nobody(&exe);
        let (from, n) = node(&vfs, "/data/hostfile");
        let to = walk(&vfs, "/tmp/f", Follow::NotFinal).unwrap().guest;
        assert_eq!(vfs.rename(&me, &from, &n, &to, None), Err(Errno::EXDEV));
        assert_eq!(vfs.link(&from, &n, &to), Err(Errno::EXDEV));
        let (pw, pn) = node(&vfs, "/etc/passwd");
        let into = walk(&vfs, "/data/pw", Follow::NotFinal).unwrap().guest;
        assert_eq!(vfs.rename(&me, &pw, &pn, &into, None), Err(Errno::EXDEV));
        assert!(s.host().join("hostfile").exists() && !s.host().join("pw").exists());
        // The mount point itself is busy, whether removed or renamed.
        let (root, rn) = node(&vfs, "/data");
        assert_eq!(vfs.rmdir(&me, &root, &rn), Err(Errno::EBUSY));
        assert_eq!(vfs.rename(&me, &root, &rn, &to, None), Err(Errno::EBUSY));
        assert!(s.host().is_dir());
        // Within the mount, the host renames and links.
        let moved = walk(&vfs, "/data/sub/moved", Follow::NotFinal)
            .unwrap()
            .guest;
        vfs.rename(&me, &from, &n, &moved, None).unwrap();
        assert_eq!(
            std::fs::read(s.host().join("sub/moved")).unwrap(),
            b"on the host"
        );
        let (m, mn) = node(&vfs, "/data/sub/moved");
        let second = walk(&vfs, "/data/second", Follow::NotFinal).unwrap().guest;
        vfs.link(&m, &mn, &second).unwrap();
        assert_eq!(
            std::fs::read(s.host().join("second")).unwrap(),
            b"on the host"
        );
    }

    #[test]
    fn an_overlay_directory_holding_a_mount_point_cannot_move() {
        let s = Scratch::new("holder");
        let mut vfs = s.vfs("/srv/data");
        let exe = GuestPathBuf::root();
        let me = ProcSelf::nobody(&exe);
        let (g, n) = node(&vfs, "/srv");
        let to = walk(&vfs, "/srv2", Follow::NotFinal).unwrap().guest;
        assert_eq!(vfs.rename(&me, &g, &n, &to, None), Err(Errno::EBUSY));
        assert_eq!(vfs.rmdir(&me, &g, &n), Err(Errno::ENOTEMPTY));
    }

    #[test]
    fn changes_below_the_mount_reach_the_host() {
        let s = Scratch::new("changes");
        let mut vfs = s.vfs("/data");
        let exe = GuestPathBuf::root();
        let me = ProcSelf::nobody(&exe);
        let at = |vfs: &Vfs, p: &str| {
            let g = walk(vfs, p, Follow::NotFinal).unwrap().guest;
            vfs.host_path(&g).unwrap()
        };
        at(&vfs, "/data/dir").mkdir(0o750).unwrap();
        at(&vfs, "/data/dir/link").symlink(b"../hostfile").unwrap();
        let mut f = at(&vfs, "/data/new").create_file(0o600, O_RDWR, 0).unwrap();
        f.write_at(2, b"xy").unwrap();
        assert_eq!(std::fs::read(s.host().join("new")).unwrap(), b"\0\0xy");
        assert_eq!(
            std::fs::read_link(s.host().join("dir/link")).unwrap(),
            Path::new("../hostfile")
        );
        assert_eq!(
            at(&vfs, "/data/new").create_file(0o600, O_RDONLY, 0).err(),
            Some(Errno::EEXIST)
        );
        let (g, n) = node(&vfs, "/data/dir/link");
        vfs.unlink(&g, &n).unwrap();
        let (g, n) = node(&vfs, "/data/dir");
        vfs.rmdir(&me, &g, &n).unwrap();
        assert!(!s.host().join("dir").exists());
        let Node::Host(h) = node(&vfs, "/data/new").1 else {
            panic!("/data/new is a host file");
        };
        h.truncate(1).unwrap();
        assert_eq!(std::fs::read(s.host().join("new")).unwrap(), b"\0");
        assert_eq!(h.chown(1000, u32::MAX), Err(Errno::EPERM));
        h.chown(0, 0).unwrap();
    }

    #[test]
    fn proc_mounts_lines() {
        let s = Scratch::new("proc");
        let mut vfs = s.vfs("/data");
        vfs.mount(b"/srv/with space", s.host()).unwrap();
        assert_eq!(
            vfs.mounts.proc_mounts(),
            "hostdir /data 9p rw,relatime 0 0\nhostdir /srv/with\\040space 9p rw,relatime 0 0\n"
        );
        assert_eq!(
            vfs.mounts.proc_mountinfo(4),
            "4 1 0:48 / /data rw,relatime - 9p hostdir rw\n\
             5 1 0:49 / /srv/with\\040space rw,relatime - 9p hostdir rw\n"
        );
    }
}
