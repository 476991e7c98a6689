//! The content-addressed blob cache: `<cache dir>/blobs/sha256/<hex>`, where the cache dir is
//! the user's (`~/.cache/ctr2wasm` on Linux) unless [`super::LoadOptions::cache_dir`] names
//! another.
//!
//! A blob enters the cache only whole and verified: it is written to a temporary file in the
//! same directory and renamed to its digest after its sha256 matched, so a crash or a bad
//! download never leaves a file under a digest name. A cached blob is still re-verified on
//! every use, for free, by the flattener, which hashes what it reads anyway; one that fails
//! (a damaged disk, a hand-edited file) is evicted with [`BlobCache::evict`].
//!
//! Registry layers are the only blobs cached: manifests and configs are small and fetched
//! each time (a tag may move), and local sources (`oci:`, `docker-archive:`) are read in place.

use super::digest::Digest;
use crate::interrupt::TempFile;
use std::io;
use std::path::{Path, PathBuf};

pub struct BlobCache {
    dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("no cache directory: $HOME is not set (set XDG_CACHE_HOME)")]
    NoHome,
    #[error("blob cache {}: {source}", dir.display())]
    Io {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl BlobCache {
    /// Opens (creating it if needed) the blob store under `cache_dir`, or under the user's
    /// cache directory.
    pub fn open(cache_dir: Option<&Path>) -> Result<BlobCache, CacheError> {
        let root = match cache_dir {
            Some(d) => d.to_path_buf(),
            None => directories::ProjectDirs::from("", "", "ctr2wasm")
                .ok_or(CacheError::NoHome)?
                .cache_dir()
                .to_path_buf(),
        };
        let dir = root.join("blobs").join("sha256");
        std::fs::create_dir_all(&dir).map_err(|source| CacheError::Io {
            dir: dir.clone(),
            source,
        })?;
        Ok(BlobCache { dir })
    }

    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.hex())
    }

    /// Whether the blob is cached with the expected size (the size check catches a file
    /// truncated on disk before we trust it for a whole flattening pass).
    pub fn has(&self, digest: &Digest, size: u64) -> bool {
        std::fs::metadata(self.path(digest)).is_ok_and(|m| m.is_file() && m.len() == size)
    }

    /// A temporary file beside the blobs, removed when dropped unless committed (and when a
    /// signal ends the convert: [`crate::interrupt`]).
    pub fn temp(&self) -> Result<TempFile, CacheError> {
        let mut builder = tempfile::Builder::new();
        builder.prefix(".ctr2wasm-").suffix(".blob.tmp");
        TempFile::create(&builder, &self.dir).map_err(|source| self.io(source))
    }

    /// Gives a verified temporary file its digest's name.
    pub fn commit(&self, temp: TempFile, digest: &Digest) -> Result<(), CacheError> {
        temp.persist(&self.path(digest))
            .map(drop)
            .map_err(|e| self.io(e))
    }

    /// Removes a blob that failed re-verification.
    pub fn evict(&self, digest: &Digest) {
        // Best effort: the error being reported is the mismatch, not this.
        let _ = std::fs::remove_file(self.path(digest));
    }

    fn io(&self, source: io::Error) -> CacheError {
        CacheError::Io {
            dir: self.dir.clone(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn commit_names_by_digest_and_evict_removes() {
        let root = tempfile::tempdir().unwrap();
        let cache = BlobCache::open(Some(root.path())).unwrap();
        let d = Digest::of(b"blob");
        assert!(!cache.has(&d, 4));
        let mut t = cache.temp().unwrap();
        t.write_all(b"blob").unwrap();
        let temp_path = t.path().to_path_buf();
        cache.commit(t, &d).unwrap();
        assert!(!temp_path.exists());
        assert_eq!(
            cache.path(&d),
            root.path().join("blobs/sha256").join(d.hex())
        );
        assert!(cache.has(&d, 4));
        assert!(!cache.has(&d, 5), "a size mismatch is a miss");
        cache.evict(&d);
        assert!(!cache.has(&d, 4));
        let dropped = cache.temp().unwrap();
        let dropped_path = dropped.path().to_path_buf();
        drop(dropped);
        assert!(
            !dropped_path.exists(),
            "an uncommitted download leaves nothing"
        );
    }
}
