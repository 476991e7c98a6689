//! Loading a riscv64 program into a fresh process image: segments, the ELF interpreter, heap
//! start, stack, auxiliary vector, and the registers the program starts with.
//!
//! [`exec::exec_image`] is the entry point (`execve` and the first process use it): it finds
//! the files, follows `#!` lines ([`script`]) and calls [`load`]. Static, static-pie and
//! dynamically linked programs are supported: a `PT_INTERP` program is mapped where Linux maps
//! it (`ET_EXEC` at its addresses, `ET_DYN` at [`ELF_ET_DYN_BASE`]), its interpreter top-down
//! in the `mmap` area, and the thread starts at the interpreter's entry with `AT_BASE` set.

pub mod elf;
pub mod exec;
pub mod script;
pub mod stack;

use crate::abi::auxv::*;
use crate::abi::signal::RT_SIGFRAME_SIZE;
use crate::task::mm::{FileBacking, Mm, STACK_SIZE, STACK_TOP, VmaKind, page_align_up};
use ctr2wasm_emulator::mmu::{ADDRESS_SPACE_END, PAGE_MASK, PAGE_SIZE, Prot};
use elf::{ET_DYN, Elf, ElfError, PF_R, PF_W, PF_X, PT_GNU_STACK, PT_PHDR, PT_TLS, Phdr};
use stack::StackError;
use std::rc::Rc;

/// Where an `ET_DYN` executable goes: two thirds up the user address space
/// (`ELF_ET_DYN_BASE` on riscv64), out of the way of the heap below and `mmap` above.
pub const ELF_ET_DYN_BASE: u64 = (ADDRESS_SPACE_END / 3 * 2) & !PAGE_MASK;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Elf(#[from] ElfError),
    #[error("segments do not fit in the address space at load base {0:#x}")]
    NoRoom(u64),
    #[error(transparent)]
    Stack(#[from] StackError),
}

/// The thread state a freshly loaded program starts with.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub pc: u64,
    pub sp: u64,
}

/// What mapping one ELF file produced.
#[derive(Debug)]
pub struct Image {
    /// Added to every `p_vaddr` (0 for `ET_EXEC`).
    pub bias: u64,
    pub entry: u64,
    /// Address of the program headers in memory (`AT_PHDR`).
    pub phdr: u64,
    pub phnum: u64,
    /// Page-aligned end of the highest segment: the heap starts here.
    pub end: u64,
    /// The `PT_TLS` template (address, size in memory); static libc sets TLS up from it.
    pub tls: Option<(u64, u64)>,
}

/// The process arguments for [`load`].
pub struct Args<'a> {
    pub argv: &'a [Vec<u8>],
    pub envp: &'a [Vec<u8>],
    /// The program path as passed to `execve` (`AT_EXECFN`).
    pub execfn: &'a [u8],
    /// The 16 `AT_RANDOM` bytes.
    pub random: [u8; 16],
}

/// Loads the executable `exe` (parsed, and its file's bytes) into `mm`, a fresh memory map,
/// with its ELF interpreter `interp` when it has one; maps the stack and builds it.
pub fn load(
    mm: &mut Mm,
    exe: (&Elf, &[u8]),
    interp: Option<(&Elf, &[u8])>,
    args: &Args,
) -> Result<Entry, LoadError> {
    let (elf, data) = exe;
    // `PT_GNU_STACK` with PF_X asks for an executable stack.
    let stack_prot = if elf
        .phdrs
        .iter()
        .any(|p| p.p_type == PT_GNU_STACK && p.p_flags & PF_X != 0)
    {
        Prot::RWX
    } else {
        Prot::RW
    };
    // The stack first, as `setup_arg_pages` runs before the segments are mapped.
    mm.map_fixed(
        STACK_TOP - STACK_SIZE,
        STACK_SIZE,
        stack_prot,
        VmaKind::Stack,
    );
    let bias = if elf.e_type == ET_DYN {
        let (first, _) = load_span(elf);
        ELF_ET_DYN_BASE.wrapping_sub(first) & !(max_alignment(elf) - 1)
    } else {
        0
    };
    let image = map_image(mm, elf, data, bias)?;
    mm.init_brk(image.end);
    let interp_image = match interp {
        Some((ielf, idata)) => {
            let bias = if ielf.e_type == ET_DYN {
                interp_bias(mm, ielf)?
            } else {
                0
            };
            Some(map_image(mm, ielf, idata, bias)?)
        }
        None => None,
    };
    let sp = stack::build(
        &mut mm.space,
        STACK_TOP,
        args.argv,
        args.envp,
        args.execfn,
        args.random,
        |at| auxv(&image, interp_image.as_ref().map(|i| i.bias), at),
    )?;
    Ok(Entry {
        pc: interp_image.as_ref().unwrap_or(&image).entry,
        sp,
    })
}

