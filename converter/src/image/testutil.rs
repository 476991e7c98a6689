//! Test fixtures for the image pipeline: a real `docker-registry` on 127.0.0.1, `skopeo` to
//! push to it, and OCI image layouts built here from tar layers.
//!
//! A missing `docker-registry` or `skopeo` fails the test with what to install (CI installs
//! both through `.ci/setup`).

use super::digest::Digest;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long a registry may take to answer `/v2/` after starting.
const REGISTRY_START_TIMEOUT: Duration = Duration::from_secs(20);

/// A `docker-registry serve` process with its storage in a temporary directory, stopped when
/// dropped.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    dir: TempDir,
    login: bool,
}

/// The one account of [`Registry::start_with_login`].
pub const LOGIN: (&str, &str) = ("testuser", "testpassword");
/// `htpasswd -Bbn testuser testpassword`: the registry only reads bcrypt.
const HTPASSWD: &str = "testuser:$2y$05$sBsSqk0OpSD1uTZkHXc4FeJ0Z70wLQdAX/82UiHuQOKbNbBrzs63m\n";

impl Registry {
    /// A registry anyone may pull from and push to.
    pub fn start() -> Registry {
        Registry::start_with(false)
    }

    /// A registry that wants [`LOGIN`] (HTTP basic auth) for everything.
    pub fn start_with_login() -> Registry {
        Registry::start_with(true)
    }

    fn start_with(login: bool) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        // Port 0 finds a free port; the registry takes it over right after.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        let mut yaml = format!(
            "version: 0.1\n\
             log:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: {addr}\n",
            dir.path().join("storage").display()
        );
        if login {
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, HTPASSWD).unwrap();
            yaml += &format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                htpasswd.display()
            );
        }
        std::fs::write(&config, yaml).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("registry.log")).unwrap())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run docker-registry ({e}): install it with \
                     `apt-get install docker-registry` (or run .ci/setup)"
                )
            });
        let mut registry = Registry {
            child,
            addr,
            dir,
            login,
        };
        registry.wait_ready();
        registry
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "docker-registry exited ({status}): {}",
                    std::fs::read_to_string(self.dir.path().join("registry.log"))
                        .unwrap_or_default()
                );
            }
            if let Ok(mut s) = TcpStream::connect(&self.addr) {
                let request = format!("GET /v2/ HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr);
                let mut answer = String::new();
                if s.write_all(request.as_bytes()).is_ok()
                    && s.read_to_string(&mut answer).is_ok()
                    && matches!(answer.split(' ').nth(1), Some("200" | "401"))
                {
                    return;
                }
            }
            assert!(
                start.elapsed() < REGISTRY_START_TIMEOUT,
                "docker-registry did not answer on {} within {REGISTRY_START_TIMEOUT:?}",
                self.addr
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The registry's copy of a blob (`docker/registry/v2/blobs/sha256/xx/<hex>/data`).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Pushes `oci:LAYOUT:TAG` to `NAME` here with skopeo; `all` pushes a whole index.
    pub fn push(&self, layout: &Path, tag: &str, name: &str, all: bool) {
        let mut cmd = Command::new("skopeo");
        cmd.args([
            "--insecure-policy",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
        ]);
        if all {
            cmd.arg("--all");
        }
        if self.login {
            cmd.arg(format!("--dest-creds={}:{}", LOGIN.0, LOGIN.1));
        }
        cmd.arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{name}", self.addr));
        run(cmd, "skopeo");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a tool the tests need, failing with what to install when it is missing.
pub fn run(mut cmd: Command, tool: &str) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run {tool} ({e}): install it with `apt-get install {tool}` (or run .ci/setup)"
        )
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An uncompressed layer tar. Entries: `path` → file contents, `path/` → directory,
/// `path -> target` as a name → symlink.
pub fn layer(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_600_000_000);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(0);
        if let Some((path, target)) = name.split_once(" -> ") {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_mode(0o777);
            b.append_link(&mut h, path, target).unwrap();
        } else if name.ends_with('/') {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            b.append_data(&mut h, name, &[][..]).unwrap();
        } else {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o755);
            h.set_size(data.len() as u64);
            b.append_data(&mut h, name, *data).unwrap();
        }
    }
    b.into_inner().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// An OCI image layout being written.
pub struct Layout {
    pub dir: PathBuf,
    entries: Vec<Value>,
}

/// A blob written into a layout, as a descriptor.
pub fn descriptor(media_type: &str, data: &[u8]) -> Value {
    json!({
        "mediaType": media_type,
        "digest": Digest::of(data).to_string(),
        "size": data.len(),
    })
}

impl Layout {
    pub fn new(dir: &Path) -> Layout {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion": "1.0.0"}"#).unwrap();
        Layout {
            dir: dir.to_path_buf(),
            entries: Vec::new(),
        }
    }

    pub fn blob(&self, media_type: &str, data: &[u8]) -> Value {
        let d = Digest::of(data);
        std::fs::write(self.dir.join("blobs/sha256").join(d.hex()), data).unwrap();
        descriptor(media_type, data)
    }

    /// Writes an image of gzip layers for `arch`, with a config the tests check, and returns
    /// its manifest's descriptor (with its platform).
    pub fn image(&self, arch: &str, layers: &[Vec<u8>]) -> Value {
        let diff_ids: Vec<String> = layers.iter().map(|l| Digest::of(l).to_string()).collect();
        let config = json!({
            "architecture": arch,
            "os": "linux",
            "config": {
                "Entrypoint": ["/bin/sh"],
                "Cmd": ["-c", "echo hi"],
                "Env": ["PATH=/usr/bin:/bin", "GREETING=hello world"],
                "WorkingDir": "/work",
                "User": "1000:1000",
            },
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        });
        let config = self.blob(
            "application/vnd.oci.image.config.v1+json",
            &serde_json::to_vec(&config).unwrap(),
        );
        let layers: Vec<Value> = layers
            .iter()
            .map(|l| self.blob("application/vnd.oci.image.layer.v1.tar+gzip", &gzip(l)))
            .collect();
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config,
            "layers": layers,
        });
        let mut d = self.blob(
            "application/vnd.oci.image.manifest.v1+json",
            &serde_json::to_vec(&manifest).unwrap(),
        );
        d["platform"] = json!({"os": "linux", "architecture": arch});
        d
    }

    /// Writes an index of `manifests` and returns its descriptor.
    pub fn index(&self, manifests: Vec<Value>) -> Value {
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        self.blob(
            "application/vnd.oci.image.index.v1+json",
            &serde_json::to_vec(&index).unwrap(),
        )
    }

    /// Lists `d` in `index.json`, tagged `tag` when given.
    pub fn add(&mut self, mut d: Value, tag: Option<&str>) {
        if let Some(tag) = tag {
            d["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        }
        self.entries.push(d);
        let index = json!({"schemaVersion": 2, "manifests": self.entries});
        std::fs::write(
            self.dir.join("index.json"),
            serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();
    }
}

/// The digest a descriptor names.
pub fn digest_of(d: &Value) -> Digest {
    d["digest"].as_str().unwrap().parse().unwrap()
}
