//! Flattening: layer tarballs applied in order onto one in-memory [`Tree`], as a container
//! runtime would extract them onto an overlay, but without touching the host file system.
//!
//! Each layer is streamed once: the blob's bytes are hashed (the blob digest, and the re-check
//! of a cached blob), decompressed (gzip, zstd or none, from the media type and checked
//! against the magic bytes), hashed again (the config's `rootfs.diff_ids`) and parsed as tar.
//! Whiteouts follow the OCI image spec (`layer.md`): `.wh.NAME` deletes NAME from the layers
//! below, `.wh..wh..opq` empties its directory of what the layers below put there; like
//! containerd's applier, entries of the same layer survive an opaque marker whatever their
//! order in the tar (an opaque marker at the layer's root clears what lower layers put at the
//! root). Symlink targets are kept verbatim, hard links share an inode (also with a file of a
//! lower layer), device nodes and FIFOs are recorded, never created.
//!
//! The cost is bounded by what is written, not by what a layer claims: each member's path is
//! resolved in the [`Tree`] one component at a time (linear in the bytes of the paths), file
//! contents go to the [`Spool`] file (zeros as holes), never to memory, and the [`Budget`]
//! stops a layer that unpacks past a [`Limits`](super::limits::Limits) with a one-line error.

use super::digest::{Digest, HashingReader};
use super::limits::{Budget, Exceeded, Guarded};
use super::manifest::Layer;
use super::spool::Spool;
use flate2::bufread::MultiGzDecoder;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use wasi_shim::abi::fs::makedev;
use wasi_shim::bundle::tree::{self, Inode, Kind, Meta, Tree};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        })
    }
}

/// Why a layer could not be applied. `layer` is the blob digest, or the diff_id when the
/// blob has none (legacy `docker save`).
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("layer {layer}: {error}")]
    Read { layer: String, error: io::Error },
    #[error("layer {layer}: unsupported media type {media_type}")]
    MediaType { layer: String, media_type: String },
    #[error("layer {layer}: the media type says {said} but the data is {found}")]
    Magic {
        layer: String,
        said: Compression,
        found: Compression,
    },
    #[error("layer {layer}: corrupt {compression} data ({error})")]
    Decompress {
        layer: String,
        compression: Compression,
        error: io::Error,
    },
    #[error("layer {layer}: bad tar archive ({error})")]
    Tar { layer: String, error: io::Error },
    #[error("layer {layer}: {path}: {why}")]
    Entry {
        layer: String,
        path: String,
        why: String,
    },
    #[error("layer {layer}: {error}")]
    Path {
        layer: String,
        error: tree::EscapingPath,
    },
    #[error("layer {layer}: {exceeded}")]
    Limit { layer: String, exceeded: Exceeded },
    #[error("layer {layer} digest mismatch (got {got})")]
    Digest { layer: String, got: Digest },
    #[error("layer {layer}: size mismatch (the descriptor says {want} bytes, got {got})")]
    Size { layer: String, want: u64, got: u64 },
    #[error("layer {layer}: diff_id mismatch: the config says {want}, the content is {got}")]
    DiffId {
        layer: String,
        want: String,
        got: Digest,
    },
}

impl LayerError {
    /// Whether the blob's own bytes are wrong (as opposed to well-formed bytes we refuse).
    pub fn is_blob_mismatch(&self) -> bool {
        matches!(self, LayerError::Digest { .. } | LayerError::Size { .. })
    }
}

/// Where a layer goes: the tree, the spool its files' contents go to, and the budget they
/// are counted against.
pub struct Target<'a> {
    pub tree: &'a mut Tree,
    pub spool: &'a mut Spool,
    pub budget: &'a Budget,
}

/// Applies one layer to the tree, checking the blob against `layer.digest` and size, and the
/// uncompressed content against `diff_id`.
pub fn apply(to: &mut Target<'_>, layer: &Layer, diff_id: &str) -> Result<(), LayerError> {
    let name = match &layer.digest {
        Some(d) => d.to_string(),
        None => diff_id.to_string(),
    };
    let said = match &layer.media_type {
        Some(t) => Some(compression_of(t).ok_or_else(|| LayerError::MediaType {
            layer: name.clone(),
            media_type: t.clone(),
        })?),
        None => None,
    };
    let read_err = |error| LayerError::Read {
        layer: name.clone(),
        error,
    };
    let mut blob = HashingReader::new(layer.blob.open().map_err(read_err)?);
    to.tree.begin_layer();
    let unpacked = unpack(to, &mut blob, said, &name);
    to.tree.end_layer();
    // Whatever happened, hash the rest of the blob: a corrupt blob explains a corrupt stream,
    // and is the error worth reporting.
    blob.drain().map_err(read_err)?;
    let (got, len) = blob.finish();
    if let Some(want) = &layer.digest {
        if &got != want {
            return Err(LayerError::Digest { layer: name, got });
        }
        if len != layer.size {
            return Err(LayerError::Size {
                layer: name,
                want: layer.size,
                got: len,
            });
        }
    }
    let content = unpacked?;
    if content.to_string() != diff_id {
        return Err(LayerError::DiffId {
            layer: name,
            want: diff_id.to_string(),
            got: content,
        });
    }
    Ok(())
}

