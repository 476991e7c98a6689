//! The registry source: manifests, config and layers over the OCI distribution API with
//! `oci-client`, layers downloaded in parallel into the [`BlobCache`].
//!
//! oci-client does the HTTP, the anonymous bearer-token dance and sends the credentials found
//! in docker's `config.json` (or its credential helpers); we pick the platform ourselves (its
//! resolver is switched off) so a missing one can be listed, and check every digest ourselves.
//! oci-client is async: a current-thread tokio runtime lives for one [`open`] call, and the
//! rest of the pipeline stays synchronous.

use super::LoadOptions;
use super::cache::{BlobCache, CacheError};
use super::digest::{Digest, Hasher};
use super::manifest::{self, Blob, Image, Layer, ManifestError};
use super::progress::Progress;
use super::reference::{DOCKER_HUB, ImageRef};
use docker_credential::{CredentialRetrievalError, DockerCredential};
use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Layers downloaded at once: enough to fill a link with several mid-sized layers, few
/// enough not to trip registry rate limits (docker pulls 3 at a time).
const PARALLEL_DOWNLOADS: usize = 4;

/// A connection that cannot be made in this time is reported rather than waited on.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// A registry that sends nothing for this long during a download is reported as stalled.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{image}: not found in the registry")]
    NotFound { image: String },
    // Docker Hub also answers "unauthorized" for a repository that does not exist.
    #[error(
        "{image}: not found in the registry, or access denied (if it is private, log in with `docker login {registry}`)"
    )]
    Denied { image: String, registry: String },
    #[error("{image}: {why}")]
    Failed { image: String, why: String },
    #[error("{image}: cannot reach {registry}: {why}")]
    Unreachable {
        image: String,
        registry: String,
        why: String,
    },
    #[error("credentials for {registry}: {why}")]
    Credentials { registry: String, why: String },
    #[error("{what} {digest} digest mismatch (got {got})")]
    BlobDigest {
        what: &'static str,
        digest: String,
        got: String,
    },
    #[error("layer {digest}: size mismatch (the descriptor says {want} bytes, got {got})")]
    LayerSize { digest: Digest, want: u64, got: u64 },
    #[error("layer {digest}: writing {}: {error}", path.display())]
    Write {
        digest: Digest,
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Resolves `image` in its registry, and downloads the layers the cache lacks.
pub fn open(
    image: &ImageRef,
    opts: &LoadOptions,
    cache: &BlobCache,
    progress: &Progress,
) -> Result<Image, RegistryError> {
    pull(image, credentials(&image.registry)?, opts, cache, progress)
}

/// [`open`] with the given credentials.
pub fn pull(
    image: &ImageRef,
    auth: RegistryAuth,
    opts: &LoadOptions,
    cache: &BlobCache,
    progress: &Progress,
) -> Result<Image, RegistryError> {
    // reqwest is built without a default TLS provider (ring builds in seconds, aws-lc-rs in
    // minutes); it takes the process default. An error means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RegistryError::Runtime)?;
    let reference = match (&image.tag, &image.digest) {
        (Some(t), Some(d)) => Reference::with_tag_and_digest(
            image.registry.clone(),
            image.repository.clone(),
            t.clone(),
            d.to_string(),
        ),
        (None, Some(d)) => Reference::with_digest(
            image.registry.clone(),
            image.repository.clone(),
            d.to_string(),
        ),
        (Some(t), None) => {
            Reference::with_tag(image.registry.clone(), image.repository.clone(), t.clone())
        }
        (None, None) => unreachable!("ImageRef::parse always sets a tag or a digest"),
    };
    let protocol = if opts.insecure {
        ClientProtocol::HttpsExcept(vec![reference.resolve_registry().to_string()])
    } else {
        ClientProtocol::Https
    };
    let client = Client::new(ClientConfig {
        protocol,
        platform_resolver: None,
        connect_timeout: Some(CONNECT_TIMEOUT),
        read_timeout: Some(READ_TIMEOUT),
        ..ClientConfig::default()
    });
    let ctx = Ctx {
        client,
        reference,
        auth,
        shown: image.to_string(),
        registry: image.registry.clone(),
        insecure: opts.insecure,
    };

    let (top, top_digest) = rt.block_on(ctx.manifest(&ctx.reference))?;
    let top_digest = match &image.digest {
        Some(d) => {
            manifest::verify("manifest", d, None, &top)?;
            d.clone()
        }
        None => top_digest,
    };
    let (manifest_digest, manifest, from_index) = manifest::resolve(
        &ctx.shown,
        &opts.platform,
        top_digest,
        &top,
        |d| -> Result<Vec<u8>, RegistryError> {
            let digest = manifest::descriptor_digest("manifest", d)?;
            let (bytes, _) =
                rt.block_on(ctx.manifest(&ctx.reference.clone_with_digest(digest.to_string())))?;
            manifest::verify("manifest", &digest, Some(d.size()), &bytes)?;
            Ok(bytes)
        },
    )?;

    let config = manifest::fetch_config(
        &ctx.shown,
        &opts.platform,
        &manifest,
        !from_index,
        |digest, size| rt.block_on(ctx.config(digest, size)),
    )?;

    let mut layers = Vec::new();
    let mut wanted = Vec::new();
    let mut seen = HashSet::new();
    for d in manifest.layers() {
        let digest = manifest::descriptor_digest("layer", d)?;
        if seen.insert(digest.clone()) {
            if cache.has(&digest, d.size()) {
                progress.cached(&digest, d.size());
            } else {
                wanted.push((digest.clone(), d.size()));
            }
        }
        layers.push(Layer {
            blob: Blob::File(cache.path(&digest)),
            digest: Some(digest),
            media_type: Some(d.media_type().to_string()),
            size: d.size(),
        });
    }
    rt.block_on(async {
        let mut downloads = futures_util::stream::iter(wanted)
            .map(|(digest, size)| ctx.download(digest, size, cache, progress))
            .buffer_unordered(PARALLEL_DOWNLOADS);
        while let Some(done) = downloads.next().await {
            done?;
        }
        Ok::<(), RegistryError>(())
    })?;
    Ok(Image {
        manifest_digest,
        config,
        layers,
    })
}

/// What every request needs.
struct Ctx {
    client: Client,
    reference: Reference,
    auth: RegistryAuth,
    /// The reference as the user should see it in messages.
    shown: String,
    registry: String,
    insecure: bool,
}

impl Ctx {
    /// A manifest or index by tag or digest, and the sha256 of its bytes.
    async fn manifest(&self, r: &Reference) -> Result<(Vec<u8>, Digest), RegistryError> {
        let (bytes, _) = self
            .client
            .pull_manifest_raw(r, &self.auth, &manifest::ACCEPTED_TYPES)
            .await
            .map_err(|e| self.error(e))?;
        if bytes.len() as u64 > manifest::JSON_MAX_BYTES {
            return Err(ManifestError::TooBig {
                what: "manifest",
                digest: r.to_string(),
                size: bytes.len() as u64,
            }
            .into());
        }
        let digest = Digest::of(&bytes);
        Ok((bytes.to_vec(), digest))
    }

    /// The config blob, cut off past the `size_bytes` its descriptor says (which the caller
    /// has checked against [`manifest::JSON_MAX_BYTES`]).
    async fn config(&self, digest: &Digest, size_bytes: u64) -> Result<Vec<u8>, RegistryError> {
        let mut stream = self
            .client
            .pull_blob_stream(&self.reference, digest.to_string().as_str())
            .await
            .map_err(|e| self.error(e))?;
        let mut data = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.stream_error("config", digest, e))?;
            data.extend_from_slice(&chunk);
            if data.len() as u64 > size_bytes {
                break; // The size check that follows reports it.
            }
        }
        Ok(data)
    }

    /// Downloads one layer into the cache: to a temporary file, renamed once its digest and
    /// size are right.
    async fn download(
        &self,
        digest: Digest,
        size: u64,
        cache: &BlobCache,
        progress: &Progress,
    ) -> Result<(), RegistryError> {
        let temp = cache.temp()?;
        let write_err = |error| RegistryError::Write {
            digest: digest.clone(),
            path: temp.path().to_path_buf(),
            error,
        };
        let mut file = tokio::fs::File::from_std(temp.as_file().try_clone().map_err(write_err)?);
        let bar = progress.start(&digest, size);
        let mut stream = self
            .client
            .pull_blob_stream(&self.reference, digest.to_string().as_str())
            .await
            .map_err(|e| self.error(e))?;
        let mut hasher = Hasher::default();
        let mut len_bytes = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.stream_error("layer", &digest, e))?;
            len_bytes += chunk.len() as u64;
            // A registry that sends more than the descriptor says is cut off here, not
            // after it has filled the disk.
            if len_bytes > size {
                return Err(RegistryError::LayerSize {
                    digest,
                    want: size,
                    got: len_bytes,
                });
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(write_err)?;
            bar.inc(chunk.len() as u64);
        }
        file.flush().await.map_err(write_err)?;
        drop(file);
        let got = hasher.finish();
        if got != digest {
            return Err(RegistryError::BlobDigest {
                what: "layer",
                digest: digest.to_string(),
                got: got.to_string(),
            });
        }
        if len_bytes != size {
            return Err(RegistryError::LayerSize {
                digest,
                want: size,
                got: len_bytes,
            });
        }
        cache.commit(temp, &digest)?;
        bar.finish();
        Ok(())
    }

    /// oci-client's verifying stream fails at the end on a mismatch; say it our way.
    fn stream_error(
        &self,
        what: &'static str,
        digest: &Digest,
        e: std::io::Error,
    ) -> RegistryError {
        if let Some(oci_client::errors::DigestError::VerificationError { expected, actual }) =
            e.get_ref().and_then(|inner| inner.downcast_ref())
        {
            return RegistryError::BlobDigest {
                what,
                digest: expected.clone(),
                got: actual.clone(),
            };
        }
        RegistryError::Failed {
            image: self.shown.clone(),
            why: format!("{what} {digest}: {}", chain(&e)),
        }
    }

    /// One line for what went wrong talking to the registry.
    fn error(&self, e: OciDistributionError) -> RegistryError {
        let image = self.shown.clone();
        let denied = || RegistryError::Denied {
            image: self.shown.clone(),
            registry: self.registry.clone(),
        };
        match e {
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::NotFound
                            | OciErrorCode::BlobUnknown
                    )
                }) {
                    RegistryError::NotFound { image }
                } else if codes
                    .iter()
                    .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied))
                {
                    denied()
                } else {
                    let messages: Vec<String> = envelope
                        .errors
                        .iter()
                        .map(|e| one_line(&format!("{:?}: {}", e.code, e.message)))
                        .collect();
                    RegistryError::Failed {
                        image,
                        why: format!("the registry said {}", messages.join("; ")),
                    }
                }
            }
            OciDistributionError::ServerError { code: 404, .. } => {
                RegistryError::NotFound { image }
            }
            OciDistributionError::ServerError {
                code: 401 | 403, ..
            }
            | OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => denied(),
            OciDistributionError::ServerError { code, message, .. } => RegistryError::Failed {
                image,
                why: format!("the registry answered HTTP {code}: {}", one_line(&message)),
            },
            OciDistributionError::RequestError(e) => {
                let mut why = chain(&e);
                // What rustls says when the other end speaks plain HTTP.
                if !self.insecure && why.contains("corrupt message") {
                    why.push_str(" (a plain-HTTP registry needs --insecure)");
                }
                RegistryError::Unreachable {
                    image,
                    registry: self.registry.clone(),
                    why,
                }
            }
            other => RegistryError::Failed {
                image,
                why: one_line(&other.to_string()),
            },
        }
    }
}

