//! The container images the `convert` tests read, with what a correct conversion of each shows,
//! and the tests that hold those fixtures to independent tools.
//!
//! `tests/images/make-images.py` writes them (its docstring lists every image: busybox, debian,
//! a multi-platform index, amd64-only, three bad inputs and two docker-archive files) into a
//! cache keyed by the script and the Debian rootfs, so only the first run after a change builds
//! them. Next to each image, `NAME.expect.json` holds its digests, its config, the tree a
//! correct flatten shows, a shell script that prints that tree from inside the image with the
//! exact output it must give, and what the image's default command prints.
//!
//! The expectations are written by hand in the script, not taken from a run of ours. The tests
//! here check them against other tools: skopeo reads every image, umoci flattens the good ones
//! and their check scripts print exactly the expected output under qemu-riscv64 in that tree,
//! the bad ones fail in skopeo, gzip or tar the way their `error` says, and the registry of
//! [`crate::registry`] serves pushed images byte for byte.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use crate::host_tools;
use crate::registry::Registry;
use crate::userland;

/// The directory of built fixtures.
pub(crate) struct Fixtures {
    dir: PathBuf,
}

/// One image of the fixtures (an OCI layout or a docker-archive file) and its expectations.
pub(crate) struct Image {
    name: String,
    path: PathBuf,
    expect: Value,
}

/// The fixtures, built (or found in the cache) once per test run.
pub(crate) fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Result<Fixtures, String>> = OnceLock::new();
    let built = FIXTURES.get_or_init(|| {
        let python = host_tools::require("python3", "python3");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/images/make-images.py");
        let mut cmd = Command::new(python);
        cmd.arg(&script)
            .arg("--rootfs")
            .arg(userland::debian_rootfs())
            .arg("--cache")
            .stdin(Stdio::null());
        userland::run_builder(&mut cmd, &script).map(|dir| Fixtures { dir })
    });
    match built {
        Ok(fixtures) => fixtures,
        Err(e) => panic!("the test images could not be built: {e}"),
    }
}

impl Fixtures {
    /// The image called `name` in make-images.py (`busybox`, `multi`, `busybox-legacy`, ...).
    pub(crate) fn image(&self, name: &str) -> Image {
        let file = self.dir.join(format!("{name}.expect.json"));
        let text = fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let expect: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()));
        let path = self.dir.join(
            expect["path"]
                .as_str()
                .unwrap_or_else(|| panic!("{} has no path", file.display())),
        );
        Image {
            name: name.to_owned(),
            path,
            expect,
        }
    }
}

impl Image {
    /// The OCI layout directory or the docker-archive file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The tag of an OCI layout (`latest`).
    pub(crate) fn tag(&self) -> &str {
        self.str("/tag")
    }

    /// How skopeo, and `ctr2wasm convert`, name it: `oci:DIR:TAG` or `docker-archive:FILE`.
    pub(crate) fn reference(&self) -> String {
        match self.str("/transport") {
            "oci" => format!("oci:{}:{}", self.path.display(), self.tag()),
            transport => format!("{transport}:{}", self.path.display()),
        }
    }

    /// The digest of what the tag names: a manifest, or the index of `multi`.
    pub(crate) fn digest(&self) -> &str {
        self.str("/digest")
    }

    /// The manifest digest of `platform` (`linux/riscv64`).
    pub(crate) fn platform_digest(&self, platform: &str) -> &str {
        self.expect["platforms"][platform]
            .as_str()
            .unwrap_or_else(|| panic!("{} has no platform {platform}", self.name))
    }

    /// The string at the JSON `pointer` of the expectations (`/check/script`, `/error/digest`).
    pub(crate) fn str(&self, pointer: &str) -> &str {
        self.expect
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{}.expect.json has no string at {pointer}", self.name))
    }

    /// The value at the JSON `pointer` of the expectations (`/config/Env`, `/default_run`).
    pub(crate) fn value(&self, pointer: &str) -> &Value {
        self.expect
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{}.expect.json has nothing at {pointer}", self.name))
    }