/// The compression a layer media type names, or `None` for a type that is not a layer.
fn compression_of(media_type: &str) -> Option<Compression> {
    let t = media_type;
    let layer = t.starts_with("application/vnd.oci.image.layer.")
        || t.starts_with("application/vnd.docker.image.rootfs.");
    if !layer {
        return None;
    }
    if t.ends_with("tar+gzip") || t.ends_with("tar.gzip") {
        Some(Compression::Gzip)
    } else if t.ends_with("tar+zstd") || t.ends_with("tar.zstd") {
        Some(Compression::Zstd)
    } else if t.ends_with(".tar") {
        Some(Compression::None)
    } else {
        None
    }
}

fn sniff(magic: &[u8]) -> Compression {
    match magic {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        _ => Compression::None,
    }
}

/// Decompresses and applies the layer, returning the digest of the uncompressed tar.
fn unpack<R: Read>(
    tree: &mut Target<'_>,
    blob: R,
    said: Option<Compression>,
    name: &str,
) -> Result<Digest, LayerError> {
    let mut buf = BufReader::new(blob);
    let magic = buf.fill_buf().map_err(|error| LayerError::Read {
        layer: name.into(),
        error,
    })?;
    let found = sniff(magic);
    let compression = match said {
        Some(said) if said != found => {
            return Err(LayerError::Magic {
                layer: name.into(),
                said,
                found,
            });
        }
        _ => found,
    };
    match compression {
        Compression::None => apply_tar(tree, buf, compression, name),
        Compression::Gzip => apply_tar(tree, MultiGzDecoder::new(buf), compression, name),
        Compression::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(buf).map_err(|error| {
                LayerError::Decompress {
                    layer: name.into(),
                    compression,
                    error,
                }
            })?;
            apply_tar(tree, decoder, compression, name)
        }
    }
}

fn apply_tar<R: Read>(
    to: &mut Target<'_>,
    content: R,
    compression: Compression,
    name: &str,
) -> Result<Digest, LayerError> {
    let budget = to.budget;
    let mut archive = tar::Archive::new(HashingReader::new(Guarded::new(content, budget)));
    let applied = apply_entries(to, &mut archive, name);
    let mut content = archive.into_inner();
    // The tar parser stops at the end-of-archive blocks; the diff_id covers the padding too.
    let drained = if applied.is_ok() {
        content.drain()
    } else {
        Ok(())
    };
    // A limit stops the stream wherever the parser or the decompressor was: it is the error.
    let limit = |exceeded| LayerError::Limit {
        layer: name.into(),
        exceeded,
    };
    if let Err(LayerError::Limit { .. }) = applied {
        return applied.map(|_| unreachable!());
    }
    if budget.over() {
        return Err(limit(Exceeded::Unpacked(budget.limits.max_unpacked)));
    }
    if let Some(e) = content.get_mut().exceeded {
        return Err(limit(e));
    }
    // A read error from below the tar parser is the decompressor's, whatever the parser
    // made of it.
    if compression != Compression::None
        && let Some(error) = content.take_error()
    {
        return Err(LayerError::Decompress {
            layer: name.into(),
            compression,
            error,
        });
    }
    applied?;
    drained.map_err(|error| LayerError::Read {
        layer: name.into(),
        error,
    })?;
    Ok(content.finish().0)
}

fn apply_entries<R: Read>(
    to: &mut Target<'_>,
    archive: &mut tar::Archive<R>,
    name: &str,
) -> Result<(), LayerError> {
    let tar_err = |error| LayerError::Tar {
        layer: name.into(),
        error,
    };
    for entry in archive.entries().map_err(tar_err)? {
        let mut entry = entry.map_err(tar_err)?;
        apply_entry(to, &mut entry, name)?;
        let made = to.tree.nodes_made() as u64;
        let max = to.budget.limits.max_entries;
        if made > max {
            return Err(LayerError::Limit {
                layer: name.into(),
                exceeded: Exceeded::Entries(max),
            });
        }
    }
    Ok(())
}

/// A member's path as the tree takes it, within the path limits.
fn tree_path(raw: &[u8], budget: &Budget, layer: &str) -> Result<Vec<u8>, LayerError> {
    let limits = &budget.limits;
    let limit = |exceeded| LayerError::Limit {
        layer: layer.into(),
        exceeded,
    };
    if raw.len() as u64 > limits.max_path_bytes {
        return Err(limit(Exceeded::PathBytes(limits.max_path_bytes)));
    }
    let path = tree::normalise(raw).map_err(|error| LayerError::Path {
        layer: layer.into(),
        error,
    })?;
    let depth = if path.is_empty() {
        0
    } else {
        path.iter().filter(|&&b| b == b'/').count() as u64 + 1
    };
    if depth > limits.max_path_depth {
        return Err(limit(Exceeded::PathDepth(limits.max_path_depth)));
    }
    Ok(path)
}

