//! Manifests, indexes and configs as every source sees them: parsing with size caps, digest
//! checks, following an index to one platform's manifest, and [`Image`], what a source hands
//! to the flattener.
//!
//! Sources differ only in how they fetch a blob by its descriptor (a registry request, a file
//! under `blobs/`, a member of a tarball); the rules about what the bytes must be live here.

use super::digest::Digest;
use super::platform::{Platform, PlatformError};
use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;

/// Caps what we read of a manifest, an index or a config before parsing it: these are small
/// JSON documents (containerd refuses manifests over 4 MiB), and a hostile registry or
/// archive must not make us allocate gigabytes for one.
pub const JSON_MAX_BYTES: u64 = 8 << 20;

/// How deep an index of indexes may nest before we call it a loop.
const INDEX_DEPTH_MAX: usize = 4;

/// A resolved image: one platform's manifest digest, its config, and where each layer's
/// blob is.
pub struct Image {
    pub manifest_digest: Digest,
    pub config: ImageConfiguration,
    pub layers: Vec<Layer>,
}

/// A layer blob to flatten.
pub struct Layer {
    /// The blob's digest, checked while the layer is read; `None` only in a legacy
    /// `docker save` archive, whose layers are named by directory and checked by diff_id.
    pub digest: Option<Digest>,
    /// The descriptor's media type; `None` where the source has none (legacy archives).
    pub media_type: Option<String>,
    pub size: u64,
    pub blob: Blob,
}

/// Where a layer's bytes are.
#[derive(Clone, Debug)]
pub enum Blob {
    File(PathBuf),
    /// A member of an uncompressed tarball (`docker save` output), by position.
    Member {
        archive: PathBuf,
        offset: u64,
        len: u64,
    },
}

impl Blob {
    pub fn open(&self) -> io::Result<io::Take<File>> {
        match self {
            Blob::File(path) => Ok(File::open(path)?.take(u64::MAX)),
            Blob::Member {
                archive,
                offset,
                len,
            } => {
                let mut f = File::open(archive)?;
                f.seek(SeekFrom::Start(*offset))?;
                Ok(f.take(*len))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{what} {digest} digest mismatch (got {got})")]
    Digest {
        what: &'static str,
        digest: Digest,
        got: Digest,
    },
    #[error("{what} {digest}: size mismatch (the descriptor says {want} bytes, got {got})")]
    Size {
        what: &'static str,
        digest: Digest,
        want: u64,
        got: u64,
    },
    #[error("{what} {digest}: {size} bytes is over the limit of {JSON_MAX_BYTES}")]
    TooBig {
        what: &'static str,
        digest: String,
        size: u64,
    },
    #[error("{what} {digest}: {why}")]
    Invalid {
        what: &'static str,
        digest: String,
        why: String,
    },
    #[error(
        "image {image}: docker schema 1 manifests are not supported (push the image again with a current docker)"
    )]
    Schema1 { image: String },
    #[error("image {image}: manifest {digest} has media type {media_type}, not an image")]
    NotImage {
        image: String,
        digest: String,
        media_type: String,
    },
    #[error(
        "image {image}: the manifest lists {layers} layers but the config has {diff_ids} diff_ids"
    )]
    LayerCount {
        image: String,
        layers: usize,
        diff_ids: usize,
    },
    #[error("image {image}: indexes nest deeper than {INDEX_DEPTH_MAX}")]
    Nested { image: String },
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

/// A parsed manifest document.
pub enum Manifest {
    // Boxed: the oci-spec structs are several hundred bytes each.
    Index(Box<ImageIndex>),
    Image(Box<ImageManifest>),
}

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const IMAGE_TYPES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// The media types a registry may answer with, for the Accept header.
pub const ACCEPTED_TYPES: [&str; 4] = [
    INDEX_TYPES[0],
    INDEX_TYPES[1],
    IMAGE_TYPES[0],
    IMAGE_TYPES[1],
];

