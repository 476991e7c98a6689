//! The guest's file-system view: one path walk ([`path`]), the read-only rootfs ([`lower`]),
//! the writable layer over it ([`overlay`]), the `/dev` ([`devfs`]) and `/proc` ([`procfs`])
//! mounts, writable host directories mounted at guest paths ([`hostdir`]), pipes ([`pipe`])
//! and open file descriptions ([`file`]).
//!
//! `/` is the image's bundle or a host directory, only ever read, under an in-memory upper
//! layer that takes every change; `/proc` is mounted over it, `/dev` is a directory of the
//! upper layer, and host directory mounts hide whatever is below their mount points. Guest
//! paths ([`GuestPathBuf`]) and host paths ([`std::path::PathBuf`]) are distinct types and
//! only [`lower`] and [`hostdir`] turn one into the other.

pub mod beneath;
pub mod devfs;
pub mod file;
pub mod hostdir;
pub mod lower;
pub mod overlay;
pub mod path;
pub mod pipe;
pub mod procfs;

use crate::abi::fs::S_IFDIR;
use hostdir::Mounts;
use lower::Lower;
use overlay::{Content, Upper};
use std::time::Instant;

/// A normalised absolute guest path: starts with `/`, no `.`, `..`, empty components or
/// trailing slash (except the root itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestPathBuf(Vec<u8>);

impl GuestPathBuf {
    pub fn root() -> GuestPathBuf {
        GuestPathBuf(b"/".to_vec())
    }

    /// Builds the path from already-validated components (no `/`, not empty, not `.`/`..`).
    pub(crate) fn from_components<'a>(
        components: impl IntoIterator<Item = &'a [u8]>,
    ) -> GuestPathBuf {
        let mut p = Vec::new();
        for c in components {
            p.push(b'/');
            p.extend_from_slice(c);
        }
        if p.is_empty() {
            p.push(b'/');
        }
        GuestPathBuf(p)
    }

    /// The path of `name` inside this directory (`name` is one component).
    pub fn join(&self, name: &[u8]) -> GuestPathBuf {
        let mut p = self.0.clone();
        if p != b"/" {
            p.push(b'/');
        }
        p.extend_from_slice(name);
        GuestPathBuf(p)
    }

    pub fn components(&self) -> impl Iterator<Item = &[u8]> {
        self.0.split(|&b| b == b'/').filter(|c| !c.is_empty())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// For messages and the trace.
    pub fn display(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

/// The mounted file systems.
pub struct Vfs {
    /// The image's root file system (never written).
    lower: Lower,
    /// Everything the guest changed.
    upper: Upper,
    /// Host directories mounted over both.
    mounts: Mounts,
    /// When the machine started (`/proc/uptime`).
    pub booted: Instant,
}

impl Vfs {
    /// Mounts `lower` read-only under an empty upper layer, with `/dev`, and `/tmp` when the
    /// image has none. Nothing of the lower layer is read beyond `/tmp`'s existence.
    pub fn new(lower: Lower) -> Vfs {
        let mut upper = Upper::default();
        devfs::populate(&mut upper);
        let tmp = GuestPathBuf(b"/tmp".to_vec());
        if !matches!(lower.lookup([&b"tmp"[..]]), Ok(Some(_))) {
            let dir = upper.new_inode(S_IFDIR | 0o1777, Content::Dir { opaque: true });
            upper.insert(&tmp, dir);
        }
        Vfs {
            lower,
            upper,
            mounts: Mounts::default(),
            booted: Instant::now(),
        }
    }
}

/// A stable stand-in inode number for hosts that expose none (WASI): FNV-1a of the guest path.
pub fn ino_of(path: &GuestPathBuf) -> u64 {
    path.as_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}
