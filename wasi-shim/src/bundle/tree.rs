//! The writer's input: a root file system as the image's layers leave it, built up in memory
//! by the converter's flattening (layer by layer, with whiteouts) and then packed by
//! [`super::writer`].
//!
//! Paths are byte strings relative to the root, without leading or trailing `/` and with no
//! `.`, `..` or empty components (the root itself is the empty path); [`normalise`] makes one
//! from what a tar header holds. A path maps to an inode id, so a hard link is two paths
//! holding one id, and replacing a path never changes what its other links show — as with
//! tar extraction, a link made before an overwrite keeps the old file.

use std::collections::BTreeMap;

/// Index of an inode in [`Tree::inodes`].
pub type InodeId = usize;

/// What every inode carries, whatever its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    /// Permission bits and the set-id/sticky bits (`0o7777`); the type comes from the kind.
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
}

impl Meta {
    /// A directory the image implies but never lists (a parent of a listed file).
    pub const IMPLIED_DIR: Meta = Meta {
        perm: 0o755,
        uid: 0,
        gid: 0,
        mtime: 0,
    };
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File(Vec<u8>),
    Symlink(Vec<u8>),
    /// Character and block devices, by `makedev(major, minor)`: recorded, never created on
    /// the host.
    CharDev(u64),
    BlockDev(u64),
    Fifo,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inode {
    pub meta: Meta,
    pub kind: Kind,
}

/// A root file system in memory.
#[derive(Clone, Debug)]
pub struct Tree {
    /// Every path that exists, the root (`b""`) included, in byte order, so the descendants
    /// of a directory `d` are the contiguous range of keys starting with `d/`.
    paths: BTreeMap<Vec<u8>, InodeId>,
    /// Inodes, some of which may no longer be reachable (their paths were replaced).
    inodes: Vec<Inode>,
}

/// Why an entry could not be added.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("{path}: a parent is not a directory")]
    ParentNotDir { path: String },
    #[error("{path}: hard link to {target}, which does not exist or is a directory")]
    BadLinkTarget { path: String, target: String },
    #[error("{path}: cannot replace the root directory")]
    Root { path: String },
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    /// A tree holding only the root directory.
    pub fn new() -> Tree {
        let mut tree = Tree {
            paths: BTreeMap::new(),
            inodes: Vec::new(),
        };
        tree.inodes.push(Inode {
            meta: Meta::IMPLIED_DIR,
            kind: Kind::Dir,
        });
        tree.paths.insert(Vec::new(), 0);
        tree
    }

    pub fn get(&self, path: &[u8]) -> Option<&Inode> {
        self.paths.get(path).map(|&id| &self.inodes[id])
    }

    pub fn inode_id(&self, path: &[u8]) -> Option<InodeId> {
        self.paths.get(path).copied()
    }

    pub fn inode(&self, id: InodeId) -> &Inode {
        &self.inodes[id]
    }

    /// Every path with its inode id, in byte order (parents before children).
    pub fn paths(&self) -> impl Iterator<Item = (&[u8], InodeId)> {
        self.paths.iter().map(|(p, &id)| (p.as_slice(), id))
    }

    /// Number of paths, the root included.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// Adds or replaces the entry at `path`, as extracting a tar member does: missing parent
    /// directories are created, a directory over an existing directory only updates its
    /// metadata (its children stay), and anything else replaces what was there (a directory
    /// replaced by a file loses its subtree).
    pub fn insert(&mut self, path: &[u8], inode: Inode) -> Result<(), TreeError> {
        if path.is_empty() {
            // The root's metadata may be set by a `./` member; it must stay a directory.
            if inode.kind != Kind::Dir {
                return Err(TreeError::Root { path: show(path) });
            }
            self.inodes[0].meta = inode.meta;
            return Ok(());
        }
        self.make_parents(path)?;
        if let Some(&id) = self.paths.get(path)
            && self.inodes[id].kind == Kind::Dir
        {
            if inode.kind == Kind::Dir {
                self.inodes[id].meta = inode.meta;
                return Ok(());
            }
            self.remove(path);
        }
        let id = self.inodes.len();
        self.inodes.push(inode);
        self.paths.insert(path.to_vec(), id);
        Ok(())
    }

