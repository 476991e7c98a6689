//! A real container registry on 127.0.0.1 for the tests that pull images: Debian's
//! `docker-registry` (distribution 2.8) with its storage in a fresh directory, filled with
//! `skopeo copy` from the OCI layouts of [`crate::images`].
//!
//! Each [`Registry`] is its own server on its own port, so tests never share state; dropping it
//! kills that server (only that child process) and deletes its storage. It speaks plain HTTP:
//! clients must treat `127.0.0.1:PORT` as an insecure registry.

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::host_tools;

/// How long a registry may take to answer `GET /v2/` after it starts; it takes well under a
/// second, but test machines run many tests at once.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How many times a port is picked again when the registry could not bind it (another
/// process took the port between our probe and the registry's bind).
const START_ATTEMPTS: usize = 3;

pub(crate) struct Registry {
    child: Child,
    host: String,
    dir: PathBuf,
}

impl Registry {
    /// Starts a registry at a free port and returns once it answers `GET /v2/`.
    pub(crate) fn start() -> Registry {
        let program = host_tools::require("docker-registry", "docker-registry");
        host_tools::require("skopeo", "skopeo");
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "registry/{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("cannot clear {}: {e}", dir.display()),
            }
            fs::create_dir_all(dir.join("storage"))
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
            match Self::try_start(&program, &dir) {
                Ok(registry) => return registry,
                Err(e) => failures.push(e),
            }
        }
        panic!(
            "docker-registry did not start:\n{}",
            failures.join("\n---\n")
        );
    }

    fn try_start(program: &Path, dir: &Path) -> Result<Registry, String> {
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.join("config.yml");
        fs::write(
            &config,
            format!(
                "version: 0.1\n\
                 log:\n  level: warn\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 http:\n  addr: {host}\n  secret: ctr2wasm-tests\n",
                dir.join("storage").display()
            ),
        )
        .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        let log_path = dir.join("registry.log");
        let log = fs::File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let mut child = Command::new(program)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!(
                    "{} serve {} exited ({status}):\n{}",
                    program.display(),
                    config.display(),
                    fs::read_to_string(&log_path).unwrap_or_default()
                ));
            }
            if v2_answers(&host) {
                return Ok(Registry {
                    child,
                    host,
                    dir: dir.to_path_buf(),
                });
            }
            if started.elapsed() > START_TIMEOUT {
                // Ours to end: the child we just spawned.
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} serve {} did not answer GET /v2/ within {START_TIMEOUT:?}:\n{}",
                    program.display(),
                    config.display(),
                    fs::read_to_string(&log_path).unwrap_or_default()
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// `127.0.0.1:PORT`.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// Copies the image tagged `tag` in the OCI layout `layout` to `name_tag` (`NAME:TAG`)
    /// here, every platform of an index included and every digest kept; returns
    /// `HOST/NAME:TAG`.
    pub(crate) fn push(&self, layout: &Path, tag: &str, name_tag: &str) -> String {
        let reference = format!("{}/{name_tag}", self.host);
        let out = Command::new("skopeo")
            .args(["copy", "--quiet", "--all", "--preserve-digests"])
            .arg("--dest-tls-verify=false")
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{reference}"))
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run skopeo: {e}"));
        assert!(
            out.status.success(),
            "skopeo copy oci:{}:{tag} docker://{reference} failed ({}):\n{}",
            layout.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        reference
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listens on now; the registry binds it a moment later.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap_or_else(|e| panic!("cannot bind a port on 127.0.0.1: {e}"));
    listener
        .local_addr()
        .expect("a bound socket has an address")
        .port()
}

/// Whether `GET /v2/` at `host` answers 200, as the distribution API says a registry does.
fn v2_answers(host: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(host) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /v2/ HTTP/1.0\r\nHost: {host}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let status_line = response.split(|&b| b == b'\n').next().unwrap_or_default();
    status_line.starts_with(b"HTTP/1.") && status_line.get(8..13) == Some(b" 200 ")
}
