//! Builds the runtime module (`wasi-shim` for wasm32-wasip1, release) so that the converter
//! can embed it and its tests can run it, with no manual build step.
//!
//! A nested cargo in our own target directory would wait forever on the lock the outer build
//! holds, so the runtime gets a target directory of its own beside it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir
        .parent()
        .expect("converter/ lives in the workspace root");
    for dir in [
        "wasi-shim/src",
        "emulator/src",
        "wasi-shim/Cargo.toml",
        "emulator/Cargo.toml",
        "Cargo.lock",
    ] {
        rerun_if_changed(workspace, Path::new(dir));
    }
    let target_dir = runtime_target_dir(workspace);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "--release", "--target", "wasm32-wasip1"])
        .args(["-p", "ctr2wasm-wasi-shim", "--bin", "ctr2wasm-runtime"])
        .arg("--target-dir")
        .arg(&target_dir);
    // Flags meant for the host build must not leak into the wasm one.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("could not start cargo to build the runtime module: {e}"));
    if !status.success() {
        panic!(
            "building the runtime module failed ({status}); is the wasm32-wasip1 target installed? \
             (`rustup target add wasm32-wasip1`, named in rust-toolchain.toml)"
        );
    }
    let wasm = target_dir.join("wasm32-wasip1/release/ctr2wasm-runtime.wasm");
    println!("cargo:rustc-env=CTR2WASM_RUNTIME_WASM={}", wasm.display());
}

/// `<target dir>/runtime-wasm/<checkout>`, found from OUT_DIR
/// (`<target>/<profile>/build/<pkg>/out`). One per checkout: two clones sharing a target
/// directory must not embed each other's runtime.
fn runtime_target_dir(workspace: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    workspace.hash(&mut hasher);
    let checkout = format!("{:016x}", hasher.finish());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    out.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(|build| build.parent()?.parent())
        .map(|target| target.join("runtime-wasm").join(&checkout))
        .unwrap_or_else(|| workspace.join("target/runtime-wasm").join(&checkout))
}

/// Watches `rel` (relative to the workspace) and, for a directory, everything in it. Paths
/// are printed relative to this package, which cargo resolves against the checkout being
/// built: two clones sharing one target directory share this build script's output, and
/// absolute paths would keep watching the other clone's files.
fn rerun_if_changed(workspace: &Path, rel: &Path) {
    let path = workspace.join(rel);
    if path.is_dir() {
        for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
            rerun_if_changed(workspace, &rel.join(entry.file_name()));
        }
    } else {
        println!("cargo:rerun-if-changed=../{}", rel.display());
    }
}