/// Parses `data` as an executable and loads it into a fresh memory map, with itself as its
/// ELF interpreter when it names one: the path every untrusted file takes through the
/// loader. The entry point of the fuzz target (`wasi-shim/fuzz`) and the mutation tests; a
/// panic in it is a loader bug.
pub fn load_untrusted(data: &[u8]) -> Result<Entry, LoadError> {
    let elf = Elf::parse(data)?;
    let interp = elf.interp.is_some().then_some((&elf, data));
    let args = Args {
        argv: &[b"/prog".to_vec()],
        envp: &[b"HOME=/".to_vec()],
        execfn: b"/prog",
        random: [0; 16],
    };
    load(&mut Mm::new(), (&elf, data), interp, &args)
}

/// The page-aligned first address and the end of the `PT_LOAD` segments (before bias).
fn load_span(elf: &Elf) -> (u64, u64) {
    let first = elf.loads().map(|(_, p)| p.p_vaddr).min().unwrap_or(0) & !PAGE_MASK;
    let end = elf
        .loads()
        .map(|(_, p)| p.p_vaddr.saturating_add(p.p_memsz))
        .max()
        .unwrap_or(0);
    (first, end)
}

/// Where an `ET_DYN` interpreter goes: like `load_elf_interp`, one `mmap` of the whole span
/// placed top-down below `mmap_base`, at the segments' largest alignment.
fn interp_bias(mm: &Mm, elf: &Elf) -> Result<u64, LoadError> {
    let (first, end) = load_span(elf);
    let align = max_alignment(elf);
    let span = page_align_up(end)
        .and_then(|e| e.checked_sub(first))
        .and_then(|s| s.checked_add(align - PAGE_SIZE))
        .ok_or(LoadError::NoRoom(0))?;
    let at = mm.find_free(span, 0).map_err(|_| LoadError::NoRoom(0))?;
    let start = at
        .checked_add(align - 1)
        .map(|a| a & !(align - 1))
        .ok_or(LoadError::NoRoom(at))?;
    Ok(start.wrapping_sub(first))
}

