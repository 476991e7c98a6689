//! `ctr2wasm web-site MODULE.wasm DIR [--title T]`: write the static web site that runs an
//! existing module in a browser (what `convert --web DIR` writes beside a conversion).
//! `ctr2wasm web-site --runtime DIR` puts the embedded runtime module itself on the page, for
//! development: the page then needs `?rootfs=X.tar` (see `web/src/main.js`).

use crate::module_file::ModuleFile;
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
    match (args.runtime, args.paths.as_slice()) {
        (true, [dir]) => web_site::write_page(
            dir,
            wasm::RUNTIME_JIT_WASM,
            &args.title.unwrap_or_else(|| "ctr2wasm runtime".into()),
        ),
        (false, [module, dir]) => {
            // Everything about the input is checked before the site's directory is made.
            let bytes = ModuleFile::open(module)?.read_all()?;
            let jit = crate::module::rebase(wasm::RUNTIME_JIT_WASM, &bytes)
                .with_context(|| module.display().to_string())?;
            let title = args.title.unwrap_or_else(|| {
                module
                    .file_name()
                    .map_or_else(|| "ctr2wasm".into(), |n| n.to_string_lossy().into_owned())
            });
            web_site::write_page(dir, &jit, &title)
        }
        (true, _) => anyhow::bail!("--runtime takes only DIR, not MODULE.wasm"),
        (false, _) => anyhow::bail!("missing DIR (or give --runtime instead of MODULE.wasm)"),
    }
}
