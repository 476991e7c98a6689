//! The writable upper layer over the read-only rootfs: every create, write, rename, delete and
//! metadata change lands here, in memory, and the host tree is never modified.
//!
//! The upper layer maps normalised guest paths to [`Entry`]s, like overlayfs's upper directory:
//! - a path with no entry shows the lower (host) file at the same path, unless its parent is an
//!   *opaque* upper directory;
//! - [`Entry::Whiteout`] hides a lower file that was deleted;
//! - [`Entry::Node`] is an upper inode. Hard links are two paths holding one [`InodeRef`], and an
//!   open file holds its inode, so unlinking a file that is open keeps its data readable.
//!
//! Invariants: an opaque directory has every child in the upper map (creating one, or moving a
//! directory, copies the lower children's *entries* up, never their data), so a path is only
//! ever merged with the lower file at the same guest path. Copy-up of a lower file's data
//! happens on the first open for writing, one file at a time; a file copied up for a metadata
//! change only (`chmod`, `link`, `rename`) keeps reading its bytes lazily from the host.
//!
//! File data of the upper layer lives in the runtime's memory, so like tmpfs pages under a
//! memory cgroup (`mm/shmem.c: shmem_charge`) it is charged against the memory limit: a
//! write, truncation or copy-up that would pass it fails with `ENOSPC`, the answer of a full
//! tmpfs, instead of growing the runtime's heap until it traps.
//!
//! Below a host directory's mount point nothing lands here: each change below hands nodes of
//! [`super::hostdir`] (and names in a mount) over to it, which changes the host directory.

use super::lower::LowerNode;
use super::path::Node;
use super::procfs::{self, ProcSelf};
use super::{GuestPathBuf, Vfs, ino_of};
use crate::abi::Errno;
use crate::abi::fs::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, Stat, StatTime};
use crate::host;
use ctr2wasm_emulator::mmu::Charge;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Largest size a file of the upper layer may grow to (`s_maxbytes`): writes or truncations
/// past it get `EFBIG` instead of asking the host for a multi-gigabyte buffer.
pub const MAX_FILE_BYTES: u64 = 1 << 32;

/// First inode number handed to files created in the upper layer, far above what an image's
/// own file system numbers its files, so the two never collide.
const FIRST_UPPER_INO: u64 = 1 << 48;

pub type InodeRef = Rc<RefCell<Inode>>;

/// What an upper inode holds.
#[derive(Debug)]
pub enum Content {
    /// A regular file's bytes.
    Data(Vec<u8>),
    /// A regular file whose bytes are still those of this lower file.
    Lower(LowerNode),
    /// A directory. Opaque ones hide the lower directory at the same path.
    Dir {
        opaque: bool,
    },
    Symlink(Vec<u8>),
    /// A character device (`/dev/null` and friends), by device number.
    Device(u64),
}

#[derive(Debug)]
pub struct Inode {
    /// File type and permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub ino: u64,
    pub nlink: u32,
    pub atime: StatTime,
    pub mtime: StatTime,
    pub ctime: StatTime,
    pub content: Content,
    /// What the bytes of a [`Content::Data`] hold charged against the memory limit: the
    /// buffer's capacity, in whole pages.
    data_charge: Charge,
}

/// Most a file's buffer grows past what a write needs at once, bounding the capacity that
/// doubling would leave unused (and charged).
const MAX_SLACK: usize = 16 << 20;

/// `bytes` rounded up to whole pages, as tmpfs allocates.
fn in_pages(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(4096) * 4096
}

impl Inode {
    pub fn is_dir(&self) -> bool {
        matches!(self.content, Content::Dir { .. })
    }

    /// The file's size in bytes (`st_size`).
    pub fn size(&self) -> u64 {
        match &self.content {
            Content::Data(d) => d.len() as u64,
            Content::Lower(l) => l.size(),
            Content::Dir { .. } => 4096,
            Content::Symlink(t) => t.len() as u64,
            Content::Device(_) => 0,
        }
    }

    pub fn stat(&self) -> Stat {
        let size = self.size();
        let rdev = match self.content {
            Content::Device(rdev) => rdev,
            _ => 0,
        };
        let (dev, ino) = if rdev == super::devfs::PTS0_RDEV {
            (super::devfs::PTS_DEV, super::devfs::PTS0_INO)
        } else {
            (host::ROOTFS_DEV, self.ino)
        };
        Stat {
            dev,
            ino,
            mode: self.mode,
            nlink: self.nlink,
            uid: self.uid,
            gid: self.gid,
            rdev,
            size: i64::try_from(size).unwrap_or(i64::MAX),
            blksize: 4096,
            // Allocated in 4 KiB blocks, counted in 512-byte units.
            blocks: i64::try_from(size.div_ceil(4096) * 8).unwrap_or(i64::MAX),
            atime: self.atime,
            mtime: self.mtime,
            ctime: self.ctime,
        }
    }

