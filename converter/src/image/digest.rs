//! Content digests: the `sha256:<hex>` names of blobs and layer contents, and a reader that
//! computes one while the data streams past.
//!
//! Only sha256 is accepted: it is what every registry, `docker save` and the OCI layout use,
//! and a digest we cannot check is worth nothing.

use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

/// A `sha256:` digest, its hex part validated (64 lowercase hex digits), so it is safe to use
/// as a file name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}: not a sha256 digest")]
pub struct BadDigest(pub String);

impl Digest {
    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Digest {
        Digest::from_hash(Sha256::digest(data).as_slice())
    }

    fn from_hash(hash: &[u8]) -> Digest {
        use std::fmt::Write as _;
        let mut hex = String::with_capacity(64);
        for b in hash {
            write!(hex, "{b:02x}").expect("writing to a String cannot fail");
        }
        Digest { hex }
    }

    /// The 64 hex digits, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// `sha256:` and the first 12 hex digits, as progress lines show a blob.
    pub fn short(&self) -> String {
        format!("sha256:{}…", &self.hex[..12])
    }
}

impl FromStr for Digest {
    type Err = BadDigest;

    fn from_str(s: &str) -> Result<Digest, BadDigest> {
        let hex = s.strip_prefix("sha256:").unwrap_or("");
        if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Digest {
                hex: hex.to_string(),
            })
        } else {
            Err(BadDigest(s.to_string()))
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

/// A reader that hashes and counts everything read through it.
///
/// It also keeps the first error its source returned: a consumer such as the tar parser may
/// wrap or replace that error, and the flattener still needs to tell a corrupt compressed
/// stream (the source's error) from a malformed archive.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    len_bytes: u64,
    first_error: Option<io::Error>,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            len_bytes: 0,
            first_error: None,
        }
    }

    /// Reads what is left (the consumer may stop early, e.g. at a tar's end-of-archive
    /// blocks) so the digest covers the whole stream.
    pub fn drain(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(drop)
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The first error the source returned, if any.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.first_error.take()
    }

    /// The digest and length of what was read.
    pub fn finish(self) -> (Digest, u64) {
        (
            Digest::from_hash(self.hasher.finalize().as_slice()),
            self.len_bytes,
        )
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                let data = buf.get(..n).unwrap_or_default();
                self.hasher.update(data);
                self.len_bytes += n as u64;
                Ok(n)
            }
            Err(e) => {
                if self.first_error.is_none() && e.kind() != io::ErrorKind::Interrupted {
                    self.first_error = Some(io::Error::new(e.kind(), e.to_string()));
                }
                Err(e)
            }
        }
    }
}

/// A running sha256 for data that arrives in chunks (a download).
pub struct Hasher(Sha256);

impl Default for Hasher {
    fn default() -> Self {
        Hasher(Sha256::new())
    }
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> Digest {
        Digest::from_hash(self.0.finalize().as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_hashes() {
        let d = Digest::of(b"");
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(d.to_string().parse::<Digest>(), Ok(d.clone()));
        assert_eq!(d.short(), "sha256:e3b0c44298fc…");
        for bad in [
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:../../etc/passwd",
            "sha512:e3b0",
            "sha256:",
        ] {
            assert_eq!(bad.parse::<Digest>(), Err(BadDigest(bad.into())), "{bad}");
        }
    }

    #[test]
    fn hashing_reader_counts_what_passes() {
        let mut r = HashingReader::new(&b"hello world"[..]);
        let mut first = [0u8; 5];
        r.read_exact(&mut first).unwrap();
        r.drain().unwrap();
        let (d, n) = r.finish();
        assert_eq!(n, 11);
        assert_eq!(d, Digest::of(b"hello world"));
        let mut h = Hasher::default();
        h.update(b"hello ");
        h.update(b"world");
        assert_eq!(h.finish(), d);
    }
}