/// The auxiliary vector in `create_elf_tables` order: riscv's `ARCH_DLINFO` first (cache
/// geometry unknown, reported as 0 like QEMU's virt board; no vDSO yet, so no
/// `AT_SYSINFO_EHDR`), then the generic entries. riscv has no `ELF_PLATFORM`, so no
/// `AT_PLATFORM`; `rseq` is `ENOSYS`, so no `AT_RSEQ_*`.
fn auxv(image: &Image, interp_base: Option<u64>, at: &stack::StackAddrs) -> Vec<(u64, u64)> {
    vec![
        (AT_L1I_CACHESIZE, 0),
        (AT_L1I_CACHEGEOMETRY, 0),
        (AT_L1D_CACHESIZE, 0),
        (AT_L1D_CACHEGEOMETRY, 0),
        (AT_L2_CACHESIZE, 0),
        (AT_L2_CACHEGEOMETRY, 0),
        (AT_L3_CACHESIZE, 0),
        (AT_L3_CACHEGEOMETRY, 0),
        (AT_MINSIGSTKSZ, RT_SIGFRAME_SIZE),
        (AT_HWCAP, RISCV_HWCAP_IMAFDC),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_CLKTCK, USER_HZ),
        (AT_PHDR, image.phdr),
        (AT_PHENT, u64::from(elf::PHDR_SIZE)),
        (AT_PHNUM, image.phnum),
        (AT_BASE, interp_base.unwrap_or(0)),
        (AT_FLAGS, 0),
        (AT_ENTRY, image.entry),
        (AT_UID, 0),
        (AT_EUID, 0),
        (AT_GID, 0),
        (AT_EGID, 0),
        (AT_SECURE, 0),
        (AT_RANDOM, at.random),
        (AT_EXECFN, at.execfn),
    ]
}

/// The largest power-of-two `p_align` of the loadable segments, at least a page
/// (`maximum_alignment` in `fs/binfmt_elf.c`).
fn max_alignment(elf: &Elf) -> u64 {
    elf.loads()
        .map(|(_, p)| p.p_align)
        .filter(|a| a.is_power_of_two())
        .fold(PAGE_SIZE, u64::max)
        .min(ADDRESS_SPACE_END / 4)
}

fn prot_of(p: &Phdr) -> Prot {
    let mut prot = Prot::NONE;
    if p.p_flags & PF_R != 0 {
        prot = prot | Prot::READ;
    }
    if p.p_flags & PF_W != 0 {
        prot = prot | Prot::WRITE;
    }
    if p.p_flags & PF_X != 0 {
        prot = prot | Prot::EXEC;
    }
    prot
}

/// Maps every `PT_LOAD` of `elf` at `bias` as Linux's `elf_load` does: the file pages that
/// hold the segment (including the bytes around it on its first and last page), then zeroes
/// from `p_filesz` to the end of that page when the segment has bss, then zero pages up to
/// `p_memsz`.
pub fn map_image(mm: &mut Mm, elf: &Elf, data: &[u8], bias: u64) -> Result<Image, LoadError> {
    let no_room = || LoadError::NoRoom(bias);
    let file: Rc<[u8]> = Rc::from(data);
    let mut end = 0u64;
    let mut first_load: Option<&Phdr> = None;
    for (_, p) in elf.loads() {
        if p.p_memsz == 0 {
            continue;
        }
        first_load.get_or_insert(p);
        let start = bias.checked_add(p.p_vaddr).ok_or_else(no_room)?;
        let seg_end = start
            .checked_add(p.p_memsz)
            .filter(|&e| e <= ADDRESS_SPACE_END)
            .ok_or_else(no_room)?;
        let page_start = start & !PAGE_MASK;
        let map_end = page_align_up(seg_end).ok_or_else(no_room)?;
        let head = (start & PAGE_MASK).min(p.p_offset);
        // File bytes cover [page_start + (page offset - head), end of the page holding the
        // last file byte); the rest of the mapping is zero.
        let file_end_addr = page_align_up(start + p.p_filesz).ok_or_else(no_room)?;
        let file_len = if p.p_filesz == 0 {
            0
        } else {
            file_end_addr - (start - head)
        };
        let from = (p.p_offset - head) as usize;
        let to = from.saturating_add(file_len as usize).min(data.len());
        let prot = prot_of(p);
        let backed_start = start - head;
        let vma_start = page_start;
        let skip = (backed_start - vma_start) as usize;
        // The backing's first byte belongs at `vma_start`. When `p_offset` is smaller than the
        // page offset of `p_vaddr` there is no file data before it: pad with zeroes.
        let backing: Rc<[u8]> = if skip == 0 && from == 0 && to == data.len() {
            file.clone()
        } else {
            let mut v = vec![0u8; skip];
            v.extend_from_slice(&data[from..to]);
            Rc::from(v)
        };
        mm.map_fixed(
            vma_start,
            map_end - vma_start,
            prot,
            VmaKind::File(FileBacking {
                data: backing,
                start: 0,
            }),
        );
        if p.p_memsz > p.p_filesz {
            // padzero: the bss part of the last file page reads as zero.
            let zero_from = start + p.p_filesz;
            let zero_to = page_align_up(zero_from).ok_or_else(no_room)?.min(map_end);
            let zeros = vec![0u8; (zero_to - zero_from) as usize];
            // The segment was mapped above, so the only failure is the memory limit, which
            // the address space records for the kernel to act on.
            let _ = mm.space.poke(zero_from, &zeros);
        }
        end = end.max(map_end);
    }
    let first = first_load.ok_or(LoadError::Elf(ElfError::NoLoad))?;
    let phdr = match elf.phdrs.iter().find(|p| p.p_type == PT_PHDR) {
        Some(p) => p.p_vaddr.wrapping_add(bias),
        None => first
            .p_vaddr
            .wrapping_sub(first.p_offset)
            .wrapping_add(elf.e_phoff)
            .wrapping_add(bias),
    };
    Ok(Image {
        bias,
        entry: elf.e_entry.wrapping_add(bias),
        phdr,
        phnum: elf.phdrs.len() as u64,
        end,
        tls: elf
            .phdrs
            .iter()
            .find(|p| p.p_type == PT_TLS)
            .map(|p| (p.p_vaddr.wrapping_add(bias), p.p_memsz)),
    })
}

