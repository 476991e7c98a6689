//! ELF64 header and program-header parsing for riscv64 executables, with every field the
//! loader relies on checked against the file before anything is mapped.
//!
//! The checks are Linux's (`load_elf_binary`, `elf_read_phdrs`) plus the ones Linux leaves to
//! chance: segment file ranges inside the file, no wrap-around, no overlapping segments.
//! Each failure is an [`ElfError`] whose message names the field and its value.

use ctr2wasm_emulator::mmu::ADDRESS_SPACE_END;

pub const EM_RISCV: u16 = 243;
pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;

pub const PT_LOAD: u32 = 1;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PT_TLS: u32 = 7;
pub const PT_GNU_STACK: u32 = 0x6474_e551;

pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;

const ELFMAG: &[u8; 4] = b"\x7fELF";
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
pub const EHDR_SIZE: usize = 64;
pub const PHDR_SIZE: u16 = 56;
/// Largest program-header table Linux reads (`elf_read_phdrs`: 64 KiB).
const MAX_PHDR_TABLE: usize = 65536;
/// Longest `PT_INTERP` path, NUL included (`PATH_MAX`).
const MAX_INTERP: u64 = 4096;
/// Most memory the `PT_LOAD` segments of one file may span together (`p_memsz` summed).
/// Mapping costs page-table entries up front even for bss nobody touches, so a header
/// claiming terabytes would stall or exhaust the runtime; real programs' images, bss
/// included, are far smaller. Linux's overcommit check likewise refuses an image larger than
/// memory.
const MAX_IMAGE_MEMSZ: u64 = 1 << 30;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    #[error("not an ELF file")]
    NotElf,
    #[error("truncated ELF header ({0} bytes, need 64)")]
    Truncated(usize),
    #[error("not a 64-bit ELF file (EI_CLASS {0})")]
    NotElf64(u8),
    #[error("not a little-endian ELF file (EI_DATA {0})")]
    NotLittleEndian(u8),
    #[error("not a riscv64 executable (e_machine {0}, expected 243)")]
    NotRiscv(u16),
    #[error("not an executable (e_type {0})")]
    NotExecutable(u16),
    #[error("bad program header table: {0}")]
    BadPhdrTable(String),
    #[error("bad segment {index}: {problem}")]
    BadSegment { index: usize, problem: String },
    #[error("segments {0} and {1} overlap")]
    Overlap(usize, usize),
    #[error("no PT_LOAD segment")]
    NoLoad,
    #[error("bad PT_INTERP: {0}")]
    BadInterp(String),
}

/// One program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phdr {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
    pub p_align: u64,
}

/// A validated ELF executable.
#[derive(Debug)]
pub struct Elf {
    pub e_type: u16,
    pub e_entry: u64,
    pub e_phoff: u64,
    pub phdrs: Vec<Phdr>,
    /// The `PT_INTERP` path without its NUL, for dynamically linked programs.
    pub interp: Option<Vec<u8>>,
}

fn u16_at(d: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([d[off], d[off + 1]])
}

fn u32_at(d: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(d[off..off + 4].try_into().expect("4 bytes"))
}

fn u64_at(d: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(d[off..off + 8].try_into().expect("8 bytes"))
}

