//! The bundle's byte layout, shared by [`super::writer`] and [`super::reader`]: the header,
//! the fixed-size records and the config encoding. `wasi-shim/BUNDLE.md` is the prose spec;
//! a change here is a change there, and a new `VERSION`.
//!
//! All integers are little-endian. Sections follow the header in this order, back to back:
//! config, inodes, dirents, strings, chunk table, chunk data.

/// The first eight bytes of every bundle.
pub const MAGIC: [u8; 8] = *b"ctr2wasm";
pub const VERSION: u32 = 1;
pub const HEADER_LEN: usize = 64;
pub const INODE_LEN: usize = 48;
pub const DIRENT_LEN: usize = 16;
pub const CHUNK_ENTRY_LEN: usize = 16;
/// The root directory's inode index.
pub const ROOT: u32 = 0;

/// How a chunk's bytes are stored.
pub const CHUNK_STORED: u32 = 0;
pub const CHUNK_ZSTD: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Uncompressed bytes per chunk (the last chunk may be shorter).
    pub chunk_size: u32,
    pub inode_count: u32,
    pub dirent_count: u32,
    pub chunk_count: u32,
    pub config_len: u32,
    pub strings_len: u64,
    /// Length of the uncompressed data stream that the chunks cut up.
    pub data_len: u64,
    /// Length of the whole bundle, header included.
    pub total_len: u64,
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        put32(&mut b, 8, VERSION);
        put32(&mut b, 12, self.chunk_size);
        put32(&mut b, 16, self.inode_count);
        put32(&mut b, 20, self.dirent_count);
        put32(&mut b, 24, self.chunk_count);
        put32(&mut b, 28, self.config_len);
        put64(&mut b, 32, self.strings_len);
        put64(&mut b, 40, self.data_len);
        put64(&mut b, 48, self.total_len);
        b
    }

    /// Parses and checks a header: magic, version, and that the sections it announces fit
    /// in `total_len` (so later reads never need to re-check the layout).
    pub fn decode(b: &[u8]) -> Result<Header, FormatError> {
        if b.len() < HEADER_LEN || b[0..8] != MAGIC {
            return Err(FormatError::NotABundle);
        }
        let version = get32(b, 8);
        if version != VERSION {
            return Err(FormatError::Version(version));
        }
        let h = Header {
            chunk_size: get32(b, 12),
            inode_count: get32(b, 16),
            dirent_count: get32(b, 20),
            chunk_count: get32(b, 24),
            config_len: get32(b, 28),
            strings_len: get64(b, 32),
            data_len: get64(b, 40),
            total_len: get64(b, 48),
        };
        let chunks_needed = if h.chunk_size == 0 {
            u64::from(h.data_len != 0)
        } else {
            h.data_len.div_ceil(u64::from(h.chunk_size))
        };
        if h.chunk_size == 0 && h.data_len != 0
            || u64::from(h.chunk_count) != chunks_needed
            || h.inode_count == 0
            || h.chunk_data_offset().is_none_or(|end| end > h.total_len)
        {
            return Err(FormatError::Corrupt("header"));
        }
        Ok(h)
    }

    pub fn config_offset(&self) -> u64 {
        HEADER_LEN as u64
    }
    pub fn inodes_offset(&self) -> u64 {
        self.config_offset() + u64::from(self.config_len)
    }
    pub fn dirents_offset(&self) -> u64 {
        self.inodes_offset() + u64::from(self.inode_count) * INODE_LEN as u64
    }
    pub fn strings_offset(&self) -> u64 {
        self.dirents_offset() + u64::from(self.dirent_count) * DIRENT_LEN as u64
    }
    pub fn chunk_table_offset(&self) -> Option<u64> {
        self.strings_offset().checked_add(self.strings_len)
    }
    /// Where the first chunk's bytes may start; `None` if the sizes overflow.
    pub fn chunk_data_offset(&self) -> Option<u64> {
        self.chunk_table_offset()?
            .checked_add(u64::from(self.chunk_count) * CHUNK_ENTRY_LEN as u64)
    }
}

/// One inode record. What `size` and `at` mean depends on the file type in `mode`:
/// regular file — byte length, and offset in the data stream; directory — number of
/// entries, and index of the first in the dirent table; symlink — target length, and offset
/// in the string table; device — 0, and the device number; FIFO — 0 and 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InodeRecord {
    /// File type and permission bits, as `st_mode`.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: i64,
    pub size: u64,
    pub at: u64,
}

impl InodeRecord {
    pub fn encode(&self) -> [u8; INODE_LEN] {
        let mut b = [0u8; INODE_LEN];
        put32(&mut b, 0, self.mode);
        put32(&mut b, 4, self.uid);
        put32(&mut b, 8, self.gid);
        put32(&mut b, 12, self.nlink);
        put64(&mut b, 16, self.mtime as u64);
        put64(&mut b, 24, self.size);
        put64(&mut b, 32, self.at);
        b
    }

