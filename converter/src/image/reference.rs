//! Image references, spelt as docker and skopeo spell them, parsed into where the image comes
//! from.
//!
//! A registry reference follows docker's normalisation (`distribution/reference`,
//! `ParseNormalizedNamed`): the first component is a registry only if it holds a `.` or a
//! `:`, is `localhost`, or has an upper-case letter; otherwise the registry is `docker.io`,
//! where a one-component name gets `library/`. Without a tag or digest the tag is `latest`.
//! skopeo's transports pick the other sources: `oci:DIR[:TAG]` (an OCI image layout),
//! `docker-archive:FILE[:NAME[:TAG]]` (`docker save` output) and `docker://REF` (a registry,
//! which is also what a bare reference means). The transport prefix wins, as in skopeo: an
//! image named `oci` on Docker Hub has to be written `docker://oci:TAG`.

use super::digest::Digest;
use std::fmt;
use std::path::PathBuf;

/// The registry docker uses for names without one.
pub const DOCKER_HUB: &str = "docker.io";

/// docker's limit on the length of a repository name (`NameTotalLengthMax`).
const NAME_MAX_BYTES: usize = 255;
/// docker's limit on the length of a tag.
const TAG_MAX_BYTES: usize = 128;

/// A reference to an image in a registry, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// `docker.io`, `ghcr.io`, `127.0.0.1:5000`, …
    pub registry: String,
    /// `library/ubuntu`, `ns/name`, …
    pub repository: String,
    /// `None` only when a digest is given.
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Where an image comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Registry(ImageRef),
    /// An OCI image layout directory; the tag is matched against the
    /// `org.opencontainers.image.ref.name` annotations of its `index.json`.
    OciLayout {
        dir: PathBuf,
        tag: Option<String>,
    },
    /// A `docker save` tarball; the image, when given, is matched against its tags.
    DockerArchive {
        file: PathBuf,
        image: Option<ImageRef>,
    },
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{input}: invalid image reference ({why})")]
    Invalid { input: String, why: &'static str },
    #[error("{input}: repository name must be lowercase")]
    Uppercase { input: String },
    #[error("{input}: only sha256 digests are supported")]
    Digest { input: String },
}

impl Source {
    pub fn parse(input: &str) -> Result<Source, ParseError> {
        if let Some(rest) = input.strip_prefix("docker://") {
            return ImageRef::parse(rest).map(Source::Registry);
        }
        if let Some(rest) = input.strip_prefix("oci:") {
            let (dir, tag) = split_path(rest);
            if dir.is_empty() {
                return Err(invalid(input, "no directory after oci:"));
            }
            if tag.is_some_and(str::is_empty) {
                return Err(invalid(input, "empty tag"));
            }
            return Ok(Source::OciLayout {
                dir: PathBuf::from(dir),
                tag: tag.map(str::to_string),
            });
        }
        if let Some(rest) = input.strip_prefix("docker-archive:") {
            let (file, image) = split_path(rest);
            if file.is_empty() {
                return Err(invalid(input, "no file after docker-archive:"));
            }
            let image = image.map(ImageRef::parse).transpose()?;
            if image.as_ref().is_some_and(|i| i.digest.is_some()) {
                return Err(invalid(input, "a docker-archive image is named by tag"));
            }
            return Ok(Source::DockerArchive {
                file: PathBuf::from(file),
                image,
            });
        }
        ImageRef::parse(input).map(Source::Registry)
    }
}

