//! End-to-end tests of [`load`]: images pushed with skopeo to a real `docker-registry` on
//! 127.0.0.1, OCI layouts, and `docker save` archives in both flavours.

use super::digest::Digest;
use super::testutil::{LOGIN, Layout, Registry, digest_of, layer, run};
use super::*;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use wasi_shim::bundle::tree::Kind;

fn opts(cache: &Path) -> LoadOptions {
    LoadOptions {
        insecure: true,
        quiet: true,
        cache_dir: Some(cache.to_path_buf()),
        ..LoadOptions::default()
    }
}

fn load_err(image: &str, opts: &LoadOptions) -> String {
    match load(image, opts) {
        Ok(_) => panic!("{image} loaded"),
        Err(e) => format!("{e:#}"),
    }
}

/// Three layers: a base, one deleting a file and adding a directory, one overwriting a file.
fn three_layers() -> Vec<Vec<u8>> {
    vec![
        layer(&[
            ("bin/", b""),
            ("bin/sh", b"#!shell"),
            ("etc/", b""),
            ("etc/os-release", b"ID=test\n"),
            ("etc/old", b"old"),
            ("lib -> usr/lib", b""),
            ("usr/lib/libc.so.6", b"\x7fELF"),
        ]),
        layer(&[
            ("etc/.wh.old", b""),
            ("work/", b""),
            ("work/hello.txt", b"hello\n"),
        ]),
        layer(&[("etc/os-release", b"ID=test2\n")]),
    ]
}

fn file(f: &Flattened, path: &str) -> Vec<u8> {
    match f.tree.get(path.as_bytes()).map(|i| &i.kind) {
        Some(Kind::File(d)) => d.clone(),
        Some(Kind::Spooled(s)) => f.spool.read(s).unwrap(),
        other => panic!("{path}: {other:?}"),
    }
}

fn check_three_layers(tree: &Flattened) {
    let paths: Vec<String> = tree
        .paths()
        .into_iter()
        .map(|(p, _)| String::from_utf8_lossy(&p).into_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "",
            "bin",
            "bin/sh",
            "etc",
            "etc/os-release",
            "lib",
            "usr",
            "usr/lib",
            "usr/lib/libc.so.6",
            "work",
            "work/hello.txt"
        ]
    );
    assert_eq!(file(tree, "etc/os-release"), b"ID=test2\n");
    assert_eq!(file(tree, "work/hello.txt"), b"hello\n");
    assert_eq!(
        tree.get(b"lib").unwrap().kind,
        Kind::Symlink(b"usr/lib".to_vec())
    );
    assert_eq!(tree.get(b"bin/sh").unwrap().meta.perm, 0o755);
    assert_eq!(tree.get(b"bin/sh").unwrap().meta.mtime, 1_600_000_000);
}

fn expected_config() -> ImageConfig {
    ImageConfig {
        entrypoint: vec!["/bin/sh".into()],
        cmd: vec!["-c".into(), "echo hi".into()],
        env: vec!["PATH=/usr/bin:/bin".into(), "GREETING=hello world".into()],
        working_dir: "/work".into(),
        user: "1000:1000".into(),
    }
}

/// The blobs a manifest descriptor's image lists in a layout: (config, layers).
fn image_blobs(layout: &Layout, manifest: &serde_json::Value) -> (Digest, Vec<(Digest, u64)>) {
    let bytes = std::fs::read(
        layout
            .dir
            .join("blobs/sha256")
            .join(digest_of(manifest).hex()),
    )
    .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let layers = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (digest_of(l), l["size"].as_u64().unwrap()))
        .collect();
    (digest_of(&m["config"]), layers)
}

