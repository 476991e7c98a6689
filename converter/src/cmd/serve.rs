//! `ctr2wasm serve DIR [--port N] [--no-isolation]`: serve a web site (from `convert --web`
//! or `web-site`) on 127.0.0.1, with the headers that make the page cross-origin isolated.
//! Prints the page's URL on stdout once it is listening, then serves until interrupted.

use crate::serve::{Site, bind, serve};
use anyhow::{Context as _, Result};
use std::io::Write as _;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The site's directory (it holds index.html and module.wasm).
    dir: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Leave out the COOP/COEP headers, as plain static hosting would: the page then runs
    /// only where the browser has JSPI.
    #[arg(long)]
    no_isolation: bool,
}

pub fn run(args: ServeArgs) -> Result<()> {
    if !args.dir.join("index.html").is_file() {
        anyhow::bail!(
            "{}: no index.html: not a web site\nhint: write one with `ctr2wasm web-site MODULE.wasm DIR`",
            args.dir.display()
        );
    }
    let listener =
        bind(args.port).with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let addr = listener.local_addr()?;
    println!("serving {} at http://{addr}/", args.dir.display());
    std::io::stdout().flush()?;
    serve(
        listener,
        Site {
            root: args.dir,
            isolation: !args.no_isolation,
        },
    )
    .context("serving")
}