    /// Makes `path` a hard link to the inode at `target` (which must exist and not be a
    /// directory), replacing what `path` held.
    pub fn link(&mut self, path: &[u8], target: &[u8]) -> Result<(), TreeError> {
        let bad = || TreeError::BadLinkTarget {
            path: show(path),
            target: show(target),
        };
        let id = self.inode_id(target).ok_or_else(bad)?;
        if self.inodes[id].kind == Kind::Dir || path.is_empty() {
            return Err(bad());
        }
        if path == target {
            return Ok(());
        }
        self.make_parents(path)?;
        self.remove(path);
        self.paths.insert(path.to_vec(), id);
        Ok(())
    }

    /// Removes `path` and, for a directory, everything below it (a whiteout). Removing what
    /// does not exist is not an error: a whiteout may name a file no lower layer has.
    pub fn remove(&mut self, path: &[u8]) {
        if path.is_empty() {
            self.clear_dir(path);
            return;
        }
        self.paths.remove(path);
        self.clear_dir(path);
    }

    /// Removes everything below the directory `path`, keeping the directory (an opaque
    /// whiteout).
    pub fn clear_dir(&mut self, path: &[u8]) {
        let prefix = child_prefix(path);
        let doomed: Vec<Vec<u8>> = self
            .paths
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter(|(p, _)| p.len() > prefix.len())
            .map(|(p, _)| p.clone())
            .collect();
        for p in doomed {
            self.paths.remove(&p);
        }
    }

    /// Removes everything below the directory `path` except the paths `keep` accepts and
    /// the directories leading to them: an opaque whiteout met after some of its layer's own
    /// entries, which must survive it.
    pub fn clear_dir_except(&mut self, path: &[u8], keep: impl Fn(&[u8]) -> bool) {
        let prefix = child_prefix(path);
        let below: Vec<Vec<u8>> = self
            .paths
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| p.clone())
            .collect();
        let mut kept: std::collections::BTreeSet<&[u8]> = std::collections::BTreeSet::new();
        for p in below.iter().filter(|p| keep(p)) {
            kept.insert(p);
            // Its ancestors below `path`, so the kept entry still has a parent.
            let mut end = p.len();
            while let Some(slash) = p[..end].iter().rposition(|&b| b == b'/') {
                if slash < prefix.len() || !kept.insert(&p[..slash]) {
                    break;
                }
                end = slash;
            }
        }
        for p in below.iter().filter(|p| !kept.contains(p.as_slice())) {
            self.paths.remove(p);
        }
    }

    /// The names of the directory `path`'s entries, with their inode ids, in byte order.
    pub fn children(&self, path: &[u8]) -> Vec<(&[u8], InodeId)> {
        let prefix = child_prefix(path);
        self.paths
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter(|(p, _)| p.len() > prefix.len() && !p[prefix.len()..].contains(&b'/'))
            .map(|(p, &id)| (&p[prefix.len()..], id))
            .collect()
    }

    fn make_parents(&mut self, path: &[u8]) -> Result<(), TreeError> {
        let mut end = 0;
        while let Some(slash) = path[end..].iter().position(|&b| b == b'/') {
            let parent = &path[..end + slash];
            match self.paths.get(parent) {
                Some(&id) if self.inodes[id].kind == Kind::Dir => {}
                Some(_) => return Err(TreeError::ParentNotDir { path: show(path) }),
                None => {
                    let id = self.inodes.len();
                    self.inodes.push(Inode {
                        meta: Meta::IMPLIED_DIR,
                        kind: Kind::Dir,
                    });
                    self.paths.insert(parent.to_vec(), id);
                }
            }
            end += slash + 1;
        }
        Ok(())
    }
}

/// `path/` (or the empty prefix for the root, itself a key that callers skip): what every
/// descendant of `path` starts with.
fn child_prefix(path: &[u8]) -> Vec<u8> {
    let mut prefix = path.to_vec();
    if !prefix.is_empty() {
        prefix.push(b'/');
    }
    prefix
}

fn show(path: &[u8]) -> String {
    format!("/{}", String::from_utf8_lossy(path))
}

/// Why a member's name was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{name}: path climbs out of the root file system")]
pub struct EscapingPath {
    pub name: String,
}

