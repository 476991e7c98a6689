//! The one path walk every syscall uses: a guest path, relative to a base directory, resolved
//! component by component to a node of a mounted file system.
//!
//! Invariants:
//! - The walk never hands a guest path to the host. Each component is looked up on its own,
//!   below a prefix already known to be a real directory, so host-side symlinks are never
//!   followed by the host: symlinks are read and resolved here, against the guest root.
//! - `..` at the root stays at the root, so no path (and no symlink target) leaves the rootfs.
//! - At most [`MAXSYMLINKS`] symlinks are followed per walk, then `ELOOP`, as Linux does.
//! - Each path is looked up in the upper layer ([`super::overlay`]) before the host rootfs;
//!   `/proc` is a mount point: below it, [`super::procfs`] answers instead of either, and
//!   below a host directory's mount point [`super::hostdir`] answers. A mount's root is a
//!   directory like any other to the walk, so `..` there leads to the mount point's parent.

use super::hostdir::HostNode;
use super::lower::LowerNode;
use super::overlay::{Content, Entry, InodeRef};
use super::procfs::{self, ProcNode, ProcSelf};
use super::{GuestPathBuf, Vfs};
use crate::abi::Errno;
use crate::abi::fs::{MAXSYMLINKS, NAME_MAX, PATH_MAX};
use std::collections::VecDeque;

/// A file-system node the walk arrived at.
#[derive(Clone, Debug)]
pub enum Node {
    /// A file of the read-only rootfs (the lower layer).
    Lower(LowerNode),
    /// A file of the writable upper layer.
    Upper(InodeRef),
    Proc(ProcNode),
    /// A file of a mounted host directory.
    Host(HostNode),
}

impl Node {
    pub fn is_dir(&self) -> bool {
        match self {
            Node::Lower(l) => l.is_dir(),
            Node::Upper(i) => i.borrow().is_dir(),
            Node::Proc(p) => *p == ProcNode::Dir,
            Node::Host(h) => h.is_dir(),
        }
    }

    pub fn is_symlink(&self) -> bool {
        match self {
            Node::Lower(l) => l.is_symlink(),
            Node::Upper(i) => matches!(i.borrow().content, Content::Symlink(_)),
            Node::Proc(p) => matches!(p, ProcNode::Symlink(_) | ProcNode::FdLink(..)),
            Node::Host(h) => h.is_symlink(),
        }
    }

    /// A regular file with an execute bit: what `execve` and a `$PATH` search accept.
    pub fn is_executable_file(&self) -> bool {
        match self {
            Node::Lower(l) => l.is_file() && l.is_executable(),
            Node::Upper(i) => i.borrow().is_executable_file(),
            Node::Host(h) => h.is_file() && h.is_executable(),
            Node::Proc(_) => false,
        }
    }

    /// The size in bytes (`st_size`); 0 for `/proc` nodes.
    pub fn size(&self) -> u64 {
        match self {
            Node::Lower(l) => l.size(),
            Node::Upper(i) => i.borrow().size(),
            Node::Host(h) => h.size(),
            Node::Proc(_) => 0,
        }
    }

    /// A file's whole contents, for the kernel's own reads (`execve`, `/etc/passwd`);
    /// `/proc` nodes are refused with `EACCES`.
    pub fn read_all(&self) -> Result<Vec<u8>, Errno> {
        match self {
            Node::Lower(l) => l.read_all(),
            Node::Upper(i) => i.borrow().read_all(),
            Node::Host(h) => h.read_all(),
            Node::Proc(_) => Err(Errno::EACCES),
        }
    }
}

/// Whether the last component is followed when it is a symlink (`AT_SYMLINK_NOFOLLOW`,
/// `O_NOFOLLOW`, `lstat` and `readlink` say no). Intermediate symlinks are always followed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Follow {
    Final,
    NotFinal,
}

/// The outcome of a walk.
#[derive(Debug)]
pub struct Resolved {
    /// The normalised guest path of the node (after symlinks).
    pub guest: GuestPathBuf,
    /// `None` when every component but the last exists and the last does not (the caller
    /// decides: `ENOENT` for `open`, creation for `O_CREAT`).
    pub node: Option<Node>,
    /// The path ended in `/`: the node must be a directory.
    pub trailing_slash: bool,
}

