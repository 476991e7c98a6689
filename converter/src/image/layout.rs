//! The OCI image layout source (`oci:DIR[:TAG]`, image-spec `image-layout.md`): `oci-layout`,
//! `index.json` and `blobs/<alg>/<hex>`, in a directory or, for the archives Docker 25 and
//! later write with `docker save`, as members of a tarball.
//!
//! The image is picked from `index.json` by tag (the `org.opencontainers.image.ref.name`
//! annotation), by full image name (containerd's `io.containerd.image.name`, which
//! `docker save` writes), or as the only image there; an index among them is followed to the
//! wanted platform. Blobs are read in place, never copied to the cache; small ones are
//! verified on reading, layers by the flattener as it streams them.

use super::archive::Members;
use super::digest::Digest;
use super::manifest::{self, Blob, Image, Layer, ManifestError};
use super::platform::Platform;
use super::reference::ImageRef;
use oci_spec::image::{Descriptor, ImageIndex};
use std::io::Read;
use std::path::PathBuf;

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// Where a layout's files are.
pub enum Files {
    Dir(PathBuf),
    /// Members of an uncompressed tarball.
    Tar(Members),
}

/// Which entry of `index.json` to take.
pub enum Want<'a> {
    /// The only one (or the one for the platform, if they are per-platform entries).
    Any,
    /// The one whose `org.opencontainers.image.ref.name` is this.
    Tag(&'a str),
    /// The one whose `io.containerd.image.name` or ref name is this image.
    Image(&'a ImageRef),
}

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("{image}: not an OCI image layout (no {file})")]
    NotLayout { image: String, file: String },
    #[error("{image}: {file}: {why}")]
    Read {
        image: String,
        file: String,
        why: String,
    },
    #[error("{image}: no image tagged {want} (it has {})", names(.have))]
    NoSuchTag {
        image: String,
        want: String,
        have: Vec<String>,
    },
    #[error("{image}: index.json lists no images")]
    Empty { image: String },
    #[error("{image}: holds {count} images ({}); name one", names(.have))]
    Ambiguous {
        image: String,
        count: usize,
        have: Vec<String>,
    },
    #[error("{image}: layer {digest} is missing ({file})")]
    MissingLayer {
        image: String,
        digest: Digest,
        file: String,
    },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

fn names(have: &[String]) -> String {
    if have.is_empty() {
        "no tags".into()
    } else {
        have.join(", ")
    }
}

impl Files {
    fn show(&self, name: &str) -> String {
        match self {
            Files::Dir(d) => d.join(name).display().to_string(),
            Files::Tar(_) => name.to_string(),
        }
    }

    pub fn exists(&self, name: &str) -> bool {
        match self {
            Files::Dir(d) => d.join(name).is_file(),
            Files::Tar(m) => m.get(name).is_some(),
        }
    }

    pub fn blob(&self, name: &str) -> Option<Blob> {
        match self {
            Files::Dir(d) => {
                let path = d.join(name);
                path.is_file().then_some(Blob::File(path))
            }
            Files::Tar(m) => m.get(name),
        }
    }

    /// Reads a small file whole, refusing one over [`manifest::JSON_MAX_BYTES`].
    pub fn read(&self, image: &str, name: &str) -> Result<Vec<u8>, LayoutError> {
        let err = |why: String| LayoutError::Read {
            image: image.into(),
            file: self.show(name),
            why,
        };
        let blob = self.blob(name).ok_or_else(|| err("missing".into()))?;
        let mut data = Vec::new();
        blob.open()
            .and_then(|f| f.take(manifest::JSON_MAX_BYTES + 1).read_to_end(&mut data))
            .map_err(|e| err(e.to_string()))?;
        if data.len() as u64 > manifest::JSON_MAX_BYTES {
            return Err(err(format!(
                "over the limit of {} bytes",
                manifest::JSON_MAX_BYTES
            )));
        }
        Ok(data)
    }
}

fn blob_name(digest: &Digest) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

