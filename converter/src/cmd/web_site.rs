//! `ctr2wasm web-site MODULE.wasm DIR [--title T]`: write the static web site that runs an
//! existing module in a browser (what `convert --web DIR` writes beside a conversion).
//! `ctr2wasm web-site --runtime DIR` puts the embedded runtime module itself on the page, for
//! development: the page then needs `?rootfs=X.tar` (see `web/src/main.js`).

use crate::{wasm, web_site};
use anyhow::{Context as _, Result};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct WebSiteArgs {
    /// The module (a converted image) and the directory to write the site to (created if
    /// missing); with --runtime, only the directory.
    #[arg(required = true, num_args = 1..=2, value_names = ["MODULE.wasm", "DIR"])]
    paths: Vec<PathBuf>,
    /// Use the runtime module ctr2wasm embeds instead of MODULE.wasm (development).
    #[arg(long)]
    runtime: bool,
    /// The page's title; the module's file name by default.
    #[arg(long)]
    title: Option<String>,
}

pub fn run(args: WebSiteArgs) -> Result<()> {
    let (module, dir, default_title) = match (args.runtime, args.paths.as_slice()) {
        (true, [dir]) => (
            wasm::RUNTIME_JIT_WASM.to_vec(),
            dir,
            "ctr2wasm runtime".to_string(),
        ),
        (false, [module, dir]) => (
            std::fs::read(module).with_context(|| format!("cannot read {}", module.display()))?,
            dir,
            module
                .file_name()
                .map_or_else(|| "ctr2wasm".into(), |n| n.to_string_lossy().into_owned()),
        ),
        (true, _) => anyhow::bail!("--runtime takes only DIR, not MODULE.wasm"),
        (false, _) => anyhow::bail!("missing DIR (or give --runtime instead of MODULE.wasm)"),
    };
    web_site::write(dir, &module, &args.title.unwrap_or(default_title))
}
