//! Running a converted image: the command line a container gets from its image config and
//! the `docker run` arguments.

use crate::bundle::reader::{Bundle, Source};
use crate::{Config, RootFs};

/// The configuration to run the bundle in `source`: Entrypoint followed by `args` (or by
/// Cmd when there are none), in WorkingDir, with Env updated by `host_env` (`K=V` strings that
/// add or replace by key; the runtime's own `CTR2WASM_*` settings are not passed on).
pub fn config_for(
    source: Source,
    args: Vec<Vec<u8>>,
    host_env: Vec<Vec<u8>>,
) -> Result<Config, String> {
    let bundle = Bundle::open(source).map_err(|e| format!("the image bundle: {e}"))?;
    let image = bundle
        .config()
        .map_err(|e| format!("the image bundle: {e}"))?;
    let mut command: Vec<Vec<u8>> = image.entrypoint.iter().map(|s| s.clone().into()).collect();
    if args.is_empty() {
        command.extend(image.cmd.iter().map(|s| s.clone().into_bytes()));
    } else {
        command.extend(args);
    }
    if command.is_empty() {
        return Err(format!(
            "{}: the image has no Entrypoint or Cmd: give a command to run",
            image.reference
        ));
    }
    let mut env: Vec<Vec<u8>> = image.env.iter().map(|s| s.clone().into_bytes()).collect();
    for kv in host_env {
        if kv.starts_with(b"CTR2WASM_") {
            continue;
        }
        let key_len = kv.iter().position(|&b| b == b'=').unwrap_or(kv.len());
        env.retain(|e| !(e.len() > key_len && e[key_len] == b'=' && e[..key_len] == kv[..key_len]));
        env.push(kv);
    }
    let program = command.remove(0);
    let mut config = Config::new(RootFs::Bundle(bundle.into_source()), program);
    config.args = command;
    config.env = env;
    if !image.working_dir.is_empty() {
        config.workdir = image.working_dir.into_bytes();
    }
    config.user = image.user;
    Ok(config)
}
