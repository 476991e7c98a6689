//! The spool: one temporary file holding the contents of every regular file of the image
//! being converted, so the flattened [`Tree`](wasi_shim::bundle::tree::Tree) records only
//! where each file's bytes are ([`Spooled`]) and memory does not grow with file sizes.
//!
//! Blocks of zeros are not written but skipped (`pwrite` beyond them leaves a hole), so a
//! sparse file that claims gigabytes costs neither memory nor disk; each file starts on a
//! block boundary so its holes are the file system's. The file lives in the temporary
//! directory, is registered with [`crate::interrupt`] (a signal removes it) and is removed
//! when the spool is dropped.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use wasi_shim::bundle::tree::Spooled;

/// The unit of copying and of hole detection.
const BLOCK: usize = 64 << 10;
/// Each file's start is aligned to this (a file-system block).
const ALIGN: u64 = 4096;

pub struct Spool {
    file: crate::interrupt::TempFile,
    /// Where the next file starts.
    end: u64,
    /// The file's length as last set (writes or `set_len`).
    len: u64,
    buf: Vec<u8>,
}

impl Spool {
    /// A new, empty spool file in `dir` (the system's temporary directory if `None`).
    pub fn create(dir: Option<&Path>) -> io::Result<Spool> {
        let tmp = std::env::temp_dir();
        let dir = dir.unwrap_or(&tmp);
        let mut builder = tempfile::Builder::new();
        builder.prefix(".ctr2wasm-spool-").suffix(".tmp");
        let file = crate::interrupt::TempFile::create(&builder, dir)?;
        Ok(Spool {
            file,
            end: 0,
            len: 0,
            buf: vec![0; BLOCK],
        })
    }

    pub fn file(&self) -> &File {
        self.file.as_file()
    }

    /// Copies `reader` to its end into the spool. `progress` is told the length of each
    /// block as it is copied, and may stop the copy with an error (a limit).
    pub fn add(
        &mut self,
        reader: &mut dyn Read,
        mut progress: impl FnMut(u64) -> io::Result<()>,
    ) -> io::Result<Spooled> {
        let offset = self.end.div_ceil(ALIGN) * ALIGN;
        let mut len = 0u64;
        let mut hash = Sha256::new();
        loop {
            let mut filled = 0;
            while filled < BLOCK {
                match reader.read(&mut self.buf[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if filled == 0 {
                break;
            }
            progress(filled as u64)?;
            let block = &self.buf[..filled];
            hash.update(block);
            if block.iter().any(|&b| b != 0) {
                self.file.as_file().write_all_at(block, offset + len)?;
                self.len = self.len.max(offset + len + filled as u64);
            }
            len += filled as u64;
            if filled < BLOCK {
                break;
            }
        }
        // A trailing hole: the file must still reach the end of this one.
        if self.len < offset + len {
            self.file.as_file().set_len(offset + len)?;
            self.len = offset + len;
        }
        self.end = offset + len;
        Ok(Spooled {
            offset,
            len,
            sha256: hash.finalize().into(),
        })
    }

    /// A spooled file's contents (for tests).
    #[cfg(test)]
    pub fn read(&self, s: &Spooled) -> io::Result<Vec<u8>> {
        let mut data = vec![0; usize::try_from(s.len).map_err(io::Error::other)?];
        self.file.as_file().read_exact_at(&mut data, s.offset)?;
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn zeros_become_holes_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(Some(dir.path())).unwrap();
        let a = spool.add(&mut &b"hello"[..], |_| Ok(())).unwrap();
        let mut big = io::repeat(0).take(1 << 30);
        let b = spool.add(&mut big, |_| Ok(())).unwrap();
        let c = spool.add(&mut &b"tail"[..], |_| Ok(())).unwrap();
        assert_eq!(spool.read(&a).unwrap(), b"hello");
        assert_eq!(spool.read(&c).unwrap(), b"tail");
        assert_eq!((b.offset % ALIGN, b.len), (0, 1 << 30));
        let blocks = spool.file().metadata().unwrap().blocks();
        assert!(
            blocks * 512 < 1 << 20,
            "a gigabyte of zeros took {blocks} blocks"
        );
        let mut stopped = io::repeat(0).take(1 << 30);
        let mut seen = 0;
        let err = spool
            .add(&mut stopped, |n| {
                seen += n;
                if seen > 1 << 20 {
                    Err(io::Error::other("limit"))
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
        assert_eq!(err.to_string(), "limit");
    }
}
