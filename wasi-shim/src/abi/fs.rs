//! File-system ABI: `open` and `*at` flags, `fcntl` commands, file types, `struct stat` and
//! `struct iovec` as riscv64 lays them out (`include/uapi/asm-generic/fcntl.h`,
//! `include/uapi/asm-generic/stat.h`, `include/uapi/linux/uio.h`).

use super::{get_u64, put_u32, put_u64};

pub const O_ACCMODE: u32 = 0o3;
pub const O_RDONLY: u32 = 0o0;
pub const O_WRONLY: u32 = 0o1;
pub const O_RDWR: u32 = 0o2;
pub const O_CREAT: u32 = 0o100;
pub const O_EXCL: u32 = 0o200;
pub const O_NOCTTY: u32 = 0o400;
pub const O_TRUNC: u32 = 0o1000;
pub const O_APPEND: u32 = 0o2000;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_DSYNC: u32 = 0o10000;
pub const O_DIRECT: u32 = 0o40000;
pub const O_LARGEFILE: u32 = 0o100000;
pub const O_DIRECTORY: u32 = 0o200000;
pub const O_NOFOLLOW: u32 = 0o400000;
pub const O_NOATIME: u32 = 0o1000000;
pub const O_CLOEXEC: u32 = 0o2000000;
pub const O_PATH: u32 = 0o10000000;
pub const O_TMPFILE: u32 = 0o20000000 | O_DIRECTORY;

/// The status flags `F_SETFL` may change (`SETFL_MASK` in `fs/fcntl.c`).
pub const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME;

/// `dirfd` meaning "the current working directory".
pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub const AT_EACCESS: u32 = 0x200;
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
pub const AT_EMPTY_PATH: u32 = 0x1000;
/// `unlinkat`: remove a directory (shares its value with `AT_EACCESS`).
pub const AT_REMOVEDIR: u32 = 0x200;
/// `statx` synchronisation flags; we have nothing to synchronise with.
pub const AT_STATX_SYNC_TYPE: u32 = 0x6000;

pub const RENAME_NOREPLACE: u32 = 1;
pub const RENAME_EXCHANGE: u32 = 2;
pub const RENAME_WHITEOUT: u32 = 4;

/// `utimensat` `tv_nsec` values.
pub const UTIME_NOW: u64 = (1 << 30) - 1;
pub const UTIME_OMIT: u64 = (1 << 30) - 2;

/// `fallocate` modes other than 0 are not supported.
pub const FALLOC_FL_KEEP_SIZE: u32 = 1;

pub const F_DUPFD: u32 = 0;
pub const F_GETFD: u32 = 1;
pub const F_SETFD: u32 = 2;
pub const F_GETFL: u32 = 3;
pub const F_SETFL: u32 = 4;
pub const F_DUPFD_CLOEXEC: u32 = 1024 + 6;
pub const F_GETLK: u32 = 5;
pub const F_SETLK: u32 = 6;
pub const F_SETLKW: u32 = 7;
pub const F_OFD_GETLK: u32 = 36;
pub const F_OFD_SETLK: u32 = 37;
pub const F_OFD_SETLKW: u32 = 38;
/// `l_type` of a `struct flock` that holds no lock.
pub const F_UNLCK: u16 = 2;
pub const FD_CLOEXEC: u64 = 1;

/// `faccessat` modes.
pub const F_OK: u32 = 0;
pub const X_OK: u32 = 1;
pub const W_OK: u32 = 2;
pub const R_OK: u32 = 4;

pub const SEEK_SET: u32 = 0;
pub const SEEK_CUR: u32 = 1;
pub const SEEK_END: u32 = 2;
pub const SEEK_DATA: u32 = 3;
pub const SEEK_HOLE: u32 = 4;

/// `d_type` values of `struct linux_dirent64` (the file type bits shifted down).
pub const DT_REG: u8 = 8;
pub const DT_DIR: u8 = 4;
pub const DT_LNK: u8 = 10;

pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;