    /// A regular file with an execute bit (`X_OK` for root, and `execve`).
    pub fn is_executable_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG && self.mode & 0o111 != 0
    }

    /// A regular file's whole contents (for `execve`, which reads the image anyway).
    pub fn read_all(&self) -> Result<Vec<u8>, Errno> {
        match &self.content {
            Content::Data(d) => Ok(d.clone()),
            Content::Lower(l) => l.read_all(),
            Content::Dir { .. } => Err(Errno::EISDIR),
            _ => Err(Errno::EACCES),
        }
    }

    /// Makes the bytes of a [`Content::Lower`] file the inode's own (copy-up of data).
    pub fn materialise(&mut self) -> Result<&mut Vec<u8>, Errno> {
        if let Content::Lower(l) = &self.content {
            let l = l.clone();
            let size = usize::try_from(l.size()).map_err(|_| Errno::EFBIG)?;
            self.charge_capacity(size)?;
            let copied = l.read_all().map(|data| self.content = Content::Data(data));
            // The charge becomes what the copy holds, or nothing if the read failed.
            self.sync_charge();
            copied?;
        }
        match &mut self.content {
            Content::Data(d) => Ok(d),
            Content::Dir { .. } => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Empties a regular file (`O_TRUNC`), giving its pages back.
    pub fn clear_data(&mut self) {
        self.content = Content::Data(Vec::new());
        self.sync_charge();
        self.touch_modified();
    }

    /// Charges a buffer of `capacity` bytes, or `ENOSPC` past the memory limit. Never lowers
    /// the charge: [`Self::sync_charge`] does, once the buffer is what it will be.
    fn charge_capacity(&mut self, capacity: usize) -> Result<(), Errno> {
        let want = in_pages(capacity);
        let have = self.data_charge.bytes();
        if want > have && !self.data_charge.try_grow(want - have) {
            return Err(Errno::ENOSPC);
        }
        Ok(())
    }

    /// Makes the charge what the buffer holds now.
    fn sync_charge(&mut self) {
        let capacity = match &self.content {
            Content::Data(d) => d.capacity(),
            _ => 0,
        };
        self.data_charge.set_unchecked(in_pages(capacity));
    }

    /// Grows the file's buffer so it holds `len` bytes, zero-filled, charging it first.
    fn grow_to(&mut self, len: usize) -> Result<(), Errno> {
        let data = self.materialise()?;
        let (old_len, old_capacity) = (data.len(), data.capacity());
        if len <= old_len {
            return Ok(());
        }
        if len > old_capacity {
            // Amortised growth, as `Vec` does, but with bounded slack.
            let capacity = len.max(
                old_capacity
                    .saturating_mul(2)
                    .min(len.saturating_add(MAX_SLACK)),
            );
            self.charge_capacity(capacity)?;
            let data = self.materialise()?;
            if data.try_reserve_exact(capacity - data.len()).is_err() {
                self.sync_charge();
                return Err(Errno::ENOSPC);
            }
        }
        self.materialise()?.resize(len, 0);
        self.sync_charge();
        Ok(())
    }

    /// Sets the size (`ftruncate`), zero-filling growth.
    pub fn truncate(&mut self, len: u64) -> Result<(), Errno> {
        if len > MAX_FILE_BYTES {
            return Err(Errno::EFBIG);
        }
        // On wasm32 a size past 4 GiB does not even fit in `usize`.
        let len = usize::try_from(len).map_err(|_| Errno::EFBIG)?;
        let data = self.materialise()?;
        if len < data.len() {
            data.truncate(len);
            data.shrink_to(len);
            self.sync_charge();
        } else {
            self.grow_to(len)?;
        }
        self.touch_modified();
        Ok(())
    }

    /// Writes `buf` at `offset`, growing the file with zeros if the offset is past its end.
    pub fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<usize, Errno> {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= MAX_FILE_BYTES)
            .ok_or(Errno::EFBIG)?;
        let (Ok(offset), Ok(end)) = (usize::try_from(offset), usize::try_from(end)) else {
            return Err(Errno::EFBIG);
        };
        self.grow_to(end)?;
        self.materialise()?[offset..end].copy_from_slice(buf);
        self.touch_modified();
        Ok(buf.len())
    }

    pub fn touch_modified(&mut self) {
        let now = now();
        self.mtime = now;
        self.ctime = now;
    }
}

/// The current time as a stat time stamp.
pub fn now() -> StatTime {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    StatTime {
        sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nsec: u64::from(d.subsec_nanos()),
    }
}

#[derive(Clone, Debug)]
pub enum Entry {
    Whiteout,
    Node(InodeRef),
}

/// The upper layer's entries by guest path.
#[derive(Default)]
pub struct Upper {
    entries: BTreeMap<Vec<u8>, Entry>,
    next_ino: u64,
}

/// The key range of the direct and indirect children of `dir`: `dir/` up to `dir0`
/// (`'0'` follows `'/'` in byte order).
fn below(dir: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut lo = dir.to_vec();
    if lo != b"/" {
        lo.push(b'/');
    }
    let mut hi = lo.clone();
    if let Some(last) = hi.last_mut() {
        *last = b'0';
    }
    (lo, hi)
}

impl Upper {
    pub fn get(&self, path: &GuestPathBuf) -> Option<&Entry> {
        self.entries.get(path.as_bytes())
    }