/// The credentials docker would use for `registry`, from `config.json` under `$DOCKER_CONFIG`
/// or `~/.docker`. No config means an anonymous pull.
fn credentials(registry: &str) -> Result<RegistryAuth, RegistryError> {
    let dir = match std::env::var_os("DOCKER_CONFIG") {
        Some(d) => Some(PathBuf::from(d)),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")),
    };
    match dir.and_then(|d| File::open(d.join("config.json")).ok()) {
        Some(config) => credentials_from(BufReader::new(config), registry),
        None => Ok(RegistryAuth::Anonymous),
    }
}

/// The credentials a docker `config.json` gives `registry`: its `auths`, or what its
/// `credHelpers` or `credsStore` helper says. No entry means an anonymous pull, and so does an
/// identity token (an OAuth refresh token, which needs a token exchange oci-client lacks).
fn credentials_from(config: impl Read, registry: &str) -> Result<RegistryAuth, RegistryError> {
    // docker keys Docker Hub by its v1 index URL, other registries by host[:port].
    let server = if registry == DOCKER_HUB {
        "https://index.docker.io/v1/"
    } else {
        registry
    };
    let failed = |why: String| RegistryError::Credentials {
        registry: registry.into(),
        why,
    };
    match docker_credential::get_credential_from_reader(config, server) {
        Ok(DockerCredential::UsernamePassword(user, password)) => {
            Ok(RegistryAuth::Basic(user, password))
        }
        Ok(DockerCredential::IdentityToken(_))
        | Err(CredentialRetrievalError::NoCredentialConfigured) => Ok(RegistryAuth::Anonymous),
        Err(CredentialRetrievalError::ConfigReadError) => {
            Err(failed("the docker config.json is not valid JSON".into()))
        }
        // The helper protocol's answer for "no entry", which docker takes as anonymous.
        Err(CredentialRetrievalError::HelperFailure { stdout, .. })
            if stdout.contains("credentials not found") =>
        {
            Ok(RegistryAuth::Anonymous)
        }
        Err(CredentialRetrievalError::HelperFailure {
            helper,
            stderr,
            stdout,
        }) => {
            let said = if stderr.trim().is_empty() {
                stdout
            } else {
                stderr
            };
            Err(failed(format!(
                "{helper} failed: {}",
                one_line(said.trim())
            )))
        }
        Err(CredentialRetrievalError::HelperCommunicationError) => Err(failed(
            "cannot run the credential helper the docker config.json names".into(),
        )),
        Err(e) => Err(failed(one_line(&e.to_string()))),
    }
}

