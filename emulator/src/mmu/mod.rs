//! Software MMU: a guest's 64-bit virtual address space mapped onto host memory.
//!
//! wasm32 gives one linear memory and no host page faults, so every guest access goes through
//! here. Pages are 4 KiB. Mappings are kept as page ranges ([`region`]), so reserving a huge
//! range costs one entry; a page gets a page-table entry only when first touched, holding a
//! copy of its region's protection and, once read or written, a reference-counted frame;
//! `fork` shares frames copy-on-write. A direct-mapped [`tlb`] in front of the page table makes
//! the common access one compare and one add; only a miss consults the regions.
//!
//! Invariants:
//! - A page is mapped exactly when a region holds it. A page-table entry marked
//!   [`PTE_MAPPED`] exists only for such a page and carries its region's protection and
//!   sharing; every change to a region updates or drops the entries under it.
//! - A TLB write tag exists only for a page that is writable, populated with a frame nobody
//!   else holds, and not marked as holding decoded code. Every change to a page-table entry
//!   flushes that page's TLB entry.
//! - Pages that have been decoded as code carry [`PTE_CODE`]; writing, unmapping or
//!   re-protecting such a page records it in [`AddressSpace::take_stale_code`] so the decode
//!   cache (owned by the architecture module) can drop it.
//! - Frames and page-table leaves are charged against the memory limit ([`charge`]);
//!   populating a page past it fails with [`FaultKind::OutOfMemory`], which the kernel
//!   answers like Linux's OOM killer. The region map is not charged here: its size follows
//!   the kernel's mappings, which the kernel charges and caps (`vm.max_map_count`).

pub mod charge;
mod frame;
mod page_table;
mod region;
mod tlb;

pub use charge::{
    Charge, DEFAULT_MEMORY_LIMIT, memory_available, memory_in_use, memory_limit, set_memory_limit,
};
use frame::Frame;
use page_table::{PTE_CODE, PTE_MAPPED, PTE_SHARED, PageTable, Pte};
use region::RegionMap;
use std::rc::Rc;
pub use tlb::Tlb;
#[cfg(feature = "jit")]
pub(crate) use tlb::{TLB_ENTRIES, TlbEntry};

pub const PAGE_SHIFT: u32 = 12;
pub const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;
pub const PAGE_MASK: u64 = PAGE_SIZE - 1;

/// One past the highest guest virtual address (Sv48 user half). Addresses at or above it
/// are never mapped, which keeps page numbers small and TLB tags unambiguous.
pub const ADDRESS_SPACE_END: u64 = 1 << 47;

/// Page protection, as `PROT_READ | PROT_WRITE | PROT_EXEC` in Linux.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Prot(u8);

impl Prot {
    pub const NONE: Prot = Prot(0);
    pub const READ: Prot = Prot(1);
    pub const WRITE: Prot = Prot(2);
    pub const EXEC: Prot = Prot(4);
    pub const RW: Prot = Prot(3);
    pub const RX: Prot = Prot(5);
    pub const RWX: Prot = Prot(7);

    /// From Linux `PROT_*` bits; unknown bits are dropped (the caller validates them).
    pub fn from_linux(bits: u64) -> Prot {
        Prot((bits & 7) as u8)
    }
    pub fn bits(self) -> u8 {
        self.0
    }
    pub fn contains(self, other: Prot) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Prot {
    type Output = Prot;
    fn bitor(self, rhs: Prot) -> Prot {
        Prot(self.0 | rhs.0)
    }
}

/// What a faulting access was doing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    Read,
    Write,
    Exec,
}

/// Why an access failed; the kernel turns it into SIGSEGV (`SEGV_MAPERR` / `SEGV_ACCERR`),
/// SIGBUS (`BUS_ADRALN`), `EFAULT`, or for `OutOfMemory` an OOM kill.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FaultKind {
    Unmapped,
    Protection,
    Misaligned,
    /// The page is mapped and the access allowed, but a frame for it would pass the memory
    /// limit (Linux's `VM_FAULT_OOM`).
    OutOfMemory,
}

/// A failed guest memory access, with the first faulting address (`si_addr`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{access:?} fault ({kind:?}) at {addr:#x}")]
pub struct MemFault {
    pub addr: u64,
    pub access: Access,
    pub kind: FaultKind,
}

