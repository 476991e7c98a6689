//! Flattening tests on layers built here with the `tar` crate: whiteouts, opaque directories,
//! links, devices, hostile names, the three compressions and the digest checks.

use super::*;
use crate::image::limits::Limits;
use crate::image::manifest::Blob;
use std::cell::RefCell;
use std::io::Write;
use tempfile::TempDir;

thread_local! {
    /// The spool of this test's files.
    static SPOOL: RefCell<Spool> = RefCell::new(Spool::create(None).unwrap());
}

/// [`super::apply`] with this thread's spool and the default limits.
fn apply(tree: &mut Tree, layer: &Layer, diff_id: &str) -> Result<(), LayerError> {
    apply_limited(tree, layer, diff_id, Limits::default())
}

fn apply_limited(
    tree: &mut Tree,
    layer: &Layer,
    diff_id: &str,
    limits: Limits,
) -> Result<(), LayerError> {
    SPOOL.with_borrow_mut(|spool| {
        let budget = Budget::new(limits);
        super::apply(
            &mut Target {
                tree,
                spool,
                budget: &budget,
            },
            layer,
            diff_id,
        )
    })
}

const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const PLAIN: &str = "application/vnd.oci.image.layer.v1.tar";

/// One tar member.
enum E<'a> {
    File(&'a str, &'a [u8]),
    /// A file with mode, uid, gid and mtime.
    FileMeta(&'a str, &'a [u8], u32, u64, u64, u64),
    Dir(&'a str),
    Sym(&'a str, &'a str),
    Hard(&'a str, &'a str),
    Char(&'a str, u32, u32),
    Block(&'a str, u32, u32),
    Fifo(&'a str),
    /// A member whose name bytes go into the header as they are (the `tar` crate's builder
    /// refuses `..`, which is the point of some tests).
    RawName(&'a [u8], tar::EntryType, &'a [u8]),
    /// A file with PAX records.
    Pax(&'a str, &'a [u8], &'a [(&'a str, &'a [u8])]),
}

fn header(kind: tar::EntryType, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_000_000);
    h.set_size(0);
    h
}

fn tar_of(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match *e {
            E::File(p, data) => {
                let mut h = header(tar::EntryType::Regular, 0o644);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, p, data).unwrap();
            }
            E::FileMeta(p, data, mode, uid, gid, mtime) => {
                let mut h = header(tar::EntryType::Regular, mode);
                h.set_size(data.len() as u64);
                h.set_uid(uid);
                h.set_gid(gid);
                h.set_mtime(mtime);
                b.append_data(&mut h, p, data).unwrap();
            }
            E::Dir(p) => {
                let mut h = header(tar::EntryType::Directory, 0o755);
                b.append_data(&mut h, p, &[][..]).unwrap();
            }
            E::Sym(p, target) => {
                let mut h = header(tar::EntryType::Symlink, 0o777);
                b.append_link(&mut h, p, target).unwrap();
            }
            E::Hard(p, target) => {
                let mut h = header(tar::EntryType::Link, 0o644);
                b.append_link(&mut h, p, target).unwrap();
            }
            E::Char(p, major, minor) | E::Block(p, major, minor) => {
                let kind = if matches!(e, E::Char(..)) {
                    tar::EntryType::Char
                } else {
                    tar::EntryType::Block
                };
                let mut h = header(kind, 0o660);
                h.set_device_major(major).unwrap();
                h.set_device_minor(minor).unwrap();
                b.append_data(&mut h, p, &[][..]).unwrap();
            }
            E::Fifo(p) => {
                let mut h = header(tar::EntryType::Fifo, 0o600);
                b.append_data(&mut h, p, &[][..]).unwrap();
            }
            E::RawName(name, kind, data) => {
                let mut h = header(kind, 0o644);
                h.as_old_mut().name[..name.len()].copy_from_slice(name);
                if kind == tar::EntryType::Link {
                    h.set_link_name("etc/passwd").unwrap();
                } else {
                    h.set_size(data.len() as u64);
                }
                h.set_cksum();
                b.append(&h, data).unwrap();
            }
            E::Pax(p, data, records) => {
                b.append_pax_extensions(records.iter().copied()).unwrap();
                let mut h = header(tar::EntryType::Regular, 0o644);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, p, data).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// Layer blobs written to a temporary directory, as a source would hand them over.
struct Blobs {
    dir: TempDir,
    n: usize,
}

impl Blobs {
    fn new() -> Blobs {
        Blobs {
            dir: tempfile::tempdir().unwrap(),
            n: 0,
        }
    }

    fn layer(&mut self, blob: &[u8], media_type: &str) -> Layer {
        self.n += 1;
        let path = self.dir.path().join(self.n.to_string());
        std::fs::write(&path, blob).unwrap();
        Layer {
            digest: Some(Digest::of(blob)),
            media_type: Some(media_type.into()),
            size: blob.len() as u64,
            blob: Blob::File(path),
        }
    }
}

/// Flattens gzip layers made of `layers`, each checked against its own diff_id.
fn flatten(layers: &[&[E]]) -> Result<Tree, LayerError> {
    let mut blobs = Blobs::new();
    let mut tree = Tree::new();
    for entries in layers {
        let tar = tar_of(entries);
        let layer = blobs.layer(&gzip(&tar), GZIP);
        apply(&mut tree, &layer, &Digest::of(&tar).to_string())?;
    }
    Ok(tree)
}

fn kind<'t>(t: &'t Tree, path: &str) -> Option<&'t Kind> {
    t.get(path.as_bytes()).map(|i| &i.kind)
}

fn data(t: &Tree, path: &str) -> Vec<u8> {
    match kind(t, path) {
        Some(Kind::File(d)) => d.clone(),
        Some(Kind::Spooled(s)) => SPOOL.with_borrow(|spool| spool.read(s).unwrap()),
        other => panic!("{path}: {other:?}"),
    }
}

fn listing(t: &Tree) -> Vec<String> {
    t.paths()
        .into_iter()
        .map(|(p, _)| String::from_utf8_lossy(&p).into_owned())
        .collect()
}

#[test]
fn whiteouts_remove_lower_entries() {
    let t = flatten(&[
        &[
            E::File("etc/a", b"a"),
            E::File("etc/b", b"b"),
            E::File("d/x/y", b"y"),
            E::File("top", b"t"),
        ],
        &[
            E::File("etc/.wh.a", b""),
            E::File(".wh.d", b""),
            E::File(".wh.top", b""),
            E::File("etc/.wh.never-was", b""),
            E::File("gone/.wh.x", b""),
        ],
    ])
    .unwrap();
    assert_eq!(listing(&t), ["", "etc", "etc/b"]);
}

#[test]
fn opaque_dir_keeps_entries_of_its_own_layer_before_and_after_the_marker() {
    let t = flatten(&[
        &[
            E::File("d/old", b"1"),
            E::File("d/sub/old", b"2"),
            E::File("d/keep/lower", b"3"),
            E::File("d2/x", b"outside"),
        ],
        &[
            E::Dir("d"),
            E::File("d/before", b"b"),
            E::File("d/keep/mine", b"m"),
            E::File("d/.wh..wh..opq", b""),
            E::File("d/after", b"a"),
        ],
    ])
    .unwrap();
    assert_eq!(
        listing(&t),
        [
            "",
            "d",
            "d/after",
            "d/before",
            "d/keep",
            "d/keep/mine",
            "d2",
            "d2/x"
        ]
    );
    // The marker's own directory stays, and a lower opaque marker never leaks upward.
    let t = flatten(&[
        &[E::File("d/.wh..wh..opq", b""), E::File("d/x", b"x")],
        &[E::File("d/y", b"y")],
    ])
    .unwrap();
    assert_eq!(listing(&t), ["", "d", "d/x", "d/y"]);
}

#[test]
fn hard_links_to_lower_layers_and_overwrites() {
    let t = flatten(&[
        &[E::File("bin/a", b"old"), E::Dir("x"), E::File("x/in", b"i")],
        &[E::Hard("bin/b", "bin/a"), E::Hard("./bin/c", "/bin/a")],
        &[E::File("bin/a", b"new"), E::File("x", b"file over dir")],
    ])
    .unwrap();
    assert_eq!(t.inode_id(b"bin/b"), t.inode_id(b"bin/c"));
    assert_eq!(
        data(&t, "bin/b"),
        b"old",
        "a link keeps the inode it was made to"
    );
    assert_eq!(data(&t, "bin/a"), b"new");
    assert_eq!(data(&t, "x"), b"file over dir");
    assert!(kind(&t, "x/in").is_none());
    let err = flatten(&[&[E::Hard("b", "missing")]])
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with(": b: hard link to /missing, which does not exist or is a directory"),
        "{err}"
    );
}

#[test]
fn symlinks_verbatim_devices_and_metadata_recorded() {
    let t = flatten(&[&[
        E::Sym("lib", "usr/lib"),
        E::Sym("evil", "/../../../../etc/shadow"),
        E::Char("dev/null", 1, 3),
        E::Block("dev/sda", 8, 0),
        E::Fifo("run/fifo"),
        E::FileMeta("usr/bin/sudo", b"#!", 0o4755, 1000, 2000, 1_700_000_000),
        E::Dir("./"),
    ]])
    .unwrap();
    assert_eq!(kind(&t, "lib"), Some(&Kind::Symlink(b"usr/lib".to_vec())));
    assert_eq!(
        kind(&t, "evil"),
        Some(&Kind::Symlink(b"/../../../../etc/shadow".to_vec()))
    );
    assert_eq!(kind(&t, "dev/null"), Some(&Kind::CharDev(makedev(1, 3))));
    assert_eq!(kind(&t, "dev/sda"), Some(&Kind::BlockDev(makedev(8, 0))));
    assert_eq!(kind(&t, "run/fifo"), Some(&Kind::Fifo));
    let sudo = t.get(b"usr/bin/sudo").unwrap();
    assert_eq!(
        sudo.meta,
        Meta {
            perm: 0o4755,
            uid: 1000,
            gid: 2000,
            mtime: 1_700_000_000
        }
    );
    assert_eq!(
        t.get(b"").unwrap().meta.mtime,
        1_000_000,
        "`./` sets the root's metadata"
    );
    assert_eq!(t.get(b"dev/null").unwrap().meta.perm, 0o660);
}

#[test]
fn absolute_and_dotted_names_are_normalised() {
    let t = flatten(&[&[
        E::RawName(b"/etc/passwd", tar::EntryType::Regular, b"root"),
        E::RawName(b"./usr//bin/../lib/x", tar::EntryType::Regular, b"x"),
    ]])
    .unwrap();
    assert_eq!(
        listing(&t),
        ["", "etc", "etc/passwd", "usr", "usr/lib", "usr/lib/x"]
    );
}

#[test]
fn names_climbing_out_are_refused() {
    let mut blobs = Blobs::new();
    for (name, kind) in [
        (&b"../../etc/passwd"[..], tar::EntryType::Regular),
        (&b"a/../../etc/passwd"[..], tar::EntryType::Link),
    ] {
        let tar = tar_of(&[E::RawName(name, kind, b"")]);
        let layer = blobs.layer(&gzip(&tar), GZIP);
        let err = apply(&mut Tree::new(), &layer, &Digest::of(&tar).to_string()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "layer {}: {}: path climbs out of the root file system",
                layer.digest.unwrap(),
                String::from_utf8_lossy(name)
            )
        );
    }
    // A hard link whose target climbs out.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = header(tar::EntryType::Link, 0o644);
    h.set_path("x").unwrap();
    h.as_old_mut().linkname[..8].copy_from_slice(b"../../up");
    h.set_cksum();
    b.append(&h, &[][..]).unwrap();
    let tar = b.into_inner().unwrap();
    let layer = blobs.layer(&tar, PLAIN);
    let err = apply(&mut Tree::new(), &layer, &Digest::of(&tar).to_string()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "layer {}: ../../up: path climbs out of the root file system",
            layer.digest.unwrap()
        )
    );
}

