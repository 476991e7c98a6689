//! `/dev`: the character devices programs expect and the `fd`, `stdin`, `stdout`, `stderr`
//! symlinks into `/proc/self/fd`.
//!
//! `/dev` lives in the upper layer as an opaque directory built at start-up ([`populate`]),
//! hiding whatever the image has there, so programs may also create files in it (`/dev/shm`).
//! The nodes are ordinary upper inodes with [`Content::Device`]; this module gives the devices
//! their behaviour once opened ([`Device`]).

use super::GuestPathBuf;
use super::overlay::{Content, Upper};
use crate::abi::Errno;
use crate::abi::fs::{S_IFCHR, S_IFDIR, S_IFLNK, makedev};

/// An opened character device.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Device {
    Null,
    Zero,
    /// Reads zeros; writes fail with `ENOSPC`.
    Full,
    /// `random` and `urandom` (the host's randomness).
    Random,
    /// The controlling terminal.
    Tty,
}

const DEVICES: [(&[u8], u32, u32, Device); 6] = [
    (b"null", 1, 3, Device::Null),
    (b"zero", 1, 5, Device::Zero),
    (b"full", 1, 7, Device::Full),
    (b"random", 1, 8, Device::Random),
    (b"urandom", 1, 9, Device::Random),
    (b"tty", 5, 0, Device::Tty),
];

/// `/dev/pts/0`, the terminal on stdio (when there is one): its device number, and the
/// devpts device and inode its `stat` shows — the same as `fstat` of a terminal fd, so that
/// `ttyname` (which compares the two) finds it.
pub const PTS0_RDEV: u64 = makedev(136, 0);
pub const PTS_DEV: u64 = 0x19;
pub const PTS0_INO: u64 = 3;

const LINKS: [(&[u8], &[u8]); 4] = [
    (b"fd", b"/proc/self/fd"),
    (b"stdin", b"/proc/self/fd/0"),
    (b"stdout", b"/proc/self/fd/1"),
    (b"stderr", b"/proc/self/fd/2"),
];

fn at(name: &[u8]) -> GuestPathBuf {
    GuestPathBuf::from_components([&b"dev"[..], name])
}

/// Creates `/dev` and its nodes in the upper layer.
pub fn populate(upper: &mut Upper) {
    let dev = upper.new_inode(S_IFDIR | 0o755, Content::Dir { opaque: true });
    upper.insert(&GuestPathBuf::from_components([&b"dev"[..]]), dev);
    for (name, major, minor, _) in DEVICES {
        let node = upper.new_inode(S_IFCHR | 0o666, Content::Device(makedev(major, minor)));
        upper.insert(&at(name), node);
    }
    for (name, target) in LINKS {
        let node = upper.new_inode(S_IFLNK | 0o777, Content::Symlink(target.to_vec()));
        upper.insert(&at(name), node);
    }
    for (name, mode) in [(&b"pts"[..], 0o755), (b"shm", 0o1777)] {
        let node = upper.new_inode(S_IFDIR | mode, Content::Dir { opaque: true });
        upper.insert(&at(name), node);
    }
    // devpts: crw--w---- root tty, like a login terminal.
    let pts0 = upper.new_inode(S_IFCHR | 0o620, Content::Device(PTS0_RDEV));
    pts0.borrow_mut().gid = 5;
    upper.insert(&at(b"pts").join(b"0"), pts0);
}

impl Device {
    /// The device a node's number stands for; `ENXIO` for one without a driver, as Linux
    /// answers for a node whose major has none.
    pub fn of(rdev: u64) -> Result<Device, Errno> {
        if rdev == PTS0_RDEV {
            return Ok(Device::Tty);
        }
        DEVICES
            .iter()
            .find(|(_, major, minor, _)| makedev(*major, *minor) == rdev)
            .map(|d| d.3)
            .ok_or(Errno::ENXIO)
    }

    pub fn read(self, buf: &mut [u8]) -> Result<usize, Errno> {
        match self {
            Device::Null => Ok(0),
            Device::Zero | Device::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Device::Random => {
                getrandom::fill(buf).map_err(|_| Errno::EIO)?;
                Ok(buf.len())
            }
            // Opening the terminal yields a stdio description instead (see `sys_openat`).
            Device::Tty => Err(Errno::ENXIO),
        }
    }

    pub fn write(self, data: &[u8]) -> Result<usize, Errno> {
        match self {
            Device::Full => Err(Errno::ENOSPC),
            Device::Tty => Err(Errno::ENXIO),
            _ => Ok(data.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_behave_as_on_linux() {
        let mut buf = [7u8; 16];
        assert_eq!(Device::of(makedev(1, 3)), Ok(Device::Null));
        assert_eq!(Device::of(makedev(9, 9)), Err(Errno::ENXIO));
        assert_eq!(Device::Null.read(&mut buf), Ok(0));
        assert_eq!(Device::Null.write(b"abc"), Ok(3));
        assert_eq!(Device::Zero.read(&mut buf), Ok(16));
        assert_eq!(buf, [0; 16]);
        assert_eq!(Device::Full.write(b"abc"), Err(Errno::ENOSPC));
        assert_eq!(Device::Random.read(&mut buf), Ok(16));
    }
}
