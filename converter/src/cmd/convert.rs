//! `ctr2wasm convert IMAGE OUT.wasm`: pull, flatten, pack, assemble, write atomically.

use crate::image::{Limits, Spool, limits::parse_size};
use crate::module;
use anyhow::{Context, Result};
use clap::Args;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use wasi_shim::bundle::format::ImageConfig;
use wasi_shim::bundle::tree::Tree;
use wasi_shim::bundle::writer;

#[derive(Args)]
pub struct ConvertArgs {
    /// The image: `name[:tag][@digest]` in a registry, `oci:DIR[:TAG]`,
    /// `docker-archive:FILE.tar`, or `dir:ROOTFS` (an unpacked root file system).
    pub image: String,
    /// Where to write the module (optional with --web).
    #[arg(required_unless_present = "web")]
    pub output: Option<PathBuf>,
    /// Also (or instead) write a static web site that runs the module in a browser page:
    /// index.html, its scripts and module.wasm (serve it with `ctr2wasm serve DIR`).
    #[arg(long, value_name = "DIR")]
    pub web: Option<PathBuf>,
    /// The platform to take from a multi-platform image.
    #[arg(long, default_value = "linux/riscv64")]
    pub platform: crate::image::Platform,
    /// Talk plain HTTP to the registry (a local one such as 127.0.0.1:5000).
    #[arg(long)]
    pub insecure: bool,
    /// zstd level for the bundle's chunks (1–22).
    #[arg(long, default_value_t = writer::Options::default().level, value_parser = clap::value_parser!(i32).range(1..=22))]
    pub level: i32,
    /// Keep the runtime's DWARF sections (`.debug_*`, 3.6 MB) in the module, for a wasm
    /// debugger; without it only the `name` section stays.
    #[arg(long)]
    pub keep_debug_info: bool,
    /// No progress or summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Stop if the layers unpack to more than this (all layers, sparse files at their full
    /// size): bytes, or with K, M, G or T.
    #[arg(long, value_name = "SIZE", default_value = "32G", value_parser = parse_size)]
    pub max_unpacked_size: u64,
    /// Stop if the image has more entries than this (files, directories, links...).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_entries)]
    pub max_entries: u64,
    /// Stop at a path of more components than this.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_path_depth)]
    pub max_path_depth: u64,
}

impl ConvertArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_unpacked: self.max_unpacked_size,
            max_entries: self.max_entries,
            max_path_depth: self.max_path_depth,
            ..Limits::default()
        }
    }
}

/// What the image pipeline hands to packing.
pub struct Loaded {
    pub config: ImageConfig,
    pub tree: Tree,
    /// The regular files' contents.
    pub spool: Spool,
}

