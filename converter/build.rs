//! Builds what the converter embeds, with no manual build step: the runtime module
//! (`wasi-shim` for wasm32-wasip1, release) and the web page (`web/`, an npm package).
//!
//! A nested cargo in our own target directory would wait forever on the lock the outer build
//! holds, so the runtime gets a target directory of its own beside it.
//!
//! The page is built with `npm ci` (only when `web/node_modules` is missing or older than the
//! lock file) and `node build.mjs OUT_DIR/web`; the build output stays under OUT_DIR, and a
//! generated `web_files.rs` lists its files for `include_bytes!`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir
        .parent()
        .expect("converter/ lives in the workspace root");
    for dir in [
        "wasi-shim/src",
        "wasi-shim/build.rs",
        "emulator/src",
        "wasi-shim/Cargo.toml",
        "emulator/Cargo.toml",
        "Cargo.lock",
    ] {
        rerun_if_changed(workspace, Path::new(dir));
    }
    let target_dir = runtime_target_dir(workspace);
    let plain = build_runtime(workspace, &target_dir, &[]);
    println!("cargo:rustc-env=CTR2WASM_RUNTIME_WASM={}", plain.display());
    // The JIT build needs its embedder's `ctr2wasm_jit.compile`: `ctr2wasm run` and `exec`
    // provide it, `wasmtime run` and node do not, so converted modules carry the plain one.
    // A target directory of its own keeps the two feature sets from rebuilding each other.
    let jit = build_runtime(workspace, &target_dir.join("jit"), &["--features", "jit"]);
    println!(
        "cargo:rustc-env=CTR2WASM_RUNTIME_JIT_WASM={}",
        jit.display()
    );
    build_web(workspace);
}

/// Builds the runtime module (`wasi-shim` for wasm32-wasip1, release) in `target_dir` with
/// `extra` cargo arguments; returns the module's path.
fn build_runtime(workspace: &Path, target_dir: &Path, extra: &[&str]) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "--release", "--target", "wasm32-wasip1"])
        .args(["-p", "ctr2wasm-wasi-shim", "--bin", "ctr2wasm-runtime"])
        .args(extra)
        .arg("--target-dir")
        .arg(target_dir);
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
    target_dir.join("wasm32-wasip1/release/ctr2wasm-runtime.wasm")
}

/// Builds the web page into `OUT_DIR/web` and writes `OUT_DIR/web_files.rs`: a
/// `&[(&str, &[u8])]` of its files (name, bytes), sorted by name.
fn build_web(workspace: &Path) {
    for path in [
        "web/src",
        "web/build.mjs",
        "web/package.json",
        "web/package-lock.json",
    ] {
        rerun_if_changed(workspace, Path::new(path));
    }
    let web = workspace.join("web");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let dist = out.join("web");
    let stamp = web.join("node_modules/.package-lock.json");
    let lock = web.join("package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&stamp).is_none() || modified(&stamp) < modified(&lock) {
        run_tool(&web, "npm", &["ci", "--no-audit", "--no-fund"]);
    }
    let dist_arg = dist.to_str().expect("OUT_DIR is UTF-8").to_string();
    run_tool(&web, "node", &["build.mjs", &dist_arg]);
    let mut names: Vec<String> = std::fs::read_dir(&dist)
        .unwrap_or_else(|e| panic!("{}: {e}", dist.display()))
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| {
            e.file_name()
                .into_string()
                .expect("web build names are ASCII")
        })
        .collect();
    names.sort();
    let mut list = String::from("&[\n");
    for name in &names {
        list.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            dist.join(name).display().to_string()
        ));
    }
    list.push(']');
    std::fs::write(out.join("web_files.rs"), list).expect("OUT_DIR is writable");
}

/// Runs an npm-side tool in `dir`, its output on our stderr, and stops the build if it fails.
fn run_tool(dir: &Path, tool: &str, args: &[&str]) {
    let status = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::inherit())
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "building the web page needs {tool} (Node.js 18 or later with npm; on Debian \
                 `apt-get install nodejs npm`, which .ci/setup does): {e}"
            )
        });
    if !status.success() {
        panic!(
            "building the web page failed: `{tool} {}` in {} exited with {status}",
            args.join(" "),
            dir.display()
        );
    }
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
