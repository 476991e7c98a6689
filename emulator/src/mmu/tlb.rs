//! A direct-mapped TLB in front of the page table.
//!
//! Each entry holds separate read and write tags (the page's base address, or an impossible
//! value) and the host address of the page minus its guest address. A hit is one mask, one
//! compare and one add: `tag == addr & (!PAGE_MASK | (size - 1))` also rejects misaligned
//! accesses, which take the slow path with page-crossing ones, and the host address is
//! `addend + addr`, wrapping (a 32-bit host keeps only the low bits of both, which is all the
//! sum needs).

use super::{PAGE_MASK, PAGE_SHIFT};

/// Covers 16 MiB: a loop striding over a few MiB (a sieve, a big array) would otherwise evict
/// its own entries on every pass. 96 KiB per address space, flushed whole only on `fork` and
/// `fence.i`.
pub const TLB_ENTRIES: usize = 4096;
/// Never equal to a masked address: its low bits are all set.
const INVALID: u64 = u64::MAX;

#[derive(Clone, Copy)]
#[repr(C)]
pub struct TlbEntry {
    pub read_tag: u64,
    pub write_tag: u64,
    /// Host address of the page's first byte minus the page's guest address, wrapping.
    pub addend: *mut u8,
}

pub struct Tlb {
    entries: Box<[TlbEntry; TLB_ENTRIES]>,
}

impl Tlb {
    pub(crate) fn new() -> Tlb {
        Tlb {
            entries: Box::new(
                [TlbEntry {
                    read_tag: INVALID,
                    write_tag: INVALID,
                    addend: std::ptr::null_mut(),
                }; TLB_ENTRIES],
            ),
        }
    }

    /// Host address for a `SIZE`-byte read at `addr`, or `None` on a miss.
    #[inline(always)]
    pub fn read_ptr<const SIZE: u64>(&self, addr: u64) -> Option<*const u8> {
        let e = &self.entries[Self::index(addr)];
        if e.read_tag == addr & (!PAGE_MASK | (SIZE - 1)) {
            Some(e.addend.wrapping_add(addr as usize))
        } else {
            None
        }
    }

    /// Host address for a `SIZE`-byte write at `addr`, or `None` on a miss.
    #[inline(always)]
    pub fn write_ptr<const SIZE: u64>(&self, addr: u64) -> Option<*mut u8> {
        let e = &self.entries[Self::index(addr)];
        if e.write_tag == addr & (!PAGE_MASK | (SIZE - 1)) {
            Some(e.addend.wrapping_add(addr as usize))
        } else {
            None
        }
    }

    /// The entries, for translated code that inlines the hit path (`riscv64::jit`).
    #[cfg(feature = "jit")]
    pub(crate) fn entries_ptr(&self) -> *const TlbEntry {
        self.entries.as_ptr()
    }

    #[inline(always)]
    fn index(addr: u64) -> usize {
        (addr >> PAGE_SHIFT) as usize & (TLB_ENTRIES - 1)
    }

    pub(crate) fn fill(&mut self, vpn: u64, host: *mut u8, readable: bool, writable: bool) {
        let base = vpn << PAGE_SHIFT;
        self.entries[vpn as usize & (TLB_ENTRIES - 1)] = TlbEntry {
            read_tag: if readable { base } else { INVALID },
            write_tag: if writable { base } else { INVALID },
            addend: host.wrapping_sub(base as usize),
        };
    }

    pub(crate) fn flush_page(&mut self, vpn: u64) {
        let e = &mut self.entries[vpn as usize & (TLB_ENTRIES - 1)];
        if e.read_tag >> PAGE_SHIFT == vpn || e.write_tag >> PAGE_SHIFT == vpn {
            e.read_tag = INVALID;
            e.write_tag = INVALID;
        }
    }

    pub(crate) fn flush_all(&mut self) {
        for e in self.entries.iter_mut() {
            e.read_tag = INVALID;
            e.write_tag = INVALID;
        }
    }
}
