//! Translation between the host the runtime runs on (native Unix or WASI) and the guest's
//! Linux view: host I/O errors to [`Errno`], host metadata to `struct stat`, host path bytes.
//!
//! Errors are mapped by [`std::io::ErrorKind`], not by raw host error numbers, which non-Linux
//! hosts number differently while the guest must see the same errno everywhere; the exception is
//! WASI, whose numbers its specification fixes and whose std leaves many uncategorised.
//! Everything that needs `std::os::unix` or `std::os::wasi` is gated here.

use crate::abi::Errno;
use crate::abi::fs::{S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, Stat, StatTime};
use std::ffi::OsStr;
use std::fs::Metadata;
use std::io::{self, ErrorKind};
use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;
#[cfg(target_os = "wasi")]
use std::os::wasi::ffi::OsStrExt;

/// The errno Linux would give for a failed host file operation.
pub fn errno_of(e: &io::Error) -> Errno {
    #[cfg(target_os = "wasi")]
    if let Some(errno) = e
        .raw_os_error()
        .and_then(|raw| usize::try_from(raw).ok())
        .and_then(|raw| raw.checked_sub(1))
        .and_then(|i| WASI_ERRNOS.get(i))
    {
        return *errno;
    }
    match e.kind() {
        ErrorKind::NotFound => Errno::ENOENT,
        ErrorKind::PermissionDenied => Errno::EACCES,
        ErrorKind::AlreadyExists => Errno::EEXIST,
        ErrorKind::NotADirectory => Errno::ENOTDIR,
        ErrorKind::IsADirectory => Errno::EISDIR,
        ErrorKind::DirectoryNotEmpty => Errno::ENOTEMPTY,
        ErrorKind::ReadOnlyFilesystem => Errno::EROFS,
        ErrorKind::InvalidInput => Errno::EINVAL,
        ErrorKind::InvalidFilename => Errno::ENAMETOOLONG,
        ErrorKind::BrokenPipe => Errno::EPIPE,
        ErrorKind::WouldBlock => Errno::EAGAIN,
        ErrorKind::Interrupted => Errno::EINTR,
        ErrorKind::StorageFull => Errno::ENOSPC,
        ErrorKind::FileTooLarge => Errno::EFBIG,
        ErrorKind::CrossesDevices => Errno::EXDEV,
        ErrorKind::TooManyLinks => Errno::EMLINK,
        ErrorKind::NotSeekable => Errno::ESPIPE,
        ErrorKind::OutOfMemory => Errno::ENOMEM,
        ErrorKind::Unsupported => Errno::EOPNOTSUPP,
        _ => Errno::EIO,
    }
}

/// The Linux errno of each WASI preview 1 `errno` from 1 (`2big`) to 76 (`notcapable`, a
/// path outside the preopen: `EPERM`), in the specification's order. WASI numbers its errors
/// once for every host, so they can be read exactly, while its std leaves many of them
/// uncategorised (`notempty` among them), which [`io::ErrorKind`] could not tell apart.
#[cfg(target_os = "wasi")]
const WASI_ERRNOS: [Errno; 76] = [
    Errno::E2BIG,
    Errno::EACCES,
    Errno::EADDRINUSE,
    Errno::EADDRNOTAVAIL,
    Errno::EAFNOSUPPORT,
    Errno::EAGAIN,
    Errno::EALREADY,
    Errno::EBADF,
    Errno::EBADMSG,
    Errno::EBUSY,
    Errno::ECANCELED,
    Errno::ECHILD,
    Errno::ECONNABORTED,
    Errno::ECONNREFUSED,
    Errno::ECONNRESET,
    Errno::EDEADLK,
    Errno::EDESTADDRREQ,
    Errno::EDOM,
    Errno::EDQUOT,
    Errno::EEXIST,
    Errno::EFAULT,
    Errno::EFBIG,
    Errno::EHOSTUNREACH,
    Errno::EIDRM,
    Errno::EILSEQ,
    Errno::EINPROGRESS,
    Errno::EINTR,
    Errno::EINVAL,
    Errno::EIO,
    Errno::EISCONN,
    Errno::EISDIR,
    Errno::ELOOP,
    Errno::EMFILE,
    Errno::EMLINK,
    Errno::EMSGSIZE,
    Errno::EMULTIHOP,
    Errno::ENAMETOOLONG,
    Errno::ENETDOWN,
    Errno::ENETRESET,
    Errno::ENETUNREACH,
    Errno::ENFILE,
    Errno::ENOBUFS,
    Errno::ENODEV,
    Errno::ENOENT,
    Errno::ENOEXEC,
    Errno::ENOLCK,
    Errno::ENOLINK,
    Errno::ENOMEM,
    Errno::ENOMSG,
    Errno::ENOPROTOOPT,
    Errno::ENOSPC,
    Errno::ENOSYS,
    Errno::ENOTCONN,
    Errno::ENOTDIR,
    Errno::ENOTEMPTY,
    Errno::ENOTRECOVERABLE,
    Errno::ENOTSOCK,
    Errno::EOPNOTSUPP,
    Errno::ENOTTY,
    Errno::ENXIO,
    Errno::EOVERFLOW,
    Errno::EOWNERDEAD,
    Errno::EPERM,
    Errno::EPIPE,
    Errno::EPROTO,
    Errno::EPROTONOSUPPORT,
    Errno::EPROTOTYPE,
    Errno::ERANGE,
    Errno::EROFS,
    Errno::ESPIPE,
    Errno::ESRCH,
    Errno::ESTALE,
    Errno::ETIMEDOUT,
    Errno::ETXTBSY,
    Errno::EXDEV,
    Errno::EPERM,
];

