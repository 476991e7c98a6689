//! Packs a [`Tree`] and an [`ImageConfig`] into a bundle (host side only: the converter).
//!
//! File contents are laid end to end in one data stream — identical contents once — in path
//! order, so files of one directory share chunks; the stream is cut into fixed-size chunks
//! compressed with zstd independently (in parallel), so the runtime can decompress just the
//! chunk a read lands in.

use super::format::{
    CHUNK_STORED, CHUNK_ZSTD, ChunkEntry, DirentRecord, Header, ImageConfig, InodeRecord, ROOT,
};
use super::tree::{InodeId, Kind, Tree};
use crate::abi::fs::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// How to pack.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Uncompressed bytes per chunk: larger compresses better, smaller makes a random read
    /// decompress less.
    pub chunk_size: u32,
    /// zstd level.
    pub level: i32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            chunk_size: 256 << 10,
            level: 9,
        }
    }
}

/// What went into a bundle, for the converter's report and `inspect`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Paths in the tree, the root included.
    pub paths: u64,
    pub inodes: u64,
    /// Bytes of file data before deduplication and compression.
    pub file_bytes: u64,
    /// Bytes of the data stream (after deduplication).
    pub data_bytes: u64,
    pub bundle_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("image too large for a bundle: {0}")]
    TooLarge(&'static str),
    #[error("compressing the bundle: {0}")]
    Compress(std::io::Error),
}

/// Packs `tree` with `config` into bundle bytes.
pub fn write(
    tree: &Tree,
    config: &ImageConfig,
    options: Options,
) -> Result<(Vec<u8>, Stats), WriteError> {
    let layout = Layout::of(tree)?;
    let mut strings = Vec::new();
    let mut data = Vec::new();
    let mut by_content: HashMap<[u8; 32], u64> = HashMap::new();
    let mut file_bytes = 0u64;

    let mut inodes = Vec::with_capacity(layout.order.len());
    for (index, &(id, _)) in layout.order.iter().enumerate() {
        let inode = tree.inode(id);
        let perm = inode.meta.perm & 0o7777;
        let (kind_bits, size, at) = match &inode.kind {
            Kind::Dir => {
                let (first, count) = layout.dir_span[index];
                (S_IFDIR, count, first)
            }
            Kind::File(bytes) => {
                file_bytes += bytes.len() as u64;
                let digest: [u8; 32] = Sha256::digest(bytes).into();
                let at = *by_content.entry(digest).or_insert_with(|| {
                    let at = data.len() as u64;
                    data.extend_from_slice(bytes);
                    at
                });
                (S_IFREG, bytes.len() as u64, at)
            }
            Kind::Symlink(target) => {
                let at = strings.len() as u64;
                strings.extend_from_slice(target);
                (S_IFLNK, target.len() as u64, at)
            }
            Kind::CharDev(rdev) => (S_IFCHR, 0, *rdev),
            Kind::BlockDev(rdev) => (S_IFBLK, 0, *rdev),
            Kind::Fifo => (S_IFIFO, 0, 0),
        };
        inodes.push(InodeRecord {
            mode: kind_bits | perm,
            uid: inode.meta.uid,
            gid: inode.meta.gid,
            nlink: layout.nlink[index],
            mtime: inode.meta.mtime,
            size,
            at,
        });
    }
    let mut dirents = Vec::with_capacity(layout.dirents.len());
    for (name, ino) in &layout.dirents {
        dirents.push(DirentRecord {
            ino: *ino,
            name_len: name.len() as u32,
            name_at: strings.len() as u64,
        });
        strings.extend_from_slice(name);
    }

    let chunks = compress_chunks(&data, options)?;
    let config_bytes = config.encode();
    let mut header = Header {
        chunk_size: options.chunk_size,
        inode_count: count(inodes.len(), "inodes")?,
        dirent_count: count(dirents.len(), "directory entries")?,
        chunk_count: count(chunks.len(), "chunks")?,
        config_len: count(config_bytes.len(), "config")?,
        strings_len: strings.len() as u64,
        data_len: data.len() as u64,
        total_len: 0,
    };
    let mut offset = header
        .chunk_data_offset()
        .ok_or(WriteError::TooLarge("layout"))?;
    let mut table = Vec::with_capacity(chunks.len());
    for (method, bytes) in &chunks {
        table.push(ChunkEntry {
            offset,
            len: count(bytes.len(), "chunk")?,
            method: *method,
        });
        offset += bytes.len() as u64;
    }
    header.total_len = offset;

    let mut out = Vec::with_capacity(usize::try_from(offset).unwrap_or(0));
    out.extend_from_slice(&header.encode());
    out.extend_from_slice(&config_bytes);
    inodes
        .iter()
        .for_each(|r| out.extend_from_slice(&r.encode()));
    dirents
        .iter()
        .for_each(|r| out.extend_from_slice(&r.encode()));
    out.extend_from_slice(&strings);
    table
        .iter()
        .for_each(|r| out.extend_from_slice(&r.encode()));
    chunks.iter().for_each(|(_, b)| out.extend_from_slice(b));
    debug_assert_eq!(out.len() as u64, header.total_len);
    let stats = Stats {
        paths: tree.len() as u64,
        inodes: inodes.len() as u64,
        file_bytes,
        data_bytes: data.len() as u64,
        bundle_bytes: out.len() as u64,
    };
    Ok((out, stats))
}