#[test]
fn registry_image_loads_and_a_second_load_uses_the_cache() {
    let registry = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let mut layout = Layout::new(&work.path().join("layout"));
    let manifest = layout.image("riscv64", &three_layers());
    layout.add(manifest.clone(), Some("1"));
    registry.push(&layout.dir, "1", "tiny:1", false);
    let (_, layers) = image_blobs(&layout, &manifest);

    let image = format!("{}/tiny:1", registry.addr);
    let (info, tree) = load(&image, &opts(&cache)).unwrap();
    assert_eq!(
        info,
        ImageInfo {
            reference: image.clone(),
            digest: digest_of(&manifest).to_string(),
            platform: "linux/riscv64".into(),
            config: expected_config(),
            compressed_size: layers.iter().map(|(_, size)| size).sum(),
            layers: 3,
        }
    );
    check_three_layers(&tree);
    for (d, size) in &layers {
        let cached = cache.join("blobs/sha256").join(d.hex());
        assert_eq!(std::fs::metadata(&cached).unwrap().len(), *size);
    }

    // With the registry's copies of the layers gone, only the cache can serve them.
    for (d, _) in &layers {
        std::fs::remove_file(registry.blob_path(d)).unwrap();
    }
    let (again, tree) = load(&image, &opts(&cache)).unwrap();
    assert_eq!(again, info);
    check_three_layers(&tree);

    // By digest, and by tag and digest.
    for image in [
        format!("{}/tiny@{}", registry.addr, info.digest),
        format!("{}/tiny:1@{}", registry.addr, info.digest),
    ] {
        let (by_digest, _) = load(&image, &opts(&cache)).unwrap();
        assert_eq!(by_digest.reference, image);
        assert_eq!(by_digest.digest, info.digest);
    }
    let other = Digest::of(b"no such manifest");
    let image = format!("{}/tiny@{other}", registry.addr);
    assert_eq!(
        load_err(&image, &opts(&cache)),
        format!("{image}: not found in the registry")
    );
}

#[test]
fn a_damaged_cached_layer_is_evicted_and_pulled_again() {
    let registry = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let mut layout = Layout::new(&work.path().join("layout"));
    let manifest = layout.image("riscv64", &three_layers());
    layout.add(manifest.clone(), Some("1"));
    registry.push(&layout.dir, "1", "tiny:1", false);
    let image = format!("{}/tiny:1", registry.addr);
    load(&image, &opts(&cache)).unwrap();

    let (_, layers) = image_blobs(&layout, &manifest);
    let (d, _) = &layers[1];
    let cached = cache.join("blobs/sha256").join(d.hex());
    let mut bytes = std::fs::read(&cached).unwrap();
    bytes[20] ^= 0xff;
    std::fs::write(&cached, &bytes).unwrap();
    assert_eq!(
        load_err(&image, &opts(&cache)),
        format!(
            "layer {d} digest mismatch (got {}); removed it from the cache, pull again",
            Digest::of(&bytes)
        )
    );
    assert!(!cached.exists());
    let (_, tree) = load(&image, &opts(&cache)).unwrap();
    check_three_layers(&tree);
}

#[test]
fn a_multi_arch_index_resolves_to_the_platform() {
    let registry = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let mut layout = Layout::new(&work.path().join("layout"));
    let amd64 = layout.image("amd64", &[layer(&[("arch", b"amd64")])]);
    let riscv64 = layout.image("riscv64", &[layer(&[("arch", b"riscv64")])]);
    let index = layout.index(vec![amd64.clone(), riscv64.clone()]);
    layout.add(index.clone(), Some("1"));
    registry.push(&layout.dir, "1", "multi:1", true);

    let image = format!("{}/multi:1", registry.addr);
    let (info, tree) = load(&image, &opts(&cache)).unwrap();
    assert_eq!(info.digest, digest_of(&riscv64).to_string());
    assert_eq!(info.platform, "linux/riscv64");
    assert_eq!(file(&tree, "arch"), b"riscv64");

    let amd = LoadOptions {
        platform: "linux/amd64".parse().unwrap(),
        ..opts(&cache)
    };
    let (info, tree) = load(&image, &amd).unwrap();
    assert_eq!(info.digest, digest_of(&amd64).to_string());
    assert_eq!(info.platform, "linux/amd64");
    assert_eq!(file(&tree, "arch"), b"amd64");

    let arm = LoadOptions {
        platform: "linux/arm64/v8".parse().unwrap(),
        ..opts(&cache)
    };
    assert_eq!(
        load_err(&image, &arm),
        format!("image {image} has no linux/arm64 variant (it has linux/amd64, linux/riscv64)")
    );
}

#[test]
fn a_single_manifest_of_another_platform_is_refused() {
    let registry = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("layout"));
    let manifest = layout.image("amd64", &[layer(&[("x", b"x")])]);
    layout.add(manifest, Some("1"));
    registry.push(&layout.dir, "1", "amd:1", false);
    let image = format!("{}/amd:1", registry.addr);
    assert_eq!(
        load_err(&image, &opts(&work.path().join("cache"))),
        format!("image {image} has no linux/riscv64 variant (it has linux/amd64)")
    );
}

#[test]
fn missing_repository_or_tag_is_not_found() {
    let registry = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("layout"));
    let manifest = layout.image("riscv64", &[layer(&[("x", b"x")])]);
    layout.add(manifest, Some("1"));
    registry.push(&layout.dir, "1", "tiny:1", false);
    for name in ["nope:1", "tiny:2", "ns/deeper/nope"] {
        let image = format!("{}/{name}", registry.addr);
        let shown = if name.contains(':') {
            image.clone()
        } else {
            format!("{image}:latest")
        };
        assert_eq!(
            load_err(&image, &opts(&work.path().join("cache"))),
            format!("{shown}: not found in the registry")
        );
    }
}