/// Guest path bytes as a host path component (Linux and WASI paths are both byte strings).
pub fn os_str(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}

pub fn os_bytes(s: &OsStr) -> &[u8] {
    s.as_bytes()
}

/// `lstat` of a host path, with a missing file (or a non-directory on the way) as `None`.
pub fn lstat_if_exists(path: &std::path::Path) -> Result<Option<Metadata>, Errno> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => Ok(Some(meta)),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => Ok(None),
        Err(e) => Err(errno_of(&e)),
    }
}

/// Device number reported for files of the root file system (an overlay's anonymous device).
pub const ROOTFS_DEV: u64 = 0x2f;

/// `struct stat` for a file of the rootfs. Owners are always root: the image's files belong to
/// root inside the container whoever unpacked them on the host. `ino_hint` stands in for the
/// inode number where the host does not expose one (WASI).
pub fn stat_of(meta: &Metadata, ino_hint: u64) -> Stat {
    let ft = meta.file_type();
    let time = |t: io::Result<SystemTime>| {
        t.ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| StatTime {
                sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                nsec: u64::from(d.subsec_nanos()),
            })
            .unwrap_or_default()
    };
    let size = i64::try_from(meta.len()).unwrap_or(i64::MAX);
    let mut st = Stat {
        dev: ROOTFS_DEV,
        ino: ino_hint,
        mode: file_type_bits(&ft),
        nlink: if ft.is_dir() { 2 } else { 1 },
        size,
        blksize: 4096,
        blocks: (size + 511) / 512,
        atime: time(meta.accessed()),
        mtime: time(meta.modified()),
        ctime: time(meta.modified()),
        ..Stat::default()
    };
    host_specific(meta, &mut st);
    st
}

fn file_type_bits(ft: &std::fs::FileType) -> u32 {
    #[cfg(unix)]
    {
        use crate::abi::fs::{S_IFBLK, S_IFIFO, S_IFSOCK};
        use std::os::unix::fs::FileTypeExt;
        if ft.is_char_device() {
            return S_IFCHR;
        }
        if ft.is_block_device() {
            return S_IFBLK;
        }
        if ft.is_fifo() {
            return S_IFIFO;
        }
        if ft.is_socket() {
            return S_IFSOCK;
        }
    }
    if ft.is_dir() {
        S_IFDIR
    } else if ft.is_symlink() {
        S_IFLNK
    } else if ft.is_file() {
        S_IFREG
    } else {
        // WASI reports devices and sockets as "unknown"; a character device is the closest.
        S_IFCHR
    }
}

