//! `/proc`, as far as one process needs it: `/proc/self` and `/proc/<pid>/exe`.
//!
//! Entries are computed from the calling process on every lookup; nothing is stored. The path
//! walk in [`super::path`] hands everything below the `/proc` mount point to [`lookup`].

use super::GuestPathBuf;

/// What `/proc` needs to know about the process looking at it.
pub struct ProcSelf<'a> {
    pub pid: u32,
    pub exe: &'a GuestPathBuf,
}

/// A `/proc` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcNode {
    Dir,
    /// A symlink and its target (`/proc/self` → `1`, `/proc/1/exe` → `/bin/sh`).
    Symlink(Vec<u8>),
}

/// The node at `components` below `/proc`, or `None` (`ENOENT`).
pub fn lookup(components: &[&[u8]], me: &ProcSelf) -> Option<ProcNode> {
    let pid = me.pid.to_string();
    match components {
        [] => Some(ProcNode::Dir),
        [b"self"] => Some(ProcNode::Symlink(pid.into_bytes())),
        [p] if *p == pid.as_bytes() => Some(ProcNode::Dir),
        [p, b"exe"] if *p == pid.as_bytes() => Some(ProcNode::Symlink(me.exe.as_bytes().to_vec())),
        _ => None,
    }
}
