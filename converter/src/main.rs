//! `ctr2wasm`: turn a container image into one WebAssembly module.
//!
//! This binary is a thin shell over the library crates: it parses the command line, runs one
//! subcommand from `cmd/`, prints errors as one `ctr2wasm: …` line (escaped: `escape`) and picks the exit code.
//! The pipeline of `convert` is a file per stage: image sources, platform, cache and
//! flattening (`image/`, or `rootfs_dir` for an unpacked tree), packing (the bundle writer in
//! `wasi-shim`), module assembly (`module`), and running (`wasm`).

mod cmd;
mod dirs;
mod escape;
mod image;
mod interrupt;
mod module;
mod module_file;
mod rootfs_dir;
mod serve;
mod wasm;
mod web_site;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ctr2wasm",
    version,
    about = "Turn a container image into one WebAssembly module"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert a container image into a WebAssembly module.
    Convert(cmd::convert::ConvertArgs),
    /// Run a converted module in the embedded wasmtime.
    Run(cmd::run::RunArgs),
    /// Show what image a converted module holds.
    Inspect(cmd::inspect::InspectArgs),
    /// Run a program of an unpacked riscv64 root file system (for development).
    Exec(cmd::exec::ExecArgs),
    /// Write the web site that runs a module in a browser page.
    WebSite(cmd::web_site::WebSiteArgs),
    /// Serve a web site on 127.0.0.1 with the cross-origin isolation headers.
    Serve(cmd::serve::ServeArgs),
}

/// Exit status for a failure of ctr2wasm itself (as opposed to the container's own status).
const FAILED: u8 = 1;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Exec(args) => return cmd::exec::run(args),
        Command::Convert(args) => cmd::convert::run(args).map(|()| ExitCode::SUCCESS),
        Command::Run(args) => cmd::run::run(args),
        Command::Inspect(args) => cmd::inspect::run(args).map(|()| ExitCode::SUCCESS),
        Command::WebSite(args) => cmd::web_site::run(args).map(|()| ExitCode::SUCCESS),
        Command::Serve(args) => cmd::serve::run(args).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|e| {
        // One line whatever the error quotes: image-controlled text is escaped.
        eprintln!("ctr2wasm: {}", escape::text(&format!("{e:#}")));
        ExitCode::from(FAILED)
    })
}
