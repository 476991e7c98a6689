//! Limits on what flattening an image may cost, whatever its layers claim: the total bytes
//! unpacked (decompressed tar bytes read, plus the full declared size of sparse files as they
//! are written out), the number of tree entries made, the depth and length of a path. Each
//! has a `convert` flag to raise it; past one, conversion stops with a one-line error naming
//! the layer and the flag.

use std::cell::Cell;
use std::fmt;
use std::io::{self, Read};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes unpacked, all layers together.
    pub max_unpacked: u64,
    /// Entries in the tree (implied parent directories included), all layers together.
    pub max_entries: u64,
    /// Components of a path.
    pub max_path_depth: u64,
    /// Bytes of a member name or link target, and of a PAX or GNU long-name record (which
    /// the tar parser reads whole into memory).
    pub max_path_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_unpacked: 32 << 30,
            max_entries: 4_000_000,
            max_path_depth: 4096,
            max_path_bytes: 1 << 20,
        }
    }
}

/// Which limit was hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exceeded {
    Unpacked(u64),
    Entries(u64),
    PathDepth(u64),
    PathBytes(u64),
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exceeded::Unpacked(n) => write!(
                f,
                "unpacked size exceeds {} (raise with --max-unpacked-size)",
                size(n)
            ),
            Exceeded::Entries(n) => {
                write!(f, "more than {n} entries (raise with --max-entries)")
            }
            Exceeded::PathDepth(n) => write!(
                f,
                "a path deeper than {n} components (raise with --max-path-depth)"
            ),
            Exceeded::PathBytes(n) => {
                write!(f, "a path or long-name record longer than {}", size(n))
            }
        }
    }
}

/// `n` bytes for a message: `32 GiB`, `512 KiB`, `1000 bytes`.
pub fn size(n: u64) -> String {
    for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{} {unit}", n >> shift);
        }
    }
    format!("{n} bytes")
}

/// Parses a size given on the command line: a number of bytes, optionally followed by K, M,
/// G or T (powers of 1024, also written KiB, MiB, … or KB, MB, …).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?}: not a size (a number, optionally with K, M, G or T)"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(format!("{s:?}: unknown unit (use K, M, G or T)")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?}: too large"))
}

/// The running count of unpacked bytes, shared by the decompressed stream's reader and the
/// copying of sparse files.
#[derive(Debug)]
pub struct Budget {
    pub limits: Limits,
    unpacked: Cell<u64>,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            unpacked: Cell::new(0),
        }
    }

    /// Counts `n` more unpacked bytes; an error once past the limit.
    pub fn spend(&self, n: u64) -> io::Result<()> {
        let total = self.unpacked.get().saturating_add(n);
        self.unpacked.set(total);
        if self.over() {
            return Err(io::Error::other(
                Exceeded::Unpacked(self.limits.max_unpacked).to_string(),
            ));
        }
        Ok(())
    }

    /// Whether the unpacked bytes went past the limit.
    pub fn over(&self) -> bool {
        self.unpacked.get() > self.limits.max_unpacked
    }
}

/// The decompressed tar stream, counted against the budget, and with the size of every
/// long-name and PAX record (members `L`, `K`, `x`, `g`) checked before the tar parser reads
/// it whole into memory. It follows the 512-byte blocks as the parser will: a header, then
/// the member's data rounded up to a block (GNU sparse headers' extension blocks included).
pub struct Guarded<'b, R> {
    inner: R,
    budget: &'b Budget,
    /// Bytes left in the current header block being collected (0: at a header).
    header: [u8; 512],
    header_len: usize,
    /// Bytes of member data (and padding) to pass through before the next header.
    skip: u64,
    /// Extension headers of a GNU sparse member still to come, and the data after them.
    sparse_extensions: bool,
    after_extensions: u64,
    /// A PAX header's records being collected (and their length).
    pax: Option<(Vec<u8>, u64)>,
    /// The `size` a PAX header gave the next member.
    pax_size: Option<u64>,
    /// Whether a record went past the limit (the error returned).
    pub exceeded: Option<Exceeded>,
}

impl<'b, R: Read> Guarded<'b, R> {
    pub fn new(inner: R, budget: &'b Budget) -> Self {
        Guarded {
            inner,
            budget,
            header: [0; 512],
            header_len: 0,
            skip: 0,
            sparse_extensions: false,
            after_extensions: 0,
            pax: None,
            pax_size: None,
            exceeded: None,
        }
    }