    /// True when `dir` is an upper directory that hides the lower one.
    pub fn is_opaque(&self, dir: &[u8]) -> bool {
        matches!(self.entries.get(dir), Some(Entry::Node(i)) if matches!(i.borrow().content, Content::Dir { opaque: true }))
    }

    /// A fresh inode owned by root, with the given type, permission bits and content.
    pub fn new_inode(&mut self, mode: u32, content: Content) -> InodeRef {
        let ino = FIRST_UPPER_INO + self.next_ino;
        self.next_ino += 1;
        let t = now();
        Rc::new(RefCell::new(Inode {
            mode,
            uid: 0,
            gid: 0,
            ino,
            nlink: if mode & S_IFMT == S_IFDIR { 2 } else { 1 },
            atime: t,
            mtime: t,
            ctime: t,
            content,
            data_charge: Charge::default(),
        }))
    }

    /// An upper inode standing for the lower file `lower`, keeping its inode number, mode and
    /// times; file data stays in the lower layer. `ino` stands in where the host has none.
    pub fn inode_of_lower(&mut self, lower: &LowerNode, ino: u64) -> Result<InodeRef, Errno> {
        let st = lower.stat(ino);
        let content = match st.mode & S_IFMT {
            S_IFDIR => Content::Dir { opaque: false },
            S_IFLNK => Content::Symlink(lower.read_link()?),
            S_IFREG => Content::Lower(lower.clone()),
            // Device nodes and fifos in an image are not usable without a kernel behind them.
            _ => return Err(Errno::EOPNOTSUPP),
        };
        Ok(Rc::new(RefCell::new(Inode {
            mode: st.mode,
            uid: st.uid,
            gid: st.gid,
            ino: st.ino,
            nlink: st.nlink,
            atime: st.atime,
            mtime: st.mtime,
            ctime: st.ctime,
            content,
            data_charge: Charge::default(),
        })))
    }

    /// Puts `inode` at `path`, replacing a whiteout or an earlier entry.
    pub fn insert(&mut self, path: &GuestPathBuf, inode: InodeRef) {
        self.entries
            .insert(path.as_bytes().to_vec(), Entry::Node(inode));
    }

    /// Removes `path` from the guest's view: a whiteout when a lower file might show through,
    /// nothing at all below an opaque directory.
    pub fn remove(&mut self, path: &GuestPathBuf) {
        let key = path.as_bytes();
        if let Some(Entry::Node(i)) = self.entries.get(key) {
            let mut i = i.borrow_mut();
            i.nlink = i.nlink.saturating_sub(1);
            i.ctime = now();
        }
        if self.is_opaque(parent_of(key)) {
            self.entries.remove(key);
        } else {
            self.entries.insert(key.to_vec(), Entry::Whiteout);
        }
        // A removed directory's leftovers (whiteouts) must not reappear under a new one.
        let (lo, hi) = below(key);
        let doomed: Vec<Vec<u8>> = self.entries.range(lo..hi).map(|(k, _)| k.clone()).collect();
        for k in doomed {
            self.entries.remove(&k);
        }
    }

    pub fn insert_whiteout(&mut self, path: &GuestPathBuf) {
        self.entries
            .insert(path.as_bytes().to_vec(), Entry::Whiteout);
    }

    /// Drops the entry at `path` entirely (a whiteout below a directory turned opaque).
    fn forget(&mut self, path: &GuestPathBuf) {
        self.entries.remove(path.as_bytes());
    }

    /// The upper entries directly inside `dir`, by name.
    pub fn children(&self, dir: &[u8]) -> Vec<(Vec<u8>, Entry)> {
        let (lo, hi) = below(dir);
        let skip = lo.len();
        self.entries
            .range(lo..hi)
            .filter(|(k, _)| k.len() > skip && !k[skip..].contains(&b'/'))
            .map(|(k, e)| (k[skip..].to_vec(), e.clone()))
            .collect()
    }

    /// Moves `from` and everything below it to `to` (both upper; `from`'s subtree must be
    /// complete in the upper layer, see [`Upper::is_opaque`]).
    pub fn move_tree(&mut self, from: &[u8], to: &[u8]) {
        let (lo, hi) = below(from);
        let moved: Vec<Vec<u8>> = self.entries.range(lo..hi).map(|(k, _)| k.clone()).collect();
        // Drop whatever the destination held below it: the caller checked it is empty.
        let (dlo, dhi) = below(to);
        let stale: Vec<Vec<u8>> = self
            .entries
            .range(dlo..dhi)
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            self.entries.remove(&k);
        }
        if let Some(e) = self.entries.remove(from) {
            self.entries.insert(to.to_vec(), e);
        }
        for k in moved {
            if let Some(e) = self.entries.remove(&k) {
                let mut nk = to.to_vec();
                nk.extend_from_slice(&k[from.len()..]);
                if !matches!(e, Entry::Whiteout) {
                    self.entries.insert(nk, e);
                }
            }
        }
    }
}

/// The parent of a normalised guest path (`/` for top-level names and the root itself).
pub fn parent_of(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(0) | None => b"/",
        Some(i) => &path[..i],
    }
}