#[test]
fn gzip_zstd_and_plain_layers_give_the_same_tree() {
    let tar = tar_of(&[E::File("a", b"hello"), E::Sym("b", "a")]);
    let diff_id = Digest::of(&tar).to_string();
    let mut blobs = Blobs::new();
    for (blob, media_type) in [
        (gzip(&tar), GZIP),
        (zstd(&tar), ZSTD),
        (tar.clone(), PLAIN),
        (
            gzip(&tar),
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
        ),
        (tar.clone(), "application/vnd.docker.image.rootfs.diff.tar"),
    ] {
        let mut t = Tree::new();
        apply(&mut t, &blobs.layer(&blob, media_type), &diff_id).unwrap();
        assert_eq!(data(&t, "a"), b"hello", "{media_type}");
        assert_eq!(listing(&t), ["", "a", "b"]);
    }
    // No media type (a legacy `docker save` layer): the magic bytes decide.
    for blob in [gzip(&tar), zstd(&tar), tar.clone()] {
        let mut layer = blobs.layer(&blob, PLAIN);
        layer.media_type = None;
        apply(&mut Tree::new(), &layer, &diff_id).unwrap();
    }
}

#[test]
fn media_type_and_magic_must_agree() {
    let tar = tar_of(&[E::File("a", b"hello")]);
    let diff_id = Digest::of(&tar).to_string();
    let mut blobs = Blobs::new();
    let layer = blobs.layer(&zstd(&tar), GZIP);
    assert_eq!(
        apply(&mut Tree::new(), &layer, &diff_id)
            .unwrap_err()
            .to_string(),
        format!(
            "layer {}: the media type says gzip but the data is zstd",
            layer.digest.unwrap()
        )
    );
    let layer = blobs.layer(&gzip(&tar), PLAIN);
    assert_eq!(
        apply(&mut Tree::new(), &layer, &diff_id)
            .unwrap_err()
            .to_string(),
        format!(
            "layer {}: the media type says uncompressed but the data is gzip",
            layer.digest.unwrap()
        )
    );
    let layer = blobs.layer(&tar, "application/vnd.cncf.helm.chart.content.v1.tar+gzip");
    assert_eq!(
        apply(&mut Tree::new(), &layer, &diff_id)
            .unwrap_err()
            .to_string(),
        format!(
            "layer {}: unsupported media type application/vnd.cncf.helm.chart.content.v1.tar+gzip",
            layer.digest.unwrap()
        )
    );
}

