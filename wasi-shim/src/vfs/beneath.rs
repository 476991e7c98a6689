//! Host file operations beneath a directory handle: a path is opened one component at a time,
//! each relative to its parent's own descriptor, and no symlink is ever followed by the host.
//! This is what Linux's `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` gives (the kernel's
//! `path_openat` walking `LOOKUP_BENEATH | LOOKUP_NO_SYMLINKS`), built from `openat` with
//! `O_NOFOLLOW` and the other `*at` calls so that one implementation serves both builds:
//! natively they are the host's, and on WASI wasi-libc turns each into a `path_*` call
//! relative to the descriptor without `SYMLINK_FOLLOW`.
//!
//! Invariants:
//! - Every name handed to the host is one component ([`Name`]): no `/`, never `.` or `..`
//!   (only a mount's root is named `.`, relative to itself), so each call stays in the
//!   directory whose handle it is given.
//! - A directory swapped for a symlink after the walk looked at it stops the operation
//!   (`ENOENT`, as if it had been removed, which it was) instead of being followed: the host
//!   never resolves a name through anything but a handle opened with `O_NOFOLLOW`.

use crate::abi::Errno;
use crate::abi::fs::StatTime;
use crate::host::{self, HostStat};
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// How a directory on the way is opened: for lookups only where the host can (`O_PATH`
/// needs no read permission).
#[cfg(target_os = "linux")]
const DIR_FLAGS: libc::c_int = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
#[cfg(not(target_os = "linux"))]
const DIR_FLAGS: libc::c_int = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;