/// `PATH_MAX`: longest path a syscall accepts, NUL included.
pub const PATH_MAX: usize = 4096;
/// `NAME_MAX`: longest single path component.
pub const NAME_MAX: usize = 255;
/// `MAXSYMLINKS`: symlinks followed in one path walk before `ELOOP` (`include/linux/namei.h`).
pub const MAXSYMLINKS: u32 = 40;
/// `UIO_MAXIOV`: most iovecs one `readv`/`writev` takes.
pub const UIO_MAXIOV: u64 = 1024;
/// Largest byte count one read or write moves (`MAX_RW_COUNT`, `INT_MAX & PAGE_MASK`).
pub const MAX_RW_COUNT: u64 = 0x7fff_f000;

/// `makedev` as glibc and the kernel's `new_encode_dev` agree for small numbers.
pub const fn makedev(major: u32, minor: u32) -> u64 {
    ((major as u64 & 0xfff) << 8)
        | (minor as u64 & 0xff)
        | ((minor as u64 & !0xff) << 12)
        | ((major as u64 & !0xfff) << 32)
}

/// A time stamp as `struct stat` stores it: seconds and nanoseconds.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct StatTime {
    pub sec: i64,
    pub nsec: u64,
}

/// `struct stat` of the asm-generic layout riscv64 uses (`newfstatat`, `fstat`).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i32,
    pub blocks: i64,
    pub atime: StatTime,
    pub mtime: StatTime,
    pub ctime: StatTime,
}

impl Stat {
    pub const SIZE: usize = 128;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, 0, self.dev);
        put_u64(&mut b, 8, self.ino);
        put_u32(&mut b, 16, self.mode);
        put_u32(&mut b, 20, self.nlink);
        put_u32(&mut b, 24, self.uid);
        put_u32(&mut b, 28, self.gid);
        put_u64(&mut b, 32, self.rdev);
        put_u64(&mut b, 48, self.size as u64);
        put_u32(&mut b, 56, self.blksize as u32);
        put_u64(&mut b, 64, self.blocks as u64);
        for (off, t) in [(72, self.atime), (88, self.mtime), (104, self.ctime)] {
            put_u64(&mut b, off, t.sec as u64);
            put_u64(&mut b, off + 8, t.nsec);
        }
        b
    }
}

/// `struct statx` (`include/uapi/linux/stat.h`): 256 bytes.
pub mod statx {
    use super::super::{put_u32, put_u64};
    use super::Stat;

    pub const STATX_BASIC_STATS: u32 = 0x7ff;
    pub const SIZE: usize = 256;

    /// The `statx` buffer for `st`; `mask` is what the caller asked for, of which we fill the
    /// basic fields.
    pub fn to_bytes(st: &Stat) -> [u8; SIZE] {
        let mut b = [0u8; SIZE];
        put_u32(&mut b, 0, STATX_BASIC_STATS);
        put_u32(&mut b, 4, st.blksize as u32);
        put_u32(&mut b, 16, st.nlink);
        put_u32(&mut b, 20, st.uid);
        put_u32(&mut b, 24, st.gid);
        b[28..30].copy_from_slice(&(st.mode as u16).to_le_bytes());
        put_u64(&mut b, 32, st.ino);
        put_u64(&mut b, 40, st.size as u64);
        put_u64(&mut b, 48, st.blocks as u64);
        // atime, btime (left zero: not in the mask), ctime, mtime.
        for (off, t) in [(64, st.atime), (96, st.ctime), (112, st.mtime)] {
            put_u64(&mut b, off, t.sec as u64);
            put_u32(&mut b, off + 8, t.nsec as u32);
        }
        let (rmaj, rmin) = super::major_minor(st.rdev);
        let (dmaj, dmin) = super::major_minor(st.dev);
        put_u32(&mut b, 128, rmaj);
        put_u32(&mut b, 132, rmin);
        put_u32(&mut b, 136, dmaj);
        put_u32(&mut b, 140, dmin);
        b
    }
}

/// The major and minor numbers of a `dev_t` (`MAJOR`/`MINOR` of glibc's encoding).
pub const fn major_minor(dev: u64) -> (u32, u32) {
    (
        (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as u32,
        ((dev & 0xff) | ((dev >> 12) & !0xff)) as u32,
    )
}

/// `struct statfs` of 64-bit asm-generic (`__statfs_word` is `long`): 120 bytes.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Statfs {
    pub fs_type: u64,
    pub bsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub namelen: u64,
    pub flags: u64,
}

