//! What an image or a signal cannot do to a `convert`: a SIGINT, SIGTERM or SIGHUP in the
//! middle leaves no `.ctr2wasm-*.tmp` and no output, and the process dies by that signal;
//! text the image controls (a tar member name, a tag, a media type, the config) never
//! reaches the terminal as control characters or as a forged second `ctr2wasm:` line.
//!
//! The images are OCI layouts written here, byte by byte, so each holds exactly the hostile
//! text or the size a case needs.

use sha2::{Digest, Sha256};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::registry::Registry;

/// Text that would clear the screen, rewrite the line and print a forged message, and a C1
/// CSI (U+009B) for terminals that take 8-bit controls.
const HOSTILE: &str = "evil\u{1b}[2J\r\nctr2wasm: forged\u{9b}31m";
/// How [`HOSTILE`] must be shown.
const SHOWN: &str = "evil\\u{1b}[2J\\r\\nctr2wasm: forged\\u{9b}31m";

/// `ctr2wasm`, started as from an interactive shell: SIGINT, SIGTERM and SIGHUP at their
/// default action, even when this test runs as a background job or under nohup (which leave
/// them ignored, and an ignored signal stays ignored in convert, by design).
fn ctr2wasm() -> Command {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"));
    c.stdin(Stdio::null());
    // SAFETY: only async-signal-safe calls (signal) between fork and exec.
    unsafe {
        c.pre_exec(|| {
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::signal(signal, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    c
}

fn sha256(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn put_blob(layout: &Path, bytes: &[u8]) -> (String, usize) {
    let digest = sha256(bytes);
    let path = layout.join("blobs/sha256").join(&digest["sha256:".len()..]);
    fs::write(&path, bytes).unwrap();
    (digest, bytes.len())
}

/// Writes an OCI layout with one layer (`layer`, of `media_type`), `config` (the `config`
/// object of the image config) and the tag `tag`.
fn write_layout(
    layout: &Path,
    layer: &[u8],
    media_type: &str,
    config: serde_json::Value,
    tag: &str,
) {
    fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let (layer_digest, layer_size) = put_blob(layout, layer);
    let image_config = serde_json::json!({
        "architecture": "riscv64",
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    });
    let (config_digest, config_size) = put_blob(layout, image_config.to_string().as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": [{"mediaType": media_type, "digest": layer_digest, "size": layer_size}],
    });
    let (manifest_digest, manifest_size) = put_blob(layout, manifest.to_string().as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    });
    fs::write(layout.join("index.json"), index.to_string()).unwrap();
}

const TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// An uncompressed tar holding one regular file: `name` (raw bytes, unchecked) with `data`.
fn tar_of(name: &[u8], data: &[u8]) -> Vec<u8> {
    let mut header = tar::Header::new_ustar();
    header.as_ustar_mut().unwrap().name[..name.len()].copy_from_slice(name);
    header.set_size(data.len() as u64);
    header.set_mode(0o755);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&header, data).unwrap();
    builder.into_inner().unwrap()
}

// ------------------------------------------------------------------------------------------
// Signals

/// A layout whose one file is big enough that converting it takes a few seconds (random bytes,
/// so zstd cannot shortcut them), written once and kept in the target directory.
fn big_layout() -> &'static Path {
    static LAYOUT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    LAYOUT.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let done = tmp.join("hostile_text-big-v1");
        if done.join("index.json").exists() {
            return done;
        }
        // Written aside and renamed, so a test run cut short leaves no half layout to reuse.
        let dir = tmp.join(format!("hostile_text-big-partial-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let data: Vec<u8> = (0..96 * 1024 * 1024 / 8)
            .flat_map(|_| {
                // xorshift64: fast, and incompressible enough.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()
            })
            .collect();
        write_layout(
            &dir,
            &tar_of(b"big", &data),
            TAR,
            serde_json::json!({"Cmd": ["/big"]}),
            "latest",
        );
        if fs::rename(&dir, &done).is_err() {
            // Another test process won the race; its layout is the same.
            let _ = fs::remove_dir_all(&dir);
        }
        done
    })
}

/// The `.ctr2wasm-*.tmp` files in `dir`.
fn temp_files(dir: &Path) -> Vec<String> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ctr2wasm-") && n.ends_with(".tmp"))
        .collect()
}

/// Starts converting the big layout, sends `signal` once the temporary output exists, and
/// checks that nothing is left and that the process died by `signal`.
fn interrupted_convert_leaves_nothing(signal: libc::c_int) {
    let layout = big_layout();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("out.wasm");
    let mut child = ctr2wasm()
        .args(["convert", "-q"])
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while temp_files(out_dir.path()).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no temporary output appeared"
        );
        assert!(child.try_wait().unwrap().is_none(), "convert ended early");
        std::thread::sleep(Duration::from_millis(2));
    }
    // Well inside the conversion: the output temp exists from the start, and the layer
    // takes seconds to flatten and pack.
    std::thread::sleep(Duration::from_millis(200));
    // Ours to signal: the child just spawned, by its PID.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.signal(),
        Some(signal),
        "convert did not die by signal {signal}: {} ({})",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let left: Vec<_> = fs::read_dir(out_dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        left.is_empty(),
        "left behind after signal {signal}: {left:?}"
    );
}

#[test]
fn sigint_in_the_middle_of_a_convert_leaves_nothing() {
    interrupted_convert_leaves_nothing(libc::SIGINT);
}