/// Opens the directory `name` in `dir` with [`DIR_FLAGS`], not through a symlink unless
/// `follow` (the mount's own path, which the user chose).
fn open_dir_at(dir: libc::c_int, name: &CStr, follow: bool) -> Result<OwnedFd, Errno> {
    let flags = DIR_FLAGS | if follow { 0 } else { libc::O_NOFOLLOW };
    #[cfg(target_os = "wasi")]
    if dir != libc::AT_FDCWD {
        return wasi::open(dir, name, flags);
    }
    // SAFETY: `name` is NUL-terminated.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags) };
    check(fd)?;
    // SAFETY: `fd` was just opened and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// WASI's `path_open`, called directly: wasi-libc's `openat` asks for no more rights than
/// the directory's descriptor says it passes on, and wasmtime says a directory opened below
/// a preopen passes on no `fd_write` (it cannot be opened for writing itself), so a file
/// opened for writing through wasi-libc below one could not be written. Here the rights are
/// the ones the open needs: wasmtime takes the read and write ones as the access mode, and
/// node's uvwasi checks them against what the directory passes on, which is everything a
/// file or directory can have.
#[cfg(target_os = "wasi")]
mod wasi {
    use super::{CStr, Errno, FromRawFd, OwnedFd};

    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        fn path_open(
            fd: u32,
            dirflags: u32,
            path: *const u8,
            path_len: usize,
            oflags: u32,
            fs_rights_base: u64,
            fs_rights_inheriting: u64,
            fdflags: u32,
            opened: *mut u32,
        ) -> u16;
    }

    const LOOKUP_SYMLINK_FOLLOW: u32 = 1;
    const OFLAGS_CREAT: u32 = 1;
    const OFLAGS_DIRECTORY: u32 = 2;
    const OFLAGS_EXCL: u32 = 4;
    const OFLAGS_TRUNC: u32 = 8;

    const FD_READ: u64 = 1 << 1;
    const FD_WRITE: u64 = 1 << 6;
    /// The rights of a regular file: `fd_datasync` to `fd_allocate` (bits 0-8), the
    /// `fd_filestat_*` ones (21-23) and `poll_fd_readwrite` (27).
    const FILE_RIGHTS: u64 = 0x1ff | 0x7 << 21 | 1 << 27;
    /// What a write-only open lacks, and what a read-only one lacks.
    const READ_RIGHTS: u64 = FD_READ;
    const WRITE_RIGHTS: u64 = FD_WRITE | 1 | 1 << 8 | 1 << 22;
    /// The rights of a directory: `fd_fdstat_set_flags`, `fd_sync`, `fd_advise`, every
    /// `path_*` right, `fd_readdir`, `fd_filestat_get`/`set_times` and `poll_fd_readwrite`.
    const DIR_RIGHTS: u64 = 1 << 3 | 1 << 4 | 1 << 7 | 0xfff << 9 | 1 << 21 | 0x1f << 23;
    /// Passed on to what is opened below: every right but `sock_shutdown`.
    const INHERITING: u64 = (1 << 28) - 1;

    /// `openat(dir, name, flags)` with wasi-libc's flag values.
    pub fn open(dir: libc::c_int, name: &CStr, flags: libc::c_int) -> Result<OwnedFd, Errno> {
        let dirflags = if flags & libc::O_NOFOLLOW == 0 {
            LOOKUP_SYMLINK_FOLLOW
        } else {
            0
        };
        let mut oflags = 0;
        for (flag, oflag) in [
            (libc::O_CREAT, OFLAGS_CREAT),
            (libc::O_DIRECTORY, OFLAGS_DIRECTORY),
            (libc::O_EXCL, OFLAGS_EXCL),
            (libc::O_TRUNC, OFLAGS_TRUNC),
        ] {
            if flags & flag != 0 {
                oflags |= oflag;
            }
        }
        let rights = if flags & libc::O_DIRECTORY != 0 {
            DIR_RIGHTS
        } else {
            let mut rights = FILE_RIGHTS;
            if flags & libc::O_RDONLY == 0 {
                rights &= !READ_RIGHTS;
            }
            if flags & libc::O_WRONLY == 0 {
                rights &= !WRITE_RIGHTS;
            }
            rights
        };
        let dir = u32::try_from(dir).map_err(|_| Errno::EBADF)?;
        let name = name.to_bytes();
        let mut opened = 0u32;
        // SAFETY: `name` is `name.len()` bytes and `opened` a live out-parameter.
        let rc = unsafe {
            path_open(
                dir,
                dirflags,
                name.as_ptr(),
                name.len(),
                oflags,
                rights,
                INHERITING,
                0,
                &mut opened,
            )
        };
        if rc != 0 {
            let e = crate::host::errno_of(&std::io::Error::from_raw_os_error(i32::from(rc)));
            return Err(if e == Errno::ELOOP { Errno::ENOENT } else { e });
        }
        let fd = i32::try_from(opened).map_err(|_| Errno::EBADF)?;
        // SAFETY: the host just opened `fd` for us alone.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// The errno of the host call that just failed. A symlink met where the walk saw a
/// directory (`O_NOFOLLOW`'s `ELOOP`) means the name was swapped since: it is reported as
/// gone.
fn last_errno() -> Errno {
    match host::errno_of(&io::Error::last_os_error()) {
        Errno::ELOOP => Errno::ENOENT,
        e => e,
    }
}

fn check(rc: libc::c_int) -> Result<(), Errno> {
    if rc < 0 { Err(last_errno()) } else { Ok(()) }
}

/// One path component as the host takes it.
pub struct Name(CString);

impl Name {
    /// `name`, which must be a single component (the walk split the path).
    pub fn new(name: &[u8]) -> Result<Name, Errno> {
        if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
            return Err(Errno::EINVAL);
        }
        CString::new(name).map(Name).map_err(|_| Errno::EINVAL)
    }

    /// The directory itself, relative to its own handle.
    pub fn itself() -> Name {
        Name(c".".to_owned())
    }

    fn as_ptr(&self) -> *const libc::c_char {
        self.0.as_ptr()
    }
}

/// A directory handle: a mount's root, borrowed, or one opened below it.
pub enum Dir<'a> {
    Root(BorrowedFd<'a>),
    Below(OwnedFd),
}

impl Dir<'_> {
    pub fn fd(&self) -> RawFd {
        match self {
            Dir::Root(fd) => fd.as_raw_fd(),
            Dir::Below(fd) => fd.as_raw_fd(),
        }
    }
}

/// Opens a directory to serve as a mount's root (`host`: the host's own path natively, the
/// preopen's name on WASI, which wasi-libc opens relative to that preopen).
pub fn open_root(host: &std::path::Path) -> Result<OwnedFd, Errno> {
    let path = CString::new(host::os_bytes(host.as_os_str())).map_err(|_| Errno::EINVAL)?;
    open_dir_at(libc::AT_FDCWD, &path, true)
}