#[test]
fn truncated_gzip_is_one_line_naming_the_layer() {
    let big: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let tar = tar_of(&[E::File("big", &big)]);
    let gz = gzip(&tar);
    let cut = &gz[..gz.len() / 2];
    let mut blobs = Blobs::new();
    // The blob digest is the truncated one's, as a source that lost the tail would claim.
    let layer = blobs.layer(cut, GZIP);
    let err = apply(&mut Tree::new(), &layer, &Digest::of(&tar).to_string())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "layer {}: corrupt gzip data (incomplete deflate stream)",
            layer.digest.unwrap()
        )
    );
}

#[test]
fn blob_digest_size_and_diff_id_are_checked() {
    let tar = tar_of(&[E::File("a", b"hello")]);
    let diff_id = Digest::of(&tar).to_string();
    let mut blobs = Blobs::new();
    let blob = gzip(&tar);

    let mut layer = blobs.layer(&blob, GZIP);
    let claimed = Digest::of(b"something else");
    layer.digest = Some(claimed.clone());
    let err = apply(&mut Tree::new(), &layer, &diff_id).unwrap_err();
    assert!(err.is_blob_mismatch());
    assert_eq!(
        err.to_string(),
        format!(
            "layer {claimed} digest mismatch (got {})",
            Digest::of(&blob)
        )
    );

    let mut layer = blobs.layer(&blob, GZIP);
    layer.size += 1;
    assert_eq!(
        apply(&mut Tree::new(), &layer, &diff_id)
            .unwrap_err()
            .to_string(),
        format!(
            "layer {}: size mismatch (the descriptor says {} bytes, got {})",
            Digest::of(&blob),
            blob.len() + 1,
            blob.len()
        )
    );

    let layer = blobs.layer(&blob, GZIP);
    let wrong = Digest::of(b"other").to_string();
    assert_eq!(
        apply(&mut Tree::new(), &layer, &wrong)
            .unwrap_err()
            .to_string(),
        format!(
            "layer {}: diff_id mismatch: the config says {wrong}, the content is {diff_id}",
            Digest::of(&blob)
        )
    );

    // A damaged blob explains a damaged stream: the digest is what gets reported.
    let mut damaged = blob.clone();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0xff;
    let mut layer = blobs.layer(&damaged, GZIP);
    layer.digest = Some(Digest::of(&blob));
    assert_eq!(
        apply(&mut Tree::new(), &layer, &diff_id)
            .unwrap_err()
            .to_string(),
        format!(
            "layer {} digest mismatch (got {})",
            Digest::of(&blob),
            Digest::of(&damaged)
        )
    );
}