fn apply_entry<R: Read>(
    to: &mut Target<'_>,
    entry: &mut tar::Entry<R>,
    layer: &str,
) -> Result<(), LayerError> {
    let raw = entry.path_bytes().into_owned();
    let shown = String::from_utf8_lossy(&raw).into_owned();
    let bad = |why: String| LayerError::Entry {
        layer: layer.into(),
        path: shown.clone(),
        why,
    };
    let path = tree_path(&raw, to.budget, layer)?;
    let tree = &mut *to.tree;
    let (parent, base) = match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&path[..0], &path[..]),
    };
    if let Some(whited) = base.strip_prefix(b".wh.") {
        if whited == b".wh..opq" {
            tree.make_opaque(parent);
        } else if whited.starts_with(b".wh.") {
            // aufs bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`), which docker also skips.
        } else if whited.is_empty() || whited == b"." || whited == b".." {
            return Err(bad("whiteout of no name".into()));
        } else {
            let mut target = parent.to_vec();
            if !target.is_empty() {
                target.push(b'/');
            }
            target.extend_from_slice(whited);
            tree.whiteout(&target);
        }
        return Ok(());
    }

    let header = entry.header();
    let entry_type = header.entry_type();
    if entry_type.is_pax_global_extensions() {
        return Ok(());
    }
    let id = |v: io::Result<u64>, what: &str| -> Result<u32, LayerError> {
        v.ok()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| bad(format!("bad {what}")))
    };
    let meta = Meta {
        perm: header.mode().map_err(|e| bad(e.to_string()))? & 0o7777,
        uid: id(header.uid(), "uid")?,
        gid: id(header.gid(), "gid")?,
        mtime: mtime(entry).map_err(|e| bad(e.to_string()))?,
    };
    let header = entry.header();
    let device = || -> Result<u64, LayerError> {
        match (header.device_major(), header.device_minor()) {
            (Ok(Some(major)), Ok(Some(minor))) => Ok(makedev(major, minor)),
            _ => Err(bad("device node without device numbers".into())),
        }
    };
    let kind = match entry_type {
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            // A sparse member's holes are made by the tar parser, not read: they count as
            // they are written out.
            let sparse = entry_type == tar::EntryType::GNUSparse;
            let budget = to.budget;
            let spooled = to
                .spool
                .add(entry, |n| if sparse { budget.spend(n) } else { Ok(()) });
            match spooled {
                Ok(s) => Kind::Spooled(s),
                Err(_) if budget.over() => {
                    return Err(LayerError::Limit {
                        layer: layer.into(),
                        exceeded: Exceeded::Unpacked(budget.limits.max_unpacked),
                    });
                }
                Err(error) => {
                    return Err(LayerError::Tar {
                        layer: layer.into(),
                        error,
                    });
                }
            }
        }
        tar::EntryType::Directory => Kind::Dir,
        tar::EntryType::Symlink => match entry.link_name_bytes() {
            Some(target) if !target.is_empty() => Kind::Symlink(target.into_owned()),
            _ => return Err(bad("symlink without a target".into())),
        },
        tar::EntryType::Char => Kind::CharDev(device()?),
        tar::EntryType::Block => Kind::BlockDev(device()?),
        tar::EntryType::Fifo => Kind::Fifo,
        tar::EntryType::Link => {
            let target = entry
                .link_name_bytes()
                .ok_or_else(|| bad("hard link without a target".into()))?;
            let target = tree_path(&target, to.budget, layer)?;
            tree.link(&path, &target).map_err(|e| LayerError::Entry {
                layer: layer.into(),
                path: shown.clone(),
                why: strip_path(&e.to_string(), &path),
            })?;
            return Ok(());
        }
        other => {
            return Err(bad(format!(
                "unsupported tar entry type {:?}",
                other.as_byte() as char
            )));
        }
    };
    tree.insert(&path, Inode { meta, kind })
        .map_err(|e| LayerError::Entry {
            layer: layer.into(),
            path: shown.clone(),
            why: strip_path(&e.to_string(), &path),
        })?;
    Ok(())
}

/// A tree error starts with the path, which our message already shows.
fn strip_path(message: &str, path: &[u8]) -> String {
    let prefix = format!("/{}: ", String::from_utf8_lossy(path));
    message.strip_prefix(&prefix).unwrap_or(message).to_string()
}

/// The entry's mtime, from its PAX record when it has one (a time before 1970 or after 2242,
/// or with a fraction, which is dropped), else from the header.
fn mtime<R: Read>(entry: &mut tar::Entry<R>) -> io::Result<i64> {
    if let Some(exts) = entry.pax_extensions()? {
        for ext in exts {
            let ext = ext?;
            if ext.key_bytes() == b"mtime" {
                let value = ext
                    .value()
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad PAX mtime"))?;
                let secs = value.split('.').next().unwrap_or("");
                return secs
                    .parse::<i64>()
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad PAX mtime"));
            }
        }
    }
    let m = entry.header().mtime()?;
    i64::try_from(m).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad mtime"))
}

#[cfg(test)]
mod tests;
