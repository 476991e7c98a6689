//! Packs a [`Tree`] and an [`ImageConfig`] into a bundle (host side only: the converter).
//!
//! File contents are laid end to end in one data stream — identical contents once — in tree
//! order (depth first), so files of one directory share chunks; the stream is cut into
//! fixed-size chunks compressed with zstd independently (in parallel), so the runtime can
//! decompress just the chunk a read lands in.
//!
//! The data stream is never held whole: it is read a chunk at a time (from the tree, or from
//! the spool file the tree's [`Kind::Spooled`] files point into), compressed by a few worker
//! threads and written out in order, so memory is a few chunks plus what the metadata needs
//! (linear in the number of entries), whatever the sizes of the files. The metadata is
//! checked as it is laid out — parents before children, names unique and sorted, sizes adding
//! up — with errors, in every build: a bundle that breaks them is not written.

use super::format::{
    CHUNK_STORED, CHUNK_ZSTD, ChunkEntry, DirentRecord, Header, ImageConfig, InodeRecord, ROOT,
};
use super::tree::{InodeId, Kind, NodeId, ROOT_NODE, Tree};
use crate::abi::fs::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;

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
    Compress(io::Error),
    #[error("reading file contents from the spool: {0}")]
    Spool(io::Error),
    #[error("writing the bundle: {0}")]
    Output(io::Error),
    #[error("a spooled file but no spool file")]
    NoSpool,
    /// A check of the layout failed: a bug, reported rather than written out.
    #[error("internal error: {0}")]
    Invariant(String),
}

fn invariant(ok: bool, what: impl FnOnce() -> String) -> Result<(), WriteError> {
    if ok {
        Ok(())
    } else {
        Err(WriteError::Invariant(what()))
    }
}

/// Packs `tree` with `config` into bundle bytes, in memory (for tests and small trees).
pub fn write(
    tree: &Tree,
    config: &ImageConfig,
    options: Options,
) -> Result<(Vec<u8>, Stats), WriteError> {
    let mut chunks = Vec::new();
    let (mut head, stats) = write_to(tree, config, options, None, &mut chunks)?;
    head.extend_from_slice(&chunks);
    Ok((head, stats))
}

