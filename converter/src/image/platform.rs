//! Platforms (`linux/riscv64`, `linux/arm64/v8`): parsing, matching and picking one manifest
//! out of a multi-arch index.
//!
//! Names are normalised as containerd's `platforms.Normalize` does (`aarch64` is `arm64`,
//! `x86_64` is `amd64`, arm64's default variant `v8` is no variant), so `linux/arm64/v8` picks
//! an index entry that says `arm64` with or without a variant. A platform without a variant
//! matches any variant of its architecture.

use oci_spec::image::{Descriptor, ImageConfiguration};
use std::fmt;
use std::str::FromStr;

/// An os/architecture[/variant] triple, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Default for Platform {
    /// The one guest architecture the runtime emulates.
    fn default() -> Self {
        Platform::new("linux", "riscv64", None)
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}: invalid platform (expected os/arch or os/arch/variant, e.g. linux/riscv64)")]
pub struct BadPlatform(pub String);

/// Why no manifest fits.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error("image {image} has no {wanted} variant (it has {})", list(.available))]
    Missing {
        image: String,
        wanted: Platform,
        available: Vec<Platform>,
    },
}

fn list(platforms: &[Platform]) -> String {
    if platforms.is_empty() {
        return "no platform-specific manifests".to_string();
    }
    let names: Vec<String> = platforms.iter().map(ToString::to_string).collect();
    names.join(", ")
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        let os = os.to_ascii_lowercase();
        let architecture = architecture.to_ascii_lowercase();
        let variant = variant.map(str::to_ascii_lowercase);
        let (architecture, variant) = match (architecture.as_str(), variant.as_deref()) {
            ("aarch64" | "arm64", Some("8" | "v8")) | ("aarch64", None) => ("arm64".into(), None),
            ("x86_64" | "x86-64" | "amd64", Some("v1")) | ("x86_64" | "x86-64", None) => {
                ("amd64".into(), None)
            }
            ("i386" | "i486" | "i586" | "i686", None) => ("386".into(), None),
            _ => (architecture, variant),
        };
        Platform {
            os,
            architecture,
            variant: variant.filter(|v| !v.is_empty()),
        }
    }

    /// Whether an image of platform `other` runs here. The wanted platform is `self`.
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && (self.variant.is_none() || self.variant == other.variant)
    }

    /// The platform an index entry declares, if it declares one.
    pub fn of_descriptor(d: &Descriptor) -> Option<Platform> {
        let p = d.platform().as_ref()?;
        Some(Platform::new(
            &p.os().to_string(),
            &p.architecture().to_string(),
            p.variant().as_deref(),
        ))
    }

    /// The platform an image config declares.
    pub fn of_config(c: &ImageConfiguration) -> Platform {
        Platform::new(
            &c.os().to_string(),
            &c.architecture().to_string(),
            c.variant().as_deref(),
        )
    }

    /// Picks the manifest for this platform out of an index's entries. Entries without a
    /// platform, and buildkit's attestations (`unknown/unknown`), are not images to run.
    pub fn select<'a>(
        &self,
        image: &str,
        manifests: impl IntoIterator<Item = &'a Descriptor>,
    ) -> Result<&'a Descriptor, PlatformError> {
        let mut available: Vec<Platform> = Vec::new();
        for d in manifests {
            let Some(p) = Platform::of_descriptor(d) else {
                continue;
            };
            if self.matches(&p) {
                return Ok(d);
            }
            if p.os != "unknown" && !available.contains(&p) {
                available.push(p);
            }
        }
        Err(self.missing(image, available))
    }

    /// Checks a single-platform image's config against this platform.
    pub fn check_config(
        &self,
        image: &str,
        config: &ImageConfiguration,
    ) -> Result<(), PlatformError> {
        let have = Platform::of_config(config);
        if self.matches(&have) {
            Ok(())
        } else {
            Err(self.missing(image, vec![have]))
        }
    }

    fn missing(&self, image: &str, available: Vec<Platform>) -> PlatformError {
        PlatformError::Missing {
            image: image.to_string(),
            wanted: self.clone(),
            available,
        }
    }
}