#[test]
fn an_unreachable_registry_is_one_line() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let work = tempfile::tempdir().unwrap();
    let image = format!("127.0.0.1:{port}/x:1");
    let err = load_err(&image, &opts(work.path()));
    assert!(
        err.starts_with(&format!("{image}: cannot reach 127.0.0.1:{port}: ")),
        "{err}"
    );
    assert!(!err.contains('\n'), "{err}");
}

#[test]
fn oci_layout_by_tag_or_alone() {
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let mut layout = Layout::new(&work.path().join("layout"));
    let manifest = layout.image("riscv64", &three_layers());
    layout.add(manifest.clone(), Some("v1"));
    let dir = layout.dir.display().to_string();

    for image in [format!("oci:{dir}:v1"), format!("oci:{dir}")] {
        let (info, tree) = load(&image, &opts(&cache)).unwrap();
        assert_eq!(info.reference, image);
        assert_eq!(info.digest, digest_of(&manifest).to_string());
        assert_eq!(info.config, expected_config());
        check_three_layers(&tree);
    }
    assert!(
        !cache.exists(),
        "local sources are read in place, never cached"
    );
    assert_eq!(
        load_err(&format!("oci:{dir}:v2"), &opts(&cache)),
        format!("oci:{dir}:v2: no image tagged v2 (it has v1)")
    );

    let other = layout.image("riscv64", &[layer(&[("x", b"x")])]);
    layout.add(other, Some("v2"));
    assert_eq!(
        load_err(&format!("oci:{dir}"), &opts(&cache)),
        format!("oci:{dir}: holds 2 images (v1, v2); name one")
    );
    let (info, tree) = load(&format!("oci:{dir}:v2"), &opts(&cache)).unwrap();
    assert_eq!(info.layers, 1);
    assert_eq!(file(&tree, "x"), b"x");

    // A layer blob that is not what its descriptor says.
    let (_, layers) = image_blobs(&layout, &manifest);
    let (d, _) = &layers[0];
    let blob = layout.dir.join("blobs/sha256").join(d.hex());
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&blob, &bytes).unwrap();
    assert_eq!(
        load_err(&format!("oci:{dir}:v1"), &opts(&cache)),
        format!("layer {d} digest mismatch (got {})", Digest::of(&bytes))
    );

    assert_eq!(
        load_err(
            &format!("oci:{}/nothing", work.path().display()),
            &opts(&cache)
        ),
        format!(
            "oci:{}/nothing: not an OCI image layout (no oci-layout)",
            work.path().display()
        )
    );
}

#[test]
fn docker_archive_written_by_skopeo() {
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("layout"));
    let manifest = layout.image("riscv64", &three_layers());
    layout.add(manifest.clone(), Some("v1"));
    let archive = work.path().join("tiny.tar");
    let mut cmd = Command::new("skopeo");
    cmd.args(["--insecure-policy", "copy", "--quiet"])
        .arg(format!("oci:{}:v1", layout.dir.display()))
        .arg(format!("docker-archive:{}:tiny:v1", archive.display()));
    run(cmd, "skopeo");

    let (config, _) = image_blobs(&layout, &manifest);
    let file_name = archive.display().to_string();
    for image in [
        format!("docker-archive:{file_name}"),
        format!("docker-archive:{file_name}:tiny:v1"),
    ] {
        let (info, tree) = load(&image, &opts(work.path())).unwrap();
        check_three_layers(&tree);
        assert_eq!(info.digest, config.to_string(), "the image ID");
        assert_eq!(info.config, expected_config());
        assert_eq!(info.layers, 3);
    }
    assert_eq!(
        load_err(
            &format!("docker-archive:{file_name}:other"),
            &opts(work.path())
        ),
        format!(
            "docker-archive:{file_name}:docker.io/library/other:latest: no image tagged \
             docker.io/library/other:latest (it has docker.io/library/tiny:v1)"
        )
    );
}

/// Writes `members` (name, bytes; a name `a -> b` is a symlink) as an uncompressed tarball.
fn tarball(path: &Path, members: &[(String, Vec<u8>)]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in members {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(0);
        if let Some((name, target)) = name.split_once(" -> ") {
            h.set_entry_type(tar::EntryType::Symlink);
            b.append_link(&mut h, name, target).unwrap();
        } else {
            h.set_size(data.len() as u64);
            b.append_data(&mut h, name, &data[..]).unwrap();
        }
    }
    b.finish().unwrap();
}

