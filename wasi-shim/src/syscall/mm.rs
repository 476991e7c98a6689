//! Memory syscalls: `brk`, `mmap`, `munmap`, `mprotect`, `mremap`, `madvise` and
//! `riscv_flush_icache`. Argument checks mirror `mm/mmap.c`, `mm/mprotect.c`, `mm/mremap.c`
//! and `mm/madvise.c`; the mapping bookkeeping is [`crate::task::mm`].

use super::Ctx;
use crate::abi::Errno;
use crate::abi::mm::{
    LEGACY_MAP_MASK, MADV_COLD, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK,
    MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE, MADV_HUGEPAGE, MADV_KEEPONFORK, MADV_MERGEABLE,
    MADV_NOHUGEPAGE, MADV_NORMAL, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE,
    MADV_RANDOM, MADV_SEQUENTIAL, MADV_UNMERGEABLE, MADV_WILLNEED, MADV_WIPEONFORK, MAP_ANONYMOUS,
    MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_SYNC,
    MAP_TYPE, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_EXEC, PROT_GROWSDOWN,
    PROT_GROWSUP, PROT_READ, PROT_SEM, PROT_WRITE,
};
use crate::task::fd::GuestFd;
use crate::task::mm::{FileBacking, VmaKind, page_align_up};
use crate::vfs::file::FileKind;
use ctr2wasm_emulator::mmu::{ADDRESS_SPACE_END, PAGE_MASK, Prot, memory_available};
use std::rc::Rc;

/// Largest file mapping copied in at once: file mappings are read eagerly for now, so their
/// size is capped to what the runtime can hold. TODO(#vfs-lazy): map file pages on fault.
const MAX_FILE_MAPPING: u64 = 256 << 20;

pub fn sys_brk(c: &mut Ctx, addr: u64) -> Result<u64, Errno> {
    Ok(c.proc.mm.set_brk(addr))
}

fn prot_of(bits: u64) -> Prot {
    Prot::from_linux(bits & (PROT_READ | PROT_WRITE | PROT_EXEC))
}

pub fn sys_mmap(
    c: &mut Ctx,
    addr: u64,
    len: u64,
    prot: u64,
    flags: u64,
    fd: GuestFd,
    offset: u64,
) -> Result<u64, Errno> {
    let shared = match flags & MAP_TYPE {
        MAP_SHARED => true,
        MAP_SHARED_VALIDATE => {
            if flags & !(LEGACY_MAP_MASK | MAP_SYNC | MAP_FIXED_NOREPLACE) != 0 {
                return Err(Errno::EOPNOTSUPP);
            }
            true
        }
        MAP_PRIVATE => false,
        _ => return Err(Errno::EINVAL),
    };
    if len == 0 || offset & PAGE_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    let len = page_align_up(len)
        .filter(|&l| l <= ADDRESS_SPACE_END)
        .ok_or(Errno::ENOMEM)?;
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    if fixed && addr & PAGE_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    let kind = if flags & MAP_ANONYMOUS != 0 {
        if shared {
            // Shared anonymous frames are allocated at once (see `AddressSpace::map_shared`):
            // a mapping that cannot fit under the memory limit is refused, as Linux's
            // overcommit check refuses one larger than RAM and swap.
            if !memory_available(len) {
                return Err(Errno::ENOMEM);
            }
            VmaKind::SharedAnonymous
        } else {
            VmaKind::Anonymous
        }
    } else {
        file_backing(c, fd, offset, len, shared && prot & PROT_WRITE != 0)?
    };
    let start = if fixed {
        if addr.checked_add(len).is_none_or(|e| e > ADDRESS_SPACE_END) {
            return Err(Errno::ENOMEM);
        }
        if flags & MAP_FIXED == 0 && !c.proc.mm.is_free(addr, len) {
            return Err(Errno::EEXIST);
        }
        addr
    } else {
        c.proc.mm.find_free(len, addr)?
    };
    c.proc.mm.check_new_mapping()?;
    c.proc.mm.map_fixed(start, len, prot_of(prot), kind);
    Ok(start)
}

