//! Reads a bundle in place, lazily: opening one reads only the header; each lookup, stat or
//! read fetches just the records and chunks it needs, so start-up costs the same for a
//! 5 MB image as for a 500 MB one.
//!
//! Every record is bounds-checked against the header before use: a corrupt bundle gives
//! [`FormatError::Corrupt`] (the VFS reports `EIO`), never a panic.

use super::format::{
    CHUNK_ENTRY_LEN, CHUNK_STORED, CHUNK_ZSTD, ChunkEntry, DIRENT_LEN, DirentRecord, FormatError,
    HEADER_LEN, Header, INODE_LEN, ImageConfig, InodeRecord,
};
use crate::abi::fs::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use std::cell::RefCell;
use std::rc::Rc;

/// Where the bundle's bytes live.
pub enum Source {
    /// In memory: tests, `ctr2wasm inspect`, and native runs.
    Bytes(Vec<u8>),
    /// The passive data segment of the running module (see [`super::embedded`]).
    #[cfg(target_os = "wasi")]
    Segment { len: u64 },
}

impl Source {
    fn len(&self) -> u64 {
        match self {
            Source::Bytes(b) => b.len() as u64,
            #[cfg(target_os = "wasi")]
            Source::Segment { len } => *len,
        }
    }

    /// Fills `buf` from `offset`, or fails if that runs past the end.
    fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), FormatError> {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= self.len())
            .ok_or(FormatError::Corrupt("offset past the end"))?;
        match self {
            Source::Bytes(b) => buf.copy_from_slice(&b[offset as usize..end as usize]),
            #[cfg(target_os = "wasi")]
            Source::Segment { .. } => super::embedded::read(offset, buf),
        }
        Ok(())
    }

    fn read_vec(&self, offset: u64, len: u64) -> Result<Vec<u8>, FormatError> {
        let len = usize::try_from(len).map_err(|_| FormatError::Corrupt("length"))?;
        if offset.saturating_add(len as u64) > self.len() {
            return Err(FormatError::Corrupt("offset past the end"));
        }
        let mut v = vec![0u8; len];
        self.read(offset, &mut v)?;
        Ok(v)
    }
}

/// How many decompressed chunks stay cached: enough for a few files read in turn.
const CACHED_CHUNKS: usize = 8;

struct ChunkCache {
    decoder: ruzstd::decoding::FrameDecoder,
    /// (chunk index, bytes, last use).
    slots: Vec<(u32, Rc<[u8]>, u64)>,
    clock: u64,
}

/// An open bundle.
pub struct Bundle {
    source: Source,
    header: Header,
    chunks: RefCell<ChunkCache>,
}

impl Bundle {
    pub fn open(source: Source) -> Result<Bundle, FormatError> {
        let mut raw = [0u8; HEADER_LEN];
        source
            .read(0, &mut raw)
            .map_err(|_| FormatError::NotABundle)?;
        let header = Header::decode(&raw)?;
        if header.total_len != source.len() {
            return Err(FormatError::Corrupt("length"));
        }
        Ok(Bundle {
            source,
            header,
            chunks: RefCell::new(ChunkCache {
                decoder: ruzstd::decoding::FrameDecoder::new(),
                slots: Vec::new(),
                clock: 0,
            }),
        })
    }