    pub fn decode(b: &[u8]) -> InodeRecord {
        InodeRecord {
            mode: get32(b, 0),
            uid: get32(b, 4),
            gid: get32(b, 8),
            nlink: get32(b, 12),
            mtime: get64(b, 16) as i64,
            size: get64(b, 24),
            at: get64(b, 32),
        }
    }
}

/// One directory entry: the child's inode index and its name in the string table. A
/// directory's entries are contiguous and sorted by name bytes, so lookups bisect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirentRecord {
    pub ino: u32,
    pub name_len: u32,
    pub name_at: u64,
}

impl DirentRecord {
    pub fn encode(&self) -> [u8; DIRENT_LEN] {
        let mut b = [0u8; DIRENT_LEN];
        put32(&mut b, 0, self.ino);
        put32(&mut b, 4, self.name_len);
        put64(&mut b, 8, self.name_at);
        b
    }

    pub fn decode(b: &[u8]) -> DirentRecord {
        DirentRecord {
            ino: get32(b, 0),
            name_len: get32(b, 4),
            name_at: get64(b, 8),
        }
    }
}

/// Where chunk `i`'s stored bytes are, from the start of the bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkEntry {
    pub offset: u64,
    pub len: u32,
    pub method: u32,
}

impl ChunkEntry {
    pub fn encode(&self) -> [u8; CHUNK_ENTRY_LEN] {
        let mut b = [0u8; CHUNK_ENTRY_LEN];
        put64(&mut b, 0, self.offset);
        put32(&mut b, 8, self.len);
        put32(&mut b, 12, self.method);
        b
    }

    pub fn decode(b: &[u8]) -> ChunkEntry {
        ChunkEntry {
            offset: get64(b, 0),
            len: get32(b, 8),
            method: get32(b, 12),
        }
    }
}

/// The image config the runtime needs, plus what `ctr2wasm inspect` shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// The image reference it was converted from, e.g. `docker.io/library/ubuntu:22.04`.
    pub reference: String,
    /// The manifest digest, `sha256:…`.
    pub digest: String,
    /// `os/arch[/variant]`.
    pub platform: String,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `K=V` strings.
    pub env: Vec<String>,
    /// Empty means `/`.
    pub working_dir: String,
    /// `user[:group]`, by name or number; empty means root.
    pub user: String,
}

// Config field tags. Each field is `u8 tag, u32 count, count × (u32 len, bytes)`; a reader
// skips tags it does not know, so fields can be added without a new version.
const TAG_REFERENCE: u8 = 1;
const TAG_DIGEST: u8 = 2;
const TAG_PLATFORM: u8 = 3;
const TAG_ENTRYPOINT: u8 = 4;
const TAG_CMD: u8 = 5;
const TAG_ENV: u8 = 6;
const TAG_WORKING_DIR: u8 = 7;
const TAG_USER: u8 = 8;

impl ImageConfig {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let one = |s: &String| std::slice::from_ref(s).to_vec();
        for (tag, list) in [
            (TAG_REFERENCE, one(&self.reference)),
            (TAG_DIGEST, one(&self.digest)),
            (TAG_PLATFORM, one(&self.platform)),
            (TAG_ENTRYPOINT, self.entrypoint.clone()),
            (TAG_CMD, self.cmd.clone()),
            (TAG_ENV, self.env.clone()),
            (TAG_WORKING_DIR, one(&self.working_dir)),
            (TAG_USER, one(&self.user)),
        ] {
            out.push(tag);
            out.extend_from_slice(&(list.len() as u32).to_le_bytes());
            for s in list {
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
        out
    }

    pub fn decode(mut b: &[u8]) -> Result<ImageConfig, FormatError> {
        let bad = || FormatError::Corrupt("config");
        let take = |b: &mut &[u8], n: usize| -> Result<Vec<u8>, FormatError> {
            let (head, rest) = b.split_at_checked(n).ok_or_else(bad)?;
            *b = rest;
            Ok(head.to_vec())
        };
        let mut c = ImageConfig::default();
        while !b.is_empty() {
            let tag = take(&mut b, 1)?[0];
            let count = get32(&take(&mut b, 4)?, 0);
            let mut list = Vec::new();
            for _ in 0..count {
                let len = get32(&take(&mut b, 4)?, 0) as usize;
                let s = take(&mut b, len)?;
                list.push(String::from_utf8(s).map_err(|_| bad())?);
            }
            let first = || list.first().cloned().unwrap_or_default();
            match tag {
                TAG_REFERENCE => c.reference = first(),
                TAG_DIGEST => c.digest = first(),
                TAG_PLATFORM => c.platform = first(),
                TAG_ENTRYPOINT => c.entrypoint = list,
                TAG_CMD => c.cmd = list,
                TAG_ENV => c.env = list,
                TAG_WORKING_DIR => c.working_dir = first(),
                TAG_USER => c.user = first(),
                _ => {}
            }
        }
        Ok(c)
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("not a ctr2wasm bundle")]
    NotABundle,
    #[error("bundle format version {0}, this runtime reads version {VERSION}")]
    Version(u32),
    #[error("corrupt bundle ({0})")]
    Corrupt(&'static str),
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

pub(crate) fn get64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}
