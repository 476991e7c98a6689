//! One module per subcommand; each parses its own flags and returns the process exit code.

pub mod convert;
pub mod exec;
pub mod inspect;
pub mod run;
pub mod serve;
pub mod web_site;

use std::path::PathBuf;

/// A `--dir HOST::GUEST` argument: a host directory and the absolute guest path it is
/// mounted at (writable: the guest's changes reach the host).
#[derive(Clone, Debug)]
pub struct DirArg {
    pub host: PathBuf,
    pub guest: String,
}

/// Parses `HOST::GUEST`, the value of `--dir` (as `wasmtime run --dir` spells it).
pub fn parse_dir(arg: &str) -> Result<DirArg, String> {
    let Some((host, guest)) = arg.split_once("::") else {
        return Err("expected HOST::GUEST".into());
    };
    if host.is_empty() {
        return Err("the host directory is empty".into());
    }
    if !guest.starts_with('/') {
        return Err(format!("the guest path {guest:?} must be absolute"));
    }
    Ok(DirArg {
        host: host.into(),
        guest: guest.into(),
    })
}