    /// The bytes of a blob of this OCI layout.
    pub(crate) fn blob(&self, digest: &str) -> Vec<u8> {
        let hex = digest
            .strip_prefix("sha256:")
            .unwrap_or_else(|| panic!("{digest} is not a sha256 digest"));
        let path = self.path.join("blobs/sha256").join(hex);
        fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }
}

// ------------------------------------------------------------------------------------------
// The fixtures checked by other tools.

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// The stdout of a command that must succeed.
fn run_ok(program: &str, args: &[&str]) -> Vec<u8> {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {} failed ({}):\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn run_json(program: &str, args: &[&str]) -> Value {
    let stdout = run_ok(program, args);
    serde_json::from_slice(&stdout).unwrap_or_else(|e| {
        panic!(
            "{program} {} printed no JSON ({e}):\n{}",
            args.join(" "),
            String::from_utf8_lossy(&stdout)
        )
    })
}

/// A fresh directory under the test target's scratch space.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("images")
        .join(name);
    match fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("cannot clear {}: {e}", dir.display()),
    }
    fs::create_dir_all(dir.parent().expect("under CARGO_TARGET_TMPDIR"))
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

#[test]
fn registry_serves_pushed_fixtures_byte_for_byte() {
    let fixtures = fixtures();
    let registry = Registry::start();
    for name in ["busybox", "multi"] {
        let image = fixtures.image(name);
        let reference = registry.push(image.path(), image.tag(), &format!("{name}:latest"));
        assert_eq!(reference, format!("{}/{name}:latest", registry.host()));
        let docker = format!("docker://{reference}");
        let raw = run_ok(
            "skopeo",
            &["inspect", "--raw", "--tls-verify=false", &docker],
        );
        assert!(
            raw == image.blob(image.digest()),
            "{docker} serves another manifest than {} {}",
            image.reference(),
            image.digest()
        );
        let inspect = run_json(
            "skopeo",
            &[
                "inspect",
                "--tls-verify=false",
                "--override-os=linux",
                "--override-arch=riscv64",
                &docker,
            ],
        );
        // skopeo reports the digest the reference names (the index's, for multi) and the
        // rest from the riscv64 image.
        assert_eq!(inspect["Digest"], image.digest());
        assert_eq!(inspect["Architecture"], "riscv64");
        assert_eq!(&inspect["Env"], image.value("/config/Env"));
        let platforms = image
            .value("/platforms")
            .as_object()
            .expect("platforms is a map");
        for digest in platforms.values() {
            let digest = digest.as_str().expect("digests are strings");
            let by_digest = format!("docker://{}/{name}@{digest}", registry.host());
            let raw = run_ok(
                "skopeo",
                &["inspect", "--raw", "--tls-verify=false", &by_digest],
            );
            assert!(raw == image.blob(digest), "{by_digest} serves other bytes");
        }
    }
}