#[cfg(unix)]
fn host_specific(meta: &Metadata, st: &mut Stat) {
    use std::os::unix::fs::MetadataExt;
    st.ino = meta.ino();
    st.mode = (st.mode & crate::abi::fs::S_IFMT) | (meta.mode() & 0o7777);
    st.nlink = u32::try_from(meta.nlink()).unwrap_or(u32::MAX);
    st.blocks = meta.blocks() as i64;
    st.blksize = i32::try_from(meta.blksize()).unwrap_or(4096);
    st.atime.sec = meta.atime();
    st.atime.nsec = meta.atime_nsec() as u64;
    st.ctime.sec = meta.ctime();
    st.ctime.nsec = meta.ctime_nsec() as u64;
}

/// WASI exposes no permission bits: directories and regular files get the modes an image
/// usually has, symlinks the 0777 Linux gives every symlink. TODO(#bundle-modes): take modes
/// from the bundle index once it carries them.
#[cfg(not(unix))]
fn host_specific(meta: &Metadata, st: &mut Stat) {
    st.mode |= if meta.is_dir() {
        0o755
    } else if meta.file_type().is_symlink() {
        0o777
    } else {
        0o644
    };
}

/// What `fstat`/`fstatat` said of a host file, kept as the host's `struct stat`: host
/// directory mounts look files up with the `*at` calls, which std does not wrap.
#[derive(Clone, Copy)]
pub struct HostStat(libc::stat);

impl HostStat {
    pub fn from_raw(st: libc::stat) -> HostStat {
        HostStat(st)
    }

    fn file_type(&self) -> libc::mode_t {
        self.0.st_mode & libc::S_IFMT
    }

    pub fn is_dir(&self) -> bool {
        self.file_type() == libc::S_IFDIR
    }

    pub fn is_symlink(&self) -> bool {
        self.file_type() == libc::S_IFLNK
    }

    /// A regular file (not a device, FIFO or socket).
    pub fn is_file(&self) -> bool {
        self.file_type() == libc::S_IFREG
    }

    pub fn len(&self) -> u64 {
        u64::try_from(self.0.st_size).unwrap_or(0)
    }

    /// True if anyone may execute the file; on WASI, which has no permission bits, any
    /// regular file may be tried and the ELF check decides.
    pub fn is_executable(&self) -> bool {
        if cfg!(target_os = "wasi") {
            self.is_file()
        } else {
            #[allow(clippy::unnecessary_cast)]
            let mode = self.0.st_mode as u32;
            mode & 0o111 != 0
        }
    }

    /// `struct stat` as [`stat_of`] makes it from std's metadata, so a host file shows the
    /// same whichever way it was looked at.
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    pub fn stat(&self, ino_hint: u64) -> Stat {
        use crate::abi::fs::{S_IFBLK, S_IFIFO, S_IFSOCK};
        let st = &self.0;
        let mode = match self.file_type() {
            libc::S_IFDIR => S_IFDIR,
            libc::S_IFLNK => S_IFLNK,
            libc::S_IFREG => S_IFREG,
            libc::S_IFBLK => S_IFBLK,
            libc::S_IFIFO => S_IFIFO,
            libc::S_IFSOCK => S_IFSOCK,
            // WASI reports some files as "unknown"; a character device is the closest.
            _ => S_IFCHR,
        };
        let size = i64::try_from(self.len()).unwrap_or(i64::MAX);
        let time = |sec: i64, nsec: i64| StatTime {
            sec,
            nsec: u64::try_from(nsec).unwrap_or(0),
        };
        #[cfg(target_os = "wasi")]
        let (atime, mtime) = (
            time(st.st_atim.tv_sec, st.st_atim.tv_nsec as i64),
            time(st.st_mtim.tv_sec, st.st_mtim.tv_nsec as i64),
        );
        #[cfg(not(target_os = "wasi"))]
        let (atime, mtime) = (
            time(st.st_atime as i64, st.st_atime_nsec as i64),
            time(st.st_mtime as i64, st.st_mtime_nsec as i64),
        );
        let mut out = Stat {
            dev: ROOTFS_DEV,
            ino: ino_hint,
            mode,
            nlink: if self.is_dir() { 2 } else { 1 },
            size,
            blksize: 4096,
            blocks: (size + 511) / 512,
            atime,
            mtime,
            ctime: mtime,
            ..Stat::default()
        };
        #[cfg(not(target_os = "wasi"))]
        {
            out.ino = st.st_ino as u64;
            out.mode |= u32::from(st.st_mode) & 0o7777;
            out.nlink = u32::try_from(st.st_nlink).unwrap_or(u32::MAX);
            out.blocks = st.st_blocks as i64;
            out.blksize = i32::try_from(st.st_blksize).unwrap_or(4096);
            out.ctime = time(st.st_ctime as i64, st.st_ctime_nsec as i64);
        }
        // As from std's metadata there (see `host_specific`): made-up permission bits.
        #[cfg(target_os = "wasi")]
        {
            out.mode |= if self.is_dir() {
                0o755
            } else if self.is_symlink() {
                0o777
            } else {
                0o644
            };
        }
        out
    }
}