/// Packs `tree` with `config`: the compressed chunks are written to `chunks` as they are
/// made, and what goes before them (header, config, inodes, directory entries, strings and
/// the chunk table) is returned. The bundle is the returned bytes followed by those written.
/// Spooled file contents are read from `spool`.
pub fn write_to<'t>(
    tree: &'t Tree,
    config: &ImageConfig,
    options: Options,
    spool: Option<&File>,
    chunks: &mut dyn Write,
) -> Result<(Vec<u8>, Stats), WriteError> {
    let layout = Layout::of(tree)?;
    let mut strings = Vec::new();
    let mut segments: Vec<Segment<'_>> = Vec::new();
    let mut data_len = 0u64;
    let mut by_content: HashMap<[u8; 32], u64> = HashMap::new();
    let mut file_bytes = 0u64;

    let mut inodes = Vec::with_capacity(layout.order.len());
    for (index, &(id, _)) in layout.order.iter().enumerate() {
        let inode = tree.inode(id);
        let perm = inode.meta.perm & 0o7777;
        let mut file = |digest: [u8; 32], len: u64, segment: Segment<'t>| {
            file_bytes += len;
            *by_content.entry(digest).or_insert_with(|| {
                let at = data_len;
                data_len += len;
                if len > 0 {
                    segments.push(segment);
                }
                at
            })
        };
        let (kind_bits, size, at) = match &inode.kind {
            Kind::Dir => {
                let (first, count) = layout.dir_span[index];
                (S_IFDIR, count, first)
            }
            Kind::File(bytes) => {
                let at = file(
                    Sha256::digest(bytes).into(),
                    bytes.len() as u64,
                    Segment::Bytes(bytes),
                );
                (S_IFREG, bytes.len() as u64, at)
            }
            Kind::Spooled(s) => {
                let at = file(s.sha256, s.len, Segment::Spool(s.offset, s.len));
                (S_IFREG, s.len, at)
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

    let chunk_size = options.chunk_size.max(1);
    let chunk_count = count_u64(data_len.div_ceil(u64::from(chunk_size)), "chunks")?;
    let config_bytes = config.encode();
    let mut header = Header {
        chunk_size,
        inode_count: count(inodes.len(), "inodes")?,
        dirent_count: count(dirents.len(), "directory entries")?,
        chunk_count,
        config_len: count(config_bytes.len(), "config")?,
        strings_len: strings.len() as u64,
        data_len,
        total_len: 0,
    };
    let mut offset = header
        .chunk_data_offset()
        .ok_or(WriteError::TooLarge("layout"))?;
    let mut stream = Stream {
        segments: &segments,
        next: 0,
        within: 0,
        spool,
        read: 0,
    };
    let stored = compress_chunks(&mut stream, data_len, chunk_size, options.level, chunks)?;
    invariant(stream.read == data_len, || {
        format!(
            "read {} bytes of a {data_len}-byte data stream",
            stream.read
        )
    })?;
    invariant(stored.len() == chunk_count as usize, || {
        format!("{} chunks made, {chunk_count} announced", stored.len())
    })?;
    let mut table = Vec::with_capacity(stored.len());
    let mut chunk_bytes = 0u64;
    for &(method, len) in &stored {
        table.push(ChunkEntry {
            offset,
            len,
            method,
        });
        offset += u64::from(len);
        chunk_bytes += u64::from(len);
    }
    header.total_len = offset;

    let head_len = header
        .chunk_data_offset()
        .ok_or(WriteError::TooLarge("layout"))?;
    let mut out = Vec::with_capacity(usize::try_from(head_len).unwrap_or(0));
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
    invariant(out.len() as u64 == head_len, || {
        format!(
            "{} bytes before the chunks, the header says {head_len}",
            out.len()
        )
    })?;
    invariant(head_len + chunk_bytes == header.total_len, || {
        "the chunks do not add up to the bundle's length".into()
    })?;
    let stats = Stats {
        paths: layout.paths,
        inodes: inodes.len() as u64,
        file_bytes,
        data_bytes: data_len,
        bundle_bytes: header.total_len,
    };
    Ok((out, stats))
}

fn count(n: usize, what: &'static str) -> Result<u32, WriteError> {
    u32::try_from(n).map_err(|_| WriteError::TooLarge(what))
}

fn count_u64(n: u64, what: &'static str) -> Result<u32, WriteError> {
    u32::try_from(n).map_err(|_| WriteError::TooLarge(what))
}

/// A piece of the data stream: bytes held in the tree, or a range of the spool file.
enum Segment<'t> {
    Bytes(&'t [u8]),
    Spool(u64, u64),
}

/// Reads the data stream, segment after segment.
struct Stream<'t> {
    segments: &'t [Segment<'t>],
    next: usize,
    /// Bytes of `segments[next]` already read.
    within: u64,
    spool: Option<&'t File>,
    read: u64,
}

impl Stream<'_> {
    /// Fills `buf` from the stream (short only at its end).
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, WriteError> {
        let mut filled = 0;
        while filled < buf.len() && self.next < self.segments.len() {
            let (len, n) = match &self.segments[self.next] {
                Segment::Bytes(b) => {
                    let rest = &b[self.within as usize..];
                    let n = rest.len().min(buf.len() - filled);
                    buf[filled..filled + n].copy_from_slice(&rest[..n]);
                    (b.len() as u64, n)
                }
                &Segment::Spool(offset, len) => {
                    let spool = self.spool.ok_or(WriteError::NoSpool)?;
                    let n = ((len - self.within) as usize).min(buf.len() - filled);
                    spool
                        .read_exact_at(&mut buf[filled..filled + n], offset + self.within)
                        .map_err(WriteError::Spool)?;
                    (len, n)
                }
            };
            filled += n;
            self.within += n as u64;
            if self.within == len {
                self.next += 1;
                self.within = 0;
            }
        }
        self.read += filled as u64;
        Ok(filled)
    }
}