pub const OVERLAYFS_SUPER_MAGIC: u64 = 0x794c_7630;
pub const PROC_SUPER_MAGIC: u64 = 0x9fa0;
pub const TMPFS_MAGIC: u64 = 0x0102_1994;
pub const V9FS_MAGIC: u64 = 0x0102_1997;
/// `ST_RELATIME`, the one mount flag `/` shows.
pub const ST_RELATIME: u64 = 0x1000;

impl Statfs {
    pub const SIZE: usize = 120;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        for (off, v) in [
            (0, self.fs_type),
            (8, self.bsize),
            (16, self.blocks),
            (24, self.bfree),
            (32, self.bavail),
            (40, self.files),
            (48, self.ffree),
            (64, self.namelen),
            (72, self.bsize),
            (80, self.flags),
        ] {
            put_u64(&mut b, off, v);
        }
        b
    }
}

/// The fixed part of `struct linux_dirent64` before the name: `d_ino`, `d_off`, `d_reclen`,
/// `d_type`.
pub const DIRENT64_HEADER: usize = 19;

/// One `struct linux_dirent64` record, NUL-terminated and padded to 8 bytes.
pub fn dirent64(ino: u64, off: u64, dtype: u8, name: &[u8]) -> Vec<u8> {
    let reclen = (DIRENT64_HEADER + name.len() + 1).next_multiple_of(8);
    let mut b = vec![0u8; reclen];
    put_u64(&mut b, 0, ino);
    put_u64(&mut b, 8, off);
    b[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
    b[18] = dtype;
    b[DIRENT64_HEADER..DIRENT64_HEADER + name.len()].copy_from_slice(name);
    b
}

/// `struct iovec { void *iov_base; size_t iov_len; }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iovec {
    pub base: u64,
    pub len: u64,
}

impl Iovec {
    pub const SIZE: usize = 16;

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Iovec {
        Iovec {
            base: get_u64(b, 0),
            len: get_u64(b, 8),
        }
    }
}

/// `poll(2)` events (`include/uapi/asm-generic/poll.h`).
pub const POLLIN: u16 = 0x001;
pub const POLLPRI: u16 = 0x002;
pub const POLLOUT: u16 = 0x004;
pub const POLLERR: u16 = 0x008;
pub const POLLHUP: u16 = 0x010;
pub const POLLNVAL: u16 = 0x020;
pub const POLLRDNORM: u16 = 0x040;
pub const POLLWRNORM: u16 = 0x100;
/// `sizeof(struct pollfd)`: `int fd; short events; short revents;`.
pub const POLLFD_SIZE: u64 = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_layout_matches_asm_generic() {
        let s = Stat {
            mode: 0o100644,
            size: 0x1122,
            blksize: 4096,
            mtime: StatTime { sec: 7, nsec: 9 },
            ..Stat::default()
        };
        let b = s.to_bytes();
        assert_eq!(u32::from_le_bytes(b[16..20].try_into().unwrap()), 0o100644);
        assert_eq!(u64::from_le_bytes(b[48..56].try_into().unwrap()), 0x1122);
        assert_eq!(u32::from_le_bytes(b[56..60].try_into().unwrap()), 4096);
        assert_eq!(u64::from_le_bytes(b[88..96].try_into().unwrap()), 7);
        assert_eq!(u64::from_le_bytes(b[96..104].try_into().unwrap()), 9);
    }

    #[test]
    fn statx_and_dirent_layouts() {
        let st = Stat {
            mode: 0o100644,
            ino: 42,
            size: 5,
            rdev: makedev(136, 3),
            ..Stat::default()
        };
        let b = statx::to_bytes(&st);
        assert_eq!(b.len(), 256);
        assert_eq!(u16::from_le_bytes([b[28], b[29]]), 0o100644);
        assert_eq!(u64::from_le_bytes(b[32..40].try_into().unwrap()), 42);
        assert_eq!(u32::from_le_bytes(b[128..132].try_into().unwrap()), 136);
        assert_eq!(u32::from_le_bytes(b[132..136].try_into().unwrap()), 3);
        let d = dirent64(7, 1, DT_REG, b"abcde");
        assert_eq!(d.len(), 32);
        assert_eq!(&d[19..25], b"abcde\0");
        assert_eq!(u16::from_le_bytes([d[16], d[17]]), 32);
    }

    #[test]
    fn makedev_matches_glibc() {
        assert_eq!(makedev(136, 0), 0x8800);
        assert_eq!(makedev(1, 3), 0x103);
    }
}
