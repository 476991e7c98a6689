//! What a layer cannot make `convert` spend: paths thousands of components deep convert in
//! linear time, a sparse file declaring gigabytes and a gzip bomb convert in bounded memory
//! (measured: the child's peak RSS from `wait4`), each limit stops a conversion with one line
//! naming its flag and leaves no output; and an opaque whiteout at a layer's root clears the
//! lower layers' root and keeps the layer's own entries (read back from the module's bundle).
//!
//! The images are OCI layouts written here, so each layer holds exactly what a case needs.

use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wasi_shim::bundle::format::ROOT;
use wasi_shim::bundle::reader::{Bundle, Source};

const TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

fn sha256_hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A layer blob on disk: its digest, size, media type and the digest of its tar (diff_id).
struct LayerBlob {
    digest: String,
    size: u64,
    media_type: &'static str,
    diff_id: String,
}

/// An OCI layout being written.
struct Layout {
    dir: PathBuf,
    layers: Vec<LayerBlob>,
}

impl Layout {
    fn new(dir: &Path) -> Layout {
        fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout {
            dir: dir.to_path_buf(),
            layers: Vec::new(),
        }
    }

    fn put(&self, bytes: &[u8]) -> (String, u64) {
        let hex = sha256_hex(&Sha256::digest(bytes));
        fs::write(self.dir.join("blobs/sha256").join(&hex), bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len() as u64)
    }

    /// An uncompressed tar layer.
    fn tar_layer(&mut self, tar: &[u8]) {
        let (digest, size) = self.put(tar);
        self.layers.push(LayerBlob {
            diff_id: digest.clone(),
            digest,
            size,
            media_type: TAR,
        });
    }

    /// A gzip layer whose tar is `write_tar`'s output, streamed (never in memory).
    fn gzip_layer(&mut self, write_tar: impl FnOnce(&mut dyn Write)) {
        let tmp = self.dir.join("blobs/sha256/partial");
        let file = fs::File::create(&tmp).unwrap();
        let gz = flate2::write::GzEncoder::new(
            Hashing::new(io::BufWriter::new(file)),
            flate2::Compression::default(),
        );
        let mut tar = Hashing::new(gz);
        write_tar(&mut tar);
        let (gz, diff) = tar.finish();
        let (mut file, blob) = gz.finish().unwrap().finish();
        file.flush().unwrap();
        let hex = sha256_hex(&blob);
        fs::rename(&tmp, self.dir.join("blobs/sha256").join(&hex)).unwrap();
        let size = fs::metadata(self.dir.join("blobs/sha256").join(&hex))
            .unwrap()
            .len();
        self.layers.push(LayerBlob {
            digest: format!("sha256:{hex}"),
            size,
            media_type: GZIP,
            diff_id: format!("sha256:{}", sha256_hex(&diff)),
        });
    }

    /// Writes config, manifest and index (tag `latest`); the `oci:` reference.
    fn finish(self) -> String {
        let config = serde_json::json!({
            "architecture": "riscv64",
            "os": "linux",
            "config": {"Cmd": ["/c"]},
            "rootfs": {"type": "layers", "diff_ids": self.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
        });
        let (config_digest, config_size) = self.put(config.to_string().as_bytes());
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config_size,
            },
            "layers": self.layers.iter().map(|l| serde_json::json!({
                "mediaType": l.media_type, "digest": l.digest, "size": l.size,
            })).collect::<Vec<_>>(),
        });
        let (manifest_digest, manifest_size) = self.put(manifest.to_string().as_bytes());
        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": manifest_size,
                "annotations": {"org.opencontainers.image.ref.name": "latest"},
            }],
        });
        fs::write(self.dir.join("index.json"), index.to_string()).unwrap();
        format!("oci:{}:latest", self.dir.display())
    }
}

/// A writer that hashes what goes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
        }
    }

    fn finish(self) -> (W, Vec<u8>) {
        (self.inner, self.hash.finalize().to_vec())
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn header(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_000_000);
    h.set_size(size);
    h
}

/// A tar of regular files (name, contents).
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = header(tar::EntryType::Regular, data.len() as u64);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// What a finished `convert` did: status, stderr, peak RSS and time.
struct Run {
    ok: bool,
    stderr: String,
    max_rss_bytes: u64,
    elapsed: Duration,
}

