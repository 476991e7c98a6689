//! A process's memory map: the address space plus the list of mappings (VMAs) that `mmap`,
//! `munmap`, `mprotect`, `mremap`, `madvise` and `brk` reason about.
//!
//! [`AddressSpace`] knows pages; this module knows mappings: where free room is, what kind of
//! memory a range holds (so `MADV_DONTNEED` can zero private anonymous pages and refill
//! file-backed ones), and where the heap ends. Invariant: every mapped page of the address space
//! lies in exactly one VMA, and VMAs never overlap.
//!
//! Layout follows Linux on riscv64 with randomisation off: the stack ends at `STACK_TOP`
//! (2^47, `DEFAULT_MAP_WINDOW`), `mmap` places top-down from `mmap_base` (the stack limit or
//! 128 MiB below the stack, whichever is larger) and the heap grows up from the image's end.
//!
//! Mappings cost runtime memory whether or not their pages are touched, so, as in Linux,
//! their number is capped at [`MAX_MAP_COUNT`] (`vm.max_map_count`; the checks of
//! `mm/mmap.c: do_mmap`, `do_brk_flags`, `mm/vma.c: split_vma` and `mm/mremap.c: move_vma`)
//! and each is charged against the memory limit ([`Charge`], as `vm_area_alloc` is
//! accounted to the memory cgroup). Past either, `mmap`, `brk`, `mprotect`, `munmap` and
//! `mremap` fail with `ENOMEM` ([`Mm::check_new_mapping`], [`Mm::check_split`]).

use crate::abi::Errno;
use crate::abi::resource::STK_LIM;
use ctr2wasm_emulator::mmu::{
    ADDRESS_SPACE_END, AddressSpace, Charge, PAGE_MASK, PAGE_SIZE, Prot, memory_available,
};
use std::collections::BTreeMap;
use std::rc::Rc;

/// One past the highest stack address (`STACK_TOP` = `DEFAULT_MAP_WINDOW` on riscv64 Sv48).
pub const STACK_TOP: u64 = ADDRESS_SPACE_END;
/// Size of the initial stack mapping: the default `RLIMIT_STACK`.
pub const STACK_SIZE: u64 = STK_LIM;
/// `mmap_min_addr`: nothing is placed below it unless asked for with `MAP_FIXED`.
pub const MMAP_MIN_ADDR: u64 = 0x1_0000;
/// The smallest gap between the stack top and `mmap_base` (`MIN_GAP` in `mm/util.c`).
const MIN_GAP: u64 = 128 << 20;

/// `vm.max_map_count` (`DEFAULT_MAX_MAP_COUNT`): most mappings a process may have, against
/// a guest that makes millions of tiny ones.
pub const MAX_MAP_COUNT: usize = 65_530;

/// What one mapping costs the memory limit: its [`Vma`] and map node, and the address
/// space's region entry for it.
const VMA_BYTES: u64 = (std::mem::size_of::<Vma>() + 128) as u64;

/// Bytes a file-backed mapping starts with; the page at `vma.start` holds `data[start..]`.
#[derive(Clone, Debug)]
pub struct FileBacking {
    pub data: Rc<[u8]>,
    pub start: usize,
}

/// What a mapping holds, which decides what `MADV_DONTNEED` and growth leave in it.
#[derive(Clone, Debug)]
pub enum VmaKind {
    Anonymous,
    /// `MAP_SHARED | MAP_ANONYMOUS`: contents survive `MADV_DONTNEED`.
    SharedAnonymous,
    Heap,
    Stack,
    /// A private file mapping (an ELF segment, or `mmap` of a rootfs file).
    File(FileBacking),
    /// The kernel's page with the signal return trampoline (`[vdso]` in `/proc/self/maps`).
    Vdso(FileBacking),
}

#[derive(Clone, Debug)]
pub struct Vma {
    pub end: u64,
    pub prot: Prot,
    pub kind: VmaKind,
}

/// Rounds up to a page boundary; `None` past the end of the 64-bit space.
pub fn page_align_up(v: u64) -> Option<u64> {
    v.checked_add(PAGE_MASK).map(|v| v & !PAGE_MASK)
}

pub struct Mm {
    pub space: AddressSpace,
    /// Mappings by start address.
    vmas: BTreeMap<u64, Vma>,
    mmap_base: u64,
    /// First byte of the heap (page-aligned end of the image) and the current break.
    brk_start: u64,
    brk: u64,
    /// [`VMA_BYTES`] per mapping.
    charge: Charge,
}

