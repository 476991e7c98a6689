//! Convert benchmark: the Debian 13 riscv64 test image (tests/images) served by a local
//! registry. Prints
//! - the time of `ctr2wasm convert` from the registry against `skopeo copy` of the same image
//!   plus `tar -x` of its layers (goal ≤ 2×), with an empty blob cache each time;
//! - the module's size against the image's compressed layers (goal ≤ + 5 MB);
//! - the time from starting `ctr2wasm run OUT.wasm echo hi` to its first byte of output,
//!   with the compiled module cached (goal ≤ 50 ms).
//!
//! Medians of several runs. Run with `cargo bench --bench convert`.

#[path = "../tests/all/host_tools.rs"]
mod host_tools;
#[path = "../tests/all/registry.rs"]
#[allow(dead_code)]
mod registry;

use std::io::Read;
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
