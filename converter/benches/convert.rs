//! Convert benchmark: the Debian 13 riscv64 test image (tests/images) served by a local
//! registry. Prints
//! - the time of `ctr2wasm convert` from the registry against `skopeo copy` of the same image
//!   plus `tar -x` of its layers (goal ≤ 2×), with an empty blob cache each time;
//! - the module's size against the image's compressed layers (goal ≤ + 5 MB);
//! - the time from starting `ctr2wasm run OUT.wasm echo hi` to its first byte of output,
//!   with the compiled module cached (goal ≤ 50 ms);
//! - the peak RSS of `ctr2wasm convert` (from `wait4`) for the Debian image and for a
//!   generated ~2 GB image of incompressible files, which must not grow with the image: file
//!   contents are spooled to disk and streamed into the module.
//!
//! Medians of several runs. Run with `cargo bench --bench convert`.

#[path = "../tests/all/host_tools.rs"]
mod host_tools;
#[path = "../tests/all/registry.rs"]
#[allow(dead_code)]
mod registry;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let images = sh(&mut Command::new(
        manifest.join("tests/images/make-images.sh"),
    ));
    let layout = PathBuf::from(images.lines().last().expect("images dir").trim()).join("debian");
    let registry = registry::Registry::start();
    let reference = registry.push(&layout, "latest", "debian:13");
    let ctr2wasm = env!("CARGO_BIN_EXE_ctr2wasm");
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-convert");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("bench dir");
    let out = work.join("debian.wasm");

    let convert = median(|| {
        let cache = work.join("cache");
        let _ = std::fs::remove_dir_all(&cache);
        let t = Instant::now();
        sh(Command::new(ctr2wasm)
            .env("CTR2WASM_CACHE_DIR", &cache)
            .args(["convert", "--quiet", "--insecure", &reference])
            .arg(&out));
        t.elapsed()
    });
    let skopeo_tar = median(|| {
        let copy = work.join("copy");
        let tree = work.join("tree");
        let _ = std::fs::remove_dir_all(&copy);
        let _ = std::fs::remove_dir_all(&tree);
        std::fs::create_dir_all(&tree).expect("tree dir");
        let t = Instant::now();
        sh(Command::new("skopeo")
            .args(["copy", "--quiet", "--src-tls-verify=false"])
            .arg(format!("docker://{reference}"))
            .arg(format!("dir:{}", copy.display())));
        for layer in layers(&copy.join("manifest.json")) {
            sh(Command::new("tar")
                .arg("-xzf")
                .arg(copy.join(layer.trim_start_matches("sha256:")))
                .arg("-C")
                .arg(&tree));
        }
        t.elapsed()
    });
    let compressed: u64 = layer_sizes(&layout);
    let size = std::fs::metadata(&out).expect("module").len();

    // Warm the compiled-module cache, then time to the first byte of output.
    sh(Command::new(ctr2wasm)
        .args(["run"])
        .arg(&out)
        .args(["echo", "hi"]));
    let first_output = median(|| {
        let t = Instant::now();
        let mut child = Command::new(ctr2wasm)
            .arg("run")
            .arg(&out)
            .args(["echo", "hi"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("ctr2wasm run");
        let mut byte = [0u8; 1];
        child
            .stdout
            .take()
            .expect("stdout")
            .read_exact(&mut byte)
            .expect("output");
        let e = t.elapsed();
        child.wait().expect("wait");
        e
    });

    let debian_rss = peak_rss(
        Command::new(ctr2wasm)
            .env("CTR2WASM_CACHE_DIR", work.join("cache"))
            .args(["convert", "--quiet", "--insecure", &reference])
            .arg(&out),
    );
    let big = big_layout(&work.join("big"));
    let big_out = work.join("big.wasm");
    let t = Instant::now();
    let big_rss = peak_rss(
        Command::new(ctr2wasm)
            .args(["convert", "--quiet"])
            .arg(format!("oci:{}:latest", big.display()))
            .arg(&big_out),
    );
    let big_time = t.elapsed();
    let big_size = std::fs::metadata(&big_out).expect("big module").len();
    let _ = std::fs::remove_file(&big_out);
    let _ = std::fs::remove_dir_all(&big);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("Debian 13 riscv64 image ({reference})");
    println!(
        "convert from the registry     {:>8.0} ms   skopeo copy + tar -x {:>8.0} ms   ratio {:.2} (goal ≤ 2)",
        ms(convert),
        ms(skopeo_tar),
        convert.as_secs_f64() / skopeo_tar.as_secs_f64()
    );
    println!(
        "module size                   {:>8.1} MB   compressed layers    {:>8.1} MB   over by {:+.1} MB (goal ≤ +5)",
        size as f64 / 1e6,
        compressed as f64 / 1e6,
        (size as f64 - compressed as f64) / 1e6
    );
    println!(
        "first output of `echo hi`     {:>8.1} ms   (compiled module cached; goal ≤ 50 ms)",
        ms(first_output)
    );
    println!(
        "peak RSS of convert           {:>8.0} MB   Debian image",
        debian_rss as f64 / 1e6
    );
    println!(
        "peak RSS of convert           {:>8.0} MB   {:.1} GB image of incompressible files ({:.1} GB module in {:.0} s)",
        big_rss as f64 / 1e6,
        BIG_FILES as f64 * BIG_FILE as f64 / 1e9,
        big_size as f64 / 1e9,
        big_time.as_secs_f64()
    );
}

const BIG_FILES: u64 = 8;
const BIG_FILE: u64 = 256 << 20;

/// The peak RSS of running `cmd` to success, in bytes (`ru_maxrss` from `wait4`).
// The child is reaped by `wait4` (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn peak_rss(cmd: &mut Command) -> u64 {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("run");
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid for wait4 to fill; we wait for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert!(
        r == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed"
    );
    usage.ru_maxrss as u64 * 1024
}

