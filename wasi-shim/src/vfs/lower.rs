//! The read-only root file system under the upper layer: the image's bundle (a converted
//! module), or a host directory (an unpacked rootfs for `ctr2wasm exec`, or a WASI preopen).
//!
//! Everything the rest of the VFS asks of the lower layer goes through here — look up a
//! path, list a directory, stat, read a symlink, read a file — so the walk, the overlay and
//! open files do not care which kind it is.

use crate::abi::Errno;
use crate::abi::fs::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, Stat, StatTime};
use crate::bundle::format::{InodeRecord, ROOT};
use crate::bundle::reader::Bundle;
use crate::host;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::path::PathBuf;
use std::rc::Rc;

/// How many resolved paths the bundle lookup cache keeps before starting over: a walk asks
/// for every prefix of its path, so a cache turns that into one bisection per component.
const LOOKUP_CACHE_ENTRIES: usize = 1 << 16;

pub enum Lower {
    Host(PathBuf),
    Bundle {
        bundle: Rc<Bundle>,
        /// Path (components joined by `/`) → inode number, or `None` when it does not exist.
        lookups: RefCell<HashMap<Vec<u8>, Option<u32>>>,
    },
}

/// A file of the lower layer, as a walk found it.
#[derive(Clone)]
pub enum LowerNode {
    Host {
        path: PathBuf,
        meta: Metadata,
    },
    Bundle {
        bundle: Rc<Bundle>,
        ino: u32,
        rec: InodeRecord,
    },
}

impl std::fmt::Debug for LowerNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LowerNode::Host { path, .. } => write!(f, "Host({})", path.display()),
            LowerNode::Bundle { ino, rec, .. } => write!(f, "Bundle({ino}, {:o})", rec.mode),
        }
    }
}

/// A lower regular file opened for reading.
pub enum LowerFile {
    Host(File),
    Bundle {
        bundle: Rc<Bundle>,
        rec: InodeRecord,
    },
}

fn corrupt(_: crate::bundle::format::FormatError) -> Errno {
    Errno::EIO
}

impl Lower {
    pub fn bundle(bundle: Bundle) -> Lower {
        Lower::Bundle {
            bundle: Rc::new(bundle),
            lookups: RefCell::new(HashMap::new()),
        }
    }

    /// The file at `components` below the root, if any.
    pub fn lookup<'a>(
        &self,
        components: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Option<LowerNode>, Errno> {
        match self {
            Lower::Host(root) => {
                let mut path = root.clone();
                for c in components {
                    path.push(host::os_str(c));
                }
                Ok(host::lstat_if_exists(&path)?.map(|meta| LowerNode::Host { path, meta }))
            }
            Lower::Bundle { bundle, lookups } => {
                let components: Vec<&[u8]> = components.into_iter().collect();
                let Some(ino) = Self::bundle_ino(bundle, lookups, &components)? else {
                    return Ok(None);
                };
                let rec = bundle.inode(ino).map_err(corrupt)?;
                Ok(Some(LowerNode::Bundle {
                    bundle: bundle.clone(),
                    ino,
                    rec,
                }))
            }
        }
    }

    fn bundle_ino(
        bundle: &Bundle,
        lookups: &RefCell<HashMap<Vec<u8>, Option<u32>>>,
        components: &[&[u8]],
    ) -> Result<Option<u32>, Errno> {
        let Some((last, parent)) = components.split_last() else {
            return Ok(Some(ROOT));
        };
        let key = components.join(&b'/');
        if let Some(&hit) = lookups.borrow().get(&key) {
            return Ok(hit);
        }
        let found = match Self::bundle_ino(bundle, lookups, parent)? {
            None => None,
            Some(dir) => {
                let rec = bundle.inode(dir).map_err(corrupt)?;
                bundle.lookup(&rec, last).map_err(corrupt)?
            }
        };
        let mut cache = lookups.borrow_mut();
        if cache.len() >= LOOKUP_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, found);
        Ok(found)
    }

    /// The entries of the directory `dir` (without `.` and `..`), each with the node it names.
    pub fn list(&self, dir: &LowerNode) -> Vec<(Vec<u8>, LowerNode)> {
        match dir {
            LowerNode::Host { path, .. } => {
                let Ok(rd) = std::fs::read_dir(path) else {
                    return Vec::new();
                };
                rd.flatten()
                    .filter_map(|e| {
                        let path = e.path();
                        let meta = std::fs::symlink_metadata(&path).ok()?;
                        Some((
                            host::os_bytes(&e.file_name()).to_vec(),
                            LowerNode::Host { path, meta },
                        ))
                    })
                    .collect()
            }
            LowerNode::Bundle { bundle, rec, .. } => bundle
                .entries(rec)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(name, ino)| {
                    let rec = bundle.inode(ino).ok()?;
                    Some((
                        name,
                        LowerNode::Bundle {
                            bundle: bundle.clone(),
                            ino,
                            rec,
                        },
                    ))
                })
                .collect(),
        }
    }
}

