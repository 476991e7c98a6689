//! The guest's file-system view: one path walk ([`path`]), the `/proc` mount ([`procfs`]) and
//! open file descriptions ([`file`]).
//!
//! For now `/` is a host directory (the unpacked rootfs, or a WASI preopen) served read-only,
//! and `/proc` is mounted over it. Guest paths ([`GuestPathBuf`]) and host paths
//! ([`std::path::PathBuf`]) are distinct types and only [`path`] turns one into the other.

pub mod file;
pub mod path;
pub mod procfs;

use std::path::PathBuf;

/// A normalised absolute guest path: starts with `/`, no `.`, `..`, empty components or
/// trailing slash (except the root itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestPathBuf(Vec<u8>);

impl GuestPathBuf {
    pub fn root() -> GuestPathBuf {
        GuestPathBuf(b"/".to_vec())
    }

    /// Builds the path from already-validated components (no `/`, not empty, not `.`/`..`).
    fn from_components<'a>(components: impl IntoIterator<Item = &'a [u8]>) -> GuestPathBuf {
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
    /// Host directory holding the image's root file system.
    root: PathBuf,
}

impl Vfs {
    pub fn new(root: PathBuf) -> Vfs {
        Vfs { root }
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