/// An OCI layout of one uncompressed layer of [`BIG_FILES`] files of [`BIG_FILE`] random
/// bytes each (xorshift: zstd cannot shrink them), written straight to disk.
fn big_layout(dir: &Path) -> PathBuf {
    use sha2::Digest;
    let _ = std::fs::remove_dir_all(dir);
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("layout dir");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("layout");
    struct Hashing(std::io::BufWriter<std::fs::File>, sha2::Sha256, u64);
    impl Write for Hashing {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let n = self.0.write(b)?;
            self.1.update(&b[..n]);
            self.2 += n as u64;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.0.flush()
        }
    }
    let tmp = blobs.join("partial");
    let file = std::fs::File::create(&tmp).expect("layer");
    let mut tar = tar::Builder::new(Hashing(
        std::io::BufWriter::with_capacity(1 << 20, file),
        sha2::Sha256::new(),
        0,
    ));
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..BIG_FILES {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        // A new header's numeric fields are empty, which is not a number.
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(BIG_FILE);
        let data: Vec<u8> = (0..BIG_FILE / 8)
            .flat_map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()
            })
            .collect();
        tar.append_data(&mut h, format!("data/f{i}"), &data[..])
            .expect("tar");
    }
    let mut hashing = tar.into_inner().expect("tar");
    hashing.flush().expect("layer");
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let layer_hex = hex(&hashing.1.clone().finalize());
    let layer_size = hashing.2;
    std::fs::rename(&tmp, blobs.join(&layer_hex)).expect("layer");
    let put = |bytes: &[u8]| {
        let h = hex(&sha2::Sha256::digest(bytes));
        std::fs::write(blobs.join(&h), bytes).expect("blob");
        (format!("sha256:{h}"), bytes.len())
    };
    let (config, config_size) = put(
        format!(
            r#"{{"architecture":"riscv64","os":"linux","config":{{"Cmd":["/bin/sh"]}},"rootfs":{{"type":"layers","diff_ids":["sha256:{layer_hex}"]}}}}"#
        )
        .as_bytes(),
    );
    let (manifest, manifest_size) = put(
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{config_size}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:{layer_hex}","size":{layer_size}}}]}}"#
        )
        .as_bytes(),
    );
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest}","size":{manifest_size},"annotations":{{"org.opencontainers.image.ref.name":"latest"}}}}]}}"#
        ),
    )
    .expect("index");
    dir.to_path_buf()
}

/// Runs `cmd` to success; returns its stdout.
fn sh(cmd: &mut Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn median(mut f: impl FnMut() -> Duration) -> Duration {
    let mut v: Vec<Duration> = (0..RUNS).map(|_| f()).collect();
    v.sort();
    v[RUNS / 2]
}

/// The layer digests of a manifest, in order (a dependency-free scan of its JSON).
fn layers(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).expect("manifest");
    let layers = &text[text.find("\"layers\"").expect("layers")..];
    layers
        .split("\"digest\"")
        .skip(1)
        .filter_map(|s| s.split('"').nth(1).map(str::to_string))
        .collect()
}

/// The summed sizes of the layers of the layout's `latest` manifest.
fn layer_sizes(layout: &Path) -> u64 {
    let index = std::fs::read_to_string(layout.join("index.json")).expect("index");
    let digest = index
        .split("\"digest\"")
        .nth(1)
        .and_then(|s| s.split('"').nth(1))
        .expect("manifest digest");
    let manifest = layout
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"));
    layers(&manifest)
        .iter()
        .map(|d| {
            std::fs::metadata(
                layout
                    .join("blobs/sha256")
                    .join(d.trim_start_matches("sha256:")),
            )
            .expect("layer blob")
            .len()
        })
        .sum()
}