/// One name of a directory listing (`getdents64`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: Vec<u8>,
    pub ino: u64,
    /// `DT_*`.
    pub dtype: u8,
}

pub(super) fn dtype_of_mode(mode: u32) -> u8 {
    ((mode & S_IFMT) >> 12) as u8
}

/// True for `/proc` and everything below it: no upper entry may be made there.
fn in_proc(path: &GuestPathBuf) -> bool {
    path.components().next() == Some(b"proc")
}

impl Vfs {
    /// Records that an entry of `child`'s parent directory was added or removed: the parent
    /// gets a new mtime, and its link count follows its subdirectories (`dirs` is +1 for a
    /// directory added, -1 for one removed), as `ls -l` shows them.
    fn parent_changed(&mut self, child: &GuestPathBuf, dirs: i32) {
        let parent = GuestPathBuf(parent_of(child.as_bytes()).to_vec());
        let inode = match self.upper.get(&parent) {
            Some(Entry::Node(i)) => Some(i.clone()),
            Some(Entry::Whiteout) => None,
            None => {
                let comps: Vec<Vec<u8>> = parent.components().map(<[u8]>::to_vec).collect();
                match self.lookup_lower(&comps) {
                    Ok(Some(node)) => self.copy_up(&parent, &node).ok(),
                    _ => None,
                }
            }
        };
        if let Some(i) = inode {
            let mut i = i.borrow_mut();
            i.nlink = i.nlink.saturating_add_signed(dirs);
            i.touch_modified();
        }
    }

    /// The upper inode for `node` at `guest`, copying the lower file's entry up (not its data)
    /// on first use: what `chmod`, `link`, `rename` and opening for writing start with.
    pub fn copy_up(&mut self, guest: &GuestPathBuf, node: &Node) -> Result<InodeRef, Errno> {
        match node {
            Node::Upper(i) => Ok(i.clone()),
            Node::Lower(lower) => {
                let inode = self.upper.inode_of_lower(lower, ino_of(guest))?;
                self.upper.insert(guest, inode.clone());
                Ok(inode)
            }
            Node::Proc(_) => Err(Errno::EACCES),
            // A host file changes on the host; nothing of it may move into memory.
            Node::Host(_) => Err(Errno::EXDEV),
        }
    }

    /// Creates a new file, directory or symlink at `guest`, which the walk found missing (or
    /// which the caller already removed).
    pub fn create(
        &mut self,
        guest: &GuestPathBuf,
        mode: u32,
        content: Content,
    ) -> Result<InodeRef, Errno> {
        if in_proc(guest) {
            return Err(Errno::EACCES);
        }
        let (content, dirs) = match content {
            // Nothing of a lower directory that was here before may show through.
            Content::Dir { .. } => (Content::Dir { opaque: true }, 1),
            c => (c, 0),
        };
        let inode = self.upper.new_inode(mode, content);
        self.upper.insert(guest, inode.clone());
        self.parent_changed(guest, dirs);
        Ok(inode)
    }

    /// A regular file with no name yet, in the directory `dir` (`O_TMPFILE`).
    pub fn create_unnamed(&mut self, dir: &GuestPathBuf, mode: u32) -> Result<InodeRef, Errno> {
        // Host directories cannot hold a file without a name either (WASI has no O_TMPFILE).
        if in_proc(dir) || self.mounts.path_of(dir).is_some() {
            return Err(Errno::EOPNOTSUPP);
        }
        let inode = self.upper.new_inode(mode, Content::Data(Vec::new()));
        inode.borrow_mut().nlink = 0;
        Ok(inode)
    }

    /// `unlink`: removes a non-directory.
    pub fn unlink(&mut self, guest: &GuestPathBuf, node: &Node) -> Result<(), Errno> {
        if in_proc(guest) {
            return Err(Errno::EACCES);
        }
        if node.is_dir() {
            return Err(Errno::EISDIR);
        }
        if let Node::Host(h) = node {
            return h.unlink();
        }
        self.upper.remove(guest);
        self.parent_changed(guest, 0);
        Ok(())
    }

    /// `rmdir`: removes an empty directory.
    pub fn rmdir(&mut self, me: &ProcSelf, guest: &GuestPathBuf, node: &Node) -> Result<(), Errno> {
        if !node.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if guest.as_bytes() == b"/" {
            return Err(Errno::EBUSY);
        }
        if in_proc(guest) {
            return Err(Errno::EACCES);
        }
        if let Node::Host(h) = node {
            return h.rmdir();
        }
        if !self.list(me, guest, node)?.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        self.upper.remove(guest);
        self.parent_changed(guest, -1);
        Ok(())
    }

    /// `link`: a second name for the file `node`.
    pub fn link(
        &mut self,
        old: &GuestPathBuf,
        node: &Node,
        new: &GuestPathBuf,
    ) -> Result<(), Errno> {
        if node.is_dir() {
            return Err(Errno::EPERM);
        }
        if in_proc(new) {
            return Err(Errno::EACCES);
        }
        if let Some(done) = self.mounts.link(old, new) {
            return done;
        }
        let inode = self.copy_up(old, node)?;
        {
            let mut i = inode.borrow_mut();
            i.nlink += 1;
            i.ctime = now();
        }
        self.upper.insert(new, inode);
        self.parent_changed(new, 0);
        Ok(())
    }

