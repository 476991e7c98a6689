//! `ctr2wasm inspect OUT.wasm`: what image a module holds.

use crate::escape;
use crate::module;
use crate::module_file::ModuleFile;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use wasi_shim::abi::fs::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use wasi_shim::bundle::reader::{Bundle, Source};

#[derive(Args)]
pub struct InspectArgs {
    /// A module written by `ctr2wasm convert`.
    pub module: PathBuf,
}

pub fn run(args: InspectArgs) -> Result<()> {
    let bytes = ModuleFile::open(&args.module)?.read_all()?;
    let raw = module::bundle_of(&bytes).with_context(|| args.module.display().to_string())?;
    let bundle = Bundle::open(Source::Bytes(raw.to_vec()))
        .with_context(|| args.module.display().to_string())?;
    let c = bundle.config()?;
    let (mut files, mut dirs, mut links, mut other) = (0u64, 0u64, 0u64, 0u64);
    for ino in 0..bundle.header().inode_count {
        match bundle.inode(ino)?.mode & S_IFMT {
            S_IFREG => files += 1,
            S_IFDIR => dirs += 1,
            S_IFLNK => links += 1,
            _ => other += 1,
        }
    }
    // Every field is the image's (or a hostile module's) text: shown escaped.
    let list = |v: &[String]| escape::text(&format!("{v:?}")).into_owned();
    println!("image:        {}", escape::text(&c.reference));
    println!("digest:       {}", escape::text(&c.digest));
    println!("platform:     {}", escape::text(&c.platform));
    println!("entrypoint:   {}", list(&c.entrypoint));
    println!("cmd:          {}", list(&c.cmd));
    println!("env:          {}", list(&c.env));
    println!(
        "workdir:      {}",
        escape::text(if c.working_dir.is_empty() {
            "/"
        } else {
            &c.working_dir
        })
    );
    println!(
        "user:         {}",
        escape::text(if c.user.is_empty() { "root" } else { &c.user })
    );
    println!("module size:  {} bytes", bytes.len());
    println!("bundle size:  {} bytes", raw.len());
    println!(
        "data:         {} bytes uncompressed",
        bundle.header().data_len
    );
    println!(
        "files:        {} ({files} regular, {dirs} directories, {links} symlinks, {other} other)",
        files + dirs + links + other
    );
    Ok(())
}
