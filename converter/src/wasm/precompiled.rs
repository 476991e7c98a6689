//! The cache of compiled modules (`CACHE/modules`, see `dirs`): what `Module::serialize`
//! wrote for a converted module (`run`) or the embedded runtime (`exec --wasm`), kept so a
//! later start skips Cranelift — and checked before any of it is mapped as code.
//!
//! `Module::deserialize` maps an image's machine code executable after checking only that
//! its header names this engine; it cannot tell damaged or foreign code from ours. So a
//! truncated or altered entry used to crash `run` (SIGSEGV), and one written by someone else
//! would have run as our code. Each entry is therefore [`MAGIC`], then HMAC-SHA256 (under
//! [`KEY_NAME`], 32 random bytes only this user can read) of the entry's name and the
//! compiled image, then that image. An entry is opened relative to the cache directory with
//! `O_NOFOLLOW`; it must be a regular file of this user's that nobody else can write; it is
//! mapped from that descriptor (`Mapping` says why that is as good as reading it), and those
//! bytes (never the path again) are deserialized, only once its tag matches. Binding the name means an entry copied under another name is refused too.
//! Every failure is a miss: the module is compiled and the entry rewritten, through a
//! temporary file renamed into place that a signal removes ([`crate::interrupt`]).
//!
//! The directory is made 0700 (an older, wider one is narrowed), the key 0600. The price is
//! one SHA-256 pass over the entry and one copy of it at each start (the README has numbers).

use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};
use std::ffi::CString;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::PathBuf;
use wasmtime::{Engine, Module};

/// The first bytes of every entry (and its format's version).
const MAGIC: [u8; 16] = *b"ctr2wasm-cwasm\0\x01";
const TAG_LEN: usize = 32;
const KEY_LEN: usize = 32;
/// The key's file name in the cache directory (not `*.cwasm`, so never pruned).
const KEY_NAME: &str = "key";
/// How many compiled modules the cache keeps (each is about the module's size).
const KEEP: usize = 8;

/// Returns the module cached as `name`, or the one `compile` makes (then cached as `name`).
/// A cache that is missing, unwritable, or not private only costs the compile.
pub fn load(
    engine: &Engine,
    name: &str,
    compile: impl FnOnce() -> Result<Module>,
) -> Result<Module> {
    let cache = Cache::open();
    if let Some(cache) = &cache
        && let Some((entry, image_start)) = cache.read(name)
        // SAFETY: the image is what `Module::serialize` wrote for this name: its tag was made
        // with a key only this user can read, over exactly these bytes. `deserialize` copies
        // them into memory of its own; until then only this user could change them (see
        // `Mapping`).
        && let Ok(module) = unsafe { Module::deserialize(engine, &entry.bytes()[image_start..]) }
    {
        return Ok(module);
    }
    let module = compile()?;
    if let Some(cache) = &cache {
        // Best effort: without an entry the next start compiles again.
        let _ = cache.write(name, &module);
    }
    Ok(module)
}

/// The cache directory, open, with its key.
struct Cache {
    dir_path: PathBuf,
    dir: OwnedFd,
    key: [u8; KEY_LEN],
}

