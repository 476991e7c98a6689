//! The compiled-module cache of `ctr2wasm run` (`CACHE/modules`) is not a way in: an entry
//! that is damaged (a flipped byte, truncated), a symlink, or writable by others is never
//! mapped as code; `run` compiles the module again, runs the guest as if nothing happened and
//! writes a sound, private entry in its place. Before entries were checked, altered code in
//! an entry (in place, behind a symlink, or in a file others could write) was mapped and run,
//! and `run` died of SIGSEGV.
//!
//! The guest is `tests/guest/exit42.c` (it prints one line and returns 42), alone in a
//! `dir:` image; each test gets its own copy of one cache that a first run filled.

use crate::guest::{self, Variant};
use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// What `exit42.c` prints, and its status.
const EXIT42_STDOUT: &str = "returning 42 from main\n";
const EXIT42_STATUS: i32 = 42;

/// A converted module holding only `/bin/exit42`, and a cache a first run of it filled.
pub(crate) struct Exit42 {
    _dir: tempfile::TempDir,
    module: PathBuf,
    cache: PathBuf,
}

/// The rootfs holding only the guest `exit42` (at `/bin/exit42`).
pub(crate) fn exit42_rootfs(dir: &Path) -> PathBuf {
    let guests = guest::rootfs();
    guests.check_built("exit42", Variant::Rv64gc).unwrap();
    let rootfs = dir.join("rootfs");
    fs::create_dir_all(rootfs.join("bin")).unwrap();
    fs::copy(
        guests.root().join(
            guests
                .guest_path("exit42", Variant::Rv64gc)
                .trim_start_matches('/'),
        ),
        rootfs.join("bin/exit42"),
    )
    .unwrap();
    rootfs
}

pub(crate) fn convert(rootfs: &Path, out: &Path, extra: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"))
        .arg("convert")
        .arg("--quiet")
        .args(extra)
        .arg(format!("dir:{}", rootfs.display()))
        .arg(out)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "convert failed: {status}");
}

fn exit42() -> &'static Exit42 {
    static EXIT42: OnceLock<Exit42> = OnceLock::new();
    EXIT42.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let rootfs = exit42_rootfs(dir.path());
        let module = dir.path().join("exit42.wasm");
        convert(&rootfs, &module, &[]);
        let cache = dir.path().join("cache");
        assert_runs(&run(&module, &cache));
        Exit42 {
            _dir: dir,
            module,
            cache,
        }
    })
}

/// `ctr2wasm run MODULE -- /bin/exit42` with `cache` as the cache directory.
pub(crate) fn run(module: &Path, cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ctr2wasm"))
        .env("CTR2WASM_CACHE_DIR", cache)
        .arg("run")
        .arg(module)
        .args(["--", "/bin/exit42"])
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

pub(crate) fn assert_runs(out: &Output) {
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(EXIT42_STATUS), EXIT42_STDOUT, ""),
        "{}",
        out.status
    );
}