impl LowerNode {
    pub fn is_dir(&self) -> bool {
        match self {
            LowerNode::Host { meta, .. } => meta.is_dir(),
            LowerNode::Bundle { rec, .. } => rec.mode & S_IFMT == S_IFDIR,
        }
    }

    pub fn is_symlink(&self) -> bool {
        match self {
            LowerNode::Host { meta, .. } => meta.file_type().is_symlink(),
            LowerNode::Bundle { rec, .. } => rec.mode & S_IFMT == S_IFLNK,
        }
    }

    /// A regular file (not a device, FIFO or socket of the image).
    pub fn is_file(&self) -> bool {
        match self {
            LowerNode::Host { meta, .. } => meta.is_file(),
            LowerNode::Bundle { rec, .. } => rec.mode & S_IFMT == S_IFREG,
        }
    }

    pub fn size(&self) -> u64 {
        match self {
            LowerNode::Host { meta, .. } => meta.len(),
            LowerNode::Bundle { rec, .. } => rec.size,
        }
    }

    /// True if anyone may execute it (`X_OK` for root needs one execute bit).
    pub fn is_executable(&self) -> bool {
        match self {
            LowerNode::Host { meta, .. } => host::is_executable(meta),
            LowerNode::Bundle { rec, .. } => rec.mode & 0o111 != 0,
        }
    }

    /// `struct stat`; `ino_hint` stands in for the inode number where a host exposes none.
    pub fn stat(&self, ino_hint: u64) -> Stat {
        match self {
            LowerNode::Host { meta, .. } => host::stat_of(meta, ino_hint),
            LowerNode::Bundle { ino, rec, .. } => {
                let t = StatTime {
                    sec: rec.mtime,
                    nsec: 0,
                };
                let size = match rec.mode & S_IFMT {
                    S_IFDIR => 4096,
                    _ => rec.size,
                };
                let (size, rdev) = match rec.mode & S_IFMT {
                    S_IFREG | S_IFDIR | S_IFLNK => (size, 0),
                    _ => (0, rec.at),
                };
                Stat {
                    dev: host::ROOTFS_DEV,
                    // The root is inode 1 in the bundle's numbering + 1, like ext4's 2.
                    ino: u64::from(*ino) + 2,
                    mode: rec.mode,
                    nlink: rec.nlink,
                    uid: rec.uid,
                    gid: rec.gid,
                    rdev,
                    size: i64::try_from(size).unwrap_or(i64::MAX),
                    blksize: 4096,
                    blocks: i64::try_from(size.div_ceil(4096) * 8).unwrap_or(i64::MAX),
                    atime: t,
                    mtime: t,
                    ctime: t,
                }
            }
        }
    }

    pub fn read_link(&self) -> Result<Vec<u8>, Errno> {
        match self {
            LowerNode::Host { path, .. } => std::fs::read_link(path)
                .map(|t| host::os_bytes(t.as_os_str()).to_vec())
                .map_err(|e| host::errno_of(&e)),
            LowerNode::Bundle { bundle, rec, .. } => {
                if rec.mode & S_IFMT != S_IFLNK {
                    return Err(Errno::EINVAL);
                }
                bundle.symlink_target(rec).map_err(corrupt)
            }
        }
    }

    pub fn read_all(&self) -> Result<Vec<u8>, Errno> {
        match self {
            LowerNode::Host { path, .. } => std::fs::read(path).map_err(|e| host::errno_of(&e)),
            LowerNode::Bundle { bundle, rec, .. } => bundle.read_all(rec).map_err(corrupt),
        }
    }

    pub fn open(&self) -> Result<LowerFile, Errno> {
        match self {
            LowerNode::Host { path, .. } => File::open(path)
                .map(LowerFile::Host)
                .map_err(|e| host::errno_of(&e)),
            LowerNode::Bundle { bundle, rec, .. } => Ok(LowerFile::Bundle {
                bundle: bundle.clone(),
                rec: *rec,
            }),
        }
    }
}

impl LowerFile {
    /// Reads at `offset` without a file position (`pread`); 0 at the end.
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        match self {
            // Through the host file's own cursor: WASI has no stable `pread` in std.
            LowerFile::Host(f) => {
                use std::io::{Read, Seek, SeekFrom};
                f.seek(SeekFrom::Start(offset))
                    .map_err(|e| host::errno_of(&e))?;
                let mut done = 0;
                while done < buf.len() {
                    match f.read(&mut buf[done..]) {
                        Ok(0) => break,
                        Ok(n) => done += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(host::errno_of(&e)),
                    }
                }
                Ok(done)
            }
            LowerFile::Bundle { bundle, rec } => bundle.read_at(rec, offset, buf).map_err(corrupt),
        }
    }

    pub fn size(&self) -> Result<u64, Errno> {
        match self {
            LowerFile::Host(f) => f
                .metadata()
                .map(|m| m.len())
                .map_err(|e| host::errno_of(&e)),
            LowerFile::Bundle { rec, .. } => Ok(rec.size),
        }
    }
}