/// The tree path of a tar member name: leading `/` and `./` dropped, `.` and empty
/// components skipped, `..` taking back one component. A `..` with nothing left to take
/// back would climb out of the root, and is refused.
pub fn normalise(name: &[u8]) -> Result<Vec<u8>, EscapingPath> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in name.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                if parts.pop().is_none() {
                    return Err(EscapingPath {
                        name: String::from_utf8_lossy(name).into_owned(),
                    });
                }
            }
            c => parts.push(c),
        }
    }
    Ok(parts.join(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(data: &[u8]) -> Inode {
        Inode {
            meta: Meta {
                perm: 0o644,
                uid: 0,
                gid: 0,
                mtime: 1,
            },
            kind: Kind::File(data.to_vec()),
        }
    }

    fn dir() -> Inode {
        Inode {
            meta: Meta::IMPLIED_DIR,
            kind: Kind::Dir,
        }
    }

    #[test]
    fn normalise_strips_and_refuses_escapes() {
        assert_eq!(normalise(b"./etc/passwd").unwrap(), b"etc/passwd");
        assert_eq!(normalise(b"/etc//x/../passwd/").unwrap(), b"etc/passwd");
        assert_eq!(normalise(b"./").unwrap(), b"");
        assert!(normalise(b"../../etc/passwd").is_err());
        assert!(normalise(b"a/../../b").is_err());
    }

    #[test]
    fn insert_makes_parents_and_replaces() {
        let mut t = Tree::new();
        t.insert(b"a/b/c", file(b"1")).unwrap();
        assert_eq!(t.get(b"a").unwrap().kind, Kind::Dir);
        assert_eq!(
            t.children(b"a"),
            vec![(&b"b"[..], t.inode_id(b"a/b").unwrap())]
        );
        t.insert(b"a/b", file(b"2")).unwrap();
        assert!(
            t.get(b"a/b/c").is_none(),
            "a file over a directory drops its subtree"
        );
        assert_eq!(
            t.insert(b"a/b/d", file(b"3")),
            Err(TreeError::ParentNotDir {
                path: "/a/b/d".into()
            })
        );
    }

    #[test]
    fn dir_over_dir_keeps_children() {
        let mut t = Tree::new();
        t.insert(b"d/x", file(b"x")).unwrap();
        let mut d = dir();
        d.meta.perm = 0o700;
        t.insert(b"d", d).unwrap();
        assert_eq!(t.get(b"d").unwrap().meta.perm, 0o700);
        assert!(t.get(b"d/x").is_some());
    }

    #[test]
    fn links_survive_overwrite_of_target() {
        let mut t = Tree::new();
        t.insert(b"bin/a", file(b"old")).unwrap();
        t.link(b"bin/b", b"bin/a").unwrap();
        assert_eq!(t.inode_id(b"bin/a"), t.inode_id(b"bin/b"));
        t.insert(b"bin/a", file(b"new")).unwrap();
        assert_eq!(t.get(b"bin/b").unwrap().kind, Kind::File(b"old".to_vec()));
        assert!(t.link(b"x", b"missing").is_err());
        assert!(t.link(b"x", b"bin").is_err());
    }

    #[test]
    fn whiteouts() {
        let mut t = Tree::new();
        t.insert(b"d/a", file(b"a")).unwrap();
        t.insert(b"d/sub/b", file(b"b")).unwrap();
        t.insert(b"d2", file(b"c")).unwrap();
        t.clear_dir(b"d");
        assert!(t.get(b"d").is_some());
        assert!(t.children(b"d").is_empty());
        assert!(t.get(b"d2").is_some(), "a sibling sharing the prefix stays");
        t.insert(b"d/lower/x", file(b"x")).unwrap();
        t.insert(b"d/lower/y", file(b"y")).unwrap();
        t.insert(b"d/gone", file(b"g")).unwrap();
        t.insert(b"d/mine", file(b"m")).unwrap();
        t.clear_dir_except(b"d", |p| p == b"d/lower/y" || p == b"d/mine" || p == b"d2");
        let left: Vec<&[u8]> = t.paths().map(|(p, _)| p).collect();
        assert_eq!(
            left,
            [&b""[..], b"d", b"d/lower", b"d/lower/y", b"d/mine", b"d2"],
            "kept paths keep their parents; nothing outside the directory is touched"
        );
        t.remove(b"d");
        assert!(t.get(b"d").is_none());
        t.remove(b"never/was");
        assert_eq!(t.len(), 2);
    }
}
