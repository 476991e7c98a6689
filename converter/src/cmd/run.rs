//! `ctr2wasm run [--env K=V]... [--dir HOST::GUEST]... OUT.wasm [--] [ARGS...]`: runs a
//! converted module in the embedded wasmtime, as `wasmtime run` would, and exits with the
//! container's status.

use super::{DirArg, parse_dir};
use crate::wasm::{self, Invocation};
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct RunArgs {
    /// Add or override a variable of the image's environment.
    #[arg(long = "env", short = 'e', value_name = "K=V")]
    pub env: Vec<String>,
    /// Mount host directory HOST at GUEST inside the container (writes reach the host).
    #[arg(long = "dir", value_name = "HOST::GUEST", value_parser = parse_dir)]
    pub dirs: Vec<DirArg>,
    /// A module written by `ctr2wasm convert`.
    pub module: PathBuf,
    /// Replaces the image's Cmd.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let mut env = Vec::new();
    for kv in &args.env {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--env {kv}: expected K=V");
        };
        env.push((k.to_string(), v.to_string()));
    }
    // The runtime's own switches pass through, as `wasmtime run --env` would pass them.
    for (k, v) in std::env::vars() {
        if k.starts_with("CTR2WASM_") && !env.iter().any(|(e, _)| *e == k) {
            env.push((k, v));
        }
    }
    let dirs = args.dirs.into_iter().map(|d| (d.host, d.guest)).collect();
    let mut argv = vec![args.module.display().to_string()];
    argv.extend(args.args);
    let status = wasm::run(
        wasm::Wasm::File(&args.module),
        &Invocation {
            args: argv,
            env,
            dirs,
        },
    )?;
    Ok(ExitCode::from(status as u8))
}