impl Cache {
    fn open() -> Option<Cache> {
        let dir_path = crate::dirs::cache_dir()?.join("modules");
        if let Some(parent) = dir_path.parent() {
            std::fs::create_dir_all(parent).ok()?;
        }
        match std::fs::DirBuilder::new().mode(0o700).create(&dir_path) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return None,
            _ => {}
        }
        let dir = open_nofollow(
            libc::AT_FDCWD,
            dir_path.as_os_str().as_bytes(),
            libc::O_DIRECTORY,
        )
        .ok()?;
        let meta = File::from(dir.try_clone().ok()?).metadata().ok()?;
        if !meta.is_dir() || meta.uid() != euid() {
            return None;
        }
        if meta.mode() & 0o077 != 0 {
            // A cache made before entries were checked was created with the umask's mode.
            // SAFETY: fchmod on a descriptor we own.
            if unsafe { libc::fchmod(dir.as_raw_fd(), 0o700) } != 0 {
                return None;
            }
        }
        let mut cache = Cache {
            dir_path,
            dir,
            key: [0; KEY_LEN],
        };
        cache.key = cache.key().ok()?;
        Some(cache)
    }

    /// The key, made on first use: written to a temporary file, then linked into place, which
    /// fails if it exists (like `O_EXCL`), so two first runs agree on one key and no reader
    /// ever sees half of one.
    fn key(&self) -> std::io::Result<[u8; KEY_LEN]> {
        match self.read_private(KEY_NAME) {
            Ok(bytes) => {
                return bytes
                    .try_into()
                    .map_err(|_| std::io::Error::other("the cache key is not 32 bytes"));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut key = [0u8; KEY_LEN];
        getrandom(&mut key)?;
        let mut temp = self.temp(".key.tmp")?;
        temp.write_all(&key)?;
        temp.as_file().sync_all()?;
        match std::fs::hard_link(temp.path(), self.dir_path.join(KEY_NAME)) {
            Ok(()) => Ok(key),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let bytes = self.read_private(KEY_NAME)?;
                bytes
                    .try_into()
                    .map_err(|_| std::io::Error::other("the cache key is not 32 bytes"))
            }
            Err(e) => Err(e),
        }
    }

    /// The entry kept as `name`, mapped, and where its image starts, if it is sound (see the
    /// module docs).
    fn read(&self, name: &str) -> Option<(Mapping, usize)> {
        let (file, len) = self.open_private(&entry_file(name)).ok()?;
        let entry = Mapping::of(&file, len).ok()?;
        let header = MAGIC.len() + TAG_LEN;
        let (head, image) = entry.bytes().split_at_checked(header)?;
        let (magic, tag) = head.split_at(MAGIC.len());
        if magic != MAGIC || !equal_in_constant_time(tag, &tag_of(&self.key, name, image)) {
            return None;
        }
        Some((entry, header))
    }

    fn write(&self, name: &str, module: &Module) -> Result<()> {
        let image = module.serialize()?;
        crate::interrupt::install().context("cannot catch SIGINT, SIGTERM and SIGHUP")?;
        let mut temp = self.temp(".cwasm.tmp")?;
        temp.write_all(&MAGIC)?;
        temp.write_all(&tag_of(&self.key, name, &image))?;
        temp.write_all(&image)?;
        temp.persist(&self.dir_path.join(entry_file(name)))?;
        self.prune();
        Ok(())
    }

    fn temp(&self, suffix: &str) -> std::io::Result<crate::interrupt::TempFile> {
        let mut builder = tempfile::Builder::new();
        builder
            .prefix(".ctr2wasm-")
            .suffix(suffix)
            .permissions(std::fs::Permissions::from_mode(0o600));
        crate::interrupt::TempFile::create(&builder, &self.dir_path)
    }

    /// File `name` in the cache directory and its length, if it is a regular file (not a
    /// symlink) of this user's that nobody else can write (nor, for the key, read).
    fn open_private(&self, name: &str) -> std::io::Result<(File, usize)> {
        let fd = open_nofollow(self.dir.as_raw_fd(), name.as_bytes(), libc::O_NONBLOCK)?;
        let file = File::from(fd);
        let meta = file.metadata()?;
        let forbidden = if name == KEY_NAME { 0o077 } else { 0o022 };
        if !meta.is_file() || meta.uid() != euid() || meta.mode() & forbidden != 0 {
            return Err(std::io::Error::other("not a private file"));
        }
        let len = usize::try_from(meta.len()).map_err(std::io::Error::other)?;
        Ok((file, len))
    }

    /// The whole of file `name` (see [`Cache::open_private`]).
    fn read_private(&self, name: &str) -> std::io::Result<Vec<u8>> {
        let (mut file, len) = self.open_private(name)?;
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(len)?;
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Drops all but the [`KEEP`] most recently written compiled modules.
    fn prune(&self) {
        let Ok(rd) = std::fs::read_dir(&self.dir_path) else {
            return;
        };
        let mut entries: Vec<(std::time::SystemTime, PathBuf)> = rd
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (_, p) in entries.into_iter().skip(KEEP) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A whole entry, mapped read-only and private: checking and copying it costs no read into a
/// buffer of its own (for a module of 40 MB, that read cost more than the hash). Its bytes
/// can change under the mapping only by a write in place to the file, which only its owner
/// (this user, [`Cache::open_private`]) can make and ctr2wasm never makes (entries are
/// renamed into place), and such a write is no more than that user can do to ctr2wasm itself.
struct Mapping {
    ptr: std::ptr::NonNull<libc::c_void>,
    len: usize,
}

impl Mapping {
    fn of(file: &File, len: usize) -> std::io::Result<Mapping> {
        if len == 0 {
            return Err(std::io::Error::other("an empty entry"));
        }
        // SAFETY: a new read-only private mapping of a descriptor we hold; nothing else
        // refers to it.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let ptr = std::ptr::NonNull::new(ptr).ok_or_else(|| std::io::Error::other("mmap"))?;
        Ok(Mapping { ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `len` readable bytes are mapped at `ptr` until drop.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `of` mapped; no slice of it outlives `self`.
        unsafe { libc::munmap(self.ptr.as_ptr(), self.len) };
    }
}

fn entry_file(name: &str) -> String {
    format!("{name}.cwasm")
}

/// The entry's tag: HMAC-SHA256 of the name (length first, so no name and image can be cut
/// differently into the same bytes) and the image.
fn tag_of(key: &[u8; KEY_LEN], name: &str, image: &[u8]) -> [u8; TAG_LEN] {
    hmac_sha256(
        key,
        &[&(name.len() as u64).to_le_bytes(), name.as_bytes(), image],
    )
}

/// HMAC-SHA256 (RFC 2104) of the concatenated `parts`, for a key of at most one block.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    assert!(key.len() <= BLOCK, "the cache key is 32 bytes");
    let mut padded = [0u8; BLOCK];
    padded[..key.len()].copy_from_slice(key);
    let mut inner = Sha256::new();
    inner.update(padded.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(padded.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Whether `a == b`, in a time that does not depend on where they differ.
fn equal_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && std::hint::black_box(a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y))) == 0
}

/// `openat(dir, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags)`.
fn open_nofollow(dir: libc::c_int, path: &[u8], flags: libc::c_int) -> std::io::Result<OwnedFd> {
    let path = CString::new(path).map_err(std::io::Error::other)?;
    // SAFETY: a NUL-terminated path; the descriptor returned is new and owned by nobody else.
    let fd = unsafe {
        libc::openat(
            dir,
            path.as_ptr(),
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC | flags,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: see above.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn euid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

fn getrandom(buf: &mut [u8]) -> std::io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: writes at most `rest.len()` bytes into `rest`.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        } else {
            filled += n as usize;
        }
    }
    Ok(())
}

/// The name of the entry for a module file as it is now: its identity (device, inode, size,
/// times, from `fstat` of the descriptor that is read on a miss) and this build, so a
/// rewritten file or a new ctr2wasm misses.
pub fn file_entry_name(meta: &std::fs::Metadata) -> String {
    let identity = format!(
        "{} {} {} {} {} {} {} {}",
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec(),
        env!("CARGO_PKG_VERSION"),
    );
    let mut h = Sha256::new();
    h.update(identity.as_bytes());
    h.update(super::RUNTIME_WASM.len().to_le_bytes());
    h.update(super::RUNTIME_JIT_WASM.len().to_le_bytes());
    hex(&h.finalize()[..16])
}

/// The name of the entry for a module held in memory: its hash.
pub fn bytes_entry_name(bytes: &[u8]) -> String {
    format!(
        "bytes-{}-{}",
        env!("CARGO_PKG_VERSION"),
        hex(&Sha256::digest(bytes)[..16])
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231_test_case_2() {
        let tag = hmac_sha256(b"Jefe", &[b"what do ya ", b"want for nothing?"]);
        assert_eq!(
            hex(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_tag_binds_the_name() {
        let key = [7u8; KEY_LEN];
        assert_ne!(tag_of(&key, "a", b"bc"), tag_of(&key, "ab", b"c"));
        assert!(equal_in_constant_time(
            &tag_of(&key, "a", b"x"),
            &tag_of(&key, "a", b"x")
        ));
        assert!(!equal_in_constant_time(&[1, 2], &[1, 3]));
        assert!(!equal_in_constant_time(&[1, 2], &[1]));
    }
}
