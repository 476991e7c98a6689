//! Host frames backing guest pages, shared between address spaces by reference count, and
//! the count of them against the runtime's guest-memory limit.
//!
//! A frame's bytes are only ever reached through raw pointers handed out by the page walk,
//! hence the `UnsafeCell`. Sharing is what makes `fork` copy-on-write: a frame with more than
//! one owner is never written in place.
//!
//! Every frame is counted from creation to drop (the last `Rc` going away), per thread: one
//! runtime is one thread, and all its address spaces draw on the same count. Allocation is
//! refused past the limit, so a guest that touches more memory than the host can give meets
//! the kernel's OOM handling instead of aborting the runtime. Counting happens only when a
//! frame is created or freed, never on the TLB hit path.

use super::PAGE_SIZE;
use std::cell::{Cell, UnsafeCell};
use std::rc::Rc;

pub(crate) struct Frame(UnsafeCell<[u8; PAGE_SIZE as usize]>);

/// Default cap on guest memory, in bytes of frames. It protects the runtime from a guest that
/// touches more memory than the host can give: on wasm32 all of the runtime lives in one
/// linear memory of at most 4 GiB, and 3 GiB of frames leave room for the runtime's own heap
/// (page tables, decode cache, the VFS's upper layer, the bundle). Natively the cap is 16 GiB,
/// a guest larger than that being a runaway rather than a workload.
pub const DEFAULT_MEMORY_LIMIT: u64 = if cfg!(target_pointer_width = "32") {
    3 << 30
} else {
    16 << 30
};

thread_local! {
    /// The frame behind every page that has been read but never written.
    static ZERO: Rc<Frame> = Rc::new(Frame::counted());
    /// Frames alive on this thread (the zero frame included).
    static IN_USE: Cell<u64> = const { Cell::new(0) };
    /// Most frames [`Frame::zeroed`] and [`Frame::copy_of`] will let live at once.
    static LIMIT: Cell<u64> = const { Cell::new(DEFAULT_MEMORY_LIMIT / PAGE_SIZE) };
}

/// Sets the cap on guest memory for the address spaces of this thread, in bytes (rounded down
/// to whole pages). Frames already allocated stay; later allocations fail past the cap.
pub fn set_memory_limit(bytes: u64) {
    LIMIT.with(|l| l.set(bytes / PAGE_SIZE));
}

/// Bytes of guest memory (frames) allocated on this thread.
pub fn memory_in_use() -> u64 {
    IN_USE.with(Cell::get) * PAGE_SIZE
}

/// True when `len_bytes` more bytes of frames fit under this thread's limit, for callers that
/// allocate many frames at once and prefer `ENOMEM` to a fault half-way.
pub fn memory_available(len_bytes: u64) -> bool {
    Frame::available(len_bytes.div_ceil(PAGE_SIZE))
}

impl Frame {
    /// A zero-filled frame, counted without checking the limit.
    fn counted() -> Frame {
        IN_USE.with(|n| n.set(n.get() + 1));
        Frame(UnsafeCell::new([0; PAGE_SIZE as usize]))
    }

    /// `Some` when one more frame fits under the limit.
    fn charge() -> Option<()> {
        Frame::available(1).then_some(())
    }

    /// True when `n` more frames fit under the limit.
    pub(crate) fn available(n: u64) -> bool {
        let (in_use, limit) = (IN_USE.with(Cell::get), LIMIT.with(Cell::get));
        in_use.saturating_add(n) <= limit
    }

    /// A fresh zero-filled frame, or `None` at the memory limit.
    pub(crate) fn zeroed() -> Option<Rc<Frame>> {
        Frame::charge()?;
        Some(Rc::new(Frame::counted()))
    }

    /// A private copy of `other` (breaking copy-on-write), or `None` at the memory limit.
    pub(crate) fn copy_of(other: &Frame) -> Option<Rc<Frame>> {
        Frame::charge()?;
        let copy = Frame::counted();
        // SAFETY: `copy` is new and not yet shared; see `bytes` for `other`.
        unsafe { *copy.0.get() = *other.bytes() };
        Some(Rc::new(copy))
    }

    pub(crate) fn shared_zero() -> Rc<Frame> {
        ZERO.with(Rc::clone)
    }

    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.0.get().cast()
    }

    pub(crate) fn bytes(&self) -> &[u8; PAGE_SIZE as usize] {
        // SAFETY: the emulator is single-threaded and no `&mut` to frame bytes is ever
        // created; writes go through raw pointers between calls that read.
        unsafe { &*self.0.get() }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        // `try_with`: the zero frame is dropped while the thread's locals are torn down.
        let _ = IN_USE.try_with(|n| n.set(n.get().saturating_sub(1)));
    }
}