/// One guest address space: mapped regions, page table, TLB, and the list of code pages gone
/// stale.
pub struct AddressSpace {
    pub(crate) tlb: Tlb,
    regions: RegionMap,
    table: PageTable,
    stale_code: Vec<u64>,
    /// Some frame allocation was refused since the last [`Self::take_out_of_memory`].
    out_of_memory: bool,
}

impl Default for AddressSpace {
    fn default() -> Self {
        Self::new()
    }
}

impl AddressSpace {
    pub fn new() -> AddressSpace {
        AddressSpace {
            tlb: Tlb::new(),
            regions: RegionMap::default(),
            table: PageTable::default(),
            stale_code: Vec::new(),
            out_of_memory: false,
        }
    }

    /// Maps fresh zero-filled pages over `[addr, addr+len)`, replacing whatever was there
    /// (`MAP_FIXED` semantics). Page-table entries and frames come on first touch, so the
    /// cost is that of the pages already populated there, whatever the length.
    pub fn map(&mut self, addr: u64, len: u64, prot: Prot) {
        let (first, end) = Self::page_range(addr, len);
        self.clear_pages(first, end);
        self.regions.set(first, end, prot.bits());
    }

    /// Maps fresh zero-filled pages over `[addr, addr+len)` that stay shared with every
    /// address space forked from this one (`MAP_SHARED | MAP_ANONYMOUS`): their frames are
    /// allocated now, so that a fork shares them, and never copied on write. Returns false,
    /// changing nothing, when the frames would pass the memory limit.
    pub fn map_shared(&mut self, addr: u64, len: u64, prot: Prot) -> bool {
        let (first, end) = Self::page_range(addr, len);
        let npages = end.saturating_sub(first);
        let leaves = npages.div_ceil(1 << 9) + 1;
        let cost = npages
            .saturating_mul(PAGE_SIZE)
            .saturating_add(leaves.saturating_mul(page_table::LEAF_BYTES));
        if !memory_available(cost) {
            self.out_of_memory = true;
            return false;
        }
        self.clear_pages(first, end);
        let flags = PTE_SHARED | prot.bits();
        self.regions.set(first, end, flags);
        // Bounded by the memory limit checked above.
        for vpn in first..end {
            let Some(pte) = self.table.get_or_insert(vpn) else {
                // Not after the check above; the page stays untouched, and private-on-fork.
                self.out_of_memory = true;
                break;
            };
            *pte = Pte {
                // As above; a `None` would only make the page private-on-fork.
                frame: Frame::zeroed(),
                flags: PTE_MAPPED | flags,
            };
        }
        true
    }

    /// Removes the pages in `[addr, addr+len)`; unmapped pages in the range are ignored.
    pub fn unmap(&mut self, addr: u64, len: u64) {
        let (first, end) = Self::page_range(addr, len);
        self.clear_pages(first, end);
        self.regions.remove(first, end);
    }

    /// Changes the protection of the mapped pages in the range. Returns false if any page in
    /// the range is unmapped (Linux then answers `ENOMEM`), after changing the others.
    pub fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> bool {
        let first = addr >> PAGE_SHIFT;
        let end = first.saturating_add(len.div_ceil(PAGE_SIZE));
        let all_mapped = self.regions.covers(first, end);
        self.regions.protect(first, end, prot.bits());
        let (stale, tlb) = (&mut self.stale_code, &mut self.tlb);
        self.table.for_each_mapped_in(first, end, |vpn, pte| {
            if pte.flags & PTE_CODE != 0 {
                stale.push(vpn);
            }
            pte.flags = PTE_MAPPED | (pte.flags & PTE_SHARED) | prot.bits();
            tlb.flush_page(vpn);
        });
        all_mapped
    }

    /// Moves the mappings of `[from, from+len)` to `[to, to+len)` (for `mremap`), keeping
    /// contents and protection; `to` is cleared first. Ranges must not overlap.
    pub fn move_range(&mut self, from: u64, to: u64, len: u64) {
        let npages = len.div_ceil(PAGE_SIZE);
        self.unmap(to, len);
        let (src, dst) = (from >> PAGE_SHIFT, to >> PAGE_SHIFT);
        let src_end = src.saturating_add(npages);
        let mut moved = Vec::new();
        let (stale, tlb) = (&mut self.stale_code, &mut self.tlb);
        self.table.for_each_mapped_in(src, src_end, |vpn, pte| {
            let mut pte = std::mem::take(pte);
            if pte.flags & PTE_CODE != 0 {
                stale.push(vpn);
                pte.flags &= !PTE_CODE;
            }
            tlb.flush_page(vpn);
            moved.push((vpn - src + dst, pte));
        });
        self.table.prune_range(src, src_end);
        for (vpn, pte) in moved {
            match self.table.get_or_insert(vpn) {
                Some(slot) => *slot = pte,
                // The page's contents are lost: the process is OOM-killed before it runs on.
                None => self.out_of_memory = true,
            }
        }
        for (first, end, flags) in self.regions.take(src, src_end) {
            self.regions.set(first - src + dst, end - src + dst, flags);
        }
    }

