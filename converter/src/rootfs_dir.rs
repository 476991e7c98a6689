//! `dir:PATH`: a root file system already unpacked on the host, read into a [`Tree`] as it
//! is (modes, owners, mtimes, symlinks, hard links by inode). For developers: a quick way to
//! make a module from a rootfs built with mmdebstrap, with no image around it. File contents
//! are copied to the [`Spool`] as they are read (memory does not grow with file sizes); the
//! entry and depth limits apply as to an image's layers.

use crate::image::{Limits, Spool};
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use wasi_shim::bundle::tree::{Inode, Kind, Meta, Tree};

/// Reads the tree below `root` (which is not followed if it is a symlink's target only).
pub fn read(root: &Path, spool: &mut Spool, limits: &Limits) -> Result<Tree> {
    let meta = std::fs::metadata(root).with_context(|| format!("{}", root.display()))?;
    anyhow::ensure!(meta.is_dir(), "{}: not a directory", root.display());
    let mut tree = Tree::new();
    tree.insert(b"", inode(&meta, Kind::Dir))?;
    let mut links = HashMap::new();
    let mut walker = Walker {
        tree: &mut tree,
        spool,
        limits,
        links: &mut links,
        depth: 0,
        unpacked: 0,
    };
    walker.walk(root, &mut Vec::new())?;
    Ok(tree)
}

struct Walker<'a> {
    tree: &'a mut Tree,
    spool: &'a mut Spool,
    limits: &'a Limits,
    links: &'a mut HashMap<(u64, u64), Vec<u8>>,
    depth: u64,
    unpacked: u64,
}

fn inode(meta: &std::fs::Metadata, kind: Kind) -> Inode {
    Inode {
        meta: Meta {
            perm: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
            mtime: meta.mtime(),
        },
        kind,
    }
}

impl Walker<'_> {
    fn walk(&mut self, dir: &Path, rel: &mut Vec<u8>) -> Result<()> {
        self.depth += 1;
        if self.depth > self.limits.max_path_depth {
            bail!(
                "{}: {}",
                dir.display(),
                crate::image::limits::Exceeded::PathDepth(self.limits.max_path_depth)
            );
        }
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("{}", dir.display()))?
            .collect::<std::io::Result<_>>()
            .with_context(|| format!("{}", dir.display()))?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let meta =
                std::fs::symlink_metadata(&path).with_context(|| format!("{}", path.display()))?;
            let saved = rel.len();
            if !rel.is_empty() {
                rel.push(b'/');
            }
            rel.extend_from_slice(e.file_name().as_bytes());
            let ft = meta.file_type();
            let read_err = || format!("{}", path.display());
            if self.tree.nodes_made() as u64 >= self.limits.max_entries {
                bail!(
                    "{}: {}",
                    path.display(),
                    crate::image::limits::Exceeded::Entries(self.limits.max_entries)
                );
            }
            if ft.is_dir() {
                self.tree.insert(rel, inode(&meta, Kind::Dir))?;
                self.walk(&path, rel)?;
            } else if meta.nlink() > 1
                && !ft.is_dir()
                && let Some(first) = self.links.get(&(meta.dev(), meta.ino()))
            {
                self.tree.link(rel, &first.clone())?;
            } else {
                let kind = if ft.is_symlink() {
                    Kind::Symlink(
                        std::fs::read_link(&path)
                            .with_context(read_err)?
                            .as_os_str()
                            .as_bytes()
                            .to_vec(),
                    )
                } else if ft.is_file() {
                    let mut file = std::fs::File::open(&path).with_context(read_err)?;
                    let (max, unpacked) = (self.limits.max_unpacked, &mut self.unpacked);
                    let spooled = self.spool.add(&mut file, |n| {
                        *unpacked += n;
                        if *unpacked > max {
                            return Err(std::io::Error::other(
                                crate::image::limits::Exceeded::Unpacked(max).to_string(),
                            ));
                        }
                        Ok(())
                    });
                    Kind::Spooled(spooled.with_context(read_err)?)
                } else if ft.is_char_device() {
                    Kind::CharDev(meta.rdev())
                } else if ft.is_block_device() {
                    Kind::BlockDev(meta.rdev())
                } else if ft.is_fifo() {
                    Kind::Fifo
                } else {
                    // Sockets belong to a running system, not an image.
                    rel.truncate(saved);
                    continue;
                };
                self.tree.insert(rel, inode(&meta, kind))?;
                if meta.nlink() > 1 {
                    self.links.insert((meta.dev(), meta.ino()), rel.clone());
                }
            }
            rel.truncate(saved);
        }
        self.depth -= 1;
        Ok(())
    }
}