    /// Follows the block structure over `data`, just read.
    fn track(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            if self.skip > 0 {
                let n = (self.skip.min(data.len() as u64)) as usize;
                if let Some((records, want)) = &mut self.pax {
                    let take = ((*want - records.len() as u64) as usize).min(n);
                    records.extend_from_slice(&data[..take]);
                    if records.len() as u64 == *want {
                        self.pax_size = pax_size(records);
                        self.pax = None;
                    }
                }
                self.skip -= n as u64;
                data = &data[n..];
                continue;
            }
            let n = (512 - self.header_len).min(data.len());
            self.header[self.header_len..self.header_len + n].copy_from_slice(&data[..n]);
            self.header_len += n;
            data = &data[n..];
            if self.header_len == 512 {
                self.header_len = 0;
                self.on_header()?;
            }
        }
        Ok(())
    }

    fn on_header(&mut self) -> io::Result<()> {
        let h = &self.header;
        if self.sparse_extensions {
            // A GNU sparse extension block: 21 entries of 24 bytes, then `isextended`; the
            // member's data follows the last one.
            self.sparse_extensions = h[504] != 0;
            if !self.sparse_extensions {
                self.skip = std::mem::take(&mut self.after_extensions);
            }
            return Ok(());
        }
        if h.iter().all(|&b| b == 0) || !checksum_ok(h) {
            return Ok(());
        }
        let mut size = octal_or_binary(&h[124..136]).unwrap_or(0);
        let typeflag = h[156];
        if let Some(s) = self.pax_size.take()
            && !matches!(typeflag, b'x' | b'g')
        {
            size = s;
        }
        if matches!(typeflag, b'L' | b'K' | b'x' | b'g') && size > self.budget.limits.max_path_bytes
        {
            let e = Exceeded::PathBytes(self.budget.limits.max_path_bytes);
            self.exceeded = Some(e);
            return Err(io::Error::other(e.to_string()));
        }
        let padded = size.div_ceil(512).saturating_mul(512);
        if typeflag == b'x' {
            // Kept to read its `size` record, which overrides the next header's.
            self.pax = Some((Vec::with_capacity(size as usize), size));
        }
        if typeflag == b'S' && &h[257..263] == b"ustar " && h[482] != 0 {
            // GNU: `isextended` says extension blocks follow the header, then the data.
            self.sparse_extensions = true;
            self.after_extensions = padded;
        } else {
            self.skip = padded;
        }
        Ok(())
    }
}

/// Whether a header block's checksum is right (so a block that is not a header, as a
/// misread would hand over, is never taken for one).
fn checksum_ok(h: &[u8; 512]) -> bool {
    let Some(want) = octal_or_binary(&h[148..156]) else {
        return false;
    };
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    sum == want
}

/// The `size` record of a PAX extended header's data.
fn pax_size(records: &[u8]) -> Option<u64> {
    for ext in tar::PaxExtensions::new(records) {
        let ext = ext.ok()?;
        if ext.key_bytes() == b"size" {
            return std::str::from_utf8(ext.value_bytes()).ok()?.parse().ok();
        }
    }
    None
}

/// A tar number field: octal, or base-256 when the top bit is set.
fn octal_or_binary(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        let mut n: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            n = n.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(n);
    }
    let s = std::str::from_utf8(field).ok()?;
    let s = s.trim_matches(|c: char| c == '\0' || c == ' ');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

impl<R: Read> Read for Guarded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.exceeded {
            return Err(io::Error::other(e.to_string()));
        }
        let n = self.inner.read(buf)?;
        self.budget.spend(n as u64)?;
        self.track(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_show() {
        assert_eq!(parse_size("32G"), Ok(32 << 30));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("10 mb"), Ok(10 << 20));
        assert!(parse_size("x").is_err() && parse_size("1Q").is_err());
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(size(32 << 30), "32 GiB");
        assert_eq!(size(1000), "1000 bytes");
    }

    #[test]
    fn a_long_name_record_past_the_limit_stops_the_stream() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, "a/".repeat(3000), &[][..]).unwrap();
        let data = b.into_inner().unwrap();
        let budget = Budget::new(Limits {
            max_path_bytes: 4096,
            ..Limits::default()
        });
        let mut g = Guarded::new(&data[..], &budget);
        assert!(io::copy(&mut g, &mut io::sink()).is_err());
        assert_eq!(g.exceeded, Some(Exceeded::PathBytes(4096)));
        let budget = Budget::new(Limits::default());
        let mut g = Guarded::new(&data[..], &budget);
        assert_eq!(
            io::copy(&mut g, &mut io::sink()).unwrap(),
            data.len() as u64
        );
    }
}