/// skopeo's `PATH[:REF]`: the path ends at the first `:`.
fn split_path(s: &str) -> (&str, Option<&str>) {
    match s.split_once(':') {
        Some((path, r)) => (path, Some(r)),
        None => (s, None),
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Registry(r) => r.fmt(f),
            Source::OciLayout { dir, tag } => {
                write!(f, "oci:{}", dir.display())?;
                match tag {
                    Some(t) => write!(f, ":{t}"),
                    None => Ok(()),
                }
            }
            Source::DockerArchive { file, image } => {
                write!(f, "docker-archive:{}", file.display())?;
                match image {
                    Some(i) => write!(f, ":{i}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl ImageRef {
    pub fn parse(input: &str) -> Result<ImageRef, ParseError> {
        let (rest, digest) = match input.split_once('@') {
            Some((rest, d)) => {
                if !d.starts_with("sha256:") && d.contains(':') {
                    return Err(ParseError::Digest {
                        input: input.into(),
                    });
                }
                let digest = d
                    .parse::<Digest>()
                    .map_err(|_| invalid(input, "bad digest"))?;
                (rest, Some(digest))
            }
            None => (input, None),
        };
        // A tag is what follows the last `:` after the last `/`; a `:` before that belongs
        // to a registry's port.
        let after_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[after_slash..].rfind(':') {
            Some(i) => (&rest[..after_slash + i], Some(&rest[after_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag {
            check_tag(input, tag)?;
        }
        if name.is_empty() {
            return Err(invalid(input, "empty name"));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.bytes().any(|b| b.is_ascii_uppercase()) =>
            {
                (first, path)
            }
            _ => (DOCKER_HUB, name),
        };
        check_registry(input, registry)?;
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB
        } else {
            registry
        };
        check_path(input, path)?;
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        if repository.len() > NAME_MAX_BYTES {
            return Err(invalid(input, "name longer than 255 bytes"));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_string()),
        };
        Ok(ImageRef {
            registry: registry.to_string(),
            repository,
            tag,
            digest,
        })
    }

    /// The registry and repository, without tag or digest: `docker.io/library/ubuntu`.
    #[cfg(test)]
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn invalid(input: &str, why: &'static str) -> ParseError {
    ParseError::Invalid {
        input: input.into(),
        why,
    }
}

/// `[\w][\w.-]{0,127}`
fn check_tag(input: &str, tag: &str) -> Result<(), ParseError> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    match tag.as_bytes() {
        [] => Err(invalid(input, "empty tag")),
        [first, rest @ ..]
            if word(*first)
                && rest.iter().all(|&b| word(b) || b == b'.' || b == b'-')
                && tag.len() <= TAG_MAX_BYTES =>
        {
            Ok(())
        }
        _ => Err(invalid(input, "bad tag")),
    }
}

/// A host name (or IPv4 address) and an optional port. Upper-case letters are allowed here,
/// as host names are case-insensitive.
fn check_registry(input: &str, registry: &str) -> Result<(), ParseError> {
    let (host, port) = match registry.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (registry, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if host.split('.').all(label_ok) && port_ok {
        Ok(())
    } else {
        Err(invalid(input, "bad registry host"))
    }
}

/// Path components: `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`, joined by `/`.
fn check_path(input: &str, path: &str) -> Result<(), ParseError> {
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ParseError::Uppercase {
            input: input.into(),
        });
    }
    // docker refuses a bare 64-hex name: it would read as an image id.
    if path.len() == 64 && path.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(input, "a 64-hex name reads as an image id"));
    }
    for component in path.split('/') {
        if !component_ok(component.as_bytes()) {
            return Err(invalid(input, "bad repository name"));
        }
    }
    Ok(())
}

fn component_ok(c: &[u8]) -> bool {
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while c.get(i).is_some_and(alnum) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == c.len() {
            return true;
        }
        // A separator: `.`, `_`, `__` or a run of `-`.
        match &c[i..] {
            [b'_', b'_', ..] => i += 2,
            [b'.' | b'_', ..] => i += 1,
            [b'-', ..] => {
                while c.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn canonical(input: &str) -> String {
        ImageRef::parse(input)
            .unwrap_or_else(|e| panic!("{input}: {e}"))
            .to_string()
    }

    #[test]
    fn docker_normalisation() {
        for (input, want) in [
            ("ubuntu", "docker.io/library/ubuntu:latest"),
            ("ubuntu:22.04", "docker.io/library/ubuntu:22.04"),
            ("library/ubuntu:22.04", "docker.io/library/ubuntu:22.04"),
            ("docker.io/ubuntu", "docker.io/library/ubuntu:latest"),
            ("index.docker.io/ubuntu", "docker.io/library/ubuntu:latest"),
            ("index.docker.io/a/b:c", "docker.io/a/b:c"),
            ("riscv64/debian:sid", "docker.io/riscv64/debian:sid"),
            ("a/b/c/d", "docker.io/a/b/c/d:latest"),
            ("localhost/x", "localhost/x:latest"),
            ("localhost:5000/x:1", "localhost:5000/x:1"),
            ("host:5000/ns/name:tag", "host:5000/ns/name:tag"),
            ("127.0.0.1:5000/nope:1", "127.0.0.1:5000/nope:1"),
            ("ghcr.io/owner/repo:v1.2.3", "ghcr.io/owner/repo:v1.2.3"),
            ("Registry/x", "Registry/x:latest"),
            (
                "quay.io/a/b-c__d.e---f:TAG_1.x-y",
                "quay.io/a/b-c__d.e---f:TAG_1.x-y",
            ),
            (
                &format!("ubuntu@{D}"),
                &format!("docker.io/library/ubuntu@{D}"),
            ),
            (
                &format!("ubuntu:22.04@{D}"),
                &format!("docker.io/library/ubuntu:22.04@{D}"),
            ),
            (
                &format!("host:5000/name@{D}"),
                &format!("host:5000/name@{D}"),
            ),
        ] {
            assert_eq!(canonical(input), want, "{input}");
        }
    }

    #[test]
    fn parts() {
        let r = ImageRef::parse(&format!("host:5000/ns/name:tag@{D}")).unwrap();
        assert_eq!(r.registry, "host:5000");
        assert_eq!(r.repository, "ns/name");
        assert_eq!(r.tag.as_deref(), Some("tag"));
        assert_eq!(
            r.digest.as_ref().map(ToString::to_string).as_deref(),
            Some(D)
        );
        assert_eq!(r.name(), "host:5000/ns/name");
        let r = ImageRef::parse(&format!("busybox@{D}")).unwrap();
        assert_eq!(r.tag, None, "a digest alone gets no default tag");
    }

    #[test]
    fn refusals() {
        let long = "a".repeat(256);
        let long_tag = format!("x:{}", "t".repeat(129));
        let hex64 = "a".repeat(64);
        for (input, want) in [
            ("", "invalid image reference (empty name)"),
            (":tag", "invalid image reference (empty name)"),
            ("ubuntu:", "invalid image reference (empty tag)"),
            ("ubuntu:-x", "invalid image reference (bad tag)"),
            (&long_tag, "invalid image reference (bad tag)"),
            ("Ubuntu", "repository name must be lowercase"),
            ("docker.io/Library/x", "repository name must be lowercase"),
            ("a//b", "invalid image reference (bad repository name)"),
            ("a/-b", "invalid image reference (bad repository name)"),
            ("a/b_", "invalid image reference (bad repository name)"),
            ("a/b___c", "invalid image reference (bad repository name)"),
            ("a b", "invalid image reference (bad repository name)"),
            ("host:port/x", "invalid image reference (bad registry host)"),
            ("-host.io/x", "invalid image reference (bad registry host)"),
            ("ubuntu@sha256:abc", "invalid image reference (bad digest)"),
            ("ubuntu@sha512:abc", "only sha256 digests are supported"),
            (
                &long,
                "invalid image reference (name longer than 255 bytes)",
            ),
            (
                &hex64,
                "invalid image reference (a 64-hex name reads as an image id)",
            ),
        ] {
            let err = ImageRef::parse(input).expect_err(input).to_string();
            assert_eq!(err, format!("{input}: {want}"));
        }
    }

    #[test]
    fn transports() {
        assert_eq!(
            Source::parse("oci:/tmp/layout:v1").unwrap(),
            Source::OciLayout {
                dir: "/tmp/layout".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            Source::parse("oci:dir").unwrap(),
            Source::OciLayout {
                dir: "dir".into(),
                tag: None
            }
        );
        assert_eq!(
            Source::parse("docker-archive:img.tar").unwrap(),
            Source::DockerArchive {
                file: "img.tar".into(),
                image: None
            }
        );
        let s = Source::parse("docker-archive:img.tar:busybox:1").unwrap();
        assert_eq!(
            s.to_string(),
            "docker-archive:img.tar:docker.io/library/busybox:1"
        );
        assert_eq!(
            Source::parse("docker://oci:1").unwrap().to_string(),
            "docker.io/library/oci:1"
        );
        assert_eq!(
            Source::parse("ubuntu:22.04").unwrap().to_string(),
            "docker.io/library/ubuntu:22.04"
        );
        assert_eq!(Source::parse("oci:d:t").unwrap().to_string(), "oci:d:t");
        for (input, want) in [
            (
                "oci:",
                "oci:: invalid image reference (no directory after oci:)",
            ),
            (
                "oci::t",
                "oci::t: invalid image reference (no directory after oci:)",
            ),
            ("oci:d:", "oci:d:: invalid image reference (empty tag)"),
            (
                "docker-archive:",
                "docker-archive:: invalid image reference (no file after docker-archive:)",
            ),
            (
                &format!("docker-archive:f.tar:x@{D}"),
                &format!(
                    "docker-archive:f.tar:x@{D}: invalid image reference (a docker-archive image is named by tag)"
                ),
            ),
        ] {
            assert_eq!(Source::parse(input).unwrap_err().to_string(), want);
        }
    }
}