    /// `renameat2` without flags or with `RENAME_NOREPLACE` (checked by the caller): moves
    /// `old` to `new`, replacing `replaced` (the node at `new`, if any).
    pub fn rename(
        &mut self,
        me: &ProcSelf,
        old: &GuestPathBuf,
        node: &Node,
        new: &GuestPathBuf,
        replaced: Option<&Node>,
    ) -> Result<(), Errno> {
        if in_proc(old) || in_proc(new) {
            return Err(Errno::EACCES);
        }
        if old == new {
            return Ok(());
        }
        if let Some(done) = self.mounts.rename(old, new) {
            return done;
        }
        let (ob, nb) = (old.as_bytes(), new.as_bytes());
        if ob == b"/" || nb == b"/" {
            return Err(Errno::EBUSY);
        }
        // A directory cannot move below itself.
        if nb.starts_with(ob) && nb.get(ob.len()) == Some(&b'/') {
            return Err(Errno::EINVAL);
        }
        if let Some(r) = replaced {
            if let (Node::Upper(a), Node::Upper(b)) = (node, r)
                && Rc::ptr_eq(a, b)
            {
                // Two names of one file: POSIX says do nothing.
                return Ok(());
            }
            match (node.is_dir(), r.is_dir()) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !self.list(me, new, r)?.is_empty() => {
                    return Err(Errno::ENOTEMPTY);
                }
                _ => {}
            }
            if let Node::Upper(i) = r {
                let mut i = i.borrow_mut();
                i.nlink = i.nlink.saturating_sub(1);
            }
        }
        if node.is_dir() {
            self.complete_dir(old, node)?;
        } else {
            self.copy_up(old, node)?;
        }
        self.upper.move_tree(ob, nb);
        if !self.upper.is_opaque(parent_of(ob)) {
            self.upper.insert_whiteout(old);
        }
        if let Some(Entry::Node(i)) = self.upper.get(new) {
            i.borrow_mut().ctime = now();
        }
        let moved_dirs = i32::from(node.is_dir());
        let replaced_dirs = i32::from(replaced.is_some_and(Node::is_dir));
        self.parent_changed(old, -moved_dirs);
        self.parent_changed(new, moved_dirs - replaced_dirs);
        Ok(())
    }

    /// `RENAME_EXCHANGE`: swaps two existing names.
    pub fn exchange(
        &mut self,
        a: &GuestPathBuf,
        a_node: &Node,
        b: &GuestPathBuf,
        b_node: &Node,
    ) -> Result<(), Errno> {
        if in_proc(a) || in_proc(b) {
            return Err(Errno::EACCES);
        }
        let (ab, bb) = (a.as_bytes(), b.as_bytes());
        let inside = |x: &[u8], y: &[u8]| x.starts_with(y) && x.get(y.len()) == Some(&b'/');
        if inside(ab, bb) || inside(bb, ab) {
            return Err(Errno::EINVAL);
        }
        if a == b {
            return Ok(());
        }
        if let Some(done) = self.mounts.exchange(a, b) {
            return done;
        }
        for (p, n) in [(a, a_node), (b, b_node)] {
            if n.is_dir() {
                self.complete_dir(p, n)?;
            } else {
                self.copy_up(p, n)?;
            }
        }
        // A key no guest path can have (guest paths start with '/').
        let tmp = b"\0exchange";
        self.upper.move_tree(ab, tmp);
        self.upper.move_tree(bb, ab);
        self.upper.move_tree(tmp, bb);
        Ok(())
    }

    /// Makes the directory `node` at `guest` an opaque upper directory whose whole subtree is
    /// in the upper layer (entries only: file data stays on the host), so it can move.
    fn complete_dir(&mut self, guest: &GuestPathBuf, node: &Node) -> Result<(), Errno> {
        let inode = self.copy_up(guest, node)?;
        if matches!(inode.borrow().content, Content::Dir { opaque: true }) {
            return Ok(());
        }
        let comps: Vec<Vec<u8>> = guest.components().map(<[u8]>::to_vec).collect();
        if let Some(Node::Lower(dir)) = self.lookup_lower(&comps)? {
            for (name, lower) in self.lower.list(&dir) {
                let child = guest.join(&name);
                if self.upper.get(&child).is_some() {
                    continue;
                }
                // Device nodes and sockets of an image have no meaning here: leave them out.
                let Ok(i) = self.upper.inode_of_lower(&lower, ino_of(&child)) else {
                    continue;
                };
                self.upper.insert(&child, i);
            }
        }
        for (name, e) in self.upper.children(guest.as_bytes()) {
            if let Entry::Node(i) = e
                && i.borrow().is_dir()
            {
                let child = guest.join(&name);
                self.complete_dir(&child, &Node::Upper(i))?;
            }
        }
        let whiteouts: Vec<Vec<u8>> = self
            .upper
            .children(guest.as_bytes())
            .into_iter()
            .filter(|(_, e)| matches!(e, Entry::Whiteout))
            .map(|(n, _)| n)
            .collect();
        for n in whiteouts {
            self.upper.forget(&guest.join(&n));
        }
        inode.borrow_mut().content = Content::Dir { opaque: true };
        Ok(())
    }

    /// The names in directory `node` at `guest`, without `.` and `..`, sorted: the lower
    /// directory's names merged with the upper layer's, less the whited-out ones.
    pub fn list(
        &self,
        me: &ProcSelf,
        guest: &GuestPathBuf,
        node: &Node,
    ) -> Result<Vec<DirEntry>, Errno> {
        let comps: Vec<&[u8]> = guest.components().collect();
        if let Node::Proc(_) = node {
            let inner = comps.get(1..).unwrap_or_default();
            return Ok(procfs::list(inner, me)
                .into_iter()
                .map(|(name, dtype)| {
                    let ino = ino_of(&guest.join(&name));
                    DirEntry { name, ino, dtype }
                })
                .collect());
        }
        if !node.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if let Node::Host(h) = node {
            return h.list(guest);
        }
        let mut names: BTreeMap<Vec<u8>, DirEntry> = BTreeMap::new();
        let opaque = match node {
            Node::Upper(i) => matches!(i.borrow().content, Content::Dir { opaque: true }),
            _ => false,
        };
        let lower_dir = match node {
            Node::Lower(l) => Some(l.clone()),
            _ if opaque => None,
            _ => {
                let comps: Vec<Vec<u8>> = comps.iter().map(|c| c.to_vec()).collect();
                match self.lookup_lower(&comps)? {
                    Some(Node::Lower(l)) if l.is_dir() => Some(l),
                    _ => None,
                }
            }
        };
        if let Some(dir) = lower_dir {
            for (name, lower) in self.lower.list(&dir) {
                let st = lower.stat(ino_of(&guest.join(&name)));
                let d = DirEntry {
                    name: name.clone(),
                    ino: st.ino,
                    dtype: dtype_of_mode(st.mode),
                };
                names.insert(name, d);
            }
        }
        for (name, e) in self.upper.children(guest.as_bytes()) {
            match e {
                Entry::Whiteout => {
                    names.remove(&name);
                }
                Entry::Node(i) => {
                    let i = i.borrow();
                    let d = DirEntry {
                        name: name.clone(),
                        ino: i.ino,
                        dtype: dtype_of_mode(i.mode),
                    };
                    names.insert(name, d);
                }
            }
        }
        if comps.is_empty() {
            names.insert(
                b"proc".to_vec(),
                DirEntry {
                    name: b"proc".to_vec(),
                    ino: ino_of(&guest.join(b"proc")),
                    dtype: dtype_of_mode(S_IFDIR),
                },
            );
        }
        Ok(names.into_values().collect())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::vfs::lower::Lower;
    use crate::vfs::path::{Follow, Resolved};
    use std::os::unix::fs::symlink;

    /// A host rootfs: `/etc/passwd`, `/etc/sub/deep`, `/data/{a,b}`, symlink `/lnk -> /etc`.
    struct HostRoot(std::path::PathBuf);

    impl HostRoot {
        fn new(name: &str) -> HostRoot {
            let p = std::env::temp_dir()
                .join(format!("ctr2wasm-overlay-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(p.join("etc/sub")).unwrap();
            std::fs::create_dir_all(p.join("data")).unwrap();
            std::fs::write(p.join("etc/passwd"), b"root:x:0:0").unwrap();
            std::fs::write(p.join("etc/sub/deep"), b"deep").unwrap();
            std::fs::write(p.join("data/a"), b"A").unwrap();
            std::fs::write(p.join("data/b"), b"B").unwrap();
            symlink("/etc", p.join("lnk")).unwrap();
            HostRoot(p)
        }
    }

    impl Drop for HostRoot {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn walk(vfs: &Vfs, path: &str) -> Result<Resolved, Errno> {
        let exe = GuestPathBuf::root();
        vfs.resolve(
            &ProcSelf::nobody(&exe),
            &GuestPathBuf::root(),
            path.as_bytes(),
            Follow::NotFinal,
        )
    }

    fn node(vfs: &Vfs, path: &str) -> (GuestPathBuf, Node) {
        walk(vfs, path).unwrap().existing().unwrap()
    }

    fn names(vfs: &Vfs, path: &str) -> Vec<String> {
        let (g, n) = node(vfs, path);
        let exe = GuestPathBuf::root();
        vfs.list(&ProcSelf::nobody(&exe), &g, &n)
            .unwrap()
            .into_iter()
            .map(|e| String::from_utf8(e.name).unwrap())
            .collect()
    }

    fn contents(vfs: &Vfs, path: &str) -> Vec<u8> {
        match node(vfs, path).1 {
            Node::Upper(i) => i.borrow().read_all().unwrap(),
            Node::Lower(l) => l.read_all().unwrap(),
            Node::Proc(_) | Node::Host(_) => panic!("not an overlay node"),
        }
    }

    fn missing(vfs: &Vfs, path: &str) -> bool {
        walk(vfs, path).unwrap().node.is_none()
    }

    #[test]
    fn create_and_write_stay_in_memory() {
        let l = HostRoot::new("create");
        let mut vfs = Vfs::new(Lower::Host(l.0.clone()));
        let r = walk(&vfs, "/etc/new").unwrap();
        assert!(r.node.is_none());
        let i = vfs
            .create(&r.guest, S_IFREG | 0o644, Content::Data(Vec::new()))
            .unwrap();
        i.borrow_mut().write_at(3, b"xyz").unwrap();
        assert_eq!(contents(&vfs, "/etc/new"), b"\0\0\0xyz");
        assert!(!l.0.join("etc/new").exists(), "the host rootfs was written");
        assert_eq!(names(&vfs, "/etc"), ["new", "passwd", "sub"]);
    }

    #[test]
    fn copy_up_keeps_the_host_file_untouched() {
        let l = HostRoot::new("copyup");
        let mut vfs = Vfs::new(Lower::Host(l.0.clone()));
        let (g, n) = node(&vfs, "/etc/passwd");
        let i = vfs.copy_up(&g, &n).unwrap();
        assert!(matches!(i.borrow().content, Content::Lower(_)));
        i.borrow_mut().write_at(0, b"ROOT").unwrap();
        assert_eq!(contents(&vfs, "/etc/passwd"), b"ROOT:x:0:0");
        assert_eq!(
            std::fs::read(l.0.join("etc/passwd")).unwrap(),
            b"root:x:0:0"
        );
        i.borrow_mut().truncate(2).unwrap();
        assert_eq!(i.borrow().stat().size, 2);
    }

    #[test]
    fn unlink_leaves_a_whiteout_and_create_replaces_it() {
        let l = HostRoot::new("whiteout");
        let mut vfs = Vfs::new(Lower::Host(l.0.clone()));
        let (g, n) = node(&vfs, "/data/a");
        vfs.unlink(&g, &n).unwrap();
        assert!(missing(&vfs, "/data/a"));
        assert_eq!(names(&vfs, "/data"), ["b"]);
        assert!(l.0.join("data/a").exists());
        vfs.create(&g, S_IFREG | 0o600, Content::Data(b"new".to_vec()))
            .unwrap();
        assert_eq!(contents(&vfs, "/data/a"), b"new");
        assert_eq!(names(&vfs, "/data"), ["a", "b"]);
    }

    #[test]
    fn rmdir_needs_an_empty_directory_and_mkdir_over_it_is_opaque() {
        let l = HostRoot::new("rmdir");
        let mut vfs = Vfs::new(Lower::Host(l.0.clone()));
        let exe = GuestPathBuf::root();
        let me = ProcSelf::nobody(&exe);
        let (g, n) = node(&vfs, "/data");
        assert_eq!(vfs.rmdir(&me, &g, &n).unwrap_err(), Errno::ENOTEMPTY);
        for f in ["/data/a", "/data/b"] {
            let (fg, fnode) = node(&vfs, f);
            vfs.unlink(&fg, &fnode).unwrap();
        }
        let (g, n) = node(&vfs, "/data");
        vfs.rmdir(&me, &g, &n).unwrap();
        assert!(missing(&vfs, "/data"));
        vfs.create(&g, S_IFDIR | 0o755, Content::Dir { opaque: false })
            .unwrap();
        assert!(names(&vfs, "/data").is_empty());
        assert!(missing(&vfs, "/data/a"));
    }

    #[test]
    fn directory_link_counts_follow_subdirectories() {
        let l = HostRoot::new("nlink");
        let mut vfs = Vfs::new(Lower::Host(l.0.clone()));
        let exe = GuestPathBuf::root();
        let me = ProcSelf::nobody(&exe);
        let nlink = |vfs: &Vfs, p: &str| match node(vfs, p).1 {
            Node::Upper(i) => i.borrow().nlink,
            Node::Lower(l) => l.stat(0).nlink,
            Node::Proc(_) | Node::Host(_) => 0,
        };
        let base = nlink(&vfs, "/data");
        let x = walk(&vfs, "/data/x").unwrap().guest;
        vfs.create(&x, S_IFDIR | 0o755, Content::Dir { opaque: true })
            .unwrap();
        assert_eq!(nlink(&vfs, "/data"), base + 1);
        let (g, n) = node(&vfs, "/data/x");
        let to = walk(&vfs, "/etc/x").unwrap().guest;
        let etc = nlink(&vfs, "/etc");
        vfs.rename(&me, &g, &n, &to, None).unwrap();
        assert_eq!(nlink(&vfs, "/data"), base);
        assert_eq!(nlink(&vfs, "/etc"), etc + 1);
        let (g, n) = node(&vfs, "/etc/x");
        vfs.rmdir(&me, &g, &n).unwrap();
        assert_eq!(nlink(&vfs, "/etc"), etc);
    }

    #[test]
    fn rename_moves_a_lower_directory_with_its_contents() {
        let l = HostRoot::new("rename");
        let mut vfs = Vfs::new(Lower::Host(l.0.clone()));
        let exe = GuestPathBuf::root();
        let me = ProcSelf::nobody(&exe);
        let (g, n) = node(&vfs, "/etc");
        let dest = walk(&vfs, "/data/etc2").unwrap();
        vfs.rename(&me, &g, &n, &dest.guest, None).unwrap();
        assert!(missing(&vfs, "/etc"));
        assert_eq!(names(&vfs, "/data/etc2"), ["passwd", "sub"]);
        assert_eq!(contents(&vfs, "/data/etc2/sub/deep"), b"deep");
        assert_eq!(names(&vfs, "/"), ["data", "dev", "lnk", "proc", "tmp"]);
        assert!(l.0.join("etc/passwd").exists());
        // Onto an existing file: replaced; a directory onto a file: ENOTDIR.
        let (a, an) = node(&vfs, "/data/a");
        let (b, bn) = node(&vfs, "/data/b");
        vfs.rename(&me, &a, &an, &b, Some(&bn)).unwrap();
        assert_eq!(contents(&vfs, "/data/b"), b"A");
        assert!(missing(&vfs, "/data/a"));
        let (d, dn) = node(&vfs, "/data/etc2");
        let (b, bn) = node(&vfs, "/data/b");
        assert_eq!(
            vfs.rename(&me, &d, &dn, &b, Some(&bn)).unwrap_err(),
            Errno::ENOTDIR
        );
        // Into itself: EINVAL.
        let inner = walk(&vfs, "/data/etc2/sub/x").unwrap();
        assert_eq!(
            vfs.rename(&me, &d, &dn, &inner.guest, None).unwrap_err(),
            Errno::EINVAL
        );
    }

    #[test]
    fn hard_links_share_one_inode() {
        let l = HostRoot::new("link");
        let mut vfs = Vfs::new(Lower::Host(l.0.clone()));
        let (g, n) = node(&vfs, "/data/a");
        let new = walk(&vfs, "/tmp/a2").unwrap();
        vfs.link(&g, &n, &new.guest).unwrap();
        let (Node::Upper(x), Node::Upper(y)) = (node(&vfs, "/data/a").1, node(&vfs, "/tmp/a2").1)
        else {
            panic!("links are upper inodes");
        };
        assert!(Rc::ptr_eq(&x, &y));
        assert_eq!(x.borrow().nlink, 2);
        y.borrow_mut().write_at(1, b"!").unwrap();
        assert_eq!(contents(&vfs, "/data/a"), b"A!");
        let (g2, n2) = node(&vfs, "/data/a");
        vfs.unlink(&g2, &n2).unwrap();
        assert_eq!(x.borrow().nlink, 1);
        assert_eq!(contents(&vfs, "/tmp/a2"), b"A!");
        let (d, dn) = node(&vfs, "/data");
        assert_eq!(
            vfs.link(&d, &dn, &walk(&vfs, "/d2").unwrap().guest)
                .unwrap_err(),
            Errno::EPERM
        );
    }

    #[test]
    fn symlinks_in_the_upper_layer_resolve_inside_the_root() {
        let l = HostRoot::new("symlink");
        let mut vfs = Vfs::new(Lower::Host(l.0.clone()));
        let r = walk(&vfs, "/tmp/pw").unwrap();
        vfs.create(
            &r.guest,
            S_IFLNK | 0o777,
            Content::Symlink(b"../../../lnk/passwd".to_vec()),
        )
        .unwrap();
        let exe = GuestPathBuf::root();
        let res = vfs
            .resolve(
                &ProcSelf::nobody(&exe),
                &GuestPathBuf::root(),
                b"/tmp/pw",
                Follow::Final,
            )
            .unwrap();
        assert_eq!(res.guest.display(), "/etc/passwd");
    }

    #[test]
    fn dev_and_tmp_exist_and_proc_is_listed() {
        let l = HostRoot::new("mounts");
        let vfs = Vfs::new(Lower::Host(l.0.clone()));
        assert_eq!(
            names(&vfs, "/dev"),
            [
                "fd", "full", "null", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty",
                "urandom", "zero"
            ]
        );
        let Node::Upper(null) = node(&vfs, "/dev/null").1 else {
            panic!("/dev/null is an upper inode");
        };
        let st = null.borrow().stat();
        assert_eq!(st.mode, crate::abi::fs::S_IFCHR | 0o666);
        assert_eq!(st.rdev, crate::abi::fs::makedev(1, 3));
        let Node::Upper(tmp) = node(&vfs, "/tmp").1 else {
            panic!("/tmp is made when the image has none");
        };
        assert_eq!(tmp.borrow().mode, S_IFDIR | 0o1777);
        let exe = GuestPathBuf::root();
        let stdout = vfs
            .resolve(
                &ProcSelf::nobody(&exe),
                &GuestPathBuf::root(),
                b"/dev/stdout",
                Follow::NotFinal,
            )
            .unwrap();
        assert_eq!(
            vfs.read_link(&stdout.node.unwrap()).unwrap(),
            b"/proc/self/fd/1"
        );
    }
}