impl Default for Mm {
    fn default() -> Self {
        Self::new()
    }
}

impl Mm {
    pub fn new() -> Mm {
        let gap = (STACK_SIZE + (256 * PAGE_SIZE)).max(MIN_GAP);
        Mm {
            space: AddressSpace::new(),
            vmas: BTreeMap::new(),
            mmap_base: STACK_TOP - gap,
            brk_start: 0,
            brk: 0,
            charge: Charge::default(),
        }
    }

    /// A copy-on-write copy for `fork`: the same mappings over [`AddressSpace::fork`].
    /// `None` when the copy would pass the memory limit (`dup_mmap` failing: `ENOMEM`).
    pub fn fork(&mut self) -> Option<Mm> {
        let charge = Charge::try_new(self.charge.bytes())?;
        Some(Mm {
            space: self.space.fork()?,
            vmas: self.vmas.clone(),
            mmap_base: self.mmap_base,
            brk_start: self.brk_start,
            brk: self.brk,
            charge,
        })
    }

    /// Number of mappings (`mm->map_count`).
    pub fn map_count(&self) -> usize {
        self.vmas.len()
    }

    /// `ENOMEM` when a new mapping may not be made: past [`MAX_MAP_COUNT`] (`do_mmap`'s
    /// and `do_brk_flags`' `map_count > sysctl_max_map_count`, so the last one allowed makes
    /// it `MAX_MAP_COUNT + 1`), or when the mappings it may add or split would pass the
    /// memory limit.
    pub fn check_new_mapping(&self) -> Result<(), Errno> {
        if self.vmas.len() > MAX_MAP_COUNT || !memory_available(3 * VMA_BYTES) {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// `ENOMEM` when changing `[start, end)` would split a mapping (one straddles `start` or
    /// `end`) and the process is at [`MAX_MAP_COUNT`] (`split_vma`'s `map_count >=
    /// sysctl_max_map_count`) or the pieces would pass the memory limit.
    pub fn check_split(&self, start: u64, end: u64) -> Result<(), Errno> {
        let straddles = |at: u64| matches!(self.vma_at(at), Some((s, v)) if s < at && v.end > at);
        if (straddles(start) || straddles(end))
            && (self.vmas.len() >= MAX_MAP_COUNT || !memory_available(2 * VMA_BYTES))
        {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// Charges [`VMA_BYTES`] per mapping; called after every change to the mappings, whose
    /// growth [`Self::check_new_mapping`] and [`Self::check_split`] checked.
    fn recharge(&mut self) {
        self.charge
            .set_unchecked(self.vmas.len() as u64 * VMA_BYTES);
    }

    /// Maps `[start, start+len)` (page-aligned) fresh, replacing whatever was there, as
    /// `MAP_FIXED` does. File-backed mappings get their bytes copied in.
    pub fn map_fixed(&mut self, start: u64, len: u64, prot: Prot, kind: VmaKind) {
        self.unmap(start, len);
        let vma = Vma {
            end: start + len,
            prot,
            kind,
        };
        self.populate(start, start + len, start, &vma);
        self.vmas.insert(start, vma);
        self.merge_at(start);
        self.merge_at(start + len);
        self.recharge();
    }

    /// Removes every mapping in `[start, start+len)`, splitting those that straddle its ends.
    pub fn unmap(&mut self, start: u64, len: u64) {
        let end = start.saturating_add(len);
        self.split_at(start);
        self.split_at(end);
        let doomed: Vec<u64> = self.vmas.range(start..end).map(|(&s, _)| s).collect();
        for s in doomed {
            self.vmas.remove(&s);
        }
        self.space.unmap(start, len);
        self.recharge();
    }

    /// True when no mapping touches `[start, start+len)`.
    pub fn is_free(&self, start: u64, len: u64) -> bool {
        let Some(end) = start.checked_add(len).filter(|&e| e <= ADDRESS_SPACE_END) else {
            return false;
        };
        if self.vmas.range(start..end).next().is_some() {
            return false;
        }
        !matches!(self.vmas.range(..start).next_back(), Some((_, v)) if v.end > start)
    }

    /// Where a non-fixed mapping of `len` bytes goes: at the page-aligned `hint` if that
    /// range is free, else in the highest gap below `mmap_base` (`unmapped_area_topdown`).
    pub fn find_free(&self, len: u64, hint: u64) -> Result<u64, Errno> {
        if hint != 0
            && let Some(h) = page_align_up(hint)
            && h >= MMAP_MIN_ADDR
            && self.is_free(h, len)
        {
            return Ok(h);
        }
        let mut end = self.mmap_base;
        for (&s, v) in self.vmas.range(..self.mmap_base).rev() {
            if v.end <= end && end - v.end >= len {
                return Ok(end - len);
            }
            end = end.min(s);
        }
        if end >= MMAP_MIN_ADDR && end - MMAP_MIN_ADDR >= len {
            return Ok(end - len);
        }
        Err(Errno::ENOMEM)
    }

    /// Changes the protection of `[start, start+len)`. Like Linux's `mprotect`, it changes
    /// the mappings in order and stops with `ENOMEM` at the first hole, keeping the changes
    /// made before it.
    pub fn protect(&mut self, start: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        let end = start.checked_add(len).ok_or(Errno::ENOMEM)?;
        let mut at = start;
        let mut result = Ok(());
        while at < end {
            match self.vma_at(at) {
                Some((_, v)) => at = v.end.min(end),
                None => {
                    result = Err(Errno::ENOMEM);
                    break;
                }
            }
        }
        if at > start {
            self.split_at(start);
            self.split_at(at);
            for (_, v) in self.vmas.range_mut(start..at) {
                v.prot = prot;
            }
            self.space.protect(start, at - start, prot);
            let starts: Vec<u64> = self.vmas.range(start..=at).map(|(&s, _)| s).collect();
            for s in starts.into_iter().rev() {
                self.merge_at(s);
            }
            self.recharge();
        }
        result
    }

    /// `MADV_DONTNEED`: private anonymous pages read back as zero, private file pages as the
    /// file's bytes, shared anonymous pages keep their contents. `ENOMEM` if part of the range
    /// is unmapped (after handling the mapped parts, as Linux does).
    pub fn discard(&mut self, start: u64, len: u64) -> Result<(), Errno> {
        let end = start.checked_add(len).ok_or(Errno::ENOMEM)?;
        let pieces: Vec<(u64, Vma)> = self.overlapping(start, end);
        let mut covered = 0;
        for (s, v) in pieces {
            let (a, b) = (s.max(start), v.end.min(end));
            covered += b - a;
            if !matches!(v.kind, VmaKind::SharedAnonymous) {
                self.populate(a, b, s, &v);
            }
        }
        if covered == len {
            Ok(())
        } else {
            Err(Errno::ENOMEM)
        }
    }

    /// `mremap` of the range `[old, old+old_len)`, which must lie in one mapping (`EFAULT`).
    /// `dest` is `Some` for `MREMAP_FIXED`; `may_move` allows moving; `keep_old` is
    /// `MREMAP_DONTUNMAP`. Lengths are page-aligned and non-zero; the caller checked overlap.
    pub fn remap(
        &mut self,
        old: u64,
        old_len: u64,
        new_len: u64,
        may_move: bool,
        dest: Option<u64>,
        keep_old: bool,
    ) -> Result<u64, Errno> {
        let old_end = old.checked_add(old_len).ok_or(Errno::EFAULT)?;
        let (vstart, vma) = self.vma_at(old).ok_or(Errno::EFAULT)?;
        if vma.end < old_end {
            return Err(Errno::EFAULT);
        }
        let vma = vma.clone();
        if dest.is_none() && new_len <= old_len {
            self.unmap(old + new_len, old_len - new_len);
            return Ok(old);
        }
        if dest.is_none() && !keep_old && self.is_free(old_end, new_len - old_len) {
            self.grow(old, old_len, new_len, old - vstart, &vma);
            return Ok(old);
        }
        if !may_move {
            return Err(Errno::ENOMEM);
        }
        let to = match dest {
            Some(d) => {
                self.unmap(d, new_len);
                d
            }
            None => self.find_free(new_len, 0)?,
        };
        let moved_len = old_len.min(new_len);
        self.split_at(old);
        self.split_at(old + moved_len);
        let pieces: Vec<(u64, Vma)> = self
            .vmas
            .range(old..old + moved_len)
            .map(|(&s, v)| (s, v.clone()))
            .collect();
        for (s, _) in &pieces {
            self.vmas.remove(s);
        }
        self.space.move_range(old, to, moved_len);
        for (s, mut v) in pieces {
            v.end = v.end - old + to;
            self.vmas.insert(s - old + to, v);
        }
        self.merge_at(to);
        self.merge_at(to + moved_len);
        if old_len > moved_len {
            self.unmap(old + moved_len, old_len - moved_len);
        }
        if new_len > moved_len {
            self.grow(to, moved_len, new_len, old - vstart, &vma);
        }
        if keep_old {
            // The old range stays mapped, emptied (private anonymous memory reads as zero).
            self.map_fixed(old, old_len, vma.prot, vma.kind.clone());
        }
        self.recharge();
        Ok(to)
    }

    /// Sets the heap's first byte; called once by the loader.
    pub fn init_brk(&mut self, start: u64) {
        self.brk_start = start;
        self.brk = start;
    }

    /// `brk(2)`: moves the break to `new` if it can and returns the break in effect.
    pub fn set_brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start {
            return self.brk;
        }
        let (Some(old_top), Some(new_top)) = (page_align_up(self.brk), page_align_up(new)) else {
            return self.brk;
        };
        if new_top < old_top {
            self.unmap(new_top, old_top - new_top);
        } else if new_top > old_top {
            // Keep a guard page between the heap and the next mapping, as `check_brk_limits` does.
            if !self.is_free(old_top, new_top - old_top + PAGE_SIZE)
                || self.check_new_mapping().is_err()
            {
                return self.brk;
            }
            self.map_fixed(old_top, new_top - old_top, Prot::RW, VmaKind::Heap);
        }
        self.brk = new;
        self.brk
    }

    /// The mapping containing `addr`, with its start.
    pub fn vma_at(&self, addr: u64) -> Option<(u64, &Vma)> {
        self.vmas
            .range(..=addr)
            .next_back()
            .filter(|(_, v)| v.end > addr)
            .map(|(&s, v)| (s, v))
    }

    /// Mappings in address order, for `/proc/self/maps` and tests.
    pub fn vmas(&self) -> impl Iterator<Item = (u64, &Vma)> {
        self.vmas.iter().map(|(&s, v)| (s, v))
    }

    /// Extends the mapping at `[at, at+old_len)` to `new_len` with memory of `vma`'s kind;
    /// `skip` is how far into `vma`'s backing the byte at `at` is.
    fn grow(&mut self, at: u64, old_len: u64, new_len: u64, skip: u64, vma: &Vma) {
        let ext = Vma {
            end: at + new_len,
            prot: vma.prot,
            kind: shifted(&vma.kind, skip + old_len),
        };
        self.populate(at + old_len, at + new_len, at + old_len, &ext);
        self.vmas.insert(at + old_len, ext);
        self.merge_at(at + old_len);
        self.recharge();
    }

    /// Joins the mapping ending at `boundary` with the one starting there when Linux would
    /// (`vma_merge`): same protection, both private anonymous memory, both heap, or the same
    /// file at contiguous offsets. Whether ranges are one mapping is visible to the guest:
    /// `mremap` works within one mapping only.
    fn merge_at(&mut self, boundary: u64) {
        let Some((ls, left)) = boundary
            .checked_sub(1)
            .and_then(|b| self.vma_at(b))
            .filter(|(_, l)| l.end == boundary)
        else {
            return;
        };
        let Some(right) = self.vmas.get(&boundary) else {
            return;
        };
        let same_kind = match (&left.kind, &right.kind) {
            (VmaKind::Anonymous, VmaKind::Anonymous) | (VmaKind::Heap, VmaKind::Heap) => true,
            (VmaKind::File(a), VmaKind::File(b)) => {
                Rc::ptr_eq(&a.data, &b.data)
                    && a.start.checked_add((boundary - ls) as usize) == Some(b.start)
            }
            _ => false,
        };
        if left.prot != right.prot || !same_kind {
            return;
        }
        let end = right.end;
        self.vmas.remove(&boundary);
        if let Some(l) = self.vmas.get_mut(&ls) {
            l.end = end;
        }
    }

    /// Maps `[a, b)` fresh with `vma`'s protection and fills file-backed bytes; `vstart` is
    /// the address `vma`'s backing data starts at. Frames past the memory limit are left
    /// out (the range reads as zero) and recorded in the address space, whose owner the
    /// kernel then kills ([`AddressSpace::take_out_of_memory`]).
    fn populate(&mut self, a: u64, b: u64, vstart: u64, vma: &Vma) {
        if !matches!(vma.kind, VmaKind::SharedAnonymous)
            || !self.space.map_shared(a, b - a, vma.prot)
        {
            self.space.map(a, b - a, vma.prot);
        }
        if let VmaKind::File(f) | VmaKind::Vdso(f) = &vma.kind {
            let skip = usize::try_from(a - vstart).unwrap_or(usize::MAX);
            let want = usize::try_from(b - a).unwrap_or(usize::MAX);
            let from = f.start.saturating_add(skip).min(f.data.len());
            let to = from.saturating_add(want).min(f.data.len());
            if from < to {
                // The range was mapped just above, so the only failure is the memory limit,
                // which the space records.
                let _ = self.space.poke(a, &f.data[from..to]);
            }
        }
    }

    /// True when every byte of `[start, end)` lies in some mapping.
    pub fn fully_mapped(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.vma_at(at) {
                Some((_, v)) => at = v.end,
                None => return false,
            }
        }
        true
    }

    fn overlapping(&self, start: u64, end: u64) -> Vec<(u64, Vma)> {
        let first = self.vma_at(start).map(|(s, _)| s).unwrap_or(start);
        self.vmas
            .range(first..end)
            .filter(|(_, v)| v.end > start)
            .map(|(&s, v)| (s, v.clone()))
            .collect()
    }

    /// Splits the mapping containing `at` (if any starts before it) into two at `at`.
    fn split_at(&mut self, at: u64) {
        let Some((s, v)) = self.vma_at(at) else {
            return;
        };
        if s == at {
            return;
        }
        let right = Vma {
            end: v.end,
            prot: v.prot,
            kind: shifted(&v.kind, at - s),
        };
        if let Some(left) = self.vmas.get_mut(&s) {
            left.end = at;
        }
        self.vmas.insert(at, right);
    }
}

/// `kind` for a mapping starting `by` bytes later.
fn shifted(kind: &VmaKind, by: u64) -> VmaKind {
    match kind {
        VmaKind::File(f) => VmaKind::File(FileBacking {
            data: f.data.clone(),
            start: f
                .start
                .saturating_add(usize::try_from(by).unwrap_or(usize::MAX)),
        }),
        k => k.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: u64 = PAGE_SIZE;

    fn layout(mm: &Mm) -> Vec<(u64, u64)> {
        mm.vmas().map(|(s, v)| (s, v.end)).collect()
    }

    #[test]
    fn placement_is_top_down_and_fills_holes() {
        let mut mm = Mm::new();
        let a = mm.find_free(2 * P, 0).unwrap();
        assert_eq!(a, mm.mmap_base - 2 * P);
        mm.map_fixed(a, 2 * P, Prot::RW, VmaKind::Anonymous);
        let b = mm.find_free(P, 0).unwrap();
        assert_eq!(b, a - P);
        mm.map_fixed(b, P, Prot::RW, VmaKind::Anonymous);
        // A hole punched in the first mapping is reused by the next small request.
        mm.unmap(a + P, P);
        assert_eq!(mm.find_free(P, 0).unwrap(), a + P);
        assert_eq!(mm.find_free(2 * P, 0).unwrap(), b - 2 * P);
        // A free hint is honoured (rounded up), a taken one is not.
        assert_eq!(mm.find_free(P, 0x4000_0001).unwrap(), 0x4000_1000);
        assert_eq!(mm.find_free(P, b).unwrap(), a + P);
    }

    #[test]
    fn map_fixed_replaces_and_splits() {
        let mut mm = Mm::new();
        let base = 0x10_0000;
        mm.map_fixed(base, 4 * P, Prot::RW, VmaKind::Anonymous);
        mm.space.write_u64(base + P, 0xdead).unwrap();
        mm.space.write_u64(base + 2 * P, 0xbeef).unwrap();
        mm.map_fixed(base + P, P, Prot::READ, VmaKind::Anonymous);
        assert_eq!(
            layout(&mm),
            vec![
                (base, base + P),
                (base + P, base + 2 * P),
                (base + 2 * P, base + 4 * P)
            ]
        );
        // The replaced page is fresh and read-only; its neighbour kept its bytes.
        assert_eq!(mm.space.read_u64(base + P).unwrap(), 0);
        assert!(mm.space.write_u64(base + P, 1).is_err());
        assert_eq!(mm.space.read_u64(base + 2 * P).unwrap(), 0xbeef);
    }

    #[test]
    fn munmap_leaves_holes() {
        let mut mm = Mm::new();
        let base = 0x20_0000;
        mm.map_fixed(base, 3 * P, Prot::RW, VmaKind::Anonymous);
        mm.unmap(base + P, P);
        assert_eq!(
            layout(&mm),
            vec![(base, base + P), (base + 2 * P, base + 3 * P)]
        );
        assert!(mm.space.read_u64(base + P).is_err());
        assert!(mm.is_free(base + P, P));
        assert!(!mm.is_free(base, 2 * P));
        assert_eq!(mm.protect(base, 3 * P, Prot::READ), Err(Errno::ENOMEM));
        assert_eq!(mm.discard(base, 3 * P), Err(Errno::ENOMEM));
    }

    #[test]
    fn dontneed_zeroes_private_and_keeps_shared() {
        let mut mm = Mm::new();
        mm.map_fixed(0x30_0000, P, Prot::RW, VmaKind::Anonymous);
        mm.map_fixed(0x40_0000, P, Prot::RW, VmaKind::SharedAnonymous);
        let data: Rc<[u8]> = Rc::from(vec![7u8; 16]);
        mm.map_fixed(
            0x50_0000,
            P,
            Prot::RW,
            VmaKind::File(FileBacking { data, start: 8 }),
        );
        for a in [0x30_0000, 0x40_0000, 0x50_0000] {
            mm.space.write_u64(a, 0x1111).unwrap();
        }
        for a in [0x30_0000, 0x40_0000, 0x50_0000] {
            mm.discard(a, P).unwrap();
        }
        assert_eq!(mm.space.read_u64(0x30_0000).unwrap(), 0);
        assert_eq!(mm.space.read_u64(0x40_0000).unwrap(), 0x1111);
        assert_eq!(mm.space.read_u64(0x50_0000).unwrap(), 0x0707_0707_0707_0707);
        assert_eq!(mm.space.read_u64(0x50_0008).unwrap(), 0);
    }

    #[test]
    fn brk_grows_and_shrinks() {
        let mut mm = Mm::new();
        let start = 0x60_0000;
        mm.init_brk(start);
        assert_eq!(mm.set_brk(0), start);
        assert_eq!(mm.set_brk(start + 10), start + 10);
        mm.space.write_u64(start, 5).unwrap();
        assert_eq!(mm.set_brk(start + 3 * P + 1), start + 3 * P + 1);
        mm.space.write_u64(start + 3 * P, 6).unwrap();
        // Shrinking unmaps whole pages above the new break; growing again gives zeroes.
        assert_eq!(mm.set_brk(start + 8), start + 8);
        assert!(mm.space.read_u64(start + P).is_err());
        assert_eq!(mm.space.read_u64(start).unwrap(), 5);
        assert_eq!(mm.set_brk(start + 4 * P), start + 4 * P);
        assert_eq!(mm.space.read_u64(start + 3 * P).unwrap(), 0);
        // The heap does not grow into another mapping.
        mm.map_fixed(start + 6 * P, P, Prot::RW, VmaKind::Anonymous);
        assert_eq!(mm.set_brk(start + 6 * P), start + 4 * P);
        assert_eq!(mm.set_brk(start + 5 * P), start + 5 * P);
    }

    #[test]
    fn mremap_grows_in_place_or_moves() {
        let mut mm = Mm::new();
        let a = 0x70_0000;
        mm.map_fixed(a, P, Prot::RW, VmaKind::Anonymous);
        mm.space.write_u64(a, 42).unwrap();
        assert_eq!(mm.remap(a, P, 2 * P, false, None, false), Ok(a));
        mm.map_fixed(a + 2 * P, P, Prot::RW, VmaKind::Anonymous);
        assert_eq!(
            mm.remap(a, 2 * P, 4 * P, false, None, false),
            Err(Errno::ENOMEM)
        );
        let to = mm.remap(a, 2 * P, 4 * P, true, None, false).unwrap();
        assert_ne!(to, a);
        assert_eq!(mm.space.read_u64(to).unwrap(), 42);
        assert_eq!(mm.space.read_u64(to + 3 * P).unwrap(), 0);
        assert!(mm.is_free(a, 2 * P));
        assert_eq!(mm.remap(to, 4 * P, P, false, None, false), Ok(to));
        assert!(mm.is_free(to + P, 3 * P));
        assert_eq!(mm.remap(a, P, P, true, None, false), Err(Errno::EFAULT));
    }

    #[test]
    fn lengths_past_the_address_space_are_enomem() {
        let mut mm = Mm::new();
        // No gap in the 47-bit space is that large: mmap and a moving mremap say ENOMEM.
        assert_eq!(mm.find_free(ADDRESS_SPACE_END, 0), Err(Errno::ENOMEM));
        let below_base = mm.mmap_base - MMAP_MIN_ADDR;
        assert_eq!(mm.find_free(below_base + P, 0), Err(Errno::ENOMEM));
        let a = 0x70_0000;
        mm.map_fixed(a, P, Prot::RW, VmaKind::Anonymous);
        // Another mapping right after it, so that growing has to move.
        mm.map_fixed(a + P, P, Prot::READ, VmaKind::Anonymous);
        assert_eq!(
            mm.remap(a, P, below_base + P, true, None, false),
            Err(Errno::ENOMEM)
        );
        assert_eq!(
            mm.remap(a, P, ADDRESS_SPACE_END, false, None, false),
            Err(Errno::ENOMEM)
        );
        mm.unmap(a + P, P);
        assert_eq!(mm.remap(a, P, 1 << 30, false, None, false), Ok(a));
        mm.unmap(a, 1 << 30);
        // brk leaves the break where it was.
        mm.init_brk(0x100_0000);
        for huge in [
            ADDRESS_SPACE_END,
            ADDRESS_SPACE_END + P,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(mm.set_brk(huge), 0x100_0000);
        }
    }

    #[test]
    fn huge_reservations_cost_only_what_is_touched() {
        // Runtimes such as V8 reserve many GiB up front; only touched pages take memory.
        let mut mm = Mm::new();
        let len = 1 << 40;
        let a = mm.find_free(len, 0).unwrap();
        mm.map_fixed(a, len, Prot::NONE, VmaKind::Anonymous);
        mm.protect(a + len / 2, 2 * P, Prot::RW).unwrap();
        mm.space.write_u64(a + len / 2 + P, 3).unwrap();
        assert_eq!(mm.space.read_u64(a + len / 2 + P).unwrap(), 3);
        assert_eq!(mm.space.resident_pages(), 1);
        mm.protect(a, len, Prot::RW).unwrap();
        assert_eq!(mm.vmas().count(), 1);
        let grown = mm.remap(a, len, 2 * len, true, None, false).unwrap();
        assert_eq!(mm.space.read_u64(grown + len / 2 + P).unwrap(), 3);
        assert_eq!(mm.space.read_u64(grown + 2 * len - 8).unwrap(), 0);
        mm.init_brk(0x100_0000);
        assert_eq!(mm.set_brk(0x100_0000 + len), 0x100_0000 + len);
        mm.unmap(grown, 2 * len);
        assert_eq!(mm.vmas().count(), 1);
    }

    #[test]
    fn mappings_past_the_memory_limit_leave_the_process_to_the_oom_killer() {
        use ctr2wasm_emulator::mmu::{DEFAULT_MEMORY_LIMIT, memory_in_use, set_memory_limit};
        let mut mm = Mm::new();
        set_memory_limit(memory_in_use() + 4 * P);
        // A shared mapping's frames are allocated at once: too many, and nothing is shared.
        mm.map_fixed(0x40_0000, 8 * P, Prot::RW, VmaKind::SharedAnonymous);
        assert!(mm.space.take_out_of_memory());
        // A file mapping's bytes are copied in: those past the limit are left out.
        let data: Rc<[u8]> = Rc::from(vec![7u8; 8 * P as usize]);
        mm.map_fixed(
            0x50_0000,
            8 * P,
            Prot::READ,
            VmaKind::File(FileBacking { data, start: 0 }),
        );
        assert!(mm.space.take_out_of_memory());
        assert_eq!(mm.space.read_u64(0x50_0000).unwrap(), 0x0707_0707_0707_0707);
        set_memory_limit(DEFAULT_MEMORY_LIMIT);
    }
}