    /// Gives back the bytes' source, so the bundle can be opened again later.
    pub fn into_source(self) -> Source {
        self.source
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn config(&self) -> Result<ImageConfig, FormatError> {
        let raw = self.source.read_vec(
            self.header.config_offset(),
            u64::from(self.header.config_len),
        )?;
        ImageConfig::decode(&raw)
    }

    pub fn inode(&self, ino: u32) -> Result<InodeRecord, FormatError> {
        if ino >= self.header.inode_count {
            return Err(FormatError::Corrupt("inode number"));
        }
        let mut raw = [0u8; INODE_LEN];
        self.source.read(
            self.header.inodes_offset() + u64::from(ino) * INODE_LEN as u64,
            &mut raw,
        )?;
        let rec = InodeRecord::decode(&raw);
        let fits = |at: u64, len: u64, limit: u64| at.checked_add(len).is_some_and(|e| e <= limit);
        let ok = match rec.mode & S_IFMT {
            S_IFDIR => fits(rec.at, rec.size, u64::from(self.header.dirent_count)),
            S_IFREG => fits(rec.at, rec.size, self.header.data_len),
            S_IFLNK => fits(rec.at, rec.size, self.header.strings_len),
            _ => true,
        };
        if !ok {
            return Err(FormatError::Corrupt("inode"));
        }
        Ok(rec)
    }

    fn dirent(&self, index: u64) -> Result<(DirentRecord, Vec<u8>), FormatError> {
        let mut raw = [0u8; DIRENT_LEN];
        self.source.read(
            self.header.dirents_offset() + index * DIRENT_LEN as u64,
            &mut raw,
        )?;
        let d = DirentRecord::decode(&raw);
        let name = self.string(d.name_at, u64::from(d.name_len))?;
        Ok((d, name))
    }

    fn string(&self, at: u64, len: u64) -> Result<Vec<u8>, FormatError> {
        if at
            .checked_add(len)
            .is_none_or(|e| e > self.header.strings_len)
        {
            return Err(FormatError::Corrupt("string"));
        }
        self.source.read_vec(self.header.strings_offset() + at, len)
    }

    /// The inode number of `name` in directory `dir`, if there is one.
    pub fn lookup(&self, dir: &InodeRecord, name: &[u8]) -> Result<Option<u32>, FormatError> {
        if dir.mode & S_IFMT != S_IFDIR {
            return Ok(None);
        }
        let (mut lo, mut hi) = (dir.at, dir.at + dir.size);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (d, n) = self.dirent(mid)?;
            match n.as_slice().cmp(name) {
                std::cmp::Ordering::Equal => return Ok(Some(d.ino)),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Ok(None)
    }

    /// A directory's entries (without `.` and `..`), sorted by name.
    pub fn entries(&self, dir: &InodeRecord) -> Result<Vec<(Vec<u8>, u32)>, FormatError> {
        if dir.mode & S_IFMT != S_IFDIR {
            return Ok(Vec::new());
        }
        (dir.at..dir.at + dir.size)
            .map(|i| self.dirent(i).map(|(d, n)| (n, d.ino)))
            .collect()
    }

    pub fn symlink_target(&self, link: &InodeRecord) -> Result<Vec<u8>, FormatError> {
        if link.mode & S_IFMT != S_IFLNK {
            return Err(FormatError::Corrupt("not a symlink"));
        }
        self.string(link.at, link.size)
    }

    /// Reads a regular file's bytes from `offset` into `buf`; returns how many (0 at EOF).
    pub fn read_at(
        &self,
        file: &InodeRecord,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, FormatError> {
        if file.mode & S_IFMT != S_IFREG || offset >= file.size {
            return Ok(0);
        }
        let want = (file.size - offset).min(buf.len() as u64) as usize;
        let chunk_size = u64::from(self.header.chunk_size);
        let mut done = 0;
        while done < want {
            let pos = file.at + offset + done as u64;
            let index = (pos / chunk_size) as u32;
            let chunk = self.chunk(index)?;
            let within = (pos % chunk_size) as usize;
            let n = (chunk.len() - within).min(want - done);
            buf[done..done + n].copy_from_slice(&chunk[within..within + n]);
            done += n;
        }
        Ok(want)
    }

    /// A regular file's whole contents.
    pub fn read_all(&self, file: &InodeRecord) -> Result<Vec<u8>, FormatError> {
        let len = usize::try_from(file.size).map_err(|_| FormatError::Corrupt("size"))?;
        let mut v = vec![0u8; len];
        let n = self.read_at(file, 0, &mut v)?;
        v.truncate(n);
        Ok(v)
    }

    /// Chunk `index`, decompressed (cached).
    fn chunk(&self, index: u32) -> Result<Rc<[u8]>, FormatError> {
        let mut cache = self.chunks.borrow_mut();
        cache.clock += 1;
        let now = cache.clock;
        if let Some(slot) = cache.slots.iter_mut().find(|s| s.0 == index) {
            slot.2 = now;
            return Ok(slot.1.clone());
        }
        if index >= self.header.chunk_count {
            return Err(FormatError::Corrupt("chunk number"));
        }
        let mut raw = [0u8; CHUNK_ENTRY_LEN];
        self.source.read(
            self.header.chunk_table_offset().expect("checked at open")
                + u64::from(index) * CHUNK_ENTRY_LEN as u64,
            &mut raw,
        )?;
        let entry = ChunkEntry::decode(&raw);
        let chunk_size = u64::from(self.header.chunk_size);
        let expected = (self.header.data_len - u64::from(index) * chunk_size).min(chunk_size);
        let stored = self.source.read_vec(entry.offset, u64::from(entry.len))?;
        let bytes: Rc<[u8]> = match entry.method {
            CHUNK_STORED if stored.len() as u64 == expected => stored.into(),
            CHUNK_ZSTD => {
                let mut out = vec![0u8; expected as usize];
                let n = cache
                    .decoder
                    .decode_all(&stored, &mut out)
                    .map_err(|_| FormatError::Corrupt("chunk does not decompress"))?;
                if n as u64 != expected {
                    return Err(FormatError::Corrupt("chunk length"));
                }
                out.into()
            }
            _ => return Err(FormatError::Corrupt("chunk")),
        };
        if cache.slots.len() < CACHED_CHUNKS {
            cache.slots.push((index, bytes.clone(), now));
        } else if let Some(oldest) = cache.slots.iter_mut().min_by_key(|s| s.2) {
            *oldest = (index, bytes.clone(), now);
        }
        Ok(bytes)
    }
}
