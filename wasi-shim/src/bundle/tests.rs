//! Round trips: whatever the writer packs, the reader gives back, byte for byte, and a
//! damaged bundle is refused with an error, never a panic.

use super::format::{FormatError, ImageConfig, InodeRecord, ROOT};
use super::reader::{Bundle, Source};
use super::tree::{Inode, Kind, Meta, Tree};
use super::writer::{Options, write};
use crate::abi::fs::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG};

fn meta(perm: u32) -> Meta {
    Meta {
        perm,
        uid: 1000,
        gid: 100,
        mtime: 1_700_000_000,
    }
}

fn add(tree: &mut Tree, path: &[u8], perm: u32, kind: Kind) {
    tree.insert(
        path,
        Inode {
            meta: meta(perm),
            kind,
        },
    )
    .unwrap();
}

/// Bytes that do not compress away, so files really span chunks.
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn sample() -> (Tree, ImageConfig) {
    let mut t = Tree::new();
    add(&mut t, b"bin", 0o755, Kind::Dir);
    add(&mut t, b"bin/busybox", 0o4755, Kind::File(noise(10_000, 7)));
    add(&mut t, b"bin/sh", 0o777, Kind::Symlink(b"busybox".to_vec()));
    t.link(b"bin/ls", b"bin/busybox").unwrap();
    add(
        &mut t,
        b"etc/passwd",
        0o644,
        Kind::File(b"root:x:0:0::/root:/bin/sh\n".to_vec()),
    );
    add(
        &mut t,
        b"etc/copy",
        0o600,
        Kind::File(b"root:x:0:0::/root:/bin/sh\n".to_vec()),
    );
    add(&mut t, b"etc/empty", 0o644, Kind::File(Vec::new()));
    add(&mut t, b"dev/null", 0o666, Kind::CharDev(0x0103));
    add(&mut t, b"dev/sda", 0o660, Kind::BlockDev(0x0800));
    add(&mut t, b"run/fifo", 0o600, Kind::Fifo);
    add(&mut t, b"tmp", 0o1777, Kind::Dir);
    for i in 0..300 {
        let name = format!("usr/share/many/f{i:03}");
        add(
            &mut t,
            name.as_bytes(),
            0o644,
            Kind::File(noise(i * 7, i as u32)),
        );
    }
    let config = ImageConfig {
        reference: "127.0.0.1:5000/test:1".into(),
        digest: "sha256:abc".into(),
        platform: "linux/riscv64".into(),
        entrypoint: vec!["/bin/sh".into(), "-c".into()],
        cmd: vec!["echo hi".into()],
        env: vec!["PATH=/bin".into(), "A=b=c".into()],
        working_dir: "/tmp".into(),
        user: "1000:100".into(),
    };
    (t, config)
}

fn small_chunks() -> Options {
    Options {
        chunk_size: 1000,
        level: 3,
    }
}

fn walk(b: &Bundle, path: &[u8]) -> Option<(u32, InodeRecord)> {
    let mut ino = ROOT;
    let mut rec = b.inode(ino).unwrap();
    for c in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
        ino = b.lookup(&rec, c).unwrap()?;
        rec = b.inode(ino).unwrap();
    }
    Some((ino, rec))
}

#[test]
fn every_path_reads_back_as_written() {
    let (tree, config) = sample();
    let (bytes, stats) = write(&tree, &config, small_chunks()).unwrap();
    assert_eq!(stats.bundle_bytes, bytes.len() as u64);
    let b = Bundle::open(Source::Bytes(bytes)).unwrap();
    assert_eq!(b.config().unwrap(), config);
    for (path, id) in tree.paths() {
        let path = &path[..];
        let inode = tree.inode(id);
        let (_, rec) = walk(&b, path).unwrap_or_else(|| panic!("{path:?} missing"));
        assert_eq!(rec.mode & 0o7777, inode.meta.perm, "{path:?}");
        let m = inode.meta;
        assert_eq!(
            (rec.uid, rec.gid, rec.mtime),
            (m.uid, m.gid, m.mtime),
            "{path:?}"
        );
        match &inode.kind {
            Kind::File(data) => {
                assert_eq!(rec.mode & S_IFMT, S_IFREG);
                assert_eq!(&b.read_all(&rec).unwrap(), data, "{path:?}");
            }
            Kind::Dir => {
                assert_eq!(rec.mode & S_IFMT, S_IFDIR);
                let names: Vec<Vec<u8>> =
                    b.entries(&rec).unwrap().into_iter().map(|e| e.0).collect();
                let want: Vec<Vec<u8>> = tree
                    .children(path)
                    .into_iter()
                    .map(|c| c.0.to_vec())
                    .collect();
                assert_eq!(names, want);
            }
            Kind::Symlink(t) => {
                assert_eq!(rec.mode & S_IFMT, S_IFLNK);
                assert_eq!(&b.symlink_target(&rec).unwrap(), t);
            }
            Kind::CharDev(d) => assert_eq!((rec.mode & S_IFMT, rec.at), (S_IFCHR, *d)),
            Kind::BlockDev(d) => assert_eq!((rec.mode & S_IFMT, rec.at), (S_IFBLK, *d)),
            Kind::Fifo => assert_eq!(rec.mode & S_IFMT, S_IFIFO),
            Kind::Spooled(_) => unreachable!("this tree has no spool"),
        }
    }
    assert!(walk(&b, b"bin/nope").is_none());
    assert!(
        walk(&b, b"etc/passwd/x").is_none(),
        "a file has no children"
    );
}