/// An error and its sources on one line, without the repeats reqwest and hyper produce.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = one_line(&err.to_string());
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// base64 of `testuser:testpassword`
    const AUTH: &str = "dGVzdHVzZXI6dGVzdHBhc3N3b3Jk";

    fn creds(config: &str, registry: &str) -> Result<RegistryAuth, String> {
        credentials_from(config.as_bytes(), registry).map_err(|e| e.to_string())
    }

    #[test]
    fn credentials_from_docker_config() {
        let basic = Ok(RegistryAuth::Basic(
            "testuser".into(),
            "testpassword".into(),
        ));
        let config = format!(r#"{{"auths": {{"127.0.0.1:5000": {{"auth": "{AUTH}"}}}}}}"#);
        assert_eq!(creds(&config, "127.0.0.1:5000"), basic);
        assert_eq!(
            creds(&config, "127.0.0.1:5001"),
            Ok(RegistryAuth::Anonymous)
        );
        let hub =
            format!(r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{AUTH}"}}}}}}"#);
        assert_eq!(creds(&hub, DOCKER_HUB), basic);
        let fields =
            r#"{"auths": {"ghcr.io": {"username": "testuser", "password": "testpassword"}}}"#;
        assert_eq!(creds(fields, "ghcr.io"), basic);
        let token = r#"{"auths": {"ghcr.io": {"identitytoken": "refresh"}}}"#;
        assert_eq!(creds(token, "ghcr.io"), Ok(RegistryAuth::Anonymous));
        assert_eq!(creds("{}", "ghcr.io"), Ok(RegistryAuth::Anonymous));
        assert_eq!(
            creds("{", "ghcr.io"),
            Err("credentials for ghcr.io: the docker config.json is not valid JSON".into())
        );
        let helper = r#"{"credHelpers": {"ghcr.io": "ctr2wasm-test-no-such-helper"}}"#;
        assert_eq!(
            creds(helper, "ghcr.io"),
            Err("credentials for ghcr.io: cannot run the credential helper the docker config.json names".into())
        );
    }
}
