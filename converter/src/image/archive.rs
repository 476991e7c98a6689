//! The `docker save` source (`docker-archive:FILE[:NAME[:TAG]]`), in both of its flavours:
//! the OCI layout Docker 25 and later write (`oci-layout`, `index.json`, `blobs/`, read by
//! [`super::layout`]) and the legacy one (`manifest.json` naming `<id>.json` configs and
//! `<id>/layer.tar` layers, duplicates often as symlinks).
//!
//! The tarball is indexed once (member name to offset and length) and never unpacked: layers
//! are read in place as [`Blob::Member`]s. It must be uncompressed, as `docker save` writes it,
//! because reading in place needs offsets into it.

use super::digest::Digest;
use super::layout::{self, Files, LayoutError, Want};
use super::manifest::{self, Blob, Image, Layer, ManifestError};
use super::platform::Platform;
use super::reference::ImageRef;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use wasi_shim::bundle::tree;

/// How many symlinks may chain inside an archive (`<id>/layer.tar` → `../<id2>/layer.tar`)
/// before we call it a loop.
const SYMLINK_HOPS_MAX: usize = 8;

/// The members of an uncompressed tarball, by normalised name.
pub struct Members {
    archive: PathBuf,
    members: HashMap<String, Member>,
}

enum Member {
    File {
        offset: u64,
        len: u64,
    },
    /// A symlink, its target already made relative to the archive's root.
    Link(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{image}: {why}")]
    Read { image: String, why: String },
    #[error(
        "{image}: the archive is {compression}-compressed; decompress it first (`docker save` writes it uncompressed)"
    )]
    Compressed {
        image: String,
        compression: &'static str,
    },
    #[error("{image}: not a docker save archive (no index.json and oci-layout, or manifest.json)")]
    NotArchive { image: String },
    #[error("{image}: manifest.json: {why}")]
    BadManifest { image: String, why: String },
    #[error("{image}: {member} is missing")]
    Missing { image: String, member: String },
    #[error("{image}: config {member}: digest mismatch (got {got})")]
    ConfigDigest {
        image: String,
        member: String,
        got: Digest,
    },
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

impl Members {
    /// Indexes `archive`'s members.
    pub fn index(image: &str, archive: &Path) -> Result<Members, ArchiveError> {
        let read_err = |e: io::Error| ArchiveError::Read {
            image: image.into(),
            why: e.to_string(),
        };
        let mut file = BufReader::new(File::open(archive).map_err(read_err)?);
        let mut magic = [0u8; 4];
        let n = file.read(&mut magic).map_err(read_err)?;
        let compression = match magic.get(..n) {
            Some([0x1f, 0x8b, ..]) => Some("gzip"),
            Some([0x28, 0xb5, 0x2f, 0xfd]) => Some("zstd"),
            Some([b'B', b'Z', b'h', ..]) => Some("bzip2"),
            Some([0xfd, b'7', b'z', b'X']) => Some("xz"),
            _ => None,
        };
        if let Some(compression) = compression {
            return Err(ArchiveError::Compressed {
                image: image.into(),
                compression,
            });
        }
        let mut tar = tar::Archive::new(File::open(archive).map_err(read_err)?);
        let mut members = HashMap::new();
        for entry in tar.entries().map_err(read_err)? {
            let entry = entry.map_err(read_err)?;
            let Ok(name) = tree::normalise(&entry.path_bytes()) else {
                continue; // A name outside the archive's root is nothing we would look up.
            };
            let name = String::from_utf8_lossy(&name).into_owned();
            let member = match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => Member::File {
                    offset: entry.raw_file_position(),
                    len: entry.size(),
                },
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let Some(target) = entry.link_name_bytes() else {
                        continue;
                    };
                    // A symlink is relative to its directory, a hard link to the root.
                    let mut joined = Vec::new();
                    if entry.header().entry_type() == tar::EntryType::Symlink
                        && !target.starts_with(b"/")
                        && let Some(slash) = name.rfind('/')
                    {
                        joined.extend_from_slice(&name.as_bytes()[..=slash]);
                    }
                    joined.extend_from_slice(&target);
                    let Ok(target) = tree::normalise(&joined) else {
                        continue;
                    };
                    Member::Link(String::from_utf8_lossy(&target).into_owned())
                }
                _ => continue,
            };
            members.insert(name, member);
        }
        Ok(Members {
            archive: archive.to_path_buf(),
            members,
        })
    }

    /// The member `name`, symlinks followed.
    pub fn get(&self, name: &str) -> Option<Blob> {
        let mut name = name;
        for _ in 0..SYMLINK_HOPS_MAX {
            match self.members.get(name)? {
                Member::File { offset, len } => {
                    return Some(Blob::Member {
                        archive: self.archive.clone(),
                        offset: *offset,
                        len: *len,
                    });
                }
                Member::Link(target) => name = target,
            }
        }
        None
    }
}