#[test]
fn long_names_links_and_pax_records() {
    let long_dir = "d".repeat(120);
    let long_path = format!("{long_dir}/{}", "f".repeat(120));
    let long_target = format!("/{}", "t".repeat(200));
    let pax_path = format!("p/{}", "q".repeat(150));
    let t = flatten(&[&[
        E::File(&long_path, b"gnu long name"),
        E::Sym("s", &long_target),
        E::Hard("h", &long_path),
        E::Pax(
            "placeholder",
            b"pax",
            &[
                ("path", pax_path.as_bytes()),
                ("mtime", b"1700000000.123456789"),
                ("uid", b"3000000000"),
            ],
        ),
    ]])
    .unwrap();
    assert_eq!(data(&t, &long_path), b"gnu long name");
    assert_eq!(
        kind(&t, "s"),
        Some(&Kind::Symlink(long_target.into_bytes()))
    );
    assert_eq!(t.inode_id(b"h"), t.inode_id(long_path.as_bytes()));
    let pax = t.get(pax_path.as_bytes()).expect("the PAX path wins");
    assert_eq!(pax.meta.mtime, 1_700_000_000);
    assert_eq!(pax.meta.uid, 3_000_000_000);
    assert!(kind(&t, "placeholder").is_none());
}

#[test]
fn entry_errors_name_layer_and_path() {
    let err = flatten(&[&[E::File("f", b"x"), E::File("f/under", b"y")]])
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with(": f/under: a parent is not a directory"),
        "{err}"
    );
    assert!(err.starts_with("layer sha256:"), "{err}");
    let err = flatten(&[&[E::File("d/.wh.", b"")]])
        .unwrap_err()
        .to_string();
    assert!(err.ends_with(": d/.wh.: whiteout of no name"), "{err}");
}