/// Runs `ctr2wasm convert --quiet EXTRA REFERENCE OUT`, killed if it takes longer than
/// `timeout`; its peak RSS comes from `wait4`.
// The child is reaped by `wait4` (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn convert(reference: &str, out: &Path, extra: &[&str], timeout: Duration) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"))
        .arg("convert")
        .arg("--quiet")
        .args(extra)
        .arg(reference)
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waits for our own child, filling the two out-parameters.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(r >= 0, "wait4: {}", io::Error::last_os_error());
        if r == pid {
            break;
        }
        if started.elapsed() > timeout {
            child.kill().unwrap();
            // SAFETY: as above, now blocking until the killed child is reaped.
            unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            panic!("convert {reference} {extra:?} took more than {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    Run {
        ok: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        stderr: reader.join().unwrap(),
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
        elapsed,
    }
}

/// A conversion that must fail with one line containing `needle`, leaving no output.
fn assert_refused(reference: &str, extra: &[&str], needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.wasm");
    let run = convert(reference, &out, extra, Duration::from_secs(120));
    assert!(!run.ok, "{reference} {extra:?} converted");
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "not one line: {:?}",
        run.stderr
    );
    assert!(
        run.stderr.starts_with("ctr2wasm: layer sha256:"),
        "{:?}",
        run.stderr
    );
    assert!(
        run.stderr.contains(needle),
        "{:?} does not say {needle:?}",
        run.stderr
    );
    let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "left {left:?}");
}

/// The bundle inside a converted module (its passive data segment with the bundle magic).
fn bundle_of(module: &[u8]) -> Bundle {
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let wasmparser::Payload::DataSection(r) = payload.unwrap() {
            for seg in r {
                let seg = seg.unwrap();
                if seg.data.starts_with(&wasi_shim::bundle::format::MAGIC) {
                    return Bundle::open(Source::Bytes(seg.data.to_vec())).unwrap();
                }
            }
        }
    }
    panic!("no bundle in the module");
}

fn root_names(module: &Path) -> Vec<String> {
    let b = bundle_of(&fs::read(module).unwrap());
    let root = b.inode(ROOT).unwrap();
    b.entries(&root)
        .unwrap()
        .into_iter()
        .map(|(name, _)| String::from_utf8_lossy(&name).into_owned())
        .collect()
}

/// Peak RSS allowed for converting a layer whatever it declares (the runtime module and the
/// metadata; no file's contents).
const RSS_BOUND: u64 = 256 << 20;

#[test]
fn a_path_10000_components_deep_converts_in_linear_time() {
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("layout"));
    let deep = format!("{}f", "d/".repeat(10_000));
    layout.tar_layer(&tar_of(&[(&deep, b"deep")]));
    let reference = layout.finish();
    let out = work.path().join("out.wasm");
    let run = convert(
        &reference,
        &out,
        &["--max-path-depth", "20000"],
        Duration::from_secs(20),
    );
    assert!(run.ok, "{}", run.stderr);
    eprintln!("10,000 components: {:?}", run.elapsed);
    assert_eq!(root_names(&out), ["d"]);
    assert_refused(
        &reference,
        &[],
        "a path deeper than 4096 components (raise with --max-path-depth)",
    );
}

/// A GNU sparse member of `real` bytes whose only data is 4 KiB of `x` at its end.
fn sparse_tar(name: &str, real: u64) -> Vec<u8> {
    let data = vec![b'x'; 4096];
    let mut h = header(tar::EntryType::GNUSparse, data.len() as u64);
    h.set_path(name).unwrap();
    let gnu = h.as_gnu_mut().unwrap();
    let octal = |field: &mut [u8], n: u64| {
        let s = format!("{n:0width$o}\0", width = field.len() - 1);
        field.copy_from_slice(s.as_bytes());
    };
    octal(&mut gnu.sparse[0].offset, real - data.len() as u64);
    octal(&mut gnu.sparse[0].numbytes, data.len() as u64);
    octal(&mut gnu.realsize, real);
    gnu.isextended[0] = 0;
    h.set_cksum();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&h, &data[..]).unwrap();
    b.into_inner().unwrap()
}

