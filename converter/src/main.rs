//! `ctr2wasm`: turn a container image into one WebAssembly module.
//!
//! This binary is a thin shell over the library crates: it parses the command line, runs one
//! subcommand from `cmd/`, prints errors as `ctr2wasm: …` and picks the exit code.

mod cmd;
// The convert, run and inspect commands call it; until they land, nothing does.
#[allow(dead_code)]
mod image;
mod wasm;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Exec(args) => cmd::exec::run(args),
    }
}
