//! The embedded runtime: runs the runtime module (`wasi-shim` built for wasm32-wasip1) in
//! wasmtime, the same way `wasmtime run` would.
//!
//! Compiled code goes to wasmtime's on-disk cache, so only the first run after a build pays
//! for Cranelift.

use anyhow::{Context as _, Result};
use std::path::PathBuf;
use wasmtime::{Cache, Config, Engine, Linker, Module, Store};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder, p1};

/// The runtime module, built by `build.rs`.
pub static RUNTIME_WASM: &[u8] = include_bytes!(env!("CTR2WASM_RUNTIME_WASM"));

/// What the module sees: its argv, its environment, and host directories preopened at
/// guest paths. stdio is inherited.
pub struct Invocation {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub dirs: Vec<(PathBuf, String)>,
}

/// Runs `wasm` to completion and returns the exit status it asked for.
pub fn run(wasm: &[u8], inv: &Invocation) -> Result<i32> {
    let mut config = Config::new();
    // A missing or unreadable cache only costs compile time.
    if let Ok(cache) = Cache::from_file(None) {
        config.cache(Some(cache));
    }
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, wasm)
        .map_err(|e| anyhow::Error::from(e).context("compiling the runtime module"))?;
    let mut linker = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |ctx| ctx)?;
    // wasmtime-wasi refuses exit statuses of 126 and above (WASI p1 leaves them undefined)
    // and traps instead, but a container that dies of SIGSEGV must exit 139 as under Docker.
    linker.allow_shadowing(true);
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "proc_exit",
        |status: i32| -> wasmtime::Result<()> { Err(I32Exit(status).into()) },
    )?;
    let mut wasi = WasiCtxBuilder::new();
    wasi.inherit_stdio().args(&inv.args).envs(&inv.env);
    for (host, guest) in &inv.dirs {
        wasi.preopened_dir(host, guest, FsPerms::ReadWrite)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot open {} for the guest", host.display()))?;
    }
    let mut store = Store::new(&engine, wasi.build_p1());
    let instance = linker.instantiate(&mut store, &module)?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    match start.call(&mut store, ()) {
        Ok(()) => Ok(0),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => Ok(exit.0),
            None => Err(anyhow::Error::from(e).context("the runtime module trapped")),
        },
    }
}
