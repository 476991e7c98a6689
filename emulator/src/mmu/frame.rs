//! Host frames backing guest pages, shared between address spaces by reference count.
//!
//! A frame's bytes are only ever reached through raw pointers handed out by the page walk,
//! hence the `UnsafeCell`. Sharing is what makes `fork` copy-on-write: a frame with more than
//! one owner is never written in place.

use super::PAGE_SIZE;
use std::cell::UnsafeCell;
use std::rc::Rc;

pub(crate) struct Frame(UnsafeCell<[u8; PAGE_SIZE as usize]>);

thread_local! {
    /// The frame behind every page that has been read but never written.
    static ZERO: Rc<Frame> = Rc::new(Frame(UnsafeCell::new([0; PAGE_SIZE as usize])));
}

impl Frame {
    pub(crate) fn zeroed() -> Rc<Frame> {
        Rc::new(Frame(UnsafeCell::new([0; PAGE_SIZE as usize])))
    }

    pub(crate) fn shared_zero() -> Rc<Frame> {
        ZERO.with(Rc::clone)
    }

    pub(crate) fn copy_of(other: &Frame) -> Frame {
        Frame(UnsafeCell::new(*other.bytes()))
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
