//! `ctr2wasm`: turn a container image into one WebAssembly module.
//!
//! This binary is a thin shell over the library crates: it parses the command line, runs one
//! subcommand from `cmd/`, prints errors as `ctr2wasm: …` and picks the exit code.

mod cmd;
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
    Exec(cmd::exec::ExecArgs),
    /// Write the web site that runs a module in a browser page.
    WebSite(cmd::web_site::WebSiteArgs),
    /// Serve a web site on 127.0.0.1 with the cross-origin isolation headers.
    Serve(cmd::serve::ServeArgs),
}

/// Exit status for a failure of ctr2wasm itself (as opposed to a guest's own status).
const FAILED: u8 = 1;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Exec(args) => cmd::exec::run(args),
        Command::WebSite(args) => finish(cmd::web_site::run(args)),
        Command::Serve(args) => finish(cmd::serve::run(args)),
    }
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ctr2wasm: {e:#}");
            ExitCode::from(FAILED)
        }
    }
}