/// One image in a legacy `manifest.json`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LegacyEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Opens the image `want` (or the only one) of the archive `file`.
pub fn open(
    shown: &str,
    file: &Path,
    want: Option<&ImageRef>,
    platform: &Platform,
) -> Result<Image, ArchiveError> {
    let files = Files::Tar(Members::index(shown, file)?);
    if files.exists("index.json") && files.exists("oci-layout") {
        let want = match want {
            Some(i) => Want::Image(i),
            None => Want::Any,
        };
        return Ok(layout::open(shown, &files, want, platform)?);
    }
    if !files.exists("manifest.json") {
        return Err(ArchiveError::NotArchive {
            image: shown.into(),
        });
    }
    let bytes = files.read(shown, "manifest.json")?;
    let entries: Vec<LegacyEntry> =
        serde_json::from_slice(&bytes).map_err(|e| ArchiveError::BadManifest {
            image: shown.into(),
            why: e.to_string(),
        })?;
    let entry = choose(shown, &entries, want)?;
    open_legacy(shown, &files, entry, platform)
}

fn choose<'a>(
    shown: &str,
    entries: &'a [LegacyEntry],
    want: Option<&ImageRef>,
) -> Result<&'a LegacyEntry, ArchiveError> {
    let tags = |e: &'a LegacyEntry| e.repo_tags.iter().flatten();
    let all_tags = || entries.iter().flat_map(tags).cloned().collect::<Vec<_>>();
    let candidates: Vec<&LegacyEntry> = match want {
        None => entries.iter().collect(),
        Some(w) => entries
            .iter()
            .filter(|e| tags(e).any(|t| ImageRef::parse(t).is_ok_and(|r| &r == w)))
            .collect(),
    };
    match (candidates.as_slice(), want) {
        ([one], _) => Ok(one),
        ([], Some(w)) => Err(LayoutError::NoSuchTag {
            image: shown.into(),
            want: w.to_string(),
            have: all_tags(),
        }
        .into()),
        ([], None) => Err(LayoutError::Empty {
            image: shown.into(),
        }
        .into()),
        (many, _) => Err(LayoutError::Ambiguous {
            image: shown.into(),
            count: many.len(),
            have: all_tags(),
        }
        .into()),
    }
}

/// The digest a member name spells (`<hex>.json`, `blobs/sha256/<hex>`), if it spells one.
fn digest_in_name(name: &str) -> Option<Digest> {
    let hex = name
        .strip_prefix("blobs/sha256/")
        .or_else(|| name.strip_suffix(".json"))?;
    format!("sha256:{hex}").parse().ok()
}

fn open_legacy(
    shown: &str,
    files: &Files,
    entry: &LegacyEntry,
    platform: &Platform,
) -> Result<Image, ArchiveError> {
    let config_name = normalised(&entry.config);
    let config_bytes = files.read(shown, &config_name)?;
    let config_digest = Digest::of(&config_bytes);
    if let Some(named) = digest_in_name(&config_name)
        && named != config_digest
    {
        return Err(ArchiveError::ConfigDigest {
            image: shown.into(),
            member: config_name,
            got: config_digest,
        });
    }
    // No manifest says which platform this is, so the config's own platform is checked.
    let config = manifest::parse_config(
        shown,
        platform,
        &config_digest.to_string(),
        entry.layers.len(),
        true,
        &config_bytes,
    )?;
    let mut layers = Vec::new();
    for name in &entry.layers {
        let name = normalised(name);
        let missing = || ArchiveError::Missing {
            image: shown.into(),
            member: name.clone(),
        };
        let blob = files.blob(&name).ok_or_else(missing)?;
        let Blob::Member { len, .. } = blob else {
            return Err(missing());
        };
        layers.push(Layer {
            // A legacy layer is checked by its diff_id alone, unless its name is a digest.
            digest: name
                .starts_with("blobs/")
                .then(|| digest_in_name(&name))
                .flatten(),
            media_type: None,
            size: len,
            blob,
        });
    }
    Ok(Image {
        // A legacy archive has no manifest; the config digest is the image ID docker shows.
        manifest_digest: config_digest,
        config,
        layers,
    })
}

fn normalised(name: &str) -> String {
    match tree::normalise(name.as_bytes()) {
        Ok(n) => String::from_utf8_lossy(&n).into_owned(),
        Err(_) => name.to_string(),
    }
}