impl FromStr for Platform {
    type Err = BadPlatform;

    fn from_str(s: &str) -> Result<Platform, BadPlatform> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        };
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => {
                Ok(Platform::new(os, arch, Some(variant)))
            }
            _ => Err(BadPlatform(s.to_string())),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(platform: Option<(&str, &str, Option<&str>)>, n: u8) -> Descriptor {
        let mut v = serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{}", format!("{n:02x}").repeat(32)),
            "size": 100,
        });
        if let Some((os, arch, variant)) = platform {
            v["platform"] = serde_json::json!({"os": os, "architecture": arch});
            if let Some(var) = variant {
                v["platform"]["variant"] = var.into();
            }
        }
        serde_json::from_value(v).unwrap()
    }

    fn p(s: &str) -> Platform {
        s.parse().unwrap()
    }

    #[test]
    fn parse_and_normalise() {
        assert_eq!(p("linux/riscv64"), Platform::default());
        assert_eq!(p("linux/arm64/v8").to_string(), "linux/arm64");
        assert_eq!(p("linux/aarch64").to_string(), "linux/arm64");
        assert_eq!(p("linux/x86_64").to_string(), "linux/amd64");
        assert_eq!(p("linux/arm/v7").to_string(), "linux/arm/v7");
        assert_eq!(p("Linux/AMD64").to_string(), "linux/amd64");
        for bad in ["linux", "linux/", "/riscv64", "a/b/c/d", "linux/risc v"] {
            assert_eq!(
                bad.parse::<Platform>().unwrap_err().to_string(),
                format!(
                    "{bad}: invalid platform (expected os/arch or os/arch/variant, e.g. linux/riscv64)"
                )
            );
        }
    }

    #[test]
    fn variants_match() {
        assert!(p("linux/arm64/v8").matches(&p("linux/arm64")));
        assert!(p("linux/arm").matches(&p("linux/arm/v6")));
        assert!(!p("linux/arm/v7").matches(&p("linux/arm/v6")));
        assert!(!p("linux/amd64").matches(&p("windows/amd64")));
    }

    #[test]
    fn select_from_index() {
        let index = vec![
            entry(Some(("linux", "amd64", None)), 1),
            entry(Some(("linux", "arm", Some("v7"))), 2),
            entry(Some(("linux", "arm64", Some("v8"))), 3),
            entry(Some(("unknown", "unknown", None)), 4),
            entry(None, 5),
            entry(Some(("linux", "riscv64", None)), 6),
            entry(Some(("linux", "amd64", None)), 7),
        ];
        let digest = |d: &Descriptor| d.digest().to_string();
        assert_eq!(
            digest(Platform::default().select("x", &index).unwrap()),
            digest(&index[5])
        );
        assert_eq!(
            digest(p("linux/arm64/v8").select("x", &index).unwrap()),
            digest(&index[2])
        );
        assert_eq!(
            digest(p("linux/amd64").select("x", &index).unwrap()),
            digest(&index[0])
        );
        let err = p("linux/s390x")
            .select("127.0.0.1:5000/multi:1", &index)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "image 127.0.0.1:5000/multi:1 has no linux/s390x variant \
             (it has linux/amd64, linux/arm/v7, linux/arm64, linux/riscv64)"
        );
        let err = Platform::default().select("x", &index[..2]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "image x has no linux/riscv64 variant (it has linux/amd64, linux/arm/v7)"
        );
        assert_eq!(
            Platform::default()
                .select("x", &[] as &[Descriptor])
                .unwrap_err()
                .to_string(),
            "image x has no linux/riscv64 variant (it has no platform-specific manifests)"
        );
    }

    #[test]
    fn check_single_config() {
        let config: ImageConfiguration = serde_json::from_value(serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": []}
        }))
        .unwrap();
        assert!(p("linux/amd64").check_config("x", &config).is_ok());
        assert_eq!(
            Platform::default()
                .check_config("x:1", &config)
                .unwrap_err()
                .to_string(),
            "image x:1 has no linux/riscv64 variant (it has linux/amd64)"
        );
    }
}