/// The directory `names` below `root`, opened component by component.
pub fn open_dir<'a>(root: BorrowedFd<'a>, names: &[Vec<u8>]) -> Result<Dir<'a>, Errno> {
    let mut dir = Dir::Root(root);
    for name in names {
        dir = Dir::Below(open_dir_at(dir.fd(), &Name::new(name)?.0, false)?);
    }
    Ok(dir)
}

/// `openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC, mode)`.
pub fn open_at(dir: &Dir, name: &Name, flags: libc::c_int, mode: u32) -> Result<OwnedFd, Errno> {
    let flags = flags | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    #[cfg(target_os = "wasi")]
    {
        // WASI keeps no permission bits.
        let _ = mode;
        wasi::open(dir.fd(), &name.0, flags)
    }
    #[cfg(not(target_os = "wasi"))]
    {
        // SAFETY: `name` is NUL-terminated and `mode` is what O_CREAT reads.
        let fd = unsafe { libc::openat(dir.fd(), name.as_ptr(), flags, mode as libc::c_uint) };
        check(fd)?;
        // SAFETY: `fd` was just opened and is owned by nothing else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`.
pub fn lstat_at(dir: &Dir, name: &Name) -> Result<HostStat, Errno> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` has room for a `struct stat`, which a successful call fills in.
    check(unsafe {
        libc::fstatat(
            dir.fd(),
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    // SAFETY: the call succeeded, so `st` is initialised.
    Ok(HostStat::from_raw(unsafe { st.assume_init() }))
}

/// `fstat` of an open descriptor.
pub fn fstat(fd: RawFd) -> Result<HostStat, Errno> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: as in `lstat_at`.
    check(unsafe { libc::fstat(fd, st.as_mut_ptr()) })?;
    // SAFETY: the call succeeded, so `st` is initialised.
    Ok(HostStat::from_raw(unsafe { st.assume_init() }))
}

pub fn mkdir_at(dir: &Dir, name: &Name, mode: u32) -> Result<(), Errno> {
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::mkdirat(dir.fd(), name.as_ptr(), (mode & 0o7777) as libc::mode_t) })
}

/// `unlinkat`: a non-directory (the name itself, never what a symlink points to), or with
/// `AT_REMOVEDIR` an empty directory.
pub fn unlink_at(dir: &Dir, name: &Name, remove_dir: bool) -> Result<(), Errno> {
    let flags = if remove_dir { libc::AT_REMOVEDIR } else { 0 };
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::unlinkat(dir.fd(), name.as_ptr(), flags) })
}

pub fn rename_at(from: &Dir, old: &Name, to: &Dir, new: &Name) -> Result<(), Errno> {
    // SAFETY: both names are NUL-terminated.
    check(unsafe { libc::renameat(from.fd(), old.as_ptr(), to.fd(), new.as_ptr()) })
}

/// `linkat` without `AT_SYMLINK_FOLLOW`: a symlink gets a second name itself.
pub fn link_at(from: &Dir, old: &Name, to: &Dir, new: &Name) -> Result<(), Errno> {
    // SAFETY: both names are NUL-terminated.
    check(unsafe { libc::linkat(from.fd(), old.as_ptr(), to.fd(), new.as_ptr(), 0) })
}

/// A symlink `name` in `dir` whose target is `target`, stored as given. wasmtime refuses
/// absolute targets (`EPERM`): its sandbox never lets a symlink name a path outside the
/// preopen.
pub fn symlink_at(target: &[u8], dir: &Dir, name: &Name) -> Result<(), Errno> {
    let target = CString::new(target).map_err(|_| Errno::ENOENT)?;
    // SAFETY: both strings are NUL-terminated.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.fd(), name.as_ptr()) })
}

/// The target of the symlink `name` in `dir`, as stored.
pub fn readlink_at(dir: &Dir, name: &Name) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: `buf` has room for `buf.len()` bytes, which is all the call writes.
        let n = unsafe {
            libc::readlinkat(dir.fd(), name.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
        };
        let n = usize::try_from(n).map_err(|_| last_errno())?;
        if n < buf.len() {
            buf.truncate(n);
            return Ok(buf);
        }
        // Possibly cut short: try again with room to spare (Linux caps targets at 4095).
        if buf.len() > 65536 {
            return Err(Errno::ENAMETOOLONG);
        }
        buf.resize(buf.len() * 4, 0);
    }
}

/// `utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW)`; `None` leaves a time as it is.
pub fn set_times_at(
    dir: &Dir,
    name: &Name,
    atime: Option<StatTime>,
    mtime: Option<StatTime>,
) -> Result<(), Errno> {
    let spec = |t: Option<StatTime>| match t {
        Some(t) => libc::timespec {
            tv_sec: t.sec as libc::time_t,
            // Below 10^9: the syscall checked it.
            tv_nsec: t.nsec as libc::c_long,
        },
        None => libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
    };
    let times = [spec(atime), spec(mtime)];
    // SAFETY: `name` is NUL-terminated and `times` two timespecs, as utimensat reads them.
    check(unsafe {
        libc::utimensat(
            dir.fd(),
            name.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

/// `chmod` of `name` in `dir`, never through a symlink (`fchmodat` with
/// `AT_SYMLINK_NOFOLLOW`, which refuses a symlink itself with `EOPNOTSUPP`, as Linux does).
/// WASI preview 1 has no call that sets permission bits, so there the change is accepted and
/// has no effect, as on a file system without them (vfat mounted `quiet`); `stat` keeps
/// showing the modes [`HostStat::stat`] makes up.
pub fn chmod_at(dir: &Dir, name: &Name, mode: u32) -> Result<(), Errno> {
    #[cfg(unix)]
    {
        // SAFETY: `name` is NUL-terminated.
        check(unsafe {
            libc::fchmodat(
                dir.fd(),
                name.as_ptr(),
                (mode & 0o7777) as libc::mode_t,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, name, mode);
        Ok(())
    }
}

/// The entries of the directory `name` in `dir` (`.` and `..` left out), each with what
/// `fstatat` says of it; a name removed since the listing started is left out.
pub fn list_at(dir: &Dir, name: &Name) -> Result<Vec<(Vec<u8>, HostStat)>, Errno> {
    let fd = open_at(dir, name, libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
    // SAFETY: `fd` is an open directory; the stream owns it from here and closes it.
    let stream = unsafe { libc::fdopendir(fd.as_raw_fd()) };
    if stream.is_null() {
        return Err(last_errno());
    }
    std::mem::forget(fd);
    /// Closes the stream however the listing ends.
    struct Stream(*mut libc::DIR);
    impl Drop for Stream {
        fn drop(&mut self) {
            // SAFETY: the stream is open and closed only here.
            unsafe { libc::closedir(self.0) };
        }
    }
    let stream = Stream(stream);
    // SAFETY: the stream is open; its descriptor lives as long as it does.
    let listed = Dir::Root(unsafe { BorrowedFd::borrow_raw(libc::dirfd(stream.0)) });
    let mut out = Vec::new();
    loop {
        clear_errno();
        // SAFETY: the stream is open; the entry stays valid until the next readdir.
        let entry = unsafe { libc::readdir(stream.0) };
        if entry.is_null() {
            return match io::Error::last_os_error().raw_os_error() {
                Some(0) | None => Ok(out),
                Some(_) => Err(last_errno()),
            };
        }
        // SAFETY: `d_name` is a NUL-terminated name inside the entry.
        let bytes = unsafe { CStr::from_ptr((*entry).d_name.as_ptr()) }.to_bytes();
        if bytes == b"." || bytes == b".." {
            continue;
        }
        let entry_name = Name::new(bytes)?;
        match lstat_at(&listed, &entry_name) {
            Ok(st) => out.push((bytes.to_vec(), st)),
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Sets `errno` to 0, so that a `readdir` that returns NULL tells the end from an error.
fn clear_errno() {
    #[cfg(any(target_os = "linux", target_os = "wasi"))]
    // SAFETY: the calling thread's errno is always writable.
    unsafe {
        *libc::__errno_location() = 0
    };
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    // SAFETY: as above.
    unsafe {
        *libc::__error() = 0
    };
}
