//! The runtime module's entry point.
//!
//! A converted module (one with a bundle) runs its image: the image's Entrypoint and Cmd in
//! its WorkingDir with its Env, where arguments replace Cmd and the host's environment adds
//! to or overrides Env, as `docker run IMAGE ARGS` does. The bare runtime takes flags instead:
//! `ctr2wasm-runtime --rootfs DIR [--env K=V]... [--workdir D] -- PROGRAM [ARGS...]`, the
//! same as `ctr2wasm exec`.
//!
//! In both, every directory the WASI host preopened (`wasmtime run --dir HOST::GUEST`) is
//! mounted at its own name, writable, except the one holding `--rootfs`.
//!
//! Arguments are parsed by hand: this binary becomes the wasm module embedded in every
//! converted image, and an argument-parsing crate would add to each one's size.

use std::process::ExitCode;
use wasi_shim::{Config, RootFs, run_as_command};
#[cfg(target_os = "wasi")]
use {std::path::Path, wasi_shim::HostMount};

const USAGE: &str =
    "usage: ctr2wasm-runtime --rootfs DIR [--env K=V]... [--workdir DIR] -- PROGRAM [ARGS...]";

fn parse(mut args: impl Iterator<Item = std::ffi::OsString>) -> Result<Config, String> {
    let mut rootfs = None;
    let mut env = Vec::new();
    let mut workdir = b"/".to_vec();
    let value = |flag: &str, v: Option<std::ffi::OsString>| {
        v.ok_or_else(|| format!("{flag} needs a value"))
    };
    loop {
        let Some(arg) = args.next() else {
            return Err("missing `-- PROGRAM`".into());
        };
        match arg.to_str() {
            Some("--rootfs") => rootfs = Some(value("--rootfs", args.next())?),
            Some("--env") => env.push(bytes(value("--env", args.next())?)),
            Some("--workdir") => workdir = bytes(value("--workdir", args.next())?),
            Some("--") => break,
            _ => return Err(format!("unexpected argument {}", arg.to_string_lossy())),
        }
    }
    let rootfs = rootfs.ok_or("--rootfs is required")?;
    let program = args.next().ok_or("missing PROGRAM after `--`")?;
    let mut config = Config::new(RootFs::Dir(rootfs.into()), bytes(program));
    config.args = args.map(bytes).collect();
    config.env = env;
    config.workdir = workdir;
    Ok(config)
}

fn bytes(s: std::ffi::OsString) -> Vec<u8> {
    s.into_encoded_bytes()
}

#[cfg(target_os = "wasi")]
fn image_config() -> Option<Result<Config, String>> {
    let source = wasi_shim::bundle::embedded::source()?;
    let host_env: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = bytes(k);
            kv.push(b'=');
            kv.extend_from_slice(&bytes(v));
            kv
        })
        .collect();
    let args: Vec<Vec<u8>> = std::env::args_os().skip(1).map(bytes).collect();
    Some(wasi_shim::image::config_for(source, args, host_env))
}

#[cfg(not(target_os = "wasi"))]
fn image_config() -> Option<Result<Config, String>> {
    None
}

/// The preopened directories, each mounted at its own name. `rootfs` is flag mode's
/// `--rootfs`: the preopen holding it serves the root and is no mount. A relative name (`.`)
/// is no guest path and `/` would hide the image's root: those are left out with a warning.
#[cfg(target_os = "wasi")]
fn preopen_mounts(rootfs: Option<&Path>) -> Vec<HostMount> {
    use std::os::wasi::ffi::OsStringExt;
    let components = |p: &[u8]| -> Vec<Vec<u8>> {
        p.split(|&b| b == b'/')
            .filter(|c| !c.is_empty() && *c != b".")
            .map(<[u8]>::to_vec)
            .collect()
    };
    let rootfs = rootfs.map(|r| r.as_os_str().as_encoded_bytes());
    let mut mounts = Vec::new();
    for name in wasi_shim::wasi_preopens() {
        let absolute = name.starts_with(b"/");
        if let Some(r) = rootfs
            && r.starts_with(b"/") == absolute
            && components(r).starts_with(&components(&name))
        {
            continue;
        }
        let show = String::from_utf8_lossy(&name);
        if !absolute {
            eprintln!(
                "ctr2wasm: warning: preopened directory {show:?} has a relative name and is not \
                 mounted (preopen it as HOST::/GUEST)"
            );
            continue;
        }
        if components(&name).is_empty() {
            eprintln!(
                "ctr2wasm: warning: preopened directory {show:?} would hide the image's root and \
                 is not mounted"
            );
            continue;
        }
        mounts.push(HostMount {
            guest: name.clone(),
            host: std::ffi::OsString::from_vec(name).into(),
        });
    }
    mounts
}

fn main() -> ExitCode {
    let config = match image_config() {
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            eprintln!("ctr2wasm: {e}");
            return ExitCode::from(125);
        }
        None => match parse(std::env::args_os().skip(1)) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("ctr2wasm: {e}\n{USAGE}");
                return ExitCode::from(2);
            }
        },
    };
    #[cfg(target_os = "wasi")]
    let config = {
        let rootfs = match &config.rootfs {
            RootFs::Dir(dir) => Some(dir.as_path()),
            RootFs::Bundle(_) => None,
        };
        Config {
            mounts: preopen_mounts(rootfs),
            ..config
        }
    };
    ExitCode::from(run_as_command(config))
}
