//! The one count of runtime memory that grows with what guests do, checked against the
//! runtime's memory limit (`CTR2WASM_MEMORY_LIMIT_MB`).
//!
//! Linux charges a cgroup for a task's pages and for the kernel objects it makes
//! (`mm/memcontrol.c: try_charge`, `__GFP_ACCOUNT` on page tables, VMAs, task structs and
//! pipe buffers), and refuses past the cgroup's limit. This module is that counter for one
//! runtime: guest frames ([`super::frame`]), page-table leaves, decoded code pages
//! ([`crate::cache`]), and in the kernel the memory map, process and thread structs and
//! pipe buffers all charge it. Without it, bookkeeping that costs no guest memory (page
//! tables for pages only read, decode caches of a thousand forked shells) outgrows the
//! runtime's own heap, which on wasm32 is one 4 GiB linear memory, and the runtime aborts.
//!
//! Invariants: a [`Charge`] holds the bytes it added to the count and gives them back when
//! dropped, so the count is the sum of the live charges. Refusal happens only in
//! [`Charge::try_new`] and [`Charge::try_grow`]; `*_unchecked` is for allocations already
//! checked with [`memory_available`] or that no caller can refuse (the zero frame, the first
//! process), and may pass the limit by that much. What the guest sees past the limit is each
//! caller's business, mirroring Linux: `ENOMEM` from `mmap`, `brk`, `fork`, a pipe write;
//! the OOM kill for a page fault.
//!
//! One runtime is one thread, and all its address spaces draw on one count, so the count is
//! thread-local. Charging happens when bookkeeping is created or freed, never on the TLB hit
//! path.

use std::cell::Cell;

/// Default memory limit, in bytes. It protects the runtime from a guest that uses more
/// memory than the host can give: on wasm32 all of the runtime lives in one linear memory of
/// at most 4 GiB, and 3 GiB of charged memory leave room for what is not charged (the
/// runtime's code and stack, the VFS's upper layer, the bundle's chunk cache, allocator
/// slack). Natively the limit is 16 GiB, a guest larger than that being a runaway rather
/// than a workload.
pub const DEFAULT_MEMORY_LIMIT: u64 = if cfg!(target_pointer_width = "32") {
    3 << 30
} else {
    16 << 30
};

thread_local! {
    /// Bytes charged on this thread.
    static CHARGED: Cell<u64> = const { Cell::new(0) };
    /// Most bytes [`Charge::try_new`] and [`Charge::try_grow`] let be charged at once.
    static LIMIT: Cell<u64> = const { Cell::new(DEFAULT_MEMORY_LIMIT) };
}

/// Sets the memory limit for this thread's runtime, in bytes. Charges already made stay;
/// later ones are refused past the limit.
pub fn set_memory_limit(bytes: u64) {
    LIMIT.with(|l| l.set(bytes));
}

/// The memory limit in bytes.
pub fn memory_limit() -> u64 {
    LIMIT.with(Cell::get)
}

/// Bytes charged on this thread: guest frames and the bookkeeping listed in the module doc.
pub fn memory_in_use() -> u64 {
    CHARGED.with(Cell::get)
}

/// True when `len_bytes` more bytes fit under the limit, for callers that make many
/// allocations at once and prefer `ENOMEM` to a failure half-way.
pub fn memory_available(len_bytes: u64) -> bool {
    memory_in_use().saturating_add(len_bytes) <= memory_limit()
}

fn add(bytes: u64) {
    CHARGED.with(|c| c.set(c.get().saturating_add(bytes)));
}

fn sub(bytes: u64) {
    // `try_with`: charges held by thread-locals are dropped while the thread's locals are
    // torn down.
    let _ = CHARGED.try_with(|c| c.set(c.get().saturating_sub(bytes)));
}

/// Charges `bytes` if they fit under the limit; the caller gives them back with
/// [`uncharge`]. For objects that cannot hold a [`Charge`] (a frame is exactly one page).
pub(crate) fn try_charge(bytes: u64) -> bool {
    let fits = memory_available(bytes);
    if fits {
        add(bytes);
    }
    fits
}

/// Charges `bytes` whatever the limit; see [`try_charge`].
pub(crate) fn charge_unchecked(bytes: u64) {
    add(bytes);
}

/// Gives back what [`try_charge`] or [`charge_unchecked`] took.
pub(crate) fn uncharge(bytes: u64) {
    sub(bytes);
}

/// Bytes charged for one object or one collection, given back on drop. Not `Clone`: a copy
/// of what it pays for must be charged anew.
#[derive(Debug, Default)]
#[must_use]
pub struct Charge {
    bytes: u64,
}

impl Charge {
    /// A charge of `bytes`, or `None` past the limit.
    pub fn try_new(bytes: u64) -> Option<Charge> {
        // `then`, not `then_some`: a `Charge` made and dropped would give back what it never took.
        try_charge(bytes).then(|| Charge { bytes })
    }

    /// A charge of `bytes` whatever the limit.
    pub fn new_unchecked(bytes: u64) -> Charge {
        add(bytes);
        Charge { bytes }
    }

    /// Adds `bytes` to this charge; false, changing nothing, past the limit.
    pub fn try_grow(&mut self, bytes: u64) -> bool {
        let fits = try_charge(bytes);
        if fits {
            self.bytes += bytes;
        }
        fits
    }

    /// Makes this charge `bytes`, whatever the limit: for collections that re-count
    /// themselves after a change whose growth was checked before.
    pub fn set_unchecked(&mut self, bytes: u64) {
        if bytes > self.bytes {
            add(bytes - self.bytes);
        } else {
            sub(self.bytes - bytes);
        }
        self.bytes = bytes;
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        sub(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_refused_past_the_limit_and_given_back_on_drop() {
        let base = memory_in_use();
        set_memory_limit(base + 100);
        let a = Charge::try_new(60).expect("fits");
        assert!(Charge::try_new(41).is_none());
        let mut b = Charge::try_new(40).expect("fits exactly");
        assert!(!b.try_grow(1));
        assert_eq!(memory_in_use(), base + 100);
        drop(a);
        assert!(b.try_grow(50));
        b.set_unchecked(10);
        assert_eq!(memory_in_use(), base + 10);
        drop(b);
        assert_eq!(memory_in_use(), base);
        set_memory_limit(DEFAULT_MEMORY_LIMIT);
    }
}
