//! The writer's input: a root file system as the image's layers leave it, built up in memory
//! by the converter's flattening (layer by layer, with whiteouts) and then packed by
//! [`super::writer`].
//!
//! Paths are byte strings relative to the root, without leading or trailing `/` and with no
//! `.`, `..` or empty components (the root itself is the empty path); [`normalise`] makes one
//! from what a tar header holds. The tree is a tree of nodes, each directory indexing its
//! children by name, so an operation on a path costs what resolving it component by component
//! from the root costs, whatever the depth or size of the tree (flattening is linear in the
//! bytes of the paths it is given). A node names an inode id, so a hard link is two nodes
//! holding one id, and replacing a path never changes what its other links show — as with
//! tar extraction, a link made before an overwrite keeps the old file.
//!
//! File contents are either held ([`Kind::File`]) or, as the converter does, left in a spool
//! file the writer reads from ([`Kind::Spooled`]), so memory depends on the number of
//! entries, not on their sizes. Nothing here recurses: a tree 100,000 directories deep is
//! walked, cleared and dropped with loops.

use std::collections::BTreeMap;

/// Index of an inode in the tree's inode table.
pub type InodeId = usize;

/// Index of a node (one name in one directory, or the root).
pub type NodeId = usize;

/// The root's node.
pub const ROOT_NODE: NodeId = 0;

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

/// A regular file's contents left in the writer's spool file: `len` bytes at `offset`
/// (holes read as zeros), whose SHA-256 is `sha256` (the writer stores identical contents
/// once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spooled {
    pub offset: u64,
    pub len: u64,
    pub sha256: [u8; 32],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    /// A regular file whose contents are held here.
    File(Vec<u8>),
    /// A regular file whose contents are in the spool file handed to the writer.
    Spooled(Spooled),
    Symlink(Vec<u8>),
    /// Character and block devices, by `makedev(major, minor)`: recorded, never created on
    /// the host.
    CharDev(u64),
    BlockDev(u64),
    Fifo,
}