#[test]
fn docker_archive_in_the_oci_flavour_of_docker_25() {
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("layout"));
    let mut manifest = layout.image("riscv64", &three_layers());
    manifest["annotations"] = json!({
        "io.containerd.image.name": "docker.io/library/tiny:v1",
        "org.opencontainers.image.ref.name": "v1",
    });
    layout.add(manifest.clone(), None);
    let (config, layers) = image_blobs(&layout, &manifest);
    // Docker also writes manifest.json for older readers; the layout takes precedence.
    let legacy = json!([{
        "Config": format!("blobs/sha256/{}", config.hex()),
        "RepoTags": ["tiny:v1"],
        "Layers": layers.iter().map(|(d, _)| format!("blobs/sha256/{}", d.hex())).collect::<Vec<_>>(),
    }]);
    let mut members = vec![(
        "manifest.json".to_string(),
        serde_json::to_vec(&legacy).unwrap(),
    )];
    for name in ["oci-layout", "index.json"] {
        members.push((name.into(), std::fs::read(layout.dir.join(name)).unwrap()));
    }
    for blob in std::fs::read_dir(layout.dir.join("blobs/sha256")).unwrap() {
        let blob = blob.unwrap();
        members.push((
            format!("blobs/sha256/{}", blob.file_name().to_string_lossy()),
            std::fs::read(blob.path()).unwrap(),
        ));
    }
    let archive = work.path().join("docker25.tar");
    tarball(&archive, &members);
    let file_name = archive.display().to_string();
    for image in [
        format!("docker-archive:{file_name}"),
        format!("docker-archive:{file_name}:tiny:v1"),
    ] {
        let (info, tree) = load(&image, &opts(work.path())).unwrap();
        check_three_layers(&tree);
        assert_eq!(info.digest, digest_of(&manifest).to_string());
    }
    assert_eq!(
        load_err(
            &format!("docker-archive:{file_name}:tiny:v2"),
            &opts(work.path())
        ),
        format!(
            "docker-archive:{file_name}:docker.io/library/tiny:v2: no image tagged \
             docker.io/library/tiny:v2 (it has docker.io/library/tiny:v1)"
        )
    );

    let gz = work.path().join("docker25.tar.gz");
    std::fs::write(
        &gz,
        super::testutil::gzip(&std::fs::read(&archive).unwrap()),
    )
    .unwrap();
    assert_eq!(
        load_err(
            &format!("docker-archive:{}", gz.display()),
            &opts(work.path())
        ),
        format!(
            "docker-archive:{}: the archive is gzip-compressed; decompress it first \
             (`docker save` writes it uncompressed)",
            gz.display()
        )
    );
}