#[test]
fn fixtures_read_by_skopeo() {
    host_tools::require("skopeo", "skopeo");
    let fixtures = fixtures();
    for name in ["busybox", "debian", "multi"] {
        let image = fixtures.image(name);
        let reference = image.reference();
        let raw = run_ok("skopeo", &["inspect", "--raw", &reference]);
        assert!(raw == image.blob(image.digest()), "{reference}: --raw");
        let inspect = run_json(
            "skopeo",
            &[
                "inspect",
                "--override-os=linux",
                "--override-arch=riscv64",
                &reference,
            ],
        );
        assert_eq!(inspect["Digest"], image.digest(), "{reference}");
        assert_eq!(inspect["Architecture"], "riscv64", "{reference}");
        assert_eq!(&inspect["Env"], image.value("/config/Env"), "{reference}");
        assert_eq!(inspect["Layers"].as_array().map(Vec::len), Some(3));
    }
    let multi = fixtures.image("multi");
    let amd64 = run_json(
        "skopeo",
        &["inspect", "--override-arch=amd64", &multi.reference()],
    );
    assert_eq!(amd64["Architecture"], "amd64");
    let index: Value = serde_json::from_slice(&multi.blob(multi.digest())).expect("index JSON");
    let listed: Vec<(&Value, &Value)> = index["manifests"]
        .as_array()
        .expect("manifests is a list")
        .iter()
        .map(|m| (&m["platform"]["architecture"], &m["digest"]))
        .collect();
    assert_eq!(
        listed,
        [
            (
                &Value::from("amd64"),
                &Value::from(multi.platform_digest("linux/amd64"))
            ),
            (
                &Value::from("riscv64"),
                &Value::from(multi.platform_digest("linux/riscv64"))
            ),
        ]
    );

    // Both docker-archive forms hold the busybox image: its config and diff_ids.
    let busybox = fixtures.image("busybox");
    let diff_ids: Vec<&Value> = busybox
        .value("/layers")
        .as_array()
        .expect("layers is a list")
        .iter()
        .map(|layer| &layer["diff_id"])
        .collect();
    for name in ["busybox-legacy", "busybox-oci"] {
        let reference = fixtures.image(name).reference();
        let config = run_json("skopeo", &["inspect", "--config", &reference]);
        assert_eq!(config["architecture"], "riscv64", "{reference}");
        assert_eq!(&config["config"], busybox.value("/config"), "{reference}");
        let ids: Vec<&Value> = config["rootfs"]["diff_ids"]
            .as_array()
            .expect("diff_ids is a list")
            .iter()
            .collect();
        assert_eq!(ids, diff_ids, "{reference}");
        let tagged = format!("{reference}:busybox:latest");
        run_ok("skopeo", &["inspect", &tagged]);
    }

    // amd64-only has no riscv64 image, in the index or in the config of the bare manifest.
    let only = fixtures.image("amd64-only");
    let out = run(
        "skopeo",
        &[
            "inspect",
            "--override-os=linux",
            "--override-arch=riscv64",
            &only.reference(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("riscv64"),
        "{} has a riscv64 image? ({}) {stderr}",
        only.reference(),
        out.status
    );
    let bare = format!("oci:{}:manifest", only.path().display());
    let inspect = run_json("skopeo", &["inspect", &bare]);
    assert_eq!(inspect["Architecture"], "amd64");
    assert_eq!(inspect["Digest"], only.platform_digest("linux/amd64"));
}

#[test]
fn bad_fixtures_fail_as_their_error_says() {
    host_tools::require("skopeo", "skopeo");
    let fixtures = fixtures();

    let corrupt = fixtures.image("corrupt-blob");
    let dest = scratch("corrupt-blob-copy");
    let out = run(
        "skopeo",
        &[
            "copy",
            &corrupt.reference(),
            &format!("dir:{}", dest.display()),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let (expected, actual) = (corrupt.str("/error/digest"), corrupt.str("/error/actual"));
    assert!(
        !out.status.success()
            && stderr.contains(&format!(
                "Digest did not match, expected {expected}, got {actual}"
            )),
        "skopeo copy {}: {} {stderr}",
        corrupt.reference(),
        out.status
    );

    // The cut layer is what the manifest names, and gzip finds it cut short.
    let truncated = fixtures.image("truncated-gzip");
    let manifest: Value =
        serde_json::from_slice(&truncated.blob(truncated.digest())).expect("the manifest is JSON");
    let cut = truncated.str("/error/digest");
    assert_eq!(manifest["layers"][0]["digest"], cut);
    let blob = truncated
        .path()
        .join("blobs/sha256")
        .join(&cut["sha256:".len()..]);
    let out = run("gzip", &["-t", &blob.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("unexpected end of file"),
        "gzip -t {}: {} {stderr}",
        blob.display(),
        out.status
    );

    let escape = fixtures.image("escape");
    let layer = escape.str("/error/digest");
    let blob = escape
        .path()
        .join("blobs/sha256")
        .join(&layer["sha256:".len()..]);
    let members = run_ok("tar", &["-tzf", &blob.display().to_string()]);
    assert_eq!(
        String::from_utf8_lossy(&members),
        format!("{}\n", escape.str("/error/member"))
    );
}

#[test]
fn expectations_hold_on_the_umoci_flatten() {
    let umoci = host_tools::require("umoci", "umoci");
    let fixtures = fixtures();
    // (layout, tag, the image whose expectations hold, which check): the amd64 tree (multi's
    // other platform, alone in amd64-only) runs natively in its chroot.
    let cases = [
        ("busybox", "latest", "busybox", "/check"),
        ("debian", "latest", "debian", "/check"),
        ("amd64-only", "manifest", "multi", "/amd64_check"),
    ];
    let mut failures = Vec::new();
    for (name, tag, expectations, check) in cases {
        let image = fixtures.image(name);
        let bundle = scratch(&format!("umoci-{name}"));
        let out = Command::new(&umoci)
            .arg("unpack")
            .arg("--image")
            .arg(format!("{}:{tag}", image.path().display()))
            .arg(&bundle)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run umoci: {e}"));
        assert!(
            out.status.success(),
            "umoci unpack {name}:{tag} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rootfs = bundle.join("rootfs");
        let source = fixtures.image(expectations);
        let script = source.str(&format!("{check}/script"));
        let expected = source.str(&format!("{check}/stdout"));
        let env = env_of(&source);
        let argv = ["/bin/sh", "-c", script];
        let got = in_chroot(&rootfs, &format!("{name}-check"), &env, "/", &argv, "");
        if got.stdout != expected.as_bytes() || got.status != Some(0) {
            failures.push(format!(
                "{name}: the check script under umoci's flatten exited {:?} and printed:\n{}\
                 --- expected:\n{expected}--- stderr:\n{}",
                got.status,
                String::from_utf8_lossy(&got.stdout),
                String::from_utf8_lossy(&got.stderr)
            ));
        }
        // The default command, as a runtime starts it: Entrypoint + Cmd in WorkingDir.
        let mut argv: Vec<&str> = Vec::new();
        for key in ["/config/Entrypoint", "/config/Cmd"] {
            if let Some(list) = source.expect.pointer(key).and_then(Value::as_array) {
                argv.extend(list.iter().map(|v| v.as_str().expect("argv strings")));
            }
        }
        let workdir = source.str("/config/WorkingDir");
        let stdin = source.str("/default_run/stdin");
        let got = in_chroot(&rootfs, &format!("{name}-run"), &env, workdir, &argv, stdin);
        let want_stdout = source.str("/default_run/stdout");
        let want_status = source.value("/default_run/status").as_i64();
        if got.stdout != want_stdout.as_bytes() || got.status.map(i64::from) != want_status {
            failures.push(format!(
                "{name}: the default command under umoci's flatten exited {:?} (expected \
                 {want_status:?}) and printed:\n{}--- expected:\n{want_stdout}--- stderr:\n{}",
                got.status,
                String::from_utf8_lossy(&got.stdout),
                String::from_utf8_lossy(&got.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn env_of(image: &Image) -> Vec<String> {
    image
        .value("/config/Env")
        .as_array()
        .expect("Env is a list")
        .iter()
        .map(|v| v.as_str().expect("Env strings").to_owned())
        .collect()
}

struct Run {
    status: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs `argv` in `workdir` of a chroot of `rootfs` (riscv64 programs under qemu-riscv64) with
/// exactly `env`, feeding it `stdin`.
fn in_chroot(
    rootfs: &Path,
    name: &str,
    env: &[String],
    workdir: &str,
    argv: &[&str],
    stdin: &str,
) -> Run {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rootfs/qemu-chroot.sh");
    let mut child = Command::new(&script)
        .arg(rootfs)
        .arg(scratch(name))
        .args(env)
        .arg("--")
        // The chroot starts in /; the image's shell moves to the working directory.
        .args([
            "/bin/sh",
            "-c",
            "cd \"$1\" && shift && exec \"$@\"",
            "sh",
            workdir,
        ])
        .args(argv)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let mut input = child.stdin.take().expect("stdin is piped");
    input
        .write_all(stdin.as_bytes())
        .unwrap_or_else(|e| panic!("cannot write the stdin of {name}: {e}"));
    drop(input);
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot wait for {name}: {e}"));
    Run {
        status: out.status.code(),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}