impl Kind {
    /// The size of a regular file (0 for other kinds).
    pub fn file_len(&self) -> u64 {
        match self {
            Kind::File(d) => d.len() as u64,
            Kind::Spooled(s) => s.len,
            _ => 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inode {
    pub meta: Meta,
    pub kind: Kind,
}

#[derive(Clone, Debug)]
struct Node {
    parent: NodeId,
    name: Box<[u8]>,
    inode: InodeId,
    /// A directory's entries by name (empty for other kinds).
    children: BTreeMap<Box<[u8]>, NodeId>,
    /// The layer that last wrote this node or something below it ([`Tree::begin_layer`]).
    touched: u32,
    /// The layer whose opaque whiteouts last cleared this directory.
    cleaned: u32,
}

/// A root file system in memory.
#[derive(Clone, Debug)]
pub struct Tree {
    /// Every node ever made; a removed one is detached from its parent and never reached
    /// again.
    nodes: Vec<Node>,
    /// Inodes, some of which may no longer be reachable (their paths were replaced).
    inodes: Vec<Inode>,
    /// The current layer's number (0 outside layers).
    layer: u32,
    /// Directories this layer made opaque, cleared at [`Tree::end_layer`].
    opaque: Vec<NodeId>,
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

fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

impl Tree {
    /// A tree holding only the root directory.
    pub fn new() -> Tree {
        Tree {
            nodes: vec![Node {
                parent: ROOT_NODE,
                name: Box::default(),
                inode: 0,
                children: BTreeMap::new(),
                touched: 0,
                cleaned: 0,
            }],
            inodes: vec![Inode {
                meta: Meta::IMPLIED_DIR,
                kind: Kind::Dir,
            }],
            layer: 0,
            opaque: Vec::new(),
        }
    }

    /// The node at `path`, resolved from the root one component at a time.
    pub fn node(&self, path: &[u8]) -> Option<NodeId> {
        let mut n = ROOT_NODE;
        for c in components(path) {
            n = *self.nodes[n].children.get(c)?;
        }
        Some(n)
    }

    pub fn get(&self, path: &[u8]) -> Option<&Inode> {
        self.node(path).map(|n| &self.inodes[self.nodes[n].inode])
    }

    pub fn inode_id(&self, path: &[u8]) -> Option<InodeId> {
        self.node(path).map(|n| self.nodes[n].inode)
    }

    pub fn inode(&self, id: InodeId) -> &Inode {
        &self.inodes[id]
    }

    /// The inode a node names.
    pub fn node_inode(&self, node: NodeId) -> InodeId {
        self.nodes[node].inode
    }

    /// A directory node's entries, in byte order of their names.
    pub fn node_children(&self, node: NodeId) -> impl Iterator<Item = (&[u8], NodeId)> {
        self.nodes[node].children.iter().map(|(k, &v)| (&**k, v))
    }

    /// Every node reachable from the root, parents before children, each directory's
    /// entries in byte order and each subtree contiguous (depth first, without recursion).
    pub fn walk(&self) -> Vec<NodeId> {
        let mut order = Vec::new();
        let mut stack = vec![ROOT_NODE];
        while let Some(n) = stack.pop() {
            order.push(n);
            stack.extend(self.nodes[n].children.values().rev());
        }
        order
    }

    /// The path of a node (the empty path for the root).
    pub fn path_of(&self, node: NodeId) -> Vec<u8> {
        let mut names = Vec::new();
        let mut n = node;
        while n != ROOT_NODE {
            names.push(&*self.nodes[n].name);
            n = self.nodes[n].parent;
        }
        names.reverse();
        names.join(&b'/')
    }

    /// Every path with its inode id, in byte order (for tests and tools: it builds every
    /// path, which costs their total length).
    pub fn paths(&self) -> Vec<(Vec<u8>, InodeId)> {
        let mut all: Vec<(Vec<u8>, InodeId)> = self
            .walk()
            .into_iter()
            .map(|n| (self.path_of(n), self.nodes[n].inode))
            .collect();
        all.sort();
        all
    }

    /// Number of paths, the root included.
    pub fn len(&self) -> usize {
        self.walk().len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// How many nodes were ever made (paths written, implied directories included): what
    /// the tree's memory grows with, for the converter's entry limit.
    pub fn nodes_made(&self) -> usize {
        self.nodes.len()
    }

    /// Starts a layer: what it writes is told apart from what lower layers wrote, for its
    /// whiteouts ([`Tree::whiteout`], [`Tree::make_opaque`]).
    pub fn begin_layer(&mut self) {
        self.end_layer();
        self.layer += 1;
    }

    /// Ends a layer: the directories it made opaque lose every entry a lower layer put in
    /// them (and below them), whatever the order of the markers and the layer's own entries
    /// in the tar. Each node is visited at most once per layer.
    pub fn end_layer(&mut self) {
        let layer = self.layer;
        let pending = std::mem::take(&mut self.opaque);
        for start in pending {
            if !self.attached(start) || self.inodes[self.nodes[start].inode].kind != Kind::Dir {
                continue;
            }
            let mut stack = vec![start];
            while let Some(n) = stack.pop() {
                if self.nodes[n].cleaned == layer {
                    continue;
                }
                self.nodes[n].cleaned = layer;
                let children = std::mem::take(&mut self.nodes[n].children);
                let mut kept = BTreeMap::new();
                for (name, child) in children {
                    if self.nodes[child].touched == layer {
                        if self.inodes[self.nodes[child].inode].kind == Kind::Dir {
                            stack.push(child);
                        }
                        kept.insert(name, child);
                    }
                }
                self.nodes[n].children = kept;
            }
        }
    }

    /// Whether `node` is still reachable from the root.
    fn attached(&self, mut node: NodeId) -> bool {
        while node != ROOT_NODE {
            let parent = self.nodes[node].parent;
            if self.nodes[parent].children.get(&self.nodes[node].name) != Some(&node) {
                return false;
            }
            node = parent;
        }
        true
    }

    /// A whiteout (`.wh.NAME`): removes `path` and its subtree as the layers below left it.
    /// What the current layer itself wrote there stays (a whiteout hides lower layers only).
    pub fn whiteout(&mut self, path: &[u8]) {
        if let Some(n) = self.node(path)
            && (self.layer == 0 || self.nodes[n].touched != self.layer)
        {
            self.remove(path);
        }
    }

    /// An opaque whiteout (`.wh..wh..opq`) in the directory `path` (the root included): at
    /// the end of the layer, the directory keeps only what this layer puts in it.
    pub fn make_opaque(&mut self, path: &[u8]) {
        if let Some(n) = self.touch(path) {
            self.opaque.push(n);
        }
    }

    /// Marks `path` and its ancestors as written by this layer; its node if it exists.
    fn touch(&mut self, path: &[u8]) -> Option<NodeId> {
        let layer = self.layer;
        let mut n = ROOT_NODE;
        self.nodes[n].touched = layer;
        for c in components(path) {
            n = *self.nodes[n].children.get(c)?;
            self.nodes[n].touched = layer;
        }
        Some(n)
    }

    /// Adds or replaces the entry at `path`, as extracting a tar member does: missing parent
    /// directories are created, a directory over an existing directory only updates its
    /// metadata (its children stay), and anything else replaces what was there (a directory
    /// replaced by a file loses its subtree).
    pub fn insert(&mut self, path: &[u8], inode: Inode) -> Result<(), TreeError> {
        let Some((parent, name)) = self.make_parents(path)? else {
            // The root's metadata may be set by a `./` member; it must stay a directory.
            if inode.kind != Kind::Dir {
                return Err(TreeError::Root { path: show(path) });
            }
            self.inodes[self.nodes[ROOT_NODE].inode].meta = inode.meta;
            return Ok(());
        };
        if let Some(&n) = self.nodes[parent].children.get(name) {
            let old = self.nodes[n].inode;
            self.nodes[n].touched = self.layer;
            if self.inodes[old].kind == Kind::Dir {
                if inode.kind == Kind::Dir {
                    self.inodes[old].meta = inode.meta;
                    return Ok(());
                }
                self.nodes[n].children = BTreeMap::new();
            }
            self.nodes[n].inode = self.push_inode(inode);
            return Ok(());
        }
        let id = self.push_inode(inode);
        self.add_node(parent, name, id);
        Ok(())
    }

    fn push_inode(&mut self, inode: Inode) -> InodeId {
        self.inodes.push(inode);
        self.inodes.len() - 1
    }

    fn add_node(&mut self, parent: NodeId, name: &[u8], inode: InodeId) -> NodeId {
        let n = self.nodes.len();
        self.nodes.push(Node {
            parent,
            name: name.into(),
            inode,
            children: BTreeMap::new(),
            touched: self.layer,
            cleaned: 0,
        });
        self.nodes[parent].children.insert(name.into(), n);
        n
    }

    /// Makes `path` a hard link to the inode at `target` (which must exist and not be a
    /// directory), replacing what `path` held.
    pub fn link(&mut self, path: &[u8], target: &[u8]) -> Result<(), TreeError> {
        let bad = || TreeError::BadLinkTarget {
            path: show(path),
            target: show(target),
        };
        let id = self.inode_id(target).ok_or_else(bad)?;
        if self.inodes[id].kind == Kind::Dir {
            return Err(bad());
        }
        let Some((parent, name)) = self.make_parents(path)? else {
            return Err(bad());
        };
        match self.nodes[parent].children.get(name) {
            Some(&n) => {
                self.nodes[n].touched = self.layer;
                self.nodes[n].children = BTreeMap::new();
                self.nodes[n].inode = id;
            }
            None => {
                self.add_node(parent, name, id);
            }
        }
        Ok(())
    }

    /// Removes `path` and, for a directory, everything below it. Removing what does not
    /// exist is not an error: a whiteout may name a file no lower layer has. The root is
    /// only emptied.
    pub fn remove(&mut self, path: &[u8]) {
        let Some(n) = self.node(path) else { return };
        if n == ROOT_NODE {
            self.clear_dir(path);
            return;
        }
        let parent = self.nodes[n].parent;
        let name = self.nodes[n].name.clone();
        self.nodes[parent].children.remove(&name);
    }

    /// Removes everything below the directory `path`, keeping the directory.
    pub fn clear_dir(&mut self, path: &[u8]) {
        if let Some(n) = self.node(path) {
            self.nodes[n].children = BTreeMap::new();
        }
    }

    /// The names of the directory `path`'s entries, with their inode ids, in byte order.
    pub fn children(&self, path: &[u8]) -> Vec<(&[u8], InodeId)> {
        match self.node(path) {
            Some(n) => self.nodes[n]
                .children
                .iter()
                .map(|(k, &c)| (&**k, self.nodes[c].inode))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Resolves the parent of `path`, making missing directories: the parent's node and
    /// the last component, or `None` for the root.
    fn make_parents<'p>(
        &mut self,
        path: &'p [u8],
    ) -> Result<Option<(NodeId, &'p [u8])>, TreeError> {
        let mut parts = components(path).peekable();
        let mut n = ROOT_NODE;
        self.nodes[n].touched = self.layer;
        while let Some(c) = parts.next() {
            if parts.peek().is_none() {
                return Ok(Some((n, c)));
            }
            n = match self.nodes[n].children.get(c) {
                Some(&child) => {
                    if self.inodes[self.nodes[child].inode].kind != Kind::Dir {
                        return Err(TreeError::ParentNotDir { path: show(path) });
                    }
                    child
                }
                None => {
                    let id = self.push_inode(Inode {
                        meta: Meta::IMPLIED_DIR,
                        kind: Kind::Dir,
                    });
                    self.add_node(n, c, id)
                }
            };
            self.nodes[n].touched = self.layer;
        }
        Ok(None)
    }
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
        t.begin_layer();
        t.insert(b"d/mine", file(b"m")).unwrap();
        t.make_opaque(b"d");
        t.insert(b"d/lower/y", file(b"y2")).unwrap();
        t.whiteout(b"d/mine");
        t.end_layer();
        let left: Vec<Vec<u8>> = t.paths().into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            left,
            [&b""[..], b"d", b"d/lower", b"d/lower/y", b"d/mine", b"d2"],
            "the layer's own entries (before or after the marker) and their parents stay; \
             a whiteout spares them; nothing outside the directory is touched"
        );
        t.remove(b"d");
        assert!(t.get(b"d").is_none());
        t.remove(b"never/was");
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn opaque_root_keeps_the_layers_own_entries() {
        let mut t = Tree::new();
        t.begin_layer();
        t.insert(b"a/x", file(b"1")).unwrap();
        t.insert(b"b", file(b"2")).unwrap();
        t.begin_layer();
        t.insert(b"c", file(b"3")).unwrap();
        t.make_opaque(b"");
        t.insert(b"a/y", file(b"4")).unwrap();
        t.end_layer();
        let left: Vec<Vec<u8>> = t.paths().into_iter().map(|(p, _)| p).collect();
        assert_eq!(left, [&b""[..], b"a", b"a/y", b"c"]);
    }

    #[test]
    fn deep_paths_cost_linear_time() {
        let mut t = Tree::new();
        let path = vec!["d"; 100_000].join("/");
        t.insert(format!("{path}/f").as_bytes(), file(b"x"))
            .unwrap();
        t.insert(path.as_bytes(), dir()).unwrap();
        assert_eq!(t.walk().len(), 100_002);
        t.remove(b"d");
        assert_eq!(t.len(), 1);
    }
}