/// Resolves the wanted image of a layout to one platform's manifest, config and layers.
pub fn open(
    image: &str,
    files: &Files,
    want: Want,
    platform: &Platform,
) -> Result<Image, LayoutError> {
    for required in ["oci-layout", "index.json"] {
        if !files.exists(required) {
            return Err(LayoutError::NotLayout {
                image: image.into(),
                file: required.into(),
            });
        }
    }
    let index_bytes = files.read(image, "index.json")?;
    let index: ImageIndex =
        serde_json::from_slice(&index_bytes).map_err(|e| LayoutError::Read {
            image: image.into(),
            file: files.show("index.json"),
            why: e.to_string(),
        })?;
    let chosen = choose(image, index.manifests(), &want, platform)?;

    let fetch = |d: &Descriptor| -> Result<Vec<u8>, LayoutError> {
        manifest::check_json_size("manifest", d)?;
        let digest = manifest::descriptor_digest("manifest", d)?;
        let bytes = files.read(image, &blob_name(&digest))?;
        manifest::verify("manifest", &digest, Some(d.size()), &bytes)?;
        Ok(bytes)
    };
    let top = fetch(chosen)?;
    let top_digest = manifest::descriptor_digest("manifest", chosen)?;
    let (manifest_digest, manifest, from_index) =
        manifest::resolve(image, platform, top_digest, &top, fetch)?;

    // An index chose this manifest, or `index.json` did with a platform of its own.
    let from_index = from_index || chosen.platform().is_some();
    let config = manifest::fetch_config(image, platform, &manifest, !from_index, |digest, _| {
        files.read(image, &blob_name(digest))
    })?;

    let mut layers = Vec::new();
    for d in manifest.layers() {
        let digest = manifest::descriptor_digest("layer", d)?;
        let name = blob_name(&digest);
        let blob = files.blob(&name).ok_or_else(|| LayoutError::MissingLayer {
            image: image.into(),
            file: files.show(&name),
            digest: digest.clone(),
        })?;
        layers.push(Layer {
            digest: Some(digest),
            media_type: Some(d.media_type().to_string()),
            size: d.size(),
            blob,
        });
    }
    Ok(Image {
        manifest_digest,
        config,
        layers,
    })
}

/// Picks the `index.json` entry to follow.
fn choose<'a>(
    image: &str,
    entries: &'a [Descriptor],
    want: &Want,
    platform: &Platform,
) -> Result<&'a Descriptor, LayoutError> {
    let annotation = |d: &Descriptor, key: &str| -> Option<String> {
        d.annotations().as_ref()?.get(key).cloned()
    };
    let candidates: Vec<&Descriptor> = entries
        .iter()
        .filter(|d| match want {
            Want::Any => true,
            Want::Tag(t) => annotation(d, REF_NAME).as_deref() == Some(*t),
            Want::Image(wanted) => [CONTAINERD_NAME, REF_NAME].iter().any(|key| {
                annotation(d, key)
                    .and_then(|name| ImageRef::parse(&name).ok())
                    .is_some_and(|r| &r == *wanted)
            }),
        })
        .collect();
    let tags = || -> Vec<String> {
        let mut tags: Vec<String> = entries
            .iter()
            .filter_map(|d| annotation(d, CONTAINERD_NAME).or_else(|| annotation(d, REF_NAME)))
            .collect();
        tags.dedup();
        tags
    };
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(match want {
            Want::Any => LayoutError::Empty {
                image: image.into(),
            },
            Want::Tag(t) => LayoutError::NoSuchTag {
                image: image.into(),
                want: t.to_string(),
                have: tags(),
            },
            Want::Image(i) => LayoutError::NoSuchTag {
                image: image.into(),
                want: i.to_string(),
                have: tags(),
            },
        }),
        many => {
            // One entry per platform (what `docker save` of a multi-platform image may
            // write) is chosen as an index would be; several images for ours are ambiguous.
            let fitting: Vec<&Descriptor> = many
                .iter()
                .copied()
                .filter(|d| Platform::of_descriptor(d).is_some_and(|p| platform.matches(&p)))
                .collect();
            match fitting.as_slice() {
                [one] => Ok(one),
                [] if many.iter().all(|d| d.platform().is_some()) => Err(ManifestError::from(
                    platform
                        .select(image, many.iter().copied())
                        .expect_err("no entry fits the platform"),
                )
                .into()),
                _ => Err(LayoutError::Ambiguous {
                    image: image.into(),
                    count: many.len(),
                    have: tags(),
                }),
            }
        }
    }
}
