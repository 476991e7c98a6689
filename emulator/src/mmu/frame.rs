//! Host frames backing guest pages, shared between address spaces by reference count, and
//! the count of them against the runtime's guest-memory limit.
//!
//! A frame's bytes are only ever reached through raw pointers handed out by the page walk,
//! hence the `UnsafeCell`. Sharing is what makes `fork` copy-on-write: a frame with more than
//! one owner is never written in place.
//!
//! Every frame is charged ([`super::charge`]) from creation to drop (the last `Rc` going
//! away). Allocation is refused past the limit, so a guest that touches more memory than the
//! host can give meets the kernel's OOM handling instead of aborting the runtime.

use super::PAGE_SIZE;
use super::charge;
use std::cell::UnsafeCell;
use std::rc::Rc;

pub(crate) struct Frame(UnsafeCell<[u8; PAGE_SIZE as usize]>);

thread_local! {
    /// The frame behind every page that has been read but never written.
    static ZERO: Rc<Frame> = Rc::new(Frame::counted());
}

impl Frame {
    /// A zero-filled frame, charged without checking the limit.
    fn counted() -> Frame {
        charge::charge_unchecked(PAGE_SIZE);
        Frame(UnsafeCell::new([0; PAGE_SIZE as usize]))
    }

    /// `Some` when one more frame fits under the limit, which [`Frame::counted`] then charges.
    fn charge() -> Option<()> {
        charge::memory_available(PAGE_SIZE).then_some(())
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
        charge::uncharge(PAGE_SIZE);
    }
}