#[test]
fn opaque_marker_at_the_root_clears_the_lower_root_and_keeps_its_layer() {
    let t = flatten(&[
        &[
            E::File("a", b"a"),
            E::File("b/x", b"x"),
            E::File("keep/old", b"o"),
        ],
        &[
            E::File("c", b"c"),
            E::File(".wh..wh..opq", b""),
            E::File("keep/new", b"n"),
        ],
    ])
    .unwrap();
    assert_eq!(listing(&t), ["", "c", "keep", "keep/new"]);
    assert_eq!(data(&t, "c"), b"c");
}

#[test]
fn limits_stop_a_layer_with_one_line_naming_the_flag() {
    let mut blobs = Blobs::new();
    let deep = format!("{}f", "d/".repeat(10));
    let tar = tar_of(&[E::File(&deep, b"x"), E::File("big", &[7u8; 100_000])]);
    let layer = blobs.layer(&gzip(&tar), GZIP);
    let diff_id = Digest::of(&tar).to_string();
    let err = |limits| {
        apply_limited(&mut Tree::new(), &layer, &diff_id, limits)
            .unwrap_err()
            .to_string()
    };
    let digest = layer.digest.clone().unwrap();
    assert_eq!(
        err(Limits {
            max_path_depth: 5,
            ..Limits::default()
        }),
        format!("layer {digest}: a path deeper than 5 components (raise with --max-path-depth)")
    );
    assert_eq!(
        err(Limits {
            max_entries: 4,
            ..Limits::default()
        }),
        format!("layer {digest}: more than 4 entries (raise with --max-entries)")
    );
    assert_eq!(
        err(Limits {
            max_unpacked: 50_000,
            ..Limits::default()
        }),
        format!(
            "layer {digest}: unpacked size exceeds 50000 bytes (raise with --max-unpacked-size)"
        )
    );
    apply_limited(&mut Tree::new(), &layer, &diff_id, Limits::default()).unwrap();
}