/// Parses a manifest or index (digest already checked), by its `mediaType`, or by its shape
/// when the field is missing (it is optional in OCI).
pub fn parse(image: &str, digest: &Digest, bytes: &[u8]) -> Result<Manifest, ManifestError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        schema_version: Option<u32>,
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    let invalid = |why: String| ManifestError::Invalid {
        what: "manifest",
        digest: digest.to_string(),
        why,
    };
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    if probe.schema_version == Some(1) {
        return Err(ManifestError::Schema1 {
            image: image.into(),
        });
    }
    let is_index = match probe.media_type.as_deref() {
        Some(t) if INDEX_TYPES.contains(&t) => true,
        Some(t) if IMAGE_TYPES.contains(&t) => false,
        Some(t) => {
            return Err(ManifestError::NotImage {
                image: image.into(),
                digest: digest.to_string(),
                media_type: t.into(),
            });
        }
        None => probe.manifests.is_some(),
    };
    if is_index {
        serde_json::from_slice(bytes)
            .map(|i| Manifest::Index(Box::new(i)))
            .map_err(|e| invalid(e.to_string()))
    } else {
        serde_json::from_slice(bytes)
            .map(|m| Manifest::Image(Box::new(m)))
            .map_err(|e| invalid(e.to_string()))
    }
}

/// The digest a descriptor names, validated.
pub fn descriptor_digest(what: &'static str, d: &Descriptor) -> Result<Digest, ManifestError> {
    let s = d.digest().to_string();
    s.parse().map_err(|_| ManifestError::Invalid {
        what,
        digest: s,
        why: "not a sha256 digest".into(),
    })
}

/// Refuses a descriptor too big to read into memory.
pub fn check_json_size(what: &'static str, d: &Descriptor) -> Result<(), ManifestError> {
    if d.size() > JSON_MAX_BYTES {
        return Err(ManifestError::TooBig {
            what,
            digest: d.digest().to_string(),
            size: d.size(),
        });
    }
    Ok(())
}

/// Checks fetched bytes against the digest and size that named them.
pub fn verify(
    what: &'static str,
    digest: &Digest,
    size: Option<u64>,
    bytes: &[u8],
) -> Result<(), ManifestError> {
    let got = Digest::of(bytes);
    if &got != digest {
        return Err(ManifestError::Digest {
            what,
            digest: digest.clone(),
            got,
        });
    }
    if let Some(want) = size
        && want != bytes.len() as u64
    {
        return Err(ManifestError::Size {
            what,
            digest: digest.clone(),
            want,
            got: bytes.len() as u64,
        });
    }
    Ok(())
}

/// Follows `top` (an index or a manifest, already verified as `top_digest`) to the image
/// manifest for `platform`, fetching nested documents with `fetch` (which returns bytes
/// it has verified against the descriptor). Returns the image manifest's digest, the manifest,
/// and whether an index chose it (a lone manifest's platform is checked against its config
/// instead).
pub fn resolve<E>(
    image: &str,
    platform: &Platform,
    top_digest: Digest,
    top: &[u8],
    mut fetch: impl FnMut(&Descriptor) -> Result<Vec<u8>, E>,
) -> Result<(Digest, ImageManifest, bool), E>
where
    E: From<ManifestError>,
{
    let mut digest = top_digest;
    let mut doc = parse(image, &digest, top)?;
    let mut from_index = false;
    for _ in 0..INDEX_DEPTH_MAX {
        match doc {
            Manifest::Image(m) => return Ok((digest, *m, from_index)),
            Manifest::Index(index) => {
                let d = platform
                    .select(image, index.manifests())
                    .map_err(ManifestError::from)?;
                check_json_size("manifest", d)?;
                digest = descriptor_digest("manifest", d)?;
                let bytes = fetch(d)?;
                doc = parse(image, &digest, &bytes)?;
                from_index = true;
            }
        }
    }
    Err(ManifestError::Nested {
        image: image.into(),
    }
    .into())
}

/// Fetches the config `manifest` names with `fetch` (given its digest and size), verifies it
/// against that descriptor and parses it ([`parse_config`]): what every source does once it
/// has an image manifest.
pub fn fetch_config<E>(
    image: &str,
    platform: &Platform,
    manifest: &ImageManifest,
    check_platform: bool,
    fetch: impl FnOnce(&Digest, u64) -> Result<Vec<u8>, E>,
) -> Result<ImageConfiguration, E>
where
    E: From<ManifestError>,
{
    let desc = manifest.config();
    check_json_size("config", desc)?;
    let digest = descriptor_digest("config", desc)?;
    let bytes = fetch(&digest, desc.size())?;
    verify("config", &digest, Some(desc.size()), &bytes)?;
    Ok(parse_config(
        image,
        platform,
        &digest.to_string(),
        manifest.layers().len(),
        check_platform,
        &bytes,
    )?)
}