impl Resolved {
    /// The node, or `ENOENT` when the last component is missing.
    pub fn existing(self) -> Result<(GuestPathBuf, Node), Errno> {
        match self.node {
            Some(n) => Ok((self.guest, n)),
            None => Err(Errno::ENOENT),
        }
    }
}

impl Vfs {
    /// Resolves `path` (absolute, or relative to `base`) for the process `me`.
    pub fn resolve(
        &self,
        me: &ProcSelf,
        base: &GuestPathBuf,
        path: &[u8],
        follow: Follow,
    ) -> Result<Resolved, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        if path.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let trailing_slash = path.ends_with(b"/");
        let follow_final = follow == Follow::Final || trailing_slash;
        let mut done: Vec<Vec<u8>> = if path.starts_with(b"/") {
            Vec::new()
        } else {
            base.components().map(<[u8]>::to_vec).collect()
        };
        let mut todo: VecDeque<Vec<u8>> = split(path).collect();
        let mut links = 0u32;
        let mut cur = self.lookup(me, &done)?.ok_or(Errno::ENOENT)?;
        while let Some(c) = todo.pop_front() {
            if !cur.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if c == b"." {
                continue;
            }
            if c == b".." {
                done.pop();
                cur = self.lookup(me, &done)?.ok_or(Errno::ENOENT)?;
                continue;
            }
            if c.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            let last = todo.is_empty();
            done.push(c);
            let Some(node) = self.lookup(me, &done)? else {
                if last {
                    return Ok(Resolved {
                        guest: GuestPathBuf::from_components(done.iter().map(Vec::as_slice)),
                        node: None,
                        trailing_slash,
                    });
                }
                return Err(Errno::ENOENT);
            };
            if node.is_symlink() && (!last || follow_final) {
                links += 1;
                if links > MAXSYMLINKS {
                    return Err(Errno::ELOOP);
                }
                if let Node::Proc(ProcNode::FdLink(fd, t)) = &node
                    && (last || !t.starts_with(b"/"))
                {
                    // A magic link: followed, it is the open file itself (the caller looks it
                    // up in its fd table), even when it has no path (a pipe) or lost it.
                    if !last {
                        return Err(Errno::ENOTDIR);
                    }
                    return Ok(Resolved {
                        guest: GuestPathBuf::from_components(done.iter().map(Vec::as_slice)),
                        node: Some(Node::Proc(ProcNode::OpenFd(*fd))),
                        trailing_slash,
                    });
                }
                let target = self.read_link(&node)?;
                done.pop();
                if target.is_empty() {
                    return Err(Errno::ENOENT);
                }
                if target.starts_with(b"/") {
                    done.clear();
                    cur = self.lookup(me, &done)?.ok_or(Errno::ENOENT)?;
                }
                for (i, t) in split(&target).enumerate() {
                    todo.insert(i, t);
                }
                continue;
            }
            cur = node;
        }
        if trailing_slash && !cur.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(Resolved {
            guest: GuestPathBuf::from_components(done.iter().map(Vec::as_slice)),
            node: Some(cur),
            trailing_slash,
        })
    }

    /// The target of a symlink node, as stored (not resolved).
    pub fn read_link(&self, node: &Node) -> Result<Vec<u8>, Errno> {
        match node {
            Node::Lower(l) => l.read_link(),
            Node::Upper(i) => match &i.borrow().content {
                Content::Symlink(t) => Ok(t.clone()),
                _ => Err(Errno::EINVAL),
            },
            Node::Proc(ProcNode::Symlink(t) | ProcNode::FdLink(_, t)) => Ok(t.clone()),
            Node::Proc(_) => Err(Errno::EINVAL),
            Node::Host(h) => h.read_link(),
        }
    }

    /// The node at exactly `components` below the root, without following a final symlink.
    /// Every prefix must already be a verified directory.
    fn lookup(&self, me: &ProcSelf, components: &[Vec<u8>]) -> Result<Option<Node>, Errno> {
        if let Some(found) = self.mounts.lookup(components) {
            return Ok(found?.map(Node::Host));
        }
        if let Some((first, rest)) = components.split_first()
            && first == b"proc"
        {
            let rest: Vec<&[u8]> = rest.iter().map(Vec::as_slice).collect();
            return Ok(procfs::lookup(&rest, me, &self.mounts).map(Node::Proc));
        }
        let guest = GuestPathBuf::from_components(components.iter().map(Vec::as_slice));
        match self.upper.get(&guest) {
            Some(Entry::Whiteout) => return Ok(None),
            Some(Entry::Node(i)) => return Ok(Some(Node::Upper(i.clone()))),
            None => {}
        }
        if !components.is_empty()
            && self
                .upper
                .is_opaque(super::overlay::parent_of(guest.as_bytes()))
        {
            return Ok(None);
        }
        self.lookup_lower(components)
    }

    /// The file of the lower layer at `components`, ignoring the upper layer.
    pub(super) fn lookup_lower(&self, components: &[Vec<u8>]) -> Result<Option<Node>, Errno> {
        Ok(self
            .lower
            .lookup(components.iter().map(Vec::as_slice))?
            .map(Node::Lower))
    }
}

