//! `ctr2wasm run [--env K=V]... [--dir HOST::GUEST]... OUT.wasm [--] [ARGS...]`: runs a
//! converted module in the embedded wasmtime, as `wasmtime run` would, and exits with the
//! container's status.

use super::{DirArg, parse_dir};
use crate::module_file::ModuleFile;
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
    let module = ModuleFile::open(&args.module)?;
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
    // On a terminal, the runtime does the line discipline (as for the web page), so programs
    // that turn echo off or read keys one by one (bash's readline, vi, less) get what they ask
    // for instead of the host's cooked echo on top of their own.
    let _raw = RawTerminal::enter().inspect(|t| {
        for (k, v) in [
            ("CTR2WASM_TTY", "raw".to_string()),
            ("CTR2WASM_TTY_SIZE", format!("{}x{}", t.size.0, t.size.1)),
        ] {
            if !env.iter().any(|(e, _)| e == k) {
                env.push((k.to_string(), v));
            }
        }
    });
    let dirs = args.dirs.into_iter().map(|d| (d.host, d.guest)).collect();
    let mut argv = vec![args.module.display().to_string()];
    argv.extend(args.args);
    let status = wasm::run(
        wasm::Wasm::File(&module),
        &Invocation {
            args: argv,
            env,
            dirs,
        },
    )?;
    Ok(ExitCode::from(status as u8))
}

/// The host terminal in raw mode for as long as this lives, when stdin, stdout and stderr are
/// all that terminal; its previous mode comes back on drop. (A resize while running is not
/// passed on: only the size at start.)
struct RawTerminal {
    saved: libc::termios,
    /// Columns and rows.
    size: (u16, u16),
}

impl RawTerminal {
    fn enter() -> Option<RawTerminal> {
        // SAFETY: plain libc calls on the process's own fds with valid pointers to locals.
        unsafe {
            if (0..3).any(|fd| libc::isatty(fd) != 1) {
                return None;
            }
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut saved) != 0 {
                return None;
            }
            let mut raw = saved;
            libc::cfmakeraw(&mut raw);
            if libc::tcsetattr(0, libc::TCSANOW, &raw) != 0 {
                return None;
            }
            let mut ws: libc::winsize = std::mem::zeroed();
            let size = if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col > 0 {
                (ws.ws_col, ws.ws_row)
            } else {
                (80, 24)
            };
            Some(RawTerminal { saved, size })
        }
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        // SAFETY: restores the mode read in `enter` on the same fd.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.saved);
        }
    }
}
