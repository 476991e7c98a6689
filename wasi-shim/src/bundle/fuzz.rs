//! The flattening fuzz target's entry point (`wasi-shim/fuzz`, target `flatten`), and the
//! oracle the seed-corpus test runs in CI: bytes become layers of tree operations as a tar
//! layer's members make them (files, directories, links, symlinks, whiteouts, opaque
//! whiteouts — the root's included), the tree is packed by the writer and read back by the
//! reader, and every path must show what the tree holds. A write error, a mismatch or a panic
//! is a bug.

use super::format::{ImageConfig, ROOT};
use super::reader::{Bundle, Source};
use super::tree::{Inode, Kind, Meta, Tree};
use super::writer::{Options, write};

const NAMES: [&[u8]; 5] = [b"a", b"b", b"c", b"dd", b"e.f"];

fn meta(b: u8) -> Meta {
    Meta {
        perm: 0o600 | u32::from(b & 0o77),
        uid: u32::from(b),
        gid: 0,
        mtime: i64::from(b),
    }
}

fn path(next: &mut impl FnMut() -> Option<u8>) -> Option<Vec<u8>> {
    let n = next()? % 5;
    let mut p = Vec::new();
    for i in 0..n {
        if i > 0 {
            p.push(b'/');
        }
        p.extend_from_slice(NAMES[usize::from(next()?) % NAMES.len()]);
    }
    Some(p)
}

/// Applies the operations `data` encodes (an opcode byte, a path, and for a link a second
/// path), then checks the bundle of the result.
pub fn flatten(data: &[u8]) {
    let mut at = 0;
    let mut next = || {
        let b = data.get(at).copied();
        at += 1;
        b
    };
    let mut tree = Tree::new();
    tree.begin_layer();
    while let Some(op) = next() {
        let Some(p) = path(&mut next) else { break };
        let inode = |kind| Inode {
            meta: meta(op),
            kind,
        };
        match op % 9 {
            0 => {
                let _ = tree.insert(&p, inode(Kind::File(vec![op; usize::from(op % 7)])));
            }
            1 => {
                let _ = tree.insert(&p, inode(Kind::Dir));
            }
            2 => {
                let Some(target) = path(&mut next) else { break };
                let _ = tree.link(&p, &target);
            }
            3 => tree.whiteout(&p),
            4 => tree.make_opaque(&p),
            5 => tree.begin_layer(),
            6 => {
                let _ = tree.insert(&p, inode(Kind::Symlink(p.clone())));
            }
            7 => {
                let _ = tree.insert(&p, inode(Kind::Fifo));
            }
            _ => tree.remove(&p),
        }
    }
    tree.end_layer();
    check(&tree);
}

/// Packs `tree` and checks that the bundle shows it exactly.
pub fn check(tree: &Tree) {
    let options = Options {
        chunk_size: 64,
        level: 1,
    };
    let (bytes, _) =
        write(tree, &ImageConfig::default(), options).expect("the writer packs any tree");
    let b = Bundle::open(Source::Bytes(bytes)).expect("the reader opens what the writer wrote");
    for (path, id) in tree.paths() {
        let mut rec = b.inode(ROOT).unwrap();
        for c in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
            let ino = b
                .lookup(&rec, c)
                .unwrap()
                .unwrap_or_else(|| panic!("{path:?} missing"));
            rec = b.inode(ino).unwrap();
        }
        let inode = tree.inode(id);
        assert_eq!(rec.mode & 0o7777, inode.meta.perm, "{path:?}");
        match &inode.kind {
            Kind::File(data) => assert_eq!(&b.read_all(&rec).unwrap(), data, "{path:?}"),
            Kind::Dir => {
                let names: Vec<Vec<u8>> =
                    b.entries(&rec).unwrap().into_iter().map(|e| e.0).collect();
                let want: Vec<Vec<u8>> = tree
                    .children(&path)
                    .into_iter()
                    .map(|c| c.0.to_vec())
                    .collect();
                assert_eq!(names, want, "{path:?}");
            }
            Kind::Symlink(t) => assert_eq!(&b.symlink_target(&rec).unwrap(), t),
            _ => {}
        }
    }
}
