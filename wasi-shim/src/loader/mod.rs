//! Loading a riscv64 ELF executable into a fresh process image: segments, heap start, stack,
//! auxiliary vector, and the registers the program starts with.
//!
//! Static and static-pie programs are supported. A dynamically linked program names its
//! interpreter in `PT_INTERP`; loading one is the same [`map_image`] call again for the
//! interpreter's file at a kernel-chosen base, with the entry point and `AT_BASE` taken from
//! it. Until the interpreter path is wired up (it needs file-backed `mmap` for the libraries it
//! loads), such programs are refused with [`LoadError::Dynamic`].

pub mod elf;
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
    #[error("dynamic executables are not supported yet (interpreter {0})")]
    Dynamic(String),
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
    /// `PT_GNU_STACK` asked for an executable stack.
    pub exec_stack: bool,
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

/// Loads the executable `data` into `mm` (a fresh memory map), maps the stack and builds it.
pub fn load(mm: &mut Mm, data: &[u8], args: &Args) -> Result<Entry, LoadError> {
    let elf = Elf::parse(data)?;
    if let Some(interp) = &elf.interp {
        // TODO(#dynamic): map the interpreter with `map_image` at a top-down base, enter at
        // its entry point and pass its base as AT_BASE.
        return Err(LoadError::Dynamic(
            String::from_utf8_lossy(interp).into_owned(),
        ));
    }
    let bias = if elf.e_type == ET_DYN {
        let first = elf.loads().map(|(_, p)| p.p_vaddr).min().unwrap_or(0);
        let align = max_alignment(&elf);
        ELF_ET_DYN_BASE.wrapping_sub(first & !PAGE_MASK) & !(align - 1)
    } else {
        0
    };
    let image = map_image(mm, &elf, data, bias)?;
    mm.init_brk(image.end);

    let stack_prot = if image.exec_stack {
        Prot::RWX
    } else {
        Prot::RW
    };
    mm.map_fixed(
        STACK_TOP - STACK_SIZE,
        STACK_SIZE,
        stack_prot,
        VmaKind::Stack,
    );
    let sp = stack::build(
        &mut mm.space,
        STACK_TOP,
        args.argv,
        args.envp,
        args.execfn,
        args.random,
        |at| auxv(&image, at),
    )?;
    Ok(Entry {
        pc: image.entry,
        sp,
    })
}

/// The auxiliary vector in `create_elf_tables` order: riscv's `ARCH_DLINFO` first (cache
/// geometry unknown, reported as 0 like QEMU's virt board; no vDSO yet, so no
/// `AT_SYSINFO_EHDR`), then the generic entries. riscv has no `ELF_PLATFORM`, so no
/// `AT_PLATFORM`; `rseq` is `ENOSYS`, so no `AT_RSEQ_*`.
fn auxv(image: &Image, at: &stack::StackAddrs) -> Vec<(u64, u64)> {
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
        (AT_BASE, 0),
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
            mm.space
                .poke(zero_from, &zeros)
                .expect("the segment was mapped above");
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
        exec_stack: elf
            .phdrs
            .iter()
            .any(|p| p.p_type == PT_GNU_STACK && p.p_flags & PF_X != 0),
        tls: elf
            .phdrs
            .iter()
            .find(|p| p.p_type == PT_TLS)
            .map(|p| (p.p_vaddr.wrapping_add(bias), p.p_memsz)),
    })
}

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
        let entry = load(&mut mm, &data, &args).unwrap();
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

    #[test]
    fn dynamic_executables_are_refused_for_now() {
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
        let args = Args {
            argv: &[],
            envp: &[],
            execfn: b"/p",
            random: [0; 16],
        };
        let e = load(&mut Mm::new(), &f, &args).unwrap_err();
        assert_eq!(
            e.to_string(),
            "dynamic executables are not supported yet (interpreter /lib/ld.so)"
        );
    }
}