#[cfg(test)]
mod mutation_tests;
#[cfg(test)]
mod tests {
    use super::*;
    use elf::tests::tiny_elf;

    #[test]
    fn loads_a_static_executable() {
        let data = tiny_elf(&[0x73, 0, 0, 0]);
        let mut mm = Mm::new();
        let args = Args {
            argv: &[b"/prog".to_vec()],
            envp: &[],
            execfn: b"/prog",
            random: [7; 16],
        };
        let elf = Elf::parse(&data).unwrap();
        let entry = load(&mut mm, (&elf, &data), None, &args).unwrap();
        assert_eq!(entry.pc, 0x10078);
        assert_eq!(mm.space.read_u32(0x10078).unwrap(), 0x73);
        // The headers are mapped too (the segment starts at file offset 0).
        assert_eq!(
            mm.space.read_u32(0x10000).unwrap(),
            u32::from_le_bytes(*b"\x7fELF")
        );
        assert_eq!(mm.space.prot_at(0x10000), Some(Prot::RX));
        assert_eq!(entry.sp % 16, 0);
        assert!(entry.sp < STACK_TOP && entry.sp > STACK_TOP - 4096);
        assert_eq!(mm.space.prot_at(STACK_TOP - 1), Some(Prot::RW));
        // The heap starts at the end of the image.
        assert_eq!(mm.set_brk(0), 0x11000);
    }

    #[test]
    fn bss_is_zeroed_including_the_partial_page() {
        let mut data = tiny_elf(&[0xaa; 64]);
        // Make the segment writable with bss: file size covers 0x78 + 32 bytes, memory 3 pages.
        let filesz = 0x78u64 + 32;
        data[64 + 4..64 + 8].copy_from_slice(&(PF_R | PF_W).to_le_bytes());
        data[64 + 32..64 + 40].copy_from_slice(&filesz.to_le_bytes());
        data[64 + 40..64 + 48].copy_from_slice(&0x3000u64.to_le_bytes());
        let elf = Elf::parse(&data).unwrap();
        let mut mm = Mm::new();
        let image = map_image(&mut mm, &elf, &data, 0).unwrap();
        assert_eq!(image.end, 0x13000);
        let mut b = [0u8; 64];
        mm.space.read(0x10078, &mut b).unwrap();
        assert_eq!(&b[..32], &[0xaa; 32]);
        assert_eq!(
            &b[32..],
            &[0; 32],
            "bytes past p_filesz on the last file page are zero"
        );
        assert_eq!(mm.space.read_u64(0x12ff8).unwrap(), 0);
        assert_eq!(mm.space.prot_at(0x12000), Some(Prot::RW));
    }