#[test]
fn legacy_docker_archive_with_a_symlinked_duplicate_layer() {
    let work = tempfile::tempdir().unwrap();
    let base = layer(&[("a", b"1"), ("b", b"2")]);
    let on_top = layer(&[(".wh.b", b""), ("c", b"3")]);
    let on_top_len = on_top.len();
    let diff_ids = [&base, &on_top, &base].map(|l| Digest::of(l).to_string());
    let config = serde_json::to_vec(&json!({
        "architecture": "riscv64", "os": "linux",
        "config": {"Cmd": ["/a"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let config_name = format!("{}.json", Digest::of(&config).hex());
    let legacy = json!([{
        "Config": config_name,
        "RepoTags": ["localhost:5000/legacy:1"],
        "Layers": ["l1/layer.tar", "l2/layer.tar", "l3/layer.tar"],
    }]);
    let archive = work.path().join("legacy.tar");
    tarball(
        &archive,
        &[
            ("manifest.json".into(), serde_json::to_vec(&legacy).unwrap()),
            (config_name.clone(), config.clone()),
            ("l1/layer.tar".into(), base.clone()),
            ("l2/layer.tar".into(), on_top),
            ("l3/layer.tar -> ../l1/layer.tar".into(), Vec::new()),
        ],
    );
    let image = format!(
        "docker-archive:{}:localhost:5000/legacy:1",
        archive.display()
    );
    let (info, tree) = load(&image, &opts(work.path())).unwrap();
    assert_eq!(info.digest, Digest::of(&config).to_string());
    assert_eq!(info.config.cmd, ["/a"]);
    assert_eq!(info.compressed_size, (2 * base.len() + on_top_len) as u64);
    let paths: Vec<Vec<u8>> = tree.paths().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [&b""[..], b"a", b"b", b"c"],
        "the third layer brings b back"
    );

    // A config that is not what its name says.
    let mut bad = config.clone();
    bad.push(b' ');
    tarball(
        &archive,
        &[
            ("manifest.json".into(), serde_json::to_vec(&legacy).unwrap()),
            (config_name.clone(), bad.clone()),
        ],
    );
    assert_eq!(
        load_err(&image, &opts(work.path())),
        format!(
            "{image}: config {config_name}: digest mismatch (got {})",
            Digest::of(&bad)
        )
    );
}

#[test]
fn oci_layout_with_one_entry_per_platform() {
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("layout"));
    let amd64 = layout.image("amd64", &[layer(&[("arch", b"amd64")])]);
    let riscv64 = layout.image("riscv64", &[layer(&[("arch", b"riscv64")])]);
    layout.add(amd64, None);
    layout.add(riscv64.clone(), None);
    let image = format!("oci:{}", layout.dir.display());
    let (info, tree) = load(&image, &opts(work.path())).unwrap();
    assert_eq!(info.digest, digest_of(&riscv64).to_string());
    assert_eq!(file(&tree, "arch"), b"riscv64");
    let s390x = LoadOptions {
        platform: "linux/s390x".parse().unwrap(),
        ..opts(work.path())
    };
    assert_eq!(
        load_err(&image, &s390x),
        format!("image {image} has no linux/s390x variant (it has linux/amd64, linux/riscv64)")
    );
}

#[test]
fn a_plain_http_registry_without_insecure_gets_a_hint() {
    let registry = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let image = format!("{}/x:1", registry.addr);
    let secure = LoadOptions {
        insecure: false,
        ..opts(work.path())
    };
    assert_eq!(
        load_err(&image, &secure),
        format!(
            "{image}: cannot reach {addr}: error sending request for url \
             (https://{addr}/v2/x/manifests/1): client error (Connect): received corrupt message \
             of type InvalidContentType (a plain-HTTP registry needs --insecure)",
            addr = registry.addr
        )
    );
}

#[test]
fn a_registry_that_wants_a_login() {
    let registry = Registry::start_with_login();
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("layout"));
    let manifest = layout.image("riscv64", &three_layers());
    layout.add(manifest.clone(), Some("1"));
    registry.push(&layout.dir, "1", "private:1", false);

    let image = format!("{}/private:1", registry.addr);
    assert_eq!(
        load_err(&image, &opts(work.path())),
        format!(
            "{image}: not found in the registry, or access denied \
             (if it is private, log in with `docker login {}`)",
            registry.addr
        )
    );
    let cache = cache::BlobCache::open(Some(work.path())).unwrap();
    let pulled = registry::pull(
        &reference::ImageRef::parse(&image).unwrap(),
        oci_client::secrets::RegistryAuth::Basic(LOGIN.0.into(), LOGIN.1.into()),
        &opts(work.path()),
        &cache,
        &progress::Progress::new(true),
    )
    .unwrap();
    assert_eq!(pulled.manifest_digest, digest_of(&manifest));
    let mut tree = Tree::new();
    let mut spool = Spool::create(None).unwrap();
    let budget = limits::Budget::new(Limits::default());
    let diff_ids = pulled.config.rootfs().diff_ids();
    for (layer, diff_id) in pulled.layers.iter().zip(diff_ids) {
        let mut to = flatten::Target {
            tree: &mut tree,
            spool: &mut spool,
            budget: &budget,
        };
        flatten::apply(&mut to, layer, diff_id).unwrap();
    }
    check_three_layers(&Flattened { tree, spool });
}

#[test]
fn a_layer_the_registry_serves_wrong_never_enters_the_cache() {
    let registry = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let mut layout = Layout::new(&work.path().join("layout"));
    let manifest = layout.image("riscv64", &three_layers());
    layout.add(manifest.clone(), Some("1"));
    registry.push(&layout.dir, "1", "tiny:1", false);
    let (_, layers) = image_blobs(&layout, &manifest);
    let (d, _) = &layers[2];
    let served = registry.blob_path(d);
    let mut bytes = std::fs::read(&served).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&served, &bytes).unwrap();

    let image = format!("{}/tiny:1", registry.addr);
    assert_eq!(
        load_err(&image, &opts(&cache)),
        format!("layer {d} digest mismatch (got {})", Digest::of(&bytes))
    );
    let left: Vec<String> = std::fs::read_dir(cache.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!left.contains(&d.hex().to_string()), "{left:?}");
    assert!(
        left.iter().all(|name| !name.starts_with('.')),
        "no partial download is left behind: {left:?}"
    );
}