impl Elf {
    /// The `PT_LOAD` headers with their index in the table.
    pub fn loads(&self) -> impl Iterator<Item = (usize, &Phdr)> {
        self.phdrs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.p_type == PT_LOAD)
    }

    /// Parses and checks `data`, the whole file.
    pub fn parse(data: &[u8]) -> Result<Elf, ElfError> {
        if !data.starts_with(ELFMAG) {
            return Err(ElfError::NotElf);
        }
        if data.len() < EHDR_SIZE {
            return Err(ElfError::Truncated(data.len()));
        }
        if data[4] != ELFCLASS64 {
            return Err(ElfError::NotElf64(data[4]));
        }
        if data[5] != ELFDATA2LSB {
            return Err(ElfError::NotLittleEndian(data[5]));
        }
        let e_type = u16_at(data, 16);
        let e_machine = u16_at(data, 18);
        if e_machine != EM_RISCV {
            return Err(ElfError::NotRiscv(e_machine));
        }
        if e_type != ET_EXEC && e_type != ET_DYN {
            return Err(ElfError::NotExecutable(e_type));
        }
        let e_entry = u64_at(data, 24);
        let e_phoff = u64_at(data, 32);
        let e_phentsize = u16_at(data, 54);
        let e_phnum = u16_at(data, 56);
        if e_phentsize != PHDR_SIZE {
            return Err(ElfError::BadPhdrTable(format!(
                "e_phentsize {e_phentsize}, expected {PHDR_SIZE}"
            )));
        }
        let table_len = usize::from(e_phnum) * usize::from(PHDR_SIZE);
        if e_phnum == 0 || table_len > MAX_PHDR_TABLE {
            return Err(ElfError::BadPhdrTable(format!("e_phnum {e_phnum}")));
        }
        let table = usize::try_from(e_phoff)
            .ok()
            .and_then(|off| Some(off..off.checked_add(table_len)?))
            .and_then(|r| data.get(r))
            .ok_or_else(|| {
                ElfError::BadPhdrTable(format!(
                    "{table_len} bytes at offset {e_phoff:#x} extend past the end of the file ({} bytes)",
                    data.len()
                ))
            })?;
        let phdrs: Vec<Phdr> = table
            .chunks_exact(usize::from(PHDR_SIZE))
            .map(|p| Phdr {
                p_type: u32_at(p, 0),
                p_flags: u32_at(p, 4),
                p_offset: u64_at(p, 8),
                p_vaddr: u64_at(p, 16),
                p_filesz: u64_at(p, 32),
                p_memsz: u64_at(p, 40),
                p_align: u64_at(p, 48),
            })
            .collect();
        let elf = Elf {
            e_type,
            e_entry,
            e_phoff,
            interp: interp(&phdrs, data)?,
            phdrs,
        };
        elf.check_loads(data.len() as u64)?;
        Ok(elf)
    }

    fn check_loads(&self, file_len: u64) -> Result<(), ElfError> {
        let bad = |index, problem: String| ElfError::BadSegment { index, problem };
        let mut ranges: Vec<(u64, u64, usize)> = Vec::new();
        let mut total_memsz = 0u64;
        for (i, p) in self.loads() {
            if p.p_filesz > p.p_memsz {
                return Err(bad(
                    i,
                    format!(
                        "p_filesz {:#x} exceeds p_memsz {:#x}",
                        p.p_filesz, p.p_memsz
                    ),
                ));
            }
            if p.p_offset
                .checked_add(p.p_filesz)
                .is_none_or(|e| e > file_len)
            {
                return Err(bad(
                    i,
                    format!(
                        "file range {:#x}+{:#x} extends past the end of the file ({file_len} bytes)",
                        p.p_offset, p.p_filesz
                    ),
                ));
            }
            let end = p.p_vaddr.checked_add(p.p_memsz).ok_or_else(|| {
                bad(
                    i,
                    format!(
                        "address range {:#x}+{:#x} wraps around",
                        p.p_vaddr, p.p_memsz
                    ),
                )
            })?;
            if end > ADDRESS_SPACE_END {
                return Err(bad(
                    i,
                    format!(
                        "address range {:#x}+{:#x} is outside the 47-bit address space",
                        p.p_vaddr, p.p_memsz
                    ),
                ));
            }
            if p.p_memsz > 0 {
                ranges.push((p.p_vaddr, end, i));
            }
            total_memsz = total_memsz.saturating_add(p.p_memsz);
            if total_memsz > MAX_IMAGE_MEMSZ {
                return Err(bad(
                    i,
                    format!(
                        "p_memsz {:#x} brings the image past {} MiB",
                        p.p_memsz,
                        MAX_IMAGE_MEMSZ >> 20
                    ),
                ));
            }
        }
        if ranges.is_empty() {
            return Err(ElfError::NoLoad);
        }
        ranges.sort_unstable();
        for w in ranges.windows(2) {
            if w[1].0 < w[0].1 {
                return Err(ElfError::Overlap(w[0].2.min(w[1].2), w[0].2.max(w[1].2)));
            }
        }
        Ok(())
    }
}