/// True if anyone may execute the file (`X_OK` for root needs one execute bit).
pub fn is_executable(meta: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        // No permission bits on WASI: any regular file may be tried, the ELF check decides.
        meta.is_file()
    }
}

/// WASI preview 1's preopened-directory calls, declared by hand as `poll_oneoff` is: std
/// keeps its preopen table to itself.
#[cfg(target_os = "wasi")]
mod wasi_prestat {
    /// `prestat`: the tag (0: a directory) and `prestat_dir`'s name length.
    #[repr(C)]
    pub struct Prestat {
        pub tag: u8,
        pub name_len: usize,
    }

    const _: () = assert!(std::mem::size_of::<Prestat>() == 8);

    pub const PREOPENTYPE_DIR: u8 = 0;

    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        pub fn fd_prestat_get(fd: u32, buf: *mut Prestat) -> u16;
        pub fn fd_prestat_dir_name(fd: u32, path: *mut u8, path_len: usize) -> u16;
    }
}

/// Most preopened directories looked at: guards the scan against a host that answers for
/// every descriptor.
#[cfg(target_os = "wasi")]
const MAX_PREOPENS: u32 = 1024;

/// The names of the directories the host preopened (`wasmtime --dir HOST::GUEST` names one
/// `GUEST`), in descriptor order. Preopens are descriptors 3 and up, before anything else is
/// opened; the first descriptor that is not one ends them.
#[cfg(target_os = "wasi")]
pub fn preopens() -> Vec<Vec<u8>> {
    use wasi_prestat::*;
    let mut names = Vec::new();
    for fd in 3..3 + MAX_PREOPENS {
        let mut p = Prestat {
            tag: 0,
            name_len: 0,
        };
        // SAFETY: `p` is a live `prestat` the call fills in.
        if unsafe { fd_prestat_get(fd, &mut p) } != 0 {
            break;
        }
        if p.tag != PREOPENTYPE_DIR {
            continue;
        }
        let mut name = vec![0u8; p.name_len];
        // SAFETY: `name` has room for the `name_len` bytes the host said the name has.
        if unsafe { fd_prestat_dir_name(fd, name.as_mut_ptr(), name.len()) } != 0 {
            continue;
        }
        // Some hosts count a terminating NUL in the length.
        while name.last() == Some(&0) {
            name.pop();
        }
        names.push(name);
    }
    names
}

/// Reads host stdin without a buffer in between, so that [`stdin_ready`] sees every byte the
/// guest has not read yet (std's `Stdin` would hold read-ahead data the host cannot see).
pub fn read_stdin(buf: &mut [u8]) -> io::Result<usize> {
    use std::io::Read;
    use std::mem::ManuallyDrop;
    use std::os::fd::FromRawFd;
    // SAFETY: fd 0 is the host's stdin for the whole run, and `ManuallyDrop` keeps this
    // temporary `File` from closing it.
    let mut stdin = ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(0) });
    STDIN_READY.set(false);
    match stdin.read(buf) {
        // A closed fd 0 reads as end of file, as std's own `Stdin` treats it.
        Err(e) if e.raw_os_error() == Some(EBADF) => Ok(0),
        r => r,
    }
}

/// The host's `EBADF`: Linux's number natively, WASI's `errno::badf` in wasm.
#[cfg(unix)]
const EBADF: i32 = libc::EBADF;
#[cfg(target_os = "wasi")]
const EBADF: i32 = 8;