/// A copy of the filled cache (modes kept) and the path of its one compiled module.
fn copy_of_the_cache() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let exit42 = exit42();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&exit42.cache)
        .arg(&cache)
        .status()
        .unwrap();
    assert!(status.success());
    let entries: Vec<PathBuf> = fs::read_dir(cache.join("modules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = entries.into_iter().next().unwrap();
    (dir, cache, entry)
}

/// Where the machine code is in a cached entry: its ELF image's `.text` section (the ELF
/// image is the whole entry, or follows a header; it starts at the ELF magic).
fn code_range(entry: &[u8]) -> std::ops::Range<usize> {
    let elf = entry
        .windows(4)
        .position(|w| w == b"\x7fELF")
        .expect("an ELF image");
    let image = &entry[elf..];
    let u16_at = |o: usize| u16::from_le_bytes(image[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(image[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(image[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let section = |i: usize| shoff + i * shentsize;
    let names = u64_at(section(shstrndx) + 0x18);
    (0..shnum)
        .find(|&i| image[names + u32_at(section(i))..].starts_with(b".text\0"))
        .map(|i| {
            let start = elf + u64_at(section(i) + 0x18);
            start..start + u64_at(section(i) + 0x20)
        })
        .expect("a .text section")
}

/// The entry with one byte of every 4 KiB of its machine code inverted: before entries were
/// checked, `run` mapped and ran this and died of SIGSEGV.
fn with_flipped_code(entry: &[u8]) -> Vec<u8> {
    let mut bytes = entry.to_vec();
    for i in code_range(entry).step_by(4096) {
        bytes[i] ^= 0xff;
    }
    bytes
}

/// Runs the guest over `cache` and checks that it ran and that `entry` is now a sound,
/// private file again (not `damaged`, which the run must not have kept).
fn assert_recovers(cache: &Path, entry: &Path, damaged: &[u8]) {
    assert_runs(&run(&exit42().module, cache));
    let meta = fs::symlink_metadata(entry).unwrap();
    assert!(
        meta.file_type().is_file(),
        "{entry:?} is not a regular file"
    );
    assert_eq!(
        meta.mode() & 0o077,
        0,
        "{entry:?} has mode {:o}",
        meta.mode()
    );
    assert_ne!(
        fs::read(entry).unwrap(),
        damaged,
        "the damaged entry was kept"
    );
    // And that entry is used as it is by the next run.
    assert_runs(&run(&exit42().module, cache));
}

#[test]
fn a_cached_module_with_flipped_bytes_is_compiled_again() {
    let (_dir, cache, entry) = copy_of_the_cache();
    let bytes = with_flipped_code(&fs::read(&entry).unwrap());
    fs::write(&entry, &bytes).unwrap();
    assert_recovers(&cache, &entry, &bytes);
}

/// (wasmtime already refused a truncated image before entries were checked: its section
/// headers are at the end. This holds it to that.)
#[test]
fn a_truncated_cached_module_is_compiled_again() {
    let (_dir, cache, entry) = copy_of_the_cache();
    let mut bytes = fs::read(&entry).unwrap();
    bytes.truncate(bytes.len() / 2);
    fs::write(&entry, &bytes).unwrap();
    assert_recovers(&cache, &entry, &bytes);
}

#[test]
fn a_cached_module_replaced_by_a_symlink_is_not_followed() {
    let (dir, cache, entry) = copy_of_the_cache();
    // The link leads to a damaged copy outside the cache.
    let bytes = with_flipped_code(&fs::read(&entry).unwrap());
    let elsewhere = dir.path().join("elsewhere.cwasm");
    fs::write(&elsewhere, &bytes).unwrap();
    fs::remove_file(&entry).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &entry).unwrap();
    assert_recovers(&cache, &entry, &bytes);
    assert_eq!(
        fs::read(&elsewhere).unwrap(),
        bytes,
        "the link's target changed"
    );
}

#[test]
fn a_cached_module_others_can_write_is_not_trusted() {
    let (_dir, cache, entry) = copy_of_the_cache();
    // Damaged too, so that mapping it anyway would show.
    let bytes = with_flipped_code(&fs::read(&entry).unwrap());
    fs::write(&entry, &bytes).unwrap();
    fs::set_permissions(&entry, fs::Permissions::from_mode(0o666)).unwrap();
    assert_recovers(&cache, &entry, &bytes);
}

#[test]
fn an_entry_copied_under_another_modules_name_is_refused() {
    let exit42 = exit42();
    let (dir, cache, entry) = copy_of_the_cache();
    // A second module (another file, so another entry name), whose entry is replaced by the
    // first module's sound one: the tag binds the name, so it is compiled again instead.
    let other = dir.path().join("other.wasm");
    fs::copy(&exit42.module, &other).unwrap();
    assert_runs(&run(&other, &cache));
    let mut entries: Vec<PathBuf> = fs::read_dir(cache.join("modules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm") && *p != entry)
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let other_entry = entries.pop().unwrap();
    let moved = fs::read(&entry).unwrap();
    fs::write(&other_entry, &moved).unwrap();
    assert_runs(&run(&other, &cache));
    assert_ne!(fs::read(&other_entry).unwrap(), moved);
}

#[test]
fn the_cache_directory_and_its_key_are_private() {
    let (_dir, cache, _entry) = copy_of_the_cache();
    let modules = cache.join("modules");
    // An older cache, made with the umask's mode, is narrowed.
    fs::set_permissions(&modules, fs::Permissions::from_mode(0o755)).unwrap();
    assert_runs(&run(&exit42().module, &cache));
    assert_eq!(fs::metadata(&modules).unwrap().mode() & 0o777, 0o700);
    let key = fs::symlink_metadata(modules.join("key")).unwrap();
    assert!(key.file_type().is_file());
    assert_eq!(key.mode() & 0o777, 0o600);
    assert_eq!(key.len(), 32);
    // No temporary file is left behind.
    let names: Vec<String> = fs::read_dir(&modules)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn a_fresh_cache_is_made_private() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    assert_runs(&run(&exit42().module, &cache));
    let modules = cache.join("modules");
    assert_eq!(fs::metadata(&modules).unwrap().mode() & 0o777, 0o700);
}