#[test]
fn links_share_an_inode_and_count() {
    let (tree, config) = sample();
    let (bytes, _) = write(&tree, &config, small_chunks()).unwrap();
    let b = Bundle::open(Source::Bytes(bytes)).unwrap();
    let (busybox, rec) = walk(&b, b"bin/busybox").unwrap();
    let (ls, _) = walk(&b, b"bin/ls").unwrap();
    assert_eq!(busybox, ls);
    assert_eq!(rec.nlink, 2);
    // Root: `.`, its own `..`, and one `..` per subdirectory (bin dev etc run tmp usr).
    assert_eq!(b.inode(ROOT).unwrap().nlink, 2 + 6);
    // Identical contents are stored once.
    let (_, p) = walk(&b, b"etc/passwd").unwrap();
    let (_, c) = walk(&b, b"etc/copy").unwrap();
    assert_eq!(p.at, c.at);
}

#[test]
fn reads_at_any_offset_cross_chunks() {
    let (tree, config) = sample();
    let (bytes, _) = write(&tree, &config, small_chunks()).unwrap();
    let b = Bundle::open(Source::Bytes(bytes)).unwrap();
    let (_, rec) = walk(&b, b"bin/busybox").unwrap();
    let data = noise(10_000, 7);
    for (offset, len) in [
        (0, 1),
        (999, 2),
        (1500, 3000),
        (9_990, 100),
        (10_000, 5),
        (20_000, 1),
    ] {
        let mut buf = vec![0u8; len];
        let n = b.read_at(&rec, offset, &mut buf).unwrap();
        let end = (offset as usize + len).min(data.len());
        let want = data.get(offset as usize..end).unwrap_or(&[]);
        assert_eq!(&buf[..n], want, "offset {offset} len {len}");
    }
}

#[test]
fn an_empty_tree_packs() {
    let (bytes, _) = write(&Tree::new(), &ImageConfig::default(), Options::default()).unwrap();
    let b = Bundle::open(Source::Bytes(bytes)).unwrap();
    assert!(b.entries(&b.inode(ROOT).unwrap()).unwrap().is_empty());
    assert_eq!(b.config().unwrap(), ImageConfig::default());
}

#[test]
fn damage_is_an_error_not_a_panic() {
    let (tree, config) = sample();
    let (bytes, _) = write(&tree, &config, small_chunks()).unwrap();
    assert_eq!(
        Bundle::open(Source::Bytes(b"ELF".to_vec())).err(),
        Some(FormatError::NotABundle)
    );
    let mut truncated = bytes.clone();
    truncated.truncate(bytes.len() - 1);
    assert!(Bundle::open(Source::Bytes(truncated)).is_err());
    // Flip each byte in turn (a stride keeps this fast): reading everything must either
    // work or fail cleanly.
    for at in (0..bytes.len()).step_by(97) {
        let mut bad = bytes.clone();
        bad[at] ^= 0x5a;
        let Ok(b) = Bundle::open(Source::Bytes(bad)) else {
            continue;
        };
        let _ = b.config();
        for (path, _) in tree.paths() {
            let mut ino = ROOT;
            let mut ok = true;
            for c in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
                match b.inode(ino).and_then(|r| b.lookup(&r, c)) {
                    Ok(Some(i)) => ino = i,
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok && let Ok(rec) = b.inode(ino) {
                let _ = b.read_all(&rec);
                let _ = b.entries(&rec);
                let _ = b.symlink_target(&rec);
            }
        }
    }
}

/// The flattening fuzz target's oracle over a small seed corpus and deterministic variations
/// of it (what `cargo +nightly fuzz run flatten` in `wasi-shim/fuzz` explores further).
#[test]
fn flatten_fuzz_seed_corpus() {
    let seeds: [&[u8]; 6] = [
        b"",
        // files under a directory, then a root opaque whiteout in a new layer, then a file
        &[0, 2, 0, 1, 5, 0, 4, 0, 0, 1, 2],
        // a link to a file, the file replaced by a directory, a whiteout of the link
        &[0, 1, 0, 2, 1, 1, 1, 0, 1, 0, 3, 1, 1],
        // a deep path, a file over one of its directories, opaque in the middle
        &[
            0, 4, 0, 1, 2, 3, 0, 2, 0, 1, 4, 1, 0, 5, 0, 4, 2, 0, 1, 13, 0,
        ],
        // symlinks and fifos, removal of the root
        &[6, 1, 2, 7, 2, 0, 3, 8, 0, 6, 1, 4],
        // whiteouts of what this layer wrote stay; of what a lower layer wrote go
        &[0, 1, 0, 5, 0, 3, 1, 0, 0, 1, 1, 3, 1, 1],
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for seed in seeds {
        super::fuzz::flatten(seed);
        for _ in 0..300 {
            let mut input = seed.to_vec();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state >> 8) as usize % (input.len() + 1);
                if state & 1 == 0 || input.is_empty() {
                    input.insert(at, (state >> 32) as u8);
                } else {
                    let last = input.len() - 1;
                    input[at.min(last)] = (state >> 32) as u8;
                }
            }
            super::fuzz::flatten(&input);
        }
    }
}