    /// A `tiny_elf` program with a `PT_INTERP` naming `/lib/ld.so`.
    pub(super) fn dynamic_elf() -> Vec<u8> {
        let mut f = tiny_elf(b"/lib/ld.so\0");
        f[56..58].copy_from_slice(&2u16.to_le_bytes());
        let mut hdr = vec![0u8; 56];
        hdr[0..4].copy_from_slice(&elf::PT_INTERP.to_le_bytes());
        let path_off = (f.len() + 56 - 11) as u64;
        hdr[8..16].copy_from_slice(&path_off.to_le_bytes());
        hdr[32..40].copy_from_slice(&11u64.to_le_bytes());
        f.splice(120..120, hdr);
        let len = f.len() as u64;
        f[64 + 32..64 + 40].copy_from_slice(&len.to_le_bytes());
        f[64 + 40..64 + 48].copy_from_slice(&len.to_le_bytes());
        f
    }

    /// A `tiny_elf` turned into an `ET_DYN` linked at 0, like ld.so.
    pub(super) fn interpreter_elf() -> Vec<u8> {
        let mut f = tiny_elf(&[0x13, 0, 0, 0]);
        f[16..18].copy_from_slice(&ET_DYN.to_le_bytes());
        f[24..32].copy_from_slice(&0x78u64.to_le_bytes());
        f[64 + 16..64 + 32].copy_from_slice(&[0; 16]);
        f
    }

    #[test]
    fn dynamic_programs_start_in_their_interpreter() {
        let (prog, interp) = (dynamic_elf(), interpreter_elf());
        let (pe, ie) = (Elf::parse(&prog).unwrap(), Elf::parse(&interp).unwrap());
        assert_eq!(pe.interp.as_deref(), Some(&b"/lib/ld.so"[..]));
        let mut mm = Mm::new();
        let args = Args {
            argv: &[],
            envp: &[],
            execfn: b"/p",
            random: [0; 16],
        };
        let entry = load(&mut mm, (&pe, &prog), Some((&ie, &interp)), &args).unwrap();
        // The interpreter sits page-aligned in the mmap area, below the stack's gap.
        let base = entry.pc - 0x78;
        assert_eq!(base & PAGE_MASK, 0);
        assert!(base > ELF_ET_DYN_BASE && base < STACK_TOP - STACK_SIZE);
        assert_eq!(mm.space.read_u32(entry.pc).unwrap(), 0x13);
        // argc 0, empty argv and envp, then the auxiliary vector.
        let mut aux = std::collections::HashMap::new();
        let mut at = entry.sp + 24;
        loop {
            let k = mm.space.read_u64(at).unwrap();
            if k == AT_NULL {
                break;
            }
            aux.insert(k, mm.space.read_u64(at + 8).unwrap());
            at += 16;
        }
        assert_eq!(aux[&AT_BASE], base);
        assert_eq!(aux[&AT_ENTRY], 0x10078);
        assert_eq!(aux[&AT_PHDR], 0x10040);
        assert_eq!(aux[&AT_PHNUM], 2);
        // The heap follows the program, not the interpreter.
        assert_eq!(mm.set_brk(0), 0x11000);
        // A static program gets AT_BASE 0 and starts at its own entry.
        let data = tiny_elf(&[0x73, 0, 0, 0]);
        let mut mm = Mm::new();
        let entry = load(&mut mm, (&Elf::parse(&data).unwrap(), &data), None, &args).unwrap();
        assert_eq!(entry.pc, 0x10078);
    }
}