/// The bytes of a mapping of the file open at `fd`, from `offset`: private mappings, and
/// shared ones that can never write (a copy cannot tell them apart, short of seeing later
/// writes to the file).
fn file_backing(
    c: &mut Ctx,
    fd: GuestFd,
    offset: u64,
    len: u64,
    shared_writable: bool,
) -> Result<VmaKind, Errno> {
    let file = c.proc.fds.get(fd)?;
    let mut file = file.borrow_mut();
    if !file.readable() {
        return Err(Errno::EACCES);
    }
    if !matches!(
        file.kind,
        FileKind::Lower { .. } | FileKind::Upper { .. } | FileKind::Host(_)
    ) {
        return Err(Errno::ENODEV);
    }
    if shared_writable {
        if !file.writable() {
            return Err(Errno::EACCES);
        }
        // Writes through a shared mapping must reach the file and every other mapping of it.
        // TODO(#3): shared writable mappings of upper-layer files.
        return Err(Errno::ENODEV);
    }
    if len > MAX_FILE_MAPPING {
        return Err(Errno::ENOMEM);
    }
    let mut data = vec![0u8; len as usize];
    let mut done = 0;
    while done < data.len() {
        let n = file.pread(&mut data[done..], offset + done as u64)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    data.truncate(done);
    Ok(VmaKind::File(FileBacking {
        data: Rc::from(data),
        start: 0,
    }))
}

/// Checks a page-aligned `[addr, addr+len)` range argument; returns the rounded length.
fn user_range(addr: u64, len: u64) -> Result<u64, Errno> {
    if addr & PAGE_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    let len = page_align_up(len).ok_or(Errno::EINVAL)?;
    if addr > ADDRESS_SPACE_END || len > ADDRESS_SPACE_END - addr {
        return Err(Errno::EINVAL);
    }
    Ok(len)
}

pub fn sys_munmap(c: &mut Ctx, addr: u64, len: u64) -> Result<u64, Errno> {
    let len = user_range(addr, len)?;
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    c.proc.mm.check_split(addr, addr + len)?;
    c.proc.mm.unmap(addr, len);
    Ok(0)
}

pub fn sys_mprotect(c: &mut Ctx, addr: u64, len: u64, prot: u64) -> Result<u64, Errno> {
    if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP) != 0
        || prot & (PROT_GROWSDOWN | PROT_GROWSUP) == PROT_GROWSDOWN | PROT_GROWSUP
    {
        return Err(Errno::EINVAL);
    }
    if addr & PAGE_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    let len = page_align_up(len).ok_or(Errno::ENOMEM)?;
    if len == 0 {
        return Ok(0);
    }
    if addr.checked_add(len).is_none_or(|e| e > ADDRESS_SPACE_END) {
        return Err(Errno::ENOMEM);
    }
    c.proc.mm.check_split(addr, addr + len)?;
    c.proc.mm.protect(addr, len, prot_of(prot))?;
    Ok(0)
}

pub fn sys_mremap(
    c: &mut Ctx,
    old: u64,
    old_len: u64,
    new_len: u64,
    flags: u64,
    new_addr: u64,
) -> Result<u64, Errno> {
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 || old & PAGE_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    let may_move = flags & MREMAP_MAYMOVE != 0;
    let fixed = flags & MREMAP_FIXED != 0;
    let dontunmap = flags & MREMAP_DONTUNMAP != 0;
    if (fixed || dontunmap) && !may_move {
        return Err(Errno::EINVAL);
    }
    let old_len = page_align_up(old_len).ok_or(Errno::EINVAL)?;
    let new_len = page_align_up(new_len).ok_or(Errno::EINVAL)?;
    if dontunmap && old_len != new_len {
        return Err(Errno::EINVAL);
    }
    // old_len == 0 duplicates a shared mapping; there are no shared file mappings yet.
    if new_len == 0 || old_len == 0 {
        return Err(Errno::EINVAL);
    }
    let dest = if fixed {
        if new_addr & PAGE_MASK != 0 {
            return Err(Errno::EINVAL);
        }
        if new_addr
            .checked_add(new_len)
            .is_none_or(|e| e > ADDRESS_SPACE_END)
        {
            return Err(Errno::EINVAL);
        }
        // The old and new ranges must not overlap.
        if new_addr < old.saturating_add(old_len) && old < new_addr + new_len {
            return Err(Errno::EINVAL);
        }
        Some(new_addr)
    } else {
        None
    };
    // `move_vma` refuses near `vm.max_map_count`; growing or moving may add mappings.
    c.proc.mm.check_new_mapping()?;
    c.proc
        .mm
        .remap(old, old_len, new_len, may_move, dest, dontunmap)
}

pub fn sys_madvise(c: &mut Ctx, addr: u64, len: u64, advice: u64) -> Result<u64, Errno> {
    let known = matches!(
        advice,
        MADV_NORMAL
            | MADV_RANDOM
            | MADV_SEQUENTIAL
            | MADV_WILLNEED
            | MADV_DONTNEED
            | MADV_FREE
            | MADV_DONTFORK
            | MADV_DOFORK
            | MADV_MERGEABLE
            | MADV_UNMERGEABLE
            | MADV_HUGEPAGE
            | MADV_NOHUGEPAGE
            | MADV_DONTDUMP
            | MADV_DODUMP
            | MADV_WIPEONFORK
            | MADV_KEEPONFORK
            | MADV_COLD
            | MADV_PAGEOUT
            | MADV_POPULATE_READ
            | MADV_POPULATE_WRITE
            | MADV_DONTNEED_LOCKED
    );
    if !known || addr & PAGE_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    let len = page_align_up(len).ok_or(Errno::EINVAL)?;
    if len == 0 {
        return Ok(0);
    }
    if addr.checked_add(len).is_none_or(|e| e > ADDRESS_SPACE_END) {
        return Err(Errno::ENOMEM);
    }
    match advice {
        // MADV_FREE may drop the pages at any time; dropping them now is a valid choice and
        // keeps one code path.
        MADV_DONTNEED | MADV_DONTNEED_LOCKED | MADV_FREE => c.proc.mm.discard(addr, len)?,
        // Hints about paging, merging and core dumps change nothing observable here; the
        // range must still be mapped.
        _ => {
            if !c.proc.mm.fully_mapped(addr, addr + len) {
                return Err(Errno::ENOMEM);
            }
        }
    }
    Ok(0)
}

/// `riscv_flush_icache(start, end, flags)`: makes stores to code visible to instruction
/// fetch. The decode cache is dropped whole; `SYS_RISCV_FLUSH_ICACHE_LOCAL` (bit 0) is the
/// only flag.
pub fn sys_riscv_flush_icache(c: &mut Ctx, flags: u64) -> Result<u64, Errno> {
    if flags & !1 != 0 {
        return Err(Errno::EINVAL);
    }
    c.proc.mm.space.flush_code();
    Ok(0)
}