fn count(n: usize, what: &'static str) -> Result<u32, WriteError> {
    u32::try_from(n).map_err(|_| WriteError::TooLarge(what))
}

/// Inode numbering and directory contents, decided before anything is encoded.
struct Layout<'t> {
    /// Bundle inode index → (tree inode, first path seen for it).
    order: Vec<(InodeId, &'t [u8])>,
    /// Link count per bundle inode.
    nlink: Vec<u32>,
    /// Per bundle inode: (first dirent, entry count) for directories.
    dir_span: Vec<(u64, u64)>,
    /// All directory entries, directory by directory, each sorted by name.
    dirents: Vec<(&'t [u8], u32)>,
}

impl<'t> Layout<'t> {
    fn of(tree: &'t Tree) -> Result<Layout<'t>, WriteError> {
        let mut index_of: HashMap<InodeId, u32> = HashMap::new();
        let mut order = Vec::new();
        for (path, id) in tree.paths() {
            index_of.entry(id).or_insert_with(|| {
                order.push((id, path));
                (order.len() - 1) as u32
            });
        }
        if order.len() > u32::MAX as usize {
            return Err(WriteError::TooLarge("inodes"));
        }
        debug_assert_eq!(index_of[&tree.inode_id(b"").expect("root")], ROOT);
        let mut nlink = vec![0u32; order.len()];
        let mut dir_span = vec![(0, 0); order.len()];
        let mut dirents = Vec::new();
        for (index, &(id, path)) in order.iter().enumerate() {
            if tree.inode(id).kind != Kind::Dir {
                continue;
            }
            let children = tree.children(path);
            dir_span[index] = (dirents.len() as u64, children.len() as u64);
            // `.` and the parent's entry, plus each subdirectory's `..`.
            nlink[index] += 2;
            for (name, child) in children {
                let child_index = index_of[&child];
                if tree.inode(child).kind == Kind::Dir {
                    nlink[index] += 1;
                } else {
                    nlink[child_index as usize] += 1;
                }
                dirents.push((name, child_index));
            }
        }
        Ok(Layout {
            order,
            nlink,
            dir_span,
            dirents,
        })
    }
}

/// A chunk as stored: its method and bytes.
type Stored = (u32, Vec<u8>);

/// The data stream cut into chunks, each zstd-compressed or, where that does not pay, stored.
fn compress_chunks(data: &[u8], options: Options) -> Result<Vec<Stored>, WriteError> {
    let pieces: Vec<&[u8]> = data.chunks(options.chunk_size.max(1) as usize).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out: Vec<Option<Stored>> = vec![None; pieces.len()];
    let results: Vec<std::io::Result<Vec<(usize, Stored)>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let pieces = &pieces;
                s.spawn(move || {
                    let mut done = Vec::new();
                    let mut compressor = zstd::bulk::Compressor::new(options.level)?;
                    compressor.include_checksum(false)?;
                    compressor.include_contentsize(true)?;
                    for i in (t..pieces.len()).step_by(threads) {
                        let packed = compressor.compress(pieces[i])?;
                        done.push(if packed.len() < pieces[i].len() {
                            (i, (CHUNK_ZSTD, packed))
                        } else {
                            (i, (CHUNK_STORED, pieces[i].to_vec()))
                        });
                    }
                    Ok(done)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("compressor thread"))
            .collect()
    });
    for r in results {
        for (i, chunk) in r.map_err(WriteError::Compress)? {
            out[i] = Some(chunk);
        }
    }
    Ok(out
        .into_iter()
        .map(|c| c.expect("every chunk compressed"))
        .collect())
}