    /// The protection of the page holding `addr`, or `None` if it is unmapped.
    pub fn prot_at(&self, addr: u64) -> Option<Prot> {
        self.regions
            .flags_at(addr >> PAGE_SHIFT)
            .map(|flags| Prot(flags & 7))
    }

    /// Number of pages backed by a frame of their own or shared (resident set).
    pub fn resident_pages(&self) -> usize {
        self.table.resident_pages()
    }

    /// A copy-on-write copy for `fork`: both spaces share every frame until one writes.
    /// `None` when the copy's page table would pass the memory limit (`fork` then fails with
    /// `ENOMEM`, as `dup_mmap` does).
    pub fn fork(&mut self) -> Option<AddressSpace> {
        let table = self.table.clone_for_fork()?;
        // Our write tags assumed sole ownership of the frames; after sharing they don't.
        self.tlb.flush_all();
        Some(AddressSpace {
            tlb: Tlb::new(),
            regions: self.regions.clone(),
            table,
            stale_code: Vec::new(),
            out_of_memory: false,
        })
    }

    /// Code pages whose decoded form is stale since the last call (written, unmapped or
    /// re-protected). The decode cache must drop them.
    pub fn take_stale_code(&mut self) -> Option<Vec<u64>> {
        if self.stale_code.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.stale_code))
        }
    }

    /// True, once, after a frame allocation for this space was refused at the memory limit
    /// (by a guest access, a kernel copy, or a mapping populated eagerly). Kernel paths that
    /// cannot fail (filling a file mapping) leave their pages zero and rely on the caller
    /// killing the process, as Linux's OOM killer would.
    pub fn take_out_of_memory(&mut self) -> bool {
        std::mem::take(&mut self.out_of_memory)
    }

    /// True when some code page went stale since the last [`Self::take_stale_code`].
    #[inline]
    pub fn has_stale_code(&self) -> bool {
        !self.stale_code.is_empty()
    }

    /// Marks every code page stale (fence.i, `riscv_flush_icache`).
    pub fn flush_code(&mut self) {
        let table = &mut self.table;
        let stale = &mut self.stale_code;
        table.for_each_mapped(|vpn, pte| {
            if pte.flags & PTE_CODE != 0 {
                pte.flags &= !PTE_CODE;
                stale.push(vpn);
            }
        });
        self.tlb.flush_all();
    }

    /// Reads the executable page `vpn` for the decoder and marks it as holding code, so that
    /// later writes to it are noticed.
    pub fn fetch_code_page(&mut self, vpn: u64) -> Result<Box<[u8; PAGE_SIZE as usize]>, MemFault> {
        let fault = |kind| MemFault {
            addr: vpn << PAGE_SHIFT,
            access: Access::Exec,
            kind,
        };
        let pte = match Self::entry(&mut self.table, &self.regions, vpn, Prot::EXEC) {
            Ok(pte) => pte,
            Err(kind) => {
                self.out_of_memory |= kind == FaultKind::OutOfMemory;
                return Err(fault(kind));
            }
        };
        pte.flags |= PTE_CODE;
        let mut bytes = Box::new([0u8; PAGE_SIZE as usize]);
        if let Some(frame) = &pte.frame {
            bytes.copy_from_slice(frame.bytes());
        }
        self.tlb.flush_page(vpn);
        Ok(bytes)
    }

    /// Copies guest memory into `buf` as the kernel's `copy_from_user` does: needs read
    /// permission on every page.
    pub fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), MemFault> {
        let mut done = 0usize;
        while done < buf.len() {
            let cur = addr.wrapping_add(done as u64);
            let in_page = (PAGE_SIZE - (cur & PAGE_MASK)) as usize;
            let n = in_page.min(buf.len() - done);
            let host = self.translate(cur, Access::Read)?;
            // SAFETY: `translate` returned a pointer into a live frame with at least
            // `in_page` bytes left in it, and `buf` does not alias guest frames.
            unsafe { std::ptr::copy_nonoverlapping(host, buf[done..].as_mut_ptr(), n) };
            done += n;
        }
        Ok(())
    }

    /// Copies `data` into guest memory as `copy_to_user` does: needs write permission.
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), MemFault> {
        self.write_with(addr, data, Access::Write)
    }

    /// Writes ignoring page protection (the loader filling read-only segments); the pages
    /// must be mapped.
    pub fn poke(&mut self, addr: u64, data: &[u8]) -> Result<(), MemFault> {
        self.write_with(addr, data, Access::Exec)
    }

    /// Reads a NUL-terminated string of at most `max_len` bytes (without the NUL).
    /// Returns `Ok(None)` when no NUL appears within `max_len` bytes.
    pub fn read_cstr(&mut self, addr: u64, max_len: usize) -> Result<Option<Vec<u8>>, MemFault> {
        let mut out = Vec::new();
        let mut cur = addr;
        while out.len() < max_len {
            let in_page = (PAGE_SIZE - (cur & PAGE_MASK)) as usize;
            let n = in_page.min(max_len - out.len());
            let host = self.translate(cur, Access::Read)?;
            // SAFETY: as in `read`, `host` points at `in_page >= n` readable bytes.
            let chunk = unsafe { std::slice::from_raw_parts(host, n) };
            if let Some(nul) = chunk.iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..nul]);
                return Ok(Some(out));
            }
            out.extend_from_slice(chunk);
            cur = cur.wrapping_add(n as u64);
        }
        Ok(None)
    }

    pub fn read_u64(&mut self, addr: u64) -> Result<u64, MemFault> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    pub fn read_u32(&mut self, addr: u64) -> Result<u32, MemFault> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    pub fn write_u64(&mut self, addr: u64, value: u64) -> Result<(), MemFault> {
        self.write(addr, &value.to_le_bytes())
    }

    pub fn write_u32(&mut self, addr: u64, value: u32) -> Result<(), MemFault> {
        self.write(addr, &value.to_le_bytes())
    }

    /// `Access::Exec` here means "ignore protection" (see `poke`).
    fn write_with(&mut self, addr: u64, data: &[u8], access: Access) -> Result<(), MemFault> {
        let mut done = 0usize;
        while done < data.len() {
            let cur = addr.wrapping_add(done as u64);
            let in_page = (PAGE_SIZE - (cur & PAGE_MASK)) as usize;
            let n = in_page.min(data.len() - done);
            let host = self.translate(cur, access)?;
            // SAFETY: `translate` for a write returns a pointer into a frame this space owns
            // alone, with `in_page` bytes left.
            unsafe { std::ptr::copy_nonoverlapping(data[done..].as_ptr(), host, n) };
            done += n;
        }
        Ok(())
    }

    /// Software page walk: checks permission, populates the page, breaks copy-on-write for
    /// writes, refills the TLB, and returns the host address of `addr`.
    /// `Access::Exec` is used by `poke`: write without a permission check.
    pub(crate) fn translate(&mut self, addr: u64, access: Access) -> Result<*mut u8, MemFault> {
        let vpn = addr >> PAGE_SHIFT;
        let fault = |kind| MemFault {
            addr,
            access: if access == Access::Exec {
                Access::Write
            } else {
                access
            },
            kind,
        };
        if addr >= ADDRESS_SPACE_END {
            return Err(fault(FaultKind::Unmapped));
        }
        let needed = match access {
            Access::Read => Prot::READ,
            Access::Write => Prot::WRITE,
            Access::Exec => Prot::NONE,
        };
        let pte = match Self::entry(&mut self.table, &self.regions, vpn, needed) {
            Ok(pte) => pte,
            Err(kind) => {
                self.out_of_memory |= kind == FaultKind::OutOfMemory;
                return Err(fault(kind));
            }
        };
        let writing = access != Access::Read;
        if writing {
            if pte.flags & PTE_CODE != 0 {
                pte.flags &= !PTE_CODE;
                self.stale_code.push(vpn);
            }
            let frame = match &mut pte.frame {
                Some(frame) => frame,
                empty => match Frame::zeroed() {
                    Some(new) => empty.insert(new),
                    None => {
                        self.out_of_memory = true;
                        return Err(fault(FaultKind::OutOfMemory));
                    }
                },
            };
            if Rc::strong_count(frame) > 1 && pte.flags & PTE_SHARED == 0 {
                // Copy-on-write: someone else (a forked process) still holds this frame.
                match Frame::copy_of(frame) {
                    Some(copy) => *frame = copy,
                    None => {
                        self.out_of_memory = true;
                        return Err(fault(FaultKind::OutOfMemory));
                    }
                }
            }
        }
        // Reads of an untouched page share one zero frame; the first write copies it.
        let frame = pte.frame.get_or_insert_with(Frame::shared_zero);
        let base = frame.as_ptr();
        let flags = pte.flags;
        let exclusive = Rc::strong_count(frame) == 1 || flags & PTE_SHARED != 0;
        self.tlb.fill(
            vpn,
            base,
            flags & Prot::READ.bits() != 0,
            flags & Prot::WRITE.bits() != 0 && exclusive && flags & PTE_CODE == 0,
        );
        Ok(base.wrapping_add((addr & PAGE_MASK) as usize))
    }

    /// Pages `[first, end)` touched by `[addr, addr+len)`, cut at the end of the address space.
    fn page_range(addr: u64, len: u64) -> (u64, u64) {
        let end = addr
            .saturating_add(len)
            .min(ADDRESS_SPACE_END)
            .div_ceil(PAGE_SIZE);
        (addr >> PAGE_SHIFT, end)
    }

    /// The page-table entry of page `vpn` for an access needing `needed`, created from the
    /// page's region on first touch. The check comes first, so that a fault on a reserved
    /// page creates no entry. `OutOfMemory` when the page's leaf would pass the memory limit.
    /// (An associated function so that the entry borrows only the table.)
    fn entry<'a>(
        table: &'a mut PageTable,
        regions: &RegionMap,
        vpn: u64,
        needed: Prot,
    ) -> Result<&'a mut Pte, FaultKind> {
        let flags = match table.get(vpn) {
            Some(pte) if pte.flags & PTE_MAPPED != 0 => pte.flags,
            _ => PTE_MAPPED | regions.flags_at(vpn).ok_or(FaultKind::Unmapped)?,
        };
        if flags & needed.bits() != needed.bits() {
            return Err(FaultKind::Protection);
        }
        let pte = table.get_or_insert(vpn).ok_or(FaultKind::OutOfMemory)?;
        if pte.flags & PTE_MAPPED == 0 {
            *pte = Pte { frame: None, flags };
        }
        Ok(pte)
    }

    /// Drops the page-table entries (and so the frames) of pages `[first, end)`, keeping the
    /// TLB and stale-code list in step. Costs the populated part of the range only.
    fn clear_pages(&mut self, first: u64, end: u64) {
        let (stale, tlb) = (&mut self.stale_code, &mut self.tlb);
        self.table.for_each_mapped_in(first, end, |vpn, pte| {
            if pte.flags & PTE_CODE != 0 {
                stale.push(vpn);
            }
            *pte = Pte::default();
            tlb.flush_page(vpn);
        });
        self.table.prune_range(first, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_fill_and_round_trip_across_pages() {
        let mut m = AddressSpace::new();
        m.map(0x10000, 3 * PAGE_SIZE, Prot::RW);
        let mut b = [1u8; 16];
        m.read(0x10ff8, &mut b).unwrap();
        assert_eq!(b, [0; 16]);
        m.write(0x10ffc, b"abcdefgh").unwrap();
        m.read(0x10ffc, &mut b[..8]).unwrap();
        assert_eq!(&b[..8], b"abcdefgh");
    }

    #[test]
    fn protection_and_unmapped_faults() {
        let mut m = AddressSpace::new();
        m.map(0x1000, PAGE_SIZE, Prot::READ);
        let e = m.write(0x1004, b"x").unwrap_err();
        assert_eq!(
            (e.addr, e.kind, e.access),
            (0x1004, FaultKind::Protection, Access::Write)
        );
        m.poke(0x1004, b"x").unwrap();
        assert_eq!(m.read_u32(0x1004).unwrap(), b'x' as u32);
        let e = m.read_u64(0x2000).unwrap_err();
        assert_eq!(e.kind, FaultKind::Unmapped);
        assert!(!m.protect(0x1000, 2 * PAGE_SIZE, Prot::RW));
        m.write(0x1000, b"y").unwrap();
        m.unmap(0x1000, PAGE_SIZE);
        assert!(m.read_u64(0x1000).is_err());
    }

    #[test]
    fn fork_is_copy_on_write() {
        let mut parent = AddressSpace::new();
        parent.map(0x4000, PAGE_SIZE, Prot::RW);
        parent.write_u64(0x4000, 7).unwrap();
        let mut child = parent.fork().unwrap();
        child.write_u64(0x4000, 9).unwrap();
        assert_eq!(parent.read_u64(0x4000).unwrap(), 7);
        assert_eq!(child.read_u64(0x4000).unwrap(), 9);
        parent.write_u64(0x4000, 8).unwrap();
        assert_eq!(child.read_u64(0x4000).unwrap(), 9);
    }

    #[test]
    fn shared_pages_stay_shared_after_fork() {
        let mut parent = AddressSpace::new();
        parent.map_shared(0x4000, PAGE_SIZE, Prot::RW);
        let mut child = parent.fork().unwrap();
        child.write_u64(0x4000, 9).unwrap();
        assert_eq!(parent.read_u64(0x4000).unwrap(), 9);
        parent.write_u64(0x4008, 5).unwrap();
        assert_eq!(child.read_u64(0x4008).unwrap(), 5);
    }

    #[test]
    fn writing_a_code_page_makes_it_stale() {
        let mut m = AddressSpace::new();
        m.map(0x8000, PAGE_SIZE, Prot::RWX);
        m.fetch_code_page(8).unwrap();
        assert!(m.take_stale_code().is_none());
        m.write_u32(0x8010, 0x13).unwrap();
        assert_eq!(m.take_stale_code(), Some(vec![8]));
    }

    #[test]
    fn move_range_keeps_contents() {
        let mut m = AddressSpace::new();
        m.map(0x10000, 2 * PAGE_SIZE, Prot::RW);
        m.write_u64(0x11000, 5).unwrap();
        m.move_range(0x10000, 0x40000, 2 * PAGE_SIZE);
        assert_eq!(m.read_u64(0x41000).unwrap(), 5);
        assert!(m.read_u64(0x11000).is_err());
    }

    #[test]
    fn frames_past_the_memory_limit_fault_and_freed_frames_count_down() {
        // Test threads each have their own count; the zero frame may or may not exist yet.
        let mut m = AddressSpace::new();
        m.map(0x10000, 64 * PAGE_SIZE, Prot::RW);
        m.read_u64(0x10000).unwrap();
        let base = memory_in_use();
        set_memory_limit(base + 4 * PAGE_SIZE);
        for i in 0..4 {
            m.write_u64(0x10000 + i * PAGE_SIZE, i).unwrap();
        }
        assert_eq!(memory_in_use(), base + 4 * PAGE_SIZE);
        let e = m.write_u64(0x14008, 1).unwrap_err();
        assert_eq!(
            (e.addr, e.access, e.kind),
            (0x14008, Access::Write, FaultKind::OutOfMemory)
        );
        assert!(m.take_out_of_memory());
        assert!(!m.take_out_of_memory());
        // Reads of untouched pages still share the zero frame.
        assert_eq!(m.read_u64(0x20000).unwrap(), 0);
        // The copy's page table is charged, so fork is refused at the limit.
        assert!(m.fork().is_none());
        set_memory_limit(base + 4 * PAGE_SIZE + page_table::LEAF_BYTES);
        // Breaking copy-on-write needs a frame too.
        let mut child = m.fork().unwrap();
        assert_eq!(
            child.write_u64(0x10000, 9).unwrap_err().kind,
            FaultKind::OutOfMemory
        );
        assert!(!m.map_shared(0x80000, PAGE_SIZE, Prot::RW));
        drop(child);
        m.unmap(0x10000, 2 * PAGE_SIZE);
        assert_eq!(memory_in_use(), base + 2 * PAGE_SIZE);
        m.write_u64(0x14000, 1).unwrap();
        set_memory_limit(DEFAULT_MEMORY_LIMIT);
        assert!(m.map_shared(0x80000, PAGE_SIZE, Prot::RW));
        drop(m);
        // The leaf made before `base` was taken went with `m`.
        assert_eq!(memory_in_use(), base - page_table::LEAF_BYTES);
    }

    #[test]
    fn page_table_leaves_count_against_the_memory_limit() {
        // Reading untouched pages costs no frame (they share the zero frame) but a leaf per
        // 2 MiB span: a huge reservation read once per span must still meet the limit.
        let mut m = AddressSpace::new();
        m.map(0x4000_0000, 1 << 40, Prot::RW);
        m.read_u64(0x4000_0000).unwrap();
        let base = memory_in_use();
        set_memory_limit(base + 8 * page_table::LEAF_BYTES);
        let span = 2 << 20;
        for i in 1..=8 {
            m.read_u64(0x4000_0000 + i * span).unwrap();
        }
        assert_eq!(memory_in_use(), base + 8 * page_table::LEAF_BYTES);
        let e = m.read_u64(0x4000_0000 + 9 * span).unwrap_err();
        assert_eq!((e.access, e.kind), (Access::Read, FaultKind::OutOfMemory));
        assert!(m.take_out_of_memory());
        m.unmap(0x4000_0000 + span, 8 * span);
        assert_eq!(memory_in_use(), base);
        set_memory_limit(DEFAULT_MEMORY_LIMIT);
    }

    const TIB: u64 = 1 << 40;

    #[test]
    fn huge_prot_none_map_costs_nothing_until_touched() {
        let mut m = AddressSpace::new();
        let base = 0x10_0000_0000;
        m.map(base, TIB, Prot::NONE);
        assert_eq!((m.resident_pages(), m.table.leaf_count()), (0, 0));
        assert_eq!(m.prot_at(base + TIB - 1), Some(Prot::NONE));
        assert_eq!(m.prot_at(base + TIB), None);
        let mid = base + TIB / 2;
        assert!(m.protect(mid, 4 * PAGE_SIZE, Prot::RW));
        assert_eq!(m.regions.len(), 3);
        m.write_u64(mid + PAGE_SIZE, 0x5eed).unwrap();
        assert_eq!(m.read_u64(mid + PAGE_SIZE).unwrap(), 0x5eed);
        assert_eq!(m.read_u64(mid).unwrap(), 0);
        let e = m.read_u64(mid - 8).unwrap_err();
        assert_eq!((e.addr, e.kind), (mid - 8, FaultKind::Protection));
        let e = m.write_u64(mid + 4 * PAGE_SIZE, 1).unwrap_err();
        assert_eq!(e.kind, FaultKind::Protection);
        // Two pages touched, one leaf; faults on reserved pages create nothing.
        assert_eq!((m.resident_pages(), m.table.leaf_count()), (2, 1));
        // Protecting the slice back merges the regions again.
        assert!(m.protect(mid, 4 * PAGE_SIZE, Prot::NONE));
        assert_eq!(m.regions.len(), 1);
        assert!(m.read_u64(mid + PAGE_SIZE).is_err());
        m.unmap(base, TIB);
        assert_eq!((m.resident_pages(), m.table.leaf_count()), (0, 0));
        assert_eq!(m.regions.len(), 0);
    }

    #[test]
    fn partial_unmap_keeps_populated_pages_outside() {
        let mut m = AddressSpace::new();
        m.map(0x10000, 8 * PAGE_SIZE, Prot::RW);
        for i in [1, 3, 6] {
            m.write_u64(0x10000 + i * PAGE_SIZE, i).unwrap();
        }
        let before = memory_in_use();
        m.unmap(0x12000, 3 * PAGE_SIZE);
        assert_eq!(memory_in_use(), before - PAGE_SIZE);
        assert_eq!(m.resident_pages(), 2);
        assert_eq!(m.read_u64(0x11000).unwrap(), 1);
        assert_eq!(m.read_u64(0x16000).unwrap(), 6);
        for a in [0x12000, 0x13000, 0x14000] {
            assert_eq!(m.read_u64(a).unwrap_err().kind, FaultKind::Unmapped);
            assert_eq!(m.prot_at(a), None);
        }
        assert_eq!(m.read_u64(0x15000).unwrap(), 0);
        assert_eq!(m.read_u64(0x17ff8).unwrap(), 0);
        // Mapping over the hole again gives zeroes; over a populated page, replaces it.
        m.map(0x13000, 4 * PAGE_SIZE, Prot::READ);
        assert_eq!(m.read_u64(0x13000).unwrap(), 0);
        assert_eq!(m.read_u64(0x16000).unwrap(), 0);
        assert!(m.write_u64(0x16000, 1).is_err());
        assert_eq!(m.read_u64(0x11000).unwrap(), 1);
        assert!(m.read_u64(0x12000).is_err());
    }

    #[test]
    fn protect_across_a_hole_changes_the_mapped_parts() {
        let mut m = AddressSpace::new();
        m.map(0x10000, 2 * PAGE_SIZE, Prot::RWX);
        m.map(0x13000, 2 * PAGE_SIZE, Prot::RW);
        m.write_u64(0x10000, 1).unwrap();
        m.fetch_code_page(0x11).unwrap();
        assert!(!m.protect(0x10000, 5 * PAGE_SIZE, Prot::READ));
        assert_eq!(m.take_stale_code(), Some(vec![0x11]));
        for a in [0x10000, 0x11000, 0x13000, 0x14000] {
            assert_eq!(m.prot_at(a), Some(Prot::READ));
            assert_eq!(m.write_u64(a, 2).unwrap_err().kind, FaultKind::Protection);
        }
        assert_eq!(m.prot_at(0x12000), None);
        assert_eq!(m.read_u64(0x10000).unwrap(), 1);
        assert!(m.protect(0x13000, 2 * PAGE_SIZE, Prot::RW));
        m.write_u64(0x14000, 3).unwrap();
        // Past the end of the address space nothing is mapped.
        assert!(!m.protect(ADDRESS_SPACE_END - PAGE_SIZE, 2 * PAGE_SIZE, Prot::RW));
    }

    #[test]
    fn fork_after_partial_population() {
        let mut parent = AddressSpace::new();
        let base = 0x4000_0000;
        parent.map(base, 1 << 30, Prot::RW);
        parent.write_u64(base, 7).unwrap();
        parent.write_u64(base + 1000 * PAGE_SIZE, 8).unwrap();
        let mut child = parent.fork().unwrap();
        assert_eq!(child.resident_pages(), 2);
        assert_eq!(child.prot_at(base + (1 << 30) - 1), Some(Prot::RW));
        assert_eq!(child.read_u64(base + 1000 * PAGE_SIZE).unwrap(), 8);
        assert_eq!(child.read_u64(base + 5000 * PAGE_SIZE).unwrap(), 0);
        child.write_u64(base + 2000 * PAGE_SIZE, 9).unwrap();
        child.write_u64(base, 10).unwrap();
        assert_eq!(parent.read_u64(base + 2000 * PAGE_SIZE).unwrap(), 0);
        assert_eq!(parent.read_u64(base).unwrap(), 7);
        // The child's regions are its own.
        child.unmap(base, PAGE_SIZE);
        assert_eq!(parent.prot_at(base), Some(Prot::RW));
        assert!(parent.protect(base, 1 << 30, Prot::READ));
        assert_eq!(child.prot_at(base + PAGE_SIZE), Some(Prot::RW));
    }

    #[test]
    fn move_range_across_populated_and_untouched_pages() {
        let mut m = AddressSpace::new();
        m.map(0x10000, 6 * PAGE_SIZE, Prot::RWX);
        m.protect(0x14000, PAGE_SIZE, Prot::READ);
        m.write_u64(0x11000, 5).unwrap();
        m.fetch_code_page(0x12).unwrap();
        m.map(0x80000, 8 * PAGE_SIZE, Prot::RW);
        m.write_u64(0x81000, 6).unwrap();
        m.move_range(0x10000, 0x80000, 6 * PAGE_SIZE);
        assert_eq!(m.take_stale_code(), Some(vec![0x12]));
        assert_eq!(m.read_u64(0x81000).unwrap(), 5);
        assert_eq!(m.read_u64(0x82000).unwrap(), 0);
        assert_eq!(m.prot_at(0x83000), Some(Prot::RWX));
        assert_eq!(m.prot_at(0x84000), Some(Prot::READ));
        assert_eq!(m.prot_at(0x85000), Some(Prot::RWX));
        assert_eq!(m.prot_at(0x86000), Some(Prot::RW));
        m.write_u64(0x85000, 1).unwrap();
        for a in (0x10000..0x16000).step_by(PAGE_SIZE as usize) {
            assert_eq!(m.prot_at(a), None);
            assert!(m.read_u64(a).is_err());
        }
        assert_eq!(m.resident_pages(), 3);
        // A moved code page is decoded afresh.
        m.fetch_code_page(0x82).unwrap();
        m.write_u64(0x82000, 1).unwrap();
        assert_eq!(m.take_stale_code(), Some(vec![0x82]));
    }

    #[test]
    fn cstr_stops_at_nul_and_limit() {
        let mut m = AddressSpace::new();
        m.map(0x1000, 2 * PAGE_SIZE, Prot::RW);
        m.write(0x1ffe, b"hello\0").unwrap();
        assert_eq!(m.read_cstr(0x1ffe, 100).unwrap(), Some(b"hello".to_vec()));
        assert_eq!(m.read_cstr(0x1ffe, 3).unwrap(), None);
    }
}