/// The non-empty components of a path, `.` and `..` included (the walk gives them meaning).
fn split(path: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::vfs::lower::Lower;
    use std::os::unix::fs::symlink;

    struct TempRoot(std::path::PathBuf);

    impl TempRoot {
        fn new(name: &str) -> TempRoot {
            let p =
                std::env::temp_dir().join(format!("ctr2wasm-path-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(p.join("etc/sub")).unwrap();
            std::fs::write(p.join("etc/passwd"), b"root").unwrap();
            TempRoot(p)
        }
    }

    impl Drop for TempRoot {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn walk(root: &TempRoot, base: &[u8], path: &[u8], follow: Follow) -> Result<Resolved, Errno> {
        let exe = GuestPathBuf(b"/bin/prog".to_vec());
        let me = ProcSelf::nobody(&exe);
        Vfs::new(Lower::Host(root.0.clone())).resolve(
            &me,
            &GuestPathBuf(base.to_vec()),
            path,
            follow,
        )
    }

    fn guest(r: Result<Resolved, Errno>) -> String {
        r.map(|r| r.guest.display())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn dot_dot_at_root_stays_at_root() {
        let r = TempRoot::new("dotdot");
        assert_eq!(
            guest(walk(&r, b"/", b"/../../etc/./passwd", Follow::Final)),
            "/etc/passwd"
        );
        assert_eq!(
            guest(walk(&r, b"/etc/sub", b"../../../..", Follow::Final)),
            "/"
        );
        assert_eq!(
            guest(walk(&r, b"/etc", b"sub/../passwd", Follow::Final)),
            "/etc/passwd"
        );
    }

    #[test]
    fn absolute_symlink_stays_inside_the_root() {
        let r = TempRoot::new("abs");
        // On the host this would name the host's /etc; inside the guest it is the rootfs's.
        symlink("/etc/passwd", r.0.join("etc/sub/link")).unwrap();
        symlink("/../../../../etc", r.0.join("up")).unwrap();
        let res = walk(&r, b"/", b"/etc/sub/link", Follow::Final).unwrap();
        assert_eq!(res.guest.display(), "/etc/passwd");
        match res.node {
            Some(Node::Lower(LowerNode::Host { path, .. })) => {
                assert_eq!(path, r.0.join("etc/passwd"))
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            guest(walk(&r, b"/", b"/up/passwd", Follow::Final)),
            "/etc/passwd"
        );
        // Not following the final symlink leaves the link itself.
        let res = walk(&r, b"/", b"/etc/sub/link", Follow::NotFinal).unwrap();
        assert!(res.node.unwrap().is_symlink());
    }

    #[test]
    fn symlink_loops_give_eloop() {
        let r = TempRoot::new("loop");
        symlink("b", r.0.join("a")).unwrap();
        symlink("a", r.0.join("b")).unwrap();
        symlink("self/x", r.0.join("self")).unwrap();
        assert_eq!(
            walk(&r, b"/", b"/a", Follow::Final).unwrap_err(),
            Errno::ELOOP
        );
        assert_eq!(
            walk(&r, b"/", b"/self", Follow::Final).unwrap_err(),
            Errno::ELOOP
        );
        // Not following the last component never loops.
        assert!(walk(&r, b"/", b"/a", Follow::NotFinal).is_ok());
        assert_eq!(
            walk(&r, b"/", b"/a/x", Follow::NotFinal).unwrap_err(),
            Errno::ELOOP
        );
    }

    #[test]
    fn missing_and_not_a_directory() {
        let r = TempRoot::new("missing");
        let res = walk(&r, b"/", b"/etc/nope", Follow::Final).unwrap();
        assert!(res.node.is_none());
        assert_eq!(res.guest.display(), "/etc/nope");
        assert_eq!(
            walk(&r, b"/", b"/nope/x", Follow::Final).unwrap_err(),
            Errno::ENOENT
        );
        assert_eq!(
            walk(&r, b"/", b"/etc/passwd/x", Follow::Final).unwrap_err(),
            Errno::ENOTDIR
        );
        assert_eq!(
            walk(&r, b"/", b"/etc/passwd/", Follow::Final).unwrap_err(),
            Errno::ENOTDIR
        );
        assert_eq!(
            walk(&r, b"/", b"", Follow::Final).unwrap_err(),
            Errno::ENOENT
        );
    }

    #[test]
    fn names_and_paths_that_are_too_long() {
        let r = TempRoot::new("long");
        let name = "n".repeat(NAME_MAX + 1);
        assert_eq!(
            walk(&r, b"/", format!("/etc/{name}").as_bytes(), Follow::Final).unwrap_err(),
            Errno::ENAMETOOLONG
        );
        let ok = "n".repeat(NAME_MAX);
        assert!(
            walk(&r, b"/", format!("/etc/{ok}").as_bytes(), Follow::Final)
                .unwrap()
                .node
                .is_none()
        );
        let path = "a/".repeat(PATH_MAX / 2);
        assert_eq!(
            walk(&r, b"/", path.as_bytes(), Follow::Final).unwrap_err(),
            Errno::ENAMETOOLONG
        );
    }

    #[test]
    fn trailing_slashes_and_dot_dot_through_symlinks() {
        let r = TempRoot::new("slash");
        symlink("etc/sub", r.0.join("sublink")).unwrap();
        // `..` after a symlink is taken from where the link led, as the kernel does.
        assert_eq!(
            guest(walk(&r, b"/", b"/sublink/../passwd", Follow::Final)),
            "/etc/passwd"
        );
        // A missing last component with a slash: the caller decides (mkdir may, open may not).
        let res = walk(&r, b"/", b"/etc/newdir/", Follow::NotFinal).unwrap();
        assert!(res.node.is_none() && res.trailing_slash);
        // A trailing slash follows a final symlink even without Follow::Final.
        let res = walk(&r, b"/", b"/sublink/", Follow::NotFinal).unwrap();
        assert_eq!(res.guest.display(), "/etc/sub");
        assert!(res.node.unwrap().is_dir());
        assert_eq!(
            guest(walk(&r, b"/etc", b"sub//./", Follow::Final)),
            "/etc/sub"
        );
    }

    #[test]
    fn forty_links_are_followed_and_the_forty_first_is_eloop() {
        let r = TempRoot::new("chain");
        symlink("/etc/passwd", r.0.join("l0")).unwrap();
        for i in 1..=40 {
            symlink(format!("l{}", i - 1), r.0.join(format!("l{i}"))).unwrap();
        }
        assert_eq!(guest(walk(&r, b"/", b"/l39", Follow::Final)), "/etc/passwd");
        assert_eq!(
            walk(&r, b"/", b"/l40", Follow::Final).unwrap_err(),
            Errno::ELOOP
        );
    }

    #[test]
    fn proc_self_exe_is_a_symlink_to_the_program() {
        let r = TempRoot::new("proc");
        std::fs::create_dir_all(r.0.join("bin")).unwrap();
        std::fs::write(r.0.join("bin/prog"), b"\x7fELF").unwrap();
        let res = walk(&r, b"/", b"/proc/self/exe", Follow::NotFinal).unwrap();
        assert_eq!(res.guest.display(), "/proc/1/exe");
        assert!(
            matches!(&res.node, Some(Node::Proc(ProcNode::Symlink(t))) if t == b"/bin/prog"),
            "{res:?}"
        );
        assert_eq!(
            guest(walk(&r, b"/", b"/proc/self/exe", Follow::Final)),
            "/bin/prog"
        );
        assert_eq!(
            walk(&r, b"/", b"/proc/2/exe", Follow::Final).unwrap_err(),
            Errno::ENOENT
        );
    }
}