#[test]
fn sigterm_in_the_middle_of_a_convert_leaves_nothing() {
    interrupted_convert_leaves_nothing(libc::SIGTERM);
}

#[test]
fn sighup_in_the_middle_of_a_convert_leaves_nothing() {
    interrupted_convert_leaves_nothing(libc::SIGHUP);
}

/// Pulls the big image from a real registry into an empty cache, sends SIGINT the moment the
/// layer's download has started, and checks that neither the cache nor the output directory
/// keeps a temporary file (or a blob under its digest's name).
#[test]
fn sigint_during_a_layer_download_leaves_no_partial_blob() {
    let registry = Registry::start();
    let reference = registry.push(big_layout(), "latest", "big:latest");
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let blobs = cache.join("blobs/sha256");
    let out_dir = work.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let mut child = ctr2wasm()
        .args(["convert", "-q", "--insecure", &reference])
        .arg(out_dir.join("out.wasm"))
        .env("CTR2WASM_CACHE_DIR", &cache)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while temp_files(&blobs).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no download started"
        );
        assert!(child.try_wait().unwrap().is_none(), "convert ended early");
        std::thread::sleep(Duration::from_millis(1));
    }
    // Ours to signal: the child just spawned, by its PID.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGINT),
        "{} ({})",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let cached: Vec<_> = fs::read_dir(&blobs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    let left: Vec<_> = fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    // The config is small and never cached; the layer was cut off, so nothing is complete.
    assert!(cached.is_empty(), "the cache keeps {cached:?}");
    assert!(left.is_empty(), "the output directory keeps {left:?}");
}

// ------------------------------------------------------------------------------------------
// Hostile text

/// Checks that `text` (a whole stderr or stdout) carries no control character but its line
/// ends, no DEL and no C1 control.
fn assert_no_controls(text: &[u8], what: &str) {
    let s = std::str::from_utf8(text).unwrap_or_else(|e| panic!("{what} is not UTF-8: {e}"));
    for (i, c) in s.char_indices() {
        let ok_newline = c == '\n';
        assert!(
            ok_newline || !(c < ' ' || ('\u{7f}'..='\u{9f}').contains(&c)),
            "{what} holds {c:?} at {i}: {s:?}"
        );
    }
}

/// Converts `layout`'s `latest` and checks it fails with exactly one escaped line that shows
/// [`SHOWN`] and leaves no output.
fn assert_fails_with_one_escaped_line(layout: &Path) {
    let out_dir = tempfile::tempdir().unwrap();
    let out = ctr2wasm()
        .args(["convert", "-q"])
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(out_dir.path().join("out.wasm"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr:?}");
    assert!(
        stderr.starts_with("ctr2wasm: ") && stderr.ends_with('\n'),
        "{stderr:?}"
    );
    assert_eq!(stderr.matches('\n').count(), 1, "not one line: {stderr:?}");
    assert_no_controls(&out.stderr, "stderr");
    assert!(stderr.contains(SHOWN), "{stderr:?} does not show {SHOWN:?}");
    assert_eq!(fs::read_dir(out_dir.path()).unwrap().count(), 0);
}

#[test]
fn a_hostile_member_name_is_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // Climbs out of the root, so it is refused with its name quoted.
    let name = format!("{HOSTILE}/../../x");
    write_layout(
        dir.path(),
        &tar_of(name.as_bytes(), b"x"),
        TAR,
        serde_json::json!({}),
        "latest",
    );
    assert_fails_with_one_escaped_line(dir.path());
}

#[test]
fn a_hostile_tag_is_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // The only tag (a ref.name annotation) is not the one asked for, so it is listed.
    write_layout(
        dir.path(),
        &tar_of(b"x", b"x"),
        TAR,
        serde_json::json!({}),
        HOSTILE,
    );
    assert_fails_with_one_escaped_line(dir.path());
}

#[test]
fn a_hostile_media_type_is_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    write_layout(
        dir.path(),
        &tar_of(b"x", b"x"),
        &format!("application/{HOSTILE}"),
        serde_json::json!({}),
        "latest",
    );
    assert_fails_with_one_escaped_line(dir.path());
}

#[test]
fn inspect_shows_a_hostile_config_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    write_layout(
        &layout,
        &tar_of(b"x", b"x"),
        TAR,
        serde_json::json!({
            "Cmd": [HOSTILE],
            "Env": [format!("X={HOSTILE}")],
            "User": HOSTILE,
            "WorkingDir": format!("/{HOSTILE}"),
        }),
        "latest",
    );
    let module = dir.path().join("out.wasm");
    let converted: Output = ctr2wasm()
        .args(["convert", "-q"])
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(&module)
        .output()
        .unwrap();
    assert!(
        converted.status.success(),
        "{}",
        String::from_utf8_lossy(&converted.stderr)
    );
    let out = ctr2wasm().arg("inspect").arg(&module).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_controls(&out.stdout, "inspect's output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let user = stdout
        .lines()
        .find(|l| l.starts_with("user:"))
        .unwrap_or_else(|| panic!("no user line: {stdout}"));
    assert_eq!(user, format!("user:         {SHOWN}"));
    assert!(
        !stdout.lines().any(|l| l.starts_with("ctr2wasm:")),
        "{stdout}"
    );
    for field in ["cmd:", "env:", "workdir:"] {
        let line = stdout.lines().find(|l| l.starts_with(field)).unwrap();
        assert!(line.contains("ctr2wasm: forged"), "{line}");
    }
}
