//! The image pipeline: from an image reference to its flattened root file system and the
//! config the runtime needs.
//!
//! ```text
//! IMAGE ─reference─▶ Source ─registry / layout / archive─▶ manifest (index ─platform─▶ one)
//!       ─▶ config + layer blobs (digests checked; registry layers via the cache)
//!       ─flatten─▶ Tree + spool file (whiteouts, links, devices; diff_ids checked; limits)
//! ```
//!
//! One file per stage: [`reference`] parses what the user typed, [`platform`] picks a manifest
//! out of an index, [`registry`], [`layout`] and [`archive`] are the three sources, which all
//! hand over a [`manifest::Image`] (checked with [`manifest`] and [`digest`]); [`cache`] keeps
//! downloaded layers, [`flatten`] applies them within [`limits`], putting file contents in a
//! [`spool`] file, [`progress`] reports downloads. Nothing is written to the host file system
//! but the blob cache and the spool (a temporary file).

mod archive;
mod cache;
mod digest;
mod flatten;
mod layout;
pub mod limits;
mod manifest;
mod platform;
mod progress;
mod reference;
mod registry;
pub mod spool;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

pub use limits::Limits;
pub use platform::Platform;
pub use spool::Spool;

use anyhow::anyhow;
use layout::{Files, Want};
use reference::Source;
use std::path::PathBuf;
use wasi_shim::bundle::tree::Tree;

/// How to load an image.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// The platform to pick from a multi-arch image, and to require of a single one.
    pub platform: Platform,
    /// Talk plain HTTP to the image's registry.
    pub insecure: bool,
    /// No progress output.
    pub quiet: bool,
    /// The cache directory (blobs under `blobs/sha256/`), instead of the user's.
    pub cache_dir: Option<PathBuf>,
    /// What flattening may cost.
    pub limits: Limits,
    /// Where the spool file goes (the system's temporary directory if `None`).
    pub spool_dir: Option<PathBuf>,
}

/// A flattened image: the tree, and the spool file its regular files' contents are in.
pub struct Flattened {
    pub tree: Tree,
    pub spool: Spool,
}

impl std::ops::Deref for Flattened {
    type Target = Tree;

    fn deref(&self) -> &Tree {
        &self.tree
    }
}

/// What was loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    /// The reference, normalised: `docker.io/library/ubuntu:22.04`, `oci:DIR:TAG`,
    /// `docker-archive:FILE`.
    pub reference: String,
    /// The chosen platform's manifest digest (`sha256:…`); for a legacy `docker save`
    /// archive, which has no manifest, the config digest (the image ID docker shows).
    pub digest: String,
    /// The platform the image's config declares, e.g. `linux/riscv64`.
    pub platform: String,
    pub config: ImageConfig,
    /// The sum of the layer blob sizes, as stored (compressed).
    pub compressed_size: u64,
    pub layers: usize,
}

/// The parts of the image config the runtime uses to start the container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
}

/// Loads `image` (a registry reference, `oci:DIR[:TAG]` or `docker-archive:FILE[:REF]`) and
/// flattens its layers into one tree.
pub fn load(image: &str, opts: &LoadOptions) -> anyhow::Result<(ImageInfo, Flattened)> {
    let source = Source::parse(image)?;
    let reference = source.to_string();
    let progress = progress::Progress::new(opts.quiet);
    let mut cache = None;
    let resolved = match &source {
        Source::Registry(r) => {
            let c = cache.insert(cache::BlobCache::open(opts.cache_dir.as_deref())?);
            registry::open(r, opts, c, &progress)?
        }
        Source::OciLayout { dir, tag } => {
            let want = match tag {
                Some(t) => Want::Tag(t),
                None => Want::Any,
            };
            layout::open(&reference, &Files::Dir(dir.clone()), want, &opts.platform)?
        }
        Source::DockerArchive { file, image } => {
            archive::open(&reference, file, image.as_ref(), &opts.platform)?
        }
    };

    let mut tree = Tree::new();
    let mut spool = Spool::create(opts.spool_dir.as_deref())
        .map_err(|e| anyhow!("cannot create a temporary file: {e}"))?;
    let budget = limits::Budget::new(opts.limits);
    let diff_ids = resolved.config.rootfs().diff_ids();
    for (layer, diff_id) in resolved.layers.iter().zip(diff_ids) {
        let mut to = flatten::Target {
            tree: &mut tree,
            spool: &mut spool,
            budget: &budget,
        };
        if let Err(e) = flatten::apply(&mut to, layer, diff_id) {
            if let (true, Some(cache), Some(digest)) = (e.is_blob_mismatch(), &cache, &layer.digest)
            {
                cache.evict(digest);
                return Err(anyhow!("{e}; removed it from the cache, pull again"));
            }
            return Err(e.into());
        }
    }

    let c = resolved.config.config().clone().unwrap_or_default();
    let info = ImageInfo {
        reference,
        digest: resolved.manifest_digest.to_string(),
        platform: Platform::of_config(&resolved.config).to_string(),
        config: ImageConfig {
            entrypoint: c.entrypoint().clone().unwrap_or_default(),
            cmd: c.cmd().clone().unwrap_or_default(),
            env: c.env().clone().unwrap_or_default(),
            working_dir: c.working_dir().clone().unwrap_or_default(),
            user: c.user().clone().unwrap_or_default(),
        },
        compressed_size: resolved.layers.iter().map(|l| l.size).sum(),
        layers: resolved.layers.len(),
    };
    Ok((info, Flattened { tree, spool }))
}