thread_local! {
    /// A blocking wait saw stdin readable and nothing has read it since. Some hosts' polls
    /// (node's uvwasi) answer a zero timeout with the clock before looking at the fd, so
    /// [`stdin_ready`] trusts what the last real wait saw.
    static STDIN_READY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a read of host stdin would return at once (data, end of file, or an error).
pub fn stdin_ready() -> bool {
    STDIN_READY.get() || wait_stdin(Some(0))
}

/// Blocks the whole runtime until host stdin is readable or `timeout_ns` has passed (`None`:
/// no limit). Returns whether stdin is readable. Used when every task waits on the host.
pub fn wait_stdin(timeout_ns: Option<u64>) -> bool {
    let ready = poll_stdin(timeout_ns);
    if ready {
        STDIN_READY.set(true);
    }
    ready
}

#[cfg(unix)]
fn poll_stdin(timeout_ns: Option<u64>) -> bool {
    let timeout_ms = match timeout_ns {
        // Rounded up, so the caller never wakes before its deadline and spins.
        Some(ns) => i32::try_from(ns.div_ceil(1_000_000)).unwrap_or(i32::MAX),
        None => -1,
    };
    let mut fds = [libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: `fds` is a live array of one `pollfd`, as the count says.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, timeout_ms) };
    // POLLHUP (end of file) and POLLERR/POLLNVAL (a read fails at once) count as ready too.
    n > 0 && fds[0].revents != 0
}

/// WASI preview 1 `poll_oneoff`, declared by hand: the one host call std does not wrap.
#[cfg(target_os = "wasi")]
mod wasi_poll {
    /// `subscription`: userdata, then the `subscription_u` tag and union (48 bytes).
    #[repr(C)]
    pub struct Subscription {
        pub userdata: u64,
        pub tag: u8,
        /// `subscription_clock` (`id`, `timeout`, `precision`, `flags`) or
        /// `subscription_fd_readwrite` (`file_descriptor` in the first 4 bytes).
        pub u: [u64; 4],
    }

    /// `event`: userdata, error, type and `event_fd_readwrite` (32 bytes).
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
    pub struct Event {
        pub userdata: u64,
        pub error: u16,
        pub kind: u8,
        pub fd_readwrite: [u64; 2],
    }

    const _: () = assert!(std::mem::size_of::<Subscription>() == 48);
    const _: () = assert!(std::mem::size_of::<Event>() == 32);

    pub const EVENTTYPE_CLOCK: u8 = 0;
    pub const EVENTTYPE_FD_READ: u8 = 1;
    pub const CLOCKID_MONOTONIC: u64 = 1;

    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        pub fn poll_oneoff(
            subs: *const Subscription,
            events: *mut Event,
            nsubscriptions: usize,
            nevents: *mut usize,
        ) -> u16;
    }
}

/// Blocks the whole runtime until host stdin is readable or `timeout_ns` has passed (`None`:
/// no limit), with one `poll_oneoff` over an `FD_READ` subscription on fd 0 and a relative
/// monotonic clock. Returns whether stdin is readable.
#[cfg(target_os = "wasi")]
fn poll_stdin(timeout_ns: Option<u64>) -> bool {
    use wasi_poll::*;
    let mut subs = vec![Subscription {
        userdata: 0,
        tag: EVENTTYPE_FD_READ,
        u: [0, 0, 0, 0],
    }];
    if let Some(ns) = timeout_ns {
        subs.push(Subscription {
            userdata: 1,
            tag: EVENTTYPE_CLOCK,
            // id, timeout, precision, flags (0: relative).
            u: [CLOCKID_MONOTONIC, ns, 0, 0],
        });
    }
    let mut events = [Event::default(); 2];
    let mut n = 0usize;
    // SAFETY: `subs` holds `subs.len()` subscriptions and `events` room for as many events;
    // `n` is a live out-parameter.
    let rc = unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len(), &mut n) };
    // A failed poll reports stdin ready, so the read that follows returns the error instead of
    // the runtime spinning here.
    rc != 0 || events.iter().take(n).any(|e| e.kind == EVENTTYPE_FD_READ)
}