pub fn run(args: ConvertArgs) -> Result<()> {
    let started = Instant::now();
    // A signal removes the temporary output and the partial blobs before ending us.
    crate::interrupt::install().context("cannot catch SIGINT, SIGTERM and SIGHUP")?;
    // Fail before any download if the output cannot be written.
    let mut out = args.output.as_deref().map(OutputFile::create).transpose()?;
    let loaded = load(&args)?;
    let options = writer::Options {
        level: args.level,
        ..writer::Options::default()
    };
    let stripped;
    let runtime = if args.keep_debug_info {
        crate::wasm::RUNTIME_WASM
    } else {
        stripped = module::strip_debug(crate::wasm::RUNTIME_WASM)?;
        &stripped
    };
    // The compressed chunks go to a temporary file, and from there into the module: neither
    // the bundle nor the module is ever whole in memory.
    let mut builder = tempfile::Builder::new();
    builder.prefix(".ctr2wasm-chunks-").suffix(".tmp");
    let mut chunks = crate::interrupt::TempFile::create(&builder, &std::env::temp_dir())
        .context("cannot create a temporary file")?;
    let (head, stats) = {
        let mut sink = BufWriter::with_capacity(1 << 20, &mut chunks);
        let packed = writer::write_to(
            &loaded.tree,
            &loaded.config,
            options,
            Some(loaded.spool.file()),
            &mut sink,
        )
        .context("packing the bundle")?;
        sink.flush().context("packing the bundle")?;
        packed
    };
    drop(loaded.tree);
    drop(loaded.spool);
    let parts = || module::BundleParts {
        head: &head,
        chunks: chunks.as_file(),
        chunks_len: stats.bundle_bytes - head.len() as u64,
    };
    let config = loaded.config.encode();
    let module_len;
    let mut web_module = None;
    if let Some(mut out) = out.take() {
        let path = out.path.clone();
        let mut sink = BufWriter::with_capacity(1 << 20, out.writer());
        module_len = module::assemble_to(runtime, parts(), &config, &mut sink)
            .with_context(|| format!("writing {}", path.display()))?;
        sink.flush()
            .with_context(|| format!("writing {}", path.display()))?;
        drop(sink);
        out.commit()?;
        if args.web.is_some() {
            web_module = Some(std::fs::read(&path).with_context(|| path.display().to_string())?);
        }
    } else {
        let mut bytes = Vec::new();
        module_len = module::assemble_to(runtime, parts(), &config, &mut bytes)?;
        web_module = Some(bytes);
    }
    if let (Some(dir), Some(module)) = (&args.web, &web_module) {
        crate::web_site::write(dir, module, &loaded.config.reference)?;
    }
    if !args.quiet {
        let written: Vec<String> = [args.output.as_ref(), args.web.as_ref()]
            .into_iter()
            .flatten()
            .map(|p| p.display().to_string())
            .collect();
        eprintln!(
            "wrote {} ({:.1} MB: {} files, {:.1} MB of data in a {:.1} MB bundle) in {:.1} s",
            written.join(" and "),
            module_len as f64 / 1e6,
            stats.paths,
            stats.file_bytes as f64 / 1e6,
            stats.bundle_bytes as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The image pipeline: from a reference to a flattened tree and its config.
fn load(args: &ConvertArgs) -> Result<Loaded> {
    if let Some(dir) = args.image.strip_prefix("dir:") {
        let mut spool = Spool::create(None).context("cannot create a temporary file")?;
        let tree = crate::rootfs_dir::read(Path::new(dir), &mut spool, &args.limits())?;
        return Ok(Loaded {
            config: ImageConfig {
                reference: args.image.clone(),
                platform: args.platform.to_string(),
                cmd: vec!["/bin/sh".into()],
                env: vec![
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                ],
                ..Default::default()
            },
            tree,
            spool,
        });
    }
    let options = crate::image::LoadOptions {
        platform: args.platform.clone(),
        insecure: args.insecure,
        quiet: args.quiet,
        cache_dir: crate::dirs::cache_dir(),
        limits: args.limits(),
        spool_dir: None,
    };
    let (info, flat) = crate::image::load(&args.image, &options)?;
    let c = info.config;
    Ok(Loaded {
        config: ImageConfig {
            reference: info.reference,
            digest: info.digest,
            platform: info.platform,
            entrypoint: c.entrypoint,
            cmd: c.cmd,
            env: c.env,
            working_dir: c.working_dir,
            user: c.user,
        },
        tree: flat.tree,
        spool: flat.spool,
    })
}

/// The output, written to a temporary file beside it and renamed into place only when
/// complete: a failed conversion leaves no OUT.wasm behind (and an old one untouched).
struct OutputFile {
    temp: crate::interrupt::TempFile,
    path: PathBuf,
}

impl OutputFile {
    fn create(path: &Path) -> Result<OutputFile> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder
            .prefix(".ctr2wasm-")
            .suffix(".wasm.tmp")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let temp = crate::interrupt::TempFile::create(&builder, dir)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(OutputFile {
            temp,
            path: path.to_path_buf(),
        })
    }

    fn writer(&mut self) -> &mut crate::interrupt::TempFile {
        &mut self.temp
    }

    fn commit(self) -> Result<()> {
        self.temp
            .as_file()
            .sync_all()
            .with_context(|| format!("writing {}", self.path.display()))?;
        let path = self.path;
        self.temp
            .persist(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}