/// Parses a verified config and checks it against the manifest (one diff_id for each of its
/// `layers`) and, when `check_platform` (no index chose this image), against the wanted
/// platform.
pub fn parse_config(
    image: &str,
    platform: &Platform,
    digest: &str,
    layers: usize,
    check_platform: bool,
    bytes: &[u8],
) -> Result<ImageConfiguration, ManifestError> {
    let config: ImageConfiguration =
        serde_json::from_slice(bytes).map_err(|e| ManifestError::Invalid {
            what: "config",
            digest: digest.to_string(),
            why: e.to_string(),
        })?;
    if check_platform {
        platform.check_config(image, &config)?;
    }
    let diff_ids = config.rootfs().diff_ids().len();
    if diff_ids != layers {
        return Err(ManifestError::LayerCount {
            image: image.into(),
            layers,
            diff_ids,
        });
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: serde_json::Value) -> (Digest, Vec<u8>) {
        let bytes = serde_json::to_vec(&v).unwrap();
        (Digest::of(&bytes), bytes)
    }

    #[test]
    fn classifies_documents() {
        let (d, b) = doc(json!({"schemaVersion": 2, "manifests": []}));
        assert!(matches!(parse("x", &d, &b), Ok(Manifest::Index(_))));
        let (d, b) = doc(json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                       "digest": Digest::of(b"{}").to_string()},
            "layers": []
        }));
        assert!(matches!(parse("x", &d, &b), Ok(Manifest::Image(_))));
        let (d, b) = doc(json!({"schemaVersion": 1, "name": "x", "fsLayers": []}));
        assert_eq!(
            parse("x:1", &d, &b).err().unwrap().to_string(),
            "image x:1: docker schema 1 manifests are not supported (push the image again with a current docker)"
        );
        let (d, b) =
            doc(json!({"schemaVersion": 2, "mediaType": "application/vnd.cncf.helm.chart"}));
        assert_eq!(
            parse("x:1", &d, &b).err().unwrap().to_string(),
            format!(
                "image x:1: manifest {d} has media type application/vnd.cncf.helm.chart, not an image"
            )
        );
        let d = Digest::of(b"{");
        assert!(
            parse("x", &d, b"{")
                .err()
                .unwrap()
                .to_string()
                .starts_with(&format!("manifest {d}: EOF while parsing"))
        );
    }

    #[test]
    fn verify_names_the_blob() {
        let d = Digest::of(b"abc");
        assert!(verify("config", &d, Some(3), b"abc").is_ok());
        assert_eq!(
            verify("config", &d, Some(3), b"abd")
                .unwrap_err()
                .to_string(),
            format!("config {d} digest mismatch (got {})", Digest::of(b"abd"))
        );
        assert_eq!(
            verify("config", &d, Some(4), b"abc")
                .unwrap_err()
                .to_string(),
            format!("config {d}: size mismatch (the descriptor says 4 bytes, got 3)")
        );
    }

    #[test]
    fn resolve_follows_index_to_platform() {
        let (md, mb) = doc(json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                       "digest": Digest::of(b"{}").to_string()},
            "layers": []
        }));
        let (id, ib) = doc(json!({
            "schemaVersion": 2,
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7,
                 "digest": Digest::of(b"amd64").to_string(),
                 "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": mb.len(),
                 "digest": md.to_string(),
                 "platform": {"os": "linux", "architecture": "riscv64"}},
            ]
        }));
        let mut fetched = Vec::new();
        let (got, _, from_index) =
            resolve::<ManifestError>("x", &Platform::default(), id.clone(), &ib, |d| {
                fetched.push(d.digest().to_string());
                Ok(mb.clone())
            })
            .unwrap();
        assert_eq!(got, md);
        assert!(from_index);
        assert_eq!(fetched, vec![md.to_string()]);
        let err = resolve::<ManifestError>(
            "x",
            &"linux/arm64".parse().unwrap(),
            id,
            &ib,
            |_| unreachable!(),
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "image x has no linux/arm64 variant (it has linux/amd64, linux/riscv64)"
        );
    }
}
