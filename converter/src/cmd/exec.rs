//! `ctr2wasm exec [--wasm] --rootfs DIR [--env K=V]... [--workdir D] [--dir HOST::GUEST]...
//! -- PROGRAM [ARGS...]`: run a riscv64 Linux program from an unpacked root file system, on the
//! kernel and emulator built for the host or, with `--wasm`, on the runtime module in the
//! embedded wasmtime, with host directories mounted writable where `--dir` says. For
//! debugging, profiling, the differential tests and the benchmarks.
//!
//! Exit codes: the guest's own status (`128+n` when a signal killed it); 127 when PROGRAM, its
//! ELF interpreter or its `#!` interpreter does not exist; 126 when it cannot be executed (not
//! an ELF riscv64 executable, a directory, no execute permission, a bad `#!` line or too many
//! nested ones); 125 when the runtime itself failed (bad rootfs or workdir, deadlock, the wasm
//! module trapped).

use super::{DirArg, parse_dir};
use crate::wasm;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use wasi_shim::{Config, HostMount, RootFs, run_as_command};

/// Where the rootfs is preopened for the runtime module.
const WASM_ROOTFS: &str = "/rootfs";
/// Settings of the runtime itself (not the guest) that `--wasm` passes through.
const RUNTIME_ENV: &[&str] = &[
    "CTR2WASM_TRACE",
    "CTR2WASM_STATS",
    "CTR2WASM_JIT",
    "CTR2WASM_MEMORY_LIMIT_MB",
    "CTR2WASM_TTY",
    "CTR2WASM_TTY_SIZE",
];

#[derive(clap::Args)]
pub struct ExecArgs {
    /// Run the runtime module (wasm32-wasip1) in wasmtime instead of the native build.
    #[arg(long)]
    wasm: bool,
    /// Directory holding the guest's root file system.
    #[arg(long, value_name = "DIR")]
    rootfs: PathBuf,
    /// Environment variable for the program, `K=V`; repeat for more. Nothing else is passed.
    #[arg(long = "env", value_name = "K=V")]
    env: Vec<OsString>,
    /// Working directory inside the guest.
    #[arg(long, value_name = "DIR", default_value = "/")]
    workdir: OsString,
    /// Mount host directory HOST at GUEST inside the guest (writes reach the host); repeat
    /// for more.
    #[arg(long = "dir", value_name = "HOST::GUEST", value_parser = parse_dir)]
    dirs: Vec<DirArg>,
    /// The program's guest path (absolute or relative to the working directory), then its
    /// arguments.
    #[arg(last = true, required = true, value_name = "PROGRAM [ARGS]...")]
    command: Vec<OsString>,
}

pub fn run(args: ExecArgs) -> ExitCode {
    if args.wasm {
        return match run_wasm(args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("ctr2wasm: {}", crate::escape::text(&format!("{e:#}")));
                ExitCode::from(125)
            }
        };
    }
    let mut command = args.command.into_iter().map(OsString::into_encoded_bytes);
    let program = command.next().expect("clap requires PROGRAM");
    let mut config = Config::new(RootFs::Dir(args.rootfs), program);
    config.args = command.collect();
    config.env = args
        .env
        .into_iter()
        .map(OsString::into_encoded_bytes)
        .collect();
    config.workdir = args.workdir.into_encoded_bytes();
    config.mounts = args
        .dirs
        .into_iter()
        .map(|d| HostMount {
            guest: d.guest.into_bytes(),
            host: d.host,
        })
        .collect();
    ExitCode::from(run_as_command(config))
}

/// The same run inside the runtime module: its flags are `exec`'s, with the rootfs preopened
/// at [`WASM_ROOTFS`] and each `--dir` at its guest path, which the runtime mounts.
fn run_wasm(args: ExecArgs) -> anyhow::Result<u8> {
    let utf8 = |s: OsString| {
        s.into_string()
            .map_err(|s| anyhow::anyhow!("{}: --wasm needs UTF-8 arguments", s.to_string_lossy()))
    };
    let mut argv = vec![
        "ctr2wasm-runtime".to_string(),
        "--rootfs".into(),
        WASM_ROOTFS.into(),
    ];
    for kv in args.env {
        argv.push("--env".into());
        argv.push(utf8(kv)?);
    }
    argv.push("--workdir".into());
    argv.push(utf8(args.workdir)?);
    argv.push("--".into());
    for a in args.command {
        argv.push(utf8(a)?);
    }
    let env = RUNTIME_ENV
        .iter()
        .filter_map(|k| Some((k.to_string(), std::env::var(k).ok()?)))
        .collect();
    let mut dirs = vec![(args.rootfs, WASM_ROOTFS.to_string())];
    for d in args.dirs {
        // wasi-libc gives a path to the preopen with the longest matching name, so a preopen
        // at or below the rootfs's would take over part of the rootfs.
        let rootfs_part = d
            .guest
            .strip_prefix(WASM_ROOTFS)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if rootfs_part {
            anyhow::bail!(
                "--dir {}::{}: --wasm preopens the rootfs at {WASM_ROOTFS}",
                d.host.display(),
                d.guest
            );
        }
        dirs.push((d.host, d.guest));
    }
    let invocation = wasm::Invocation {
        args: argv,
        env,
        dirs,
    };
    let status = wasm::run(wasm::Wasm::Bytes(wasm::RUNTIME_JIT_WASM), &invocation)?;
    Ok(status as u8)
}
