//! The embedded runtime: runs the runtime module (`wasi-shim` built for wasm32-wasip1) in
//! wasmtime, the same way `wasmtime run` would.
//!
//! Compiled code is cached (`precompiled`), so only the first run pays for Cranelift: a
//! converted module file keyed by the file's identity (device, inode, size, times), the
//! embedded runtime by its hash. Each entry is checked before it is mapped as code.
//! wasmtime's own cache is not used: its entries are not checked (a damaged one is mapped as
//! it is), and it would only hold a second copy of every module.
//!
//! Both run the runtime's JIT build, which translates hot guest code to small wasm modules at
//! run time and asks its host to compile them (the `ctr2wasm_jit.compile` import, provided
//! here). A converted module carries the plain build, so `wasmtime run` and node can run it;
//! loading one here puts its bundle behind the JIT build instead.

mod precompiled;

use crate::module_file::ModuleFile;
use anyhow::{Context as _, Result};
use std::path::PathBuf;
use wasmtime::{Caller, Config, Engine, Extern, Instance, Linker, Module, Ref, Store};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder, p1};

/// The runtime module, built by `build.rs`.
pub static RUNTIME_WASM: &[u8] = include_bytes!(env!("CTR2WASM_RUNTIME_WASM"));
/// Its JIT build (feature `jit`), which imports `ctr2wasm_jit.compile`.
pub static RUNTIME_JIT_WASM: &[u8] = include_bytes!(env!("CTR2WASM_RUNTIME_JIT_WASM"));

/// What the module sees: its argv, its environment, and host directories preopened at
/// guest paths. stdio is inherited.
pub struct Invocation {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub dirs: Vec<(PathBuf, String)>,
}

/// The module to run.
pub enum Wasm<'a> {
    /// In memory (the embedded runtime), cached by its hash.
    Bytes(&'a [u8]),
    /// A converted module file (checked by `module_file`), cached by its identity and run
    /// behind the runtime's JIT build.
    File(&'a ModuleFile),
}

/// Runs `wasm` to completion and returns the exit status it asked for.
pub fn run(wasm: Wasm, inv: &Invocation) -> Result<i32> {
    let mut config = Config::new();
    // `perf record` can then name the runtime's functions and each translation's.
    if std::env::var_os("CTR2WASM_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let engine = Engine::new(&config)?;
    let module = match wasm {
        Wasm::Bytes(bytes) => {
            precompiled::load(&engine, &precompiled::bytes_entry_name(bytes), || {
                Module::new(&engine, bytes)
                    .map_err(|e| anyhow::Error::from(e).context("compiling the runtime module"))
            })?
        }
        Wasm::File(file) => precompiled::load(
            &engine,
            &precompiled::file_entry_name(file.metadata()),
            || compile_converted(&engine, file),
        )?,
    };
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
    linker.func_wrap("ctr2wasm_jit", "compile", compile_translation)?;
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

/// `ctr2wasm_jit.compile(ptr, len) -> index`: compiles the module of translated guest code at
/// `ptr` in the runtime's memory, links it to that memory and the runtime's function table,
/// and appends its exported functions ("0", "1", ...) to the table. Returns the table index
/// of the first, or -1 (the runtime then stops translating).
fn compile_translation(mut caller: Caller<'_, p1::WasiP1Ctx>, ptr: i32, len: i32) -> i32 {
    match append_translation(&mut caller, ptr as u32 as usize, len as u32 as usize) {
        Ok(index) => index as i32,
        Err(e) => {
            if std::env::var("CTR2WASM_TRACE").is_ok_and(|v| v.split(',').any(|f| f == "jit")) {
                eprintln!("ctr2wasm: translated code refused: {e:#}");
            }
            -1
        }
    }
}

fn append_translation(
    caller: &mut Caller<'_, p1::WasiP1Ctx>,
    ptr: usize,
    len: usize,
) -> Result<u32> {
    let memory = caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .context("the runtime exports no memory")?;
    let table = caller
        .get_export("__indirect_function_table")
        .and_then(Extern::into_table)
        .context("the runtime exports no function table")?;
    let bytes = memory
        .data(&caller)
        .get(ptr..ptr.checked_add(len).context("module out of range")?)
        .context("module out of range")?
        .to_vec();
    let module = Module::new(caller.engine(), &bytes)?;
    let instance = Instance::new(&mut *caller, &module, &[memory.into(), table.into()])?;
    let funcs: Vec<_> = (0..)
        .map_while(|i: u32| instance.get_func(&mut *caller, &i.to_string()))
        .collect();
    let base = table.grow(&mut *caller, funcs.len() as u64, Ref::Func(None))?;
    for (i, f) in funcs.into_iter().enumerate() {
        table.set(&mut *caller, base + i as u64, Ref::Func(Some(f)))?;
    }
    u32::try_from(base).context("table index")
}

/// Compiles the converted module in `file` behind the runtime's JIT build.
fn compile_converted(engine: &Engine, file: &ModuleFile) -> Result<Module> {
    let path = file.path().display();
    let bytes = file.read_all()?;
    let jit = crate::module::rebase(RUNTIME_JIT_WASM, &bytes).with_context(|| path.to_string())?;
    Module::new(engine, &jit)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("{path} is not a module wasmtime can run"))
}