/// Inode numbering and directory contents, decided before anything is encoded.
struct Layout<'t> {
    /// Bundle inode index → (tree inode, first node seen for it).
    order: Vec<(InodeId, NodeId)>,
    /// Link count per bundle inode.
    nlink: Vec<u32>,
    /// Per bundle inode: (first dirent, entry count) for directories.
    dir_span: Vec<(u64, u64)>,
    /// All directory entries, directory by directory, each sorted by name.
    dirents: Vec<(&'t [u8], u32)>,
    /// Paths, the root included.
    paths: u64,
}

impl<'t> Layout<'t> {
    fn of(tree: &'t Tree) -> Result<Layout<'t>, WriteError> {
        let walk = tree.walk();
        invariant(walk.first() == Some(&ROOT_NODE), || {
            "the walk does not start at the root".into()
        })?;
        let mut index_of: HashMap<InodeId, u32> = HashMap::new();
        let mut order = Vec::new();
        for &node in &walk {
            let id = tree.node_inode(node);
            index_of.entry(id).or_insert_with(|| {
                order.push((id, node));
                (order.len() - 1) as u32
            });
        }
        if order.len() > u32::MAX as usize {
            return Err(WriteError::TooLarge("inodes"));
        }
        invariant(
            index_of.get(&tree.node_inode(ROOT_NODE)) == Some(&ROOT)
                && tree.inode(tree.node_inode(ROOT_NODE)).kind == Kind::Dir,
            || "the root is not the first inode, or not a directory".into(),
        )?;
        let mut nlink = vec![0u32; order.len()];
        let mut dir_span = vec![(0, 0); order.len()];
        let mut dirents = Vec::new();
        // Each directory is listed once: a directory has a single node (no hard links).
        let mut listed: BTreeMap<u32, ()> = BTreeMap::new();
        for (index, &(id, node)) in order.iter().enumerate() {
            if tree.inode(id).kind != Kind::Dir {
                continue;
            }
            invariant(listed.insert(index as u32, ()).is_none(), || {
                format!("directory inode {index} listed twice")
            })?;
            let first = dirents.len() as u64;
            // `.` and the parent's entry, plus each subdirectory's `..`.
            nlink[index] += 2;
            let mut previous: Option<&[u8]> = None;
            for (name, child) in tree.node_children(node) {
                invariant(
                    !name.is_empty()
                        && !name.contains(&b'/')
                        && name != b"."
                        && name != b".."
                        && previous.is_none_or(|p| p < name),
                    || {
                        format!(
                            "directory inode {index}: entry {:?} empty, not a single component, \
                             or out of order",
                            String::from_utf8_lossy(name)
                        )
                    },
                )?;
                previous = Some(name);
                let child_id = tree.node_inode(child);
                let Some(&child_index) = index_of.get(&child_id) else {
                    return Err(WriteError::Invariant(format!(
                        "directory inode {index}: entry {:?} has no inode",
                        String::from_utf8_lossy(name)
                    )));
                };
                invariant(child_index != ROOT, || "an entry names the root".into())?;
                if tree.inode(child_id).kind == Kind::Dir {
                    nlink[index] += 1;
                } else {
                    nlink[child_index as usize] += 1;
                }
                dirents.push((name, child_index));
            }
            dir_span[index] = (first, dirents.len() as u64 - first);
        }
        Ok(Layout {
            order,
            nlink,
            dir_span,
            dirents,
            paths: walk.len() as u64,
        })
    }
}

/// A chunk as stored: its method and length (its bytes went to the output).
type Stored = (u32, u32);

/// Cuts the data stream into chunks, each zstd-compressed or, where that does not pay,
/// stored, and writes them to `out` in order. Worker threads compress; this thread reads
/// the stream and writes, with a bounded number of chunks in flight. A chunk of zeros (a
/// sparse file's holes) is compressed once.
fn compress_chunks(
    stream: &mut Stream<'_>,
    data_len: u64,
    chunk_size: u32,
    level: i32,
    out: &mut dyn Write,
) -> Result<Vec<Stored>, WriteError> {
    use std::sync::mpsc;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let total = data_len.div_ceil(u64::from(chunk_size)) as usize;
    let mut stored = Vec::with_capacity(total);
    let (done_tx, done_rx) = mpsc::channel::<(usize, io::Result<(u32, Vec<u8>)>)>();
    let (job_tx, job_rx) = mpsc::sync_channel::<(usize, Vec<u8>)>(threads * 2);
    let job_rx = std::sync::Mutex::new(job_rx);
    std::thread::scope(|s| -> Result<(), WriteError> {
        for _ in 0..threads {
            let (job_rx, done_tx) = (&job_rx, done_tx.clone());
            s.spawn(move || {
                let mut compressor = None;
                loop {
                    let job = job_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok((i, piece)) = job else { return };
                    let packed = pack(&mut compressor, level, piece);
                    if done_tx.send((i, packed)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let job_tx = job_tx;
        let mut pending: BTreeMap<usize, (u32, Vec<u8>)> = BTreeMap::new();
        let mut zero_chunk: Option<(u32, Vec<u8>)> = None;
        let mut own_compressor = None;
        let mut emit = |pending: &mut BTreeMap<usize, (u32, Vec<u8>)>,
                        stored: &mut Vec<Stored>|
         -> Result<(), WriteError> {
            while let Some(entry) = pending.first_entry() {
                if *entry.key() != stored.len() {
                    break;
                }
                let (method, bytes) = entry.remove();
                out.write_all(&bytes).map_err(WriteError::Output)?;
                stored.push((method, count(bytes.len(), "chunk")?));
            }
            Ok(())
        };
        let take = |pending: &mut BTreeMap<usize, (u32, Vec<u8>)>,
                    (i, r): (usize, io::Result<(u32, Vec<u8>)>)|
         -> Result<(), WriteError> {
            pending.insert(i, r.map_err(WriteError::Compress)?);
            Ok(())
        };
        for i in 0..total {
            let mut piece = vec![0u8; chunk_size as usize];
            let n = stream.fill(&mut piece)?;
            piece.truncate(n);
            if n == chunk_size as usize && piece.iter().all(|&b| b == 0) {
                if zero_chunk.is_none() {
                    zero_chunk = Some(
                        pack(&mut own_compressor, level, piece).map_err(WriteError::Compress)?,
                    );
                }
                pending.insert(i, zero_chunk.clone().expect("just made"));
            } else if job_tx.send((i, piece)).is_err() {
                return Err(WriteError::Invariant("the compressor threads ended".into()));
            }
            while let Ok(done) = done_rx.try_recv() {
                take(&mut pending, done)?;
            }
            emit(&mut pending, &mut stored)?;
        }
        drop(job_tx);
        for done in done_rx.iter() {
            take(&mut pending, done)?;
            emit(&mut pending, &mut stored)?;
        }
        emit(&mut pending, &mut stored)?;
        invariant(pending.is_empty(), || "chunks left over".into())
    })?;
    Ok(stored)
}

/// One chunk compressed, or stored as it is where compression does not pay.
fn pack(
    compressor: &mut Option<zstd::bulk::Compressor<'static>>,
    level: i32,
    piece: Vec<u8>,
) -> io::Result<(u32, Vec<u8>)> {
    if compressor.is_none() {
        let mut c = zstd::bulk::Compressor::new(level)?;
        c.include_checksum(false)?;
        c.include_contentsize(true)?;
        *compressor = Some(c);
    }
    let c = compressor.as_mut().expect("just made");
    let packed = c.compress(&piece)?;
    Ok(if packed.len() < piece.len() {
        (CHUNK_ZSTD, packed)
    } else {
        (CHUNK_STORED, piece)
    })
}