/// Converts `reference` to `out`, which must succeed with a peak RSS under [`RSS_BOUND`].
fn convert_in_bounded_memory(reference: &str, out: &Path, what: &str) {
    let run = convert(reference, out, &[], Duration::from_secs(300));
    assert!(run.ok, "{}", run.stderr);
    eprintln!(
        "{what}: peak RSS {} MB in {:?}",
        run.max_rss_bytes >> 20,
        run.elapsed
    );
    assert!(
        run.max_rss_bytes < RSS_BOUND,
        "peak RSS {} MB",
        run.max_rss_bytes >> 20
    );
}

#[test]
fn a_sparse_file_declaring_3_gib_converts_in_bounded_memory() {
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("layout"));
    let tar = sparse_tar("sparse", 3 << 30);
    assert!(
        tar.len() < 16 << 10,
        "the layer is small: {} bytes",
        tar.len()
    );
    layout.tar_layer(&tar);
    let reference = layout.finish();
    let out = work.path().join("out.wasm");
    convert_in_bounded_memory(&reference, &out, "sparse 3 GiB");
    assert_eq!(root_names(&out), ["sparse"]);
    assert_refused(
        &reference,
        &["--max-unpacked-size", "1G"],
        "unpacked size exceeds 1 GiB (raise with --max-unpacked-size)",
    );
}

#[test]
fn a_gzip_bomb_converts_in_bounded_memory() {
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("layout"));
    let size = 2u64 << 30;
    layout.gzip_layer(|w| {
        let mut b = tar::Builder::new(w);
        let mut h = header(tar::EntryType::Regular, size);
        b.append_data(&mut h, "zeros", io::repeat(0).take(size))
            .unwrap();
        b.finish().unwrap();
    });
    assert!(
        layout.layers[0].size < 16 << 20,
        "a bomb: {} bytes",
        layout.layers[0].size
    );
    let reference = layout.finish();
    let out = work.path().join("out.wasm");
    convert_in_bounded_memory(&reference, &out, "gzip bomb (2 GiB)");
    assert_refused(
        &reference,
        &["--max-unpacked-size", "100M"],
        "unpacked size exceeds 100 MiB (raise with --max-unpacked-size)",
    );
}

#[test]
fn too_many_entries_is_refused_with_its_flag() {
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("layout"));
    let names: Vec<String> = (0..100).map(|i| format!("f{i}")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    layout.tar_layer(&tar_of(&files));
    let reference = layout.finish();
    assert_refused(
        &reference,
        &["--max-entries", "50"],
        "more than 50 entries (raise with --max-entries)",
    );
    let out = work.path().join("out.wasm");
    let run = convert(
        &reference,
        &out,
        &["--max-entries", "101"],
        Duration::from_secs(60),
    );
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(root_names(&out).len(), 100);
}

#[test]
fn an_opaque_whiteout_at_the_root_clears_the_lower_layers_root() {
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("layout"));
    layout.tar_layer(&tar_of(&[
        ("a", b"lower a"),
        ("b", b"lower b"),
        ("d/x", b"lower"),
    ]));
    // The layer's own entries stay whatever their order around the marker.
    layout.tar_layer(&tar_of(&[
        ("c", b"upper c"),
        (".wh..wh..opq", b""),
        ("d/y", b"upper"),
    ]));
    let reference = layout.finish();
    let out = work.path().join("out.wasm");
    let run = convert(&reference, &out, &[], Duration::from_secs(60));
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(root_names(&out), ["c", "d"]);
    let b = bundle_of(&fs::read(&out).unwrap());
    let root = b.inode(ROOT).unwrap();
    let d = b.lookup(&root, b"d").unwrap().unwrap();
    let d = b.inode(d).unwrap();
    let names: Vec<Vec<u8>> = b.entries(&d).unwrap().into_iter().map(|e| e.0).collect();
    assert_eq!(
        names,
        [b"y".to_vec()],
        "the lower d/x is gone with the lower root"
    );
    let c = b.inode(b.lookup(&root, b"c").unwrap().unwrap()).unwrap();
    assert_eq!(b.read_all(&c).unwrap(), b"upper c");
}