fn interp(phdrs: &[Phdr], data: &[u8]) -> Result<Option<Vec<u8>>, ElfError> {
    let mut found = None;
    for p in phdrs.iter().filter(|p| p.p_type == PT_INTERP) {
        if found.is_some() {
            return Err(ElfError::BadInterp("more than one PT_INTERP".into()));
        }
        if p.p_filesz < 2 || p.p_filesz > MAX_INTERP {
            return Err(ElfError::BadInterp(format!("p_filesz {}", p.p_filesz)));
        }
        let bytes = usize::try_from(p.p_offset)
            .ok()
            .and_then(|o| data.get(o..o.checked_add(p.p_filesz as usize)?))
            .ok_or_else(|| {
                ElfError::BadInterp(format!("offset {:#x} is outside the file", p.p_offset))
            })?;
        let (last, path) = bytes.split_last().expect("p_filesz >= 2");
        if *last != 0 || path.contains(&0) {
            return Err(ElfError::BadInterp(
                "path is not one NUL-terminated string".into(),
            ));
        }
        found = Some(path.to_vec());
    }
    Ok(found)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal valid riscv64 ET_EXEC with one RX segment holding the headers and `code`.
    pub fn tiny_elf(code: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 0x78];
        f[..4].copy_from_slice(ELFMAG);
        f[4] = ELFCLASS64;
        f[5] = ELFDATA2LSB;
        f[6] = 1;
        f[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        f[18..20].copy_from_slice(&EM_RISCV.to_le_bytes());
        f[20..24].copy_from_slice(&1u32.to_le_bytes());
        f[24..32].copy_from_slice(&0x10078u64.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[52..54].copy_from_slice(&64u16.to_le_bytes());
        f[54..56].copy_from_slice(&PHDR_SIZE.to_le_bytes());
        f[56..58].copy_from_slice(&1u16.to_le_bytes());
        f.extend_from_slice(code);
        let len = f.len() as u64;
        let ph = &mut f[64..120];
        ph[0..4].copy_from_slice(&PT_LOAD.to_le_bytes());
        ph[4..8].copy_from_slice(&(PF_R | PF_X).to_le_bytes());
        ph[16..24].copy_from_slice(&0x10000u64.to_le_bytes());
        ph[24..32].copy_from_slice(&0x10000u64.to_le_bytes());
        ph[32..40].copy_from_slice(&len.to_le_bytes());
        ph[40..48].copy_from_slice(&len.to_le_bytes());
        ph[48..56].copy_from_slice(&0x1000u64.to_le_bytes());
        f
    }

    fn err(data: &[u8]) -> String {
        Elf::parse(data).unwrap_err().to_string()
    }

    fn patch(mut f: Vec<u8>, off: usize, bytes: &[u8]) -> Vec<u8> {
        f[off..off + bytes.len()].copy_from_slice(bytes);
        f
    }

    /// Offset of field `field` of program header `i` in a `tiny_elf`.
    fn ph(i: usize, field: usize) -> usize {
        64 + i * 56 + field
    }

    #[test]
    fn accepts_a_minimal_executable() {
        let elf = Elf::parse(&tiny_elf(&[0x73, 0, 0, 0])).unwrap();
        assert_eq!(elf.e_entry, 0x10078);
        assert_eq!(elf.loads().count(), 1);
        assert!(elf.interp.is_none());
    }

    #[test]
    fn header_rejections_name_the_problem() {
        let good = tiny_elf(&[]);
        assert_eq!(err(b""), "not an ELF file");
        assert_eq!(err(b"hello world"), "not an ELF file");
        // Scripts are recognised before ELF parsing (`super::script`).
        assert_eq!(err(b"#!/bin/sh\n"), "not an ELF file");
        assert_eq!(err(&good[..40]), "truncated ELF header (40 bytes, need 64)");
        assert_eq!(
            err(&patch(good.clone(), 4, &[1])),
            "not a 64-bit ELF file (EI_CLASS 1)"
        );
        assert_eq!(
            err(&patch(good.clone(), 5, &[2])),
            "not a little-endian ELF file (EI_DATA 2)"
        );
        assert_eq!(
            err(&patch(good.clone(), 18, &62u16.to_le_bytes())),
            "not a riscv64 executable (e_machine 62, expected 243)"
        );
        assert_eq!(
            err(&patch(good.clone(), 16, &1u16.to_le_bytes())),
            "not an executable (e_type 1)"
        );
        assert_eq!(
            err(&patch(good.clone(), 54, &32u16.to_le_bytes())),
            "bad program header table: e_phentsize 32, expected 56"
        );
        assert_eq!(
            err(&patch(good.clone(), 56, &0u16.to_le_bytes())),
            "bad program header table: e_phnum 0"
        );
        assert_eq!(
            err(&patch(good.clone(), 32, &0x1000u64.to_le_bytes())),
            "bad program header table: 56 bytes at offset 0x1000 extend past the end of the file (120 bytes)"
        );
    }

    #[test]
    fn segment_rejections_name_the_segment() {
        let good = tiny_elf(&[]);
        assert_eq!(
            err(&patch(good.clone(), ph(0, 32), &0x200u64.to_le_bytes())),
            "bad segment 0: p_filesz 0x200 exceeds p_memsz 0x78"
        );
        assert_eq!(
            err(&patch(good.clone(), ph(0, 8), &0x10u64.to_le_bytes())),
            "bad segment 0: file range 0x10+0x78 extends past the end of the file (120 bytes)"
        );
        assert_eq!(
            err(&patch(good.clone(), ph(0, 16), &u64::MAX.to_le_bytes())),
            "bad segment 0: address range 0xffffffffffffffff+0x78 wraps around"
        );
        assert_eq!(
            err(&patch(
                good.clone(),
                ph(0, 16),
                &0x7fff_ffff_fff0u64.to_le_bytes()
            )),
            "bad segment 0: address range 0x7ffffffffff0+0x78 is outside the 47-bit address space"
        );
        assert_eq!(
            err(&patch(good.clone(), ph(0, 0), &PT_TLS.to_le_bytes())),
            "no PT_LOAD segment"
        );
    }

    #[test]
    fn overlapping_segments_are_rejected() {
        let mut f = tiny_elf(&[0; 56]);
        f[56..58].copy_from_slice(&2u16.to_le_bytes());
        let first: Vec<u8> = f[64..120].to_vec();
        f[120..176].copy_from_slice(&first);
        // The second segment starts inside the first one.
        let f = patch(f, ph(1, 16), &0x10010u64.to_le_bytes());
        let f = patch(f, ph(1, 32), &0x10u64.to_le_bytes());
        let f = patch(f, ph(1, 40), &0x10u64.to_le_bytes());
        assert_eq!(err(&f), "segments 0 and 1 overlap");
    }

    #[test]
    fn pt_interp_is_read() {
        let mut f = tiny_elf(b"/lib/ld.so\0\0\0\0\0\0");
        f[56..58].copy_from_slice(&2u16.to_le_bytes());
        // The code bytes after the first header double as the second header's slot; write a
        // PT_INTERP pointing at the path in the file instead.
        let path_off = f.len() as u64 - 16;
        let mut hdr = vec![0u8; 56];
        hdr[0..4].copy_from_slice(&PT_INTERP.to_le_bytes());
        hdr[8..16].copy_from_slice(&path_off.to_le_bytes());
        hdr[32..40].copy_from_slice(&11u64.to_le_bytes());
        f.splice(120..120, hdr);
        let path_off = path_off + 56;
        f[120 + 8..120 + 16].copy_from_slice(&path_off.to_le_bytes());
        let len = f.len() as u64;
        f[ph(0, 32)..ph(0, 40)].copy_from_slice(&len.to_le_bytes());
        f[ph(0, 40)..ph(0, 48)].copy_from_slice(&len.to_le_bytes());
        let elf = Elf::parse(&f).unwrap();
        assert_eq!(elf.interp.as_deref(), Some(&b"/lib/ld.so"[..]));
    }
}
