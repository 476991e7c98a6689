//! Deterministic mutation testing of the loader, the fuzz target's oracle run in CI: tens of
//! thousands of seeded mutations of valid executables (bit flips, header fields set to
//! boundary values, truncations, hostile `PT_INTERP` strings) go through parsing and mapping,
//! as a program and as an interpreter. Nothing may panic, and every rejection is one line.
//!
//! `cargo +nightly fuzz run elf` in `wasi-shim/fuzz` explores further with coverage guidance.

use super::elf::tests::tiny_elf;
use super::elf::{ET_DYN, PF_R, PF_W, PF_X, PT_GNU_STACK, PT_INTERP, PT_LOAD, PT_PHDR, PT_TLS};
use super::tests::{dynamic_elf, interpreter_elf};
use super::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Offsets of the ELF header fields worth aiming at, with their widths.
const EHDR_FIELDS: &[(usize, usize)] = &[
    (16, 2), // e_type
    (24, 8), // e_entry
    (32, 8), // e_phoff
    (54, 2), // e_phentsize
    (56, 2), // e_phnum
];

/// Offsets within a program header, with widths: p_type, p_flags, p_offset, p_vaddr,
/// p_paddr, p_filesz, p_memsz, p_align.
const PHDR_FIELDS: &[(usize, usize)] = &[
    (0, 4),
    (4, 4),
    (8, 8),
    (16, 8),
    (24, 8),
    (32, 8),
    (40, 8),
    (48, 8),
];

/// xorshift64*: small, seeded, and the same on every host.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Values at the edges the loader's checks sit on, relative to `file_len`.
fn boundary_value(rng: &mut Rng, file_len: u64) -> u64 {
    let values = [
        0,
        1,
        2,
        7,
        55,
        56,
        57,
        64,
        0xfff,
        PAGE_SIZE,
        PAGE_SIZE + 1,
        file_len.wrapping_sub(1),
        file_len,
        file_len + 1,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        1 << 32,
        (1 << 30) + 1,
        ELF_ET_DYN_BASE,
        ADDRESS_SPACE_END - PAGE_SIZE,
        ADDRESS_SPACE_END - 1,
        ADDRESS_SPACE_END,
        ADDRESS_SPACE_END + PAGE_SIZE,
        1 << 63,
        u64::MAX - PAGE_SIZE,
        u64::MAX - 1,
        u64::MAX,
        u64::from(u16::MAX),
        u64::from(u32::MAX) + 1,
    ];
    if rng.below(8) == 0 {
        rng.next()
    } else {
        values[rng.below(values.len())]
    }
}

fn put(data: &mut [u8], off: usize, width: usize, value: u64) {
    if let Some(field) = data.get_mut(off..off + width) {
        field.copy_from_slice(&value.to_le_bytes()[..width]);
    }
}

/// Number of program headers the unmutated header declares (for aiming at them).
fn phnum(data: &[u8]) -> usize {
    data.get(56..58)
        .map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])))
        .min(16)
}

/// One to four mutations of `seed`'s bytes.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = data.len() as u64;
        match rng.below(8) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let at = rng.below(data.len());
                    if let Some(b) = data.get_mut(at) {
                        *b ^= 1 << rng.below(8);
                    }
                }
            }
            1 => {
                let (off, width) = EHDR_FIELDS[rng.below(EHDR_FIELDS.len())];
                let v = boundary_value(rng, len);
                put(&mut data, off, width, v);
            }
            2 | 3 => {
                let i = rng.below(phnum(&data).max(1));
                let (off, width) = PHDR_FIELDS[rng.below(PHDR_FIELDS.len())];
                let v = boundary_value(rng, len);
                put(&mut data, 64 + i * 56 + off, width, v);
            }
            4 => data.truncate(rng.below(data.len() + 1)),
            5 => {
                // A PT_INTERP aimed at itself, at the ELF magic, past the end, or at a string
                // with no NUL or one too long.
                let i = rng.below(phnum(&data).max(1));
                let at = 64 + i * 56;
                put(&mut data, at, 4, u64::from(PT_INTERP));
                let offset = match rng.below(4) {
                    0 => at as u64,
                    1 => 0,
                    2 => len.saturating_sub(1 + rng.below(16) as u64),
                    _ => boundary_value(rng, len),
                };
                let filesz = match rng.below(4) {
                    0 => 4096,
                    1 => 4097,
                    2 => len.saturating_sub(offset),
                    _ => boundary_value(rng, len),
                };
                put(&mut data, at + 8, 8, offset);
                put(&mut data, at + 32, 8, filesz);
                if rng.below(2) == 0 {
                    // No NUL anywhere after the offset.
                    if let Some(tail) = usize::try_from(offset).ok().and_then(|o| data.get_mut(o..))
                    {
                        tail.iter_mut().for_each(|b| *b = b'a');
                    }
                }
            }
            6 => {
                // Grow the file with junk so that offsets past the old end become valid.
                let extra = rng.below(3 * PAGE_SIZE as usize);
                data.extend((0..extra).map(|i| i as u8));
            }
            _ => {
                // A byte set to a value with meaning somewhere (PT_* low bytes, 0xff, 0).
                let at = rng.below(data.len());
                if let Some(b) = data.get_mut(at) {
                    *b = [0, 1, 2, 3, 6, 7, 0x7f, 0x80, 0xff][rng.below(9)];
                }
            }
        }
    }
    data
}

/// A position-independent program with the program headers a real one has: `PT_PHDR`, a
/// `PT_INTERP`, text, data with bss, `PT_TLS` and `PT_GNU_STACK`.
fn rich_elf() -> Vec<u8> {
    const PHNUM: usize = 6;
    let interp_off = 64 + PHNUM * 56;
    let text_off = 0x400u64;
    let mut f = tiny_elf(&[]);
    f.resize(0x2000, 0);
    f[16..18].copy_from_slice(&ET_DYN.to_le_bytes());
    f[24..32].copy_from_slice(&text_off.to_le_bytes());
    f[56..58].copy_from_slice(&(PHNUM as u16).to_le_bytes());
    f[interp_off..interp_off + 11].copy_from_slice(b"/lib/ld.so\0");
    f[text_off as usize..text_off as usize + 4].copy_from_slice(&[0x73, 0, 0, 0]);
    // (type, flags, offset, vaddr, filesz, memsz, align)
    let phdrs: [(u32, u32, u64, u64, u64, u64, u64); PHNUM] = [
        (
            PT_PHDR,
            PF_R,
            64,
            64,
            56 * PHNUM as u64,
            56 * PHNUM as u64,
            8,
        ),
        (
            PT_INTERP,
            PF_R,
            interp_off as u64,
            interp_off as u64,
            11,
            11,
            1,
        ),
        (PT_LOAD, PF_R | PF_X, 0, 0, 0x1000, 0x1000, 0x1000),
        (PT_LOAD, PF_R | PF_W, 0x1000, 0x1000, 0x800, 0x3000, 0x1000),
        (PT_TLS, PF_R, 0x1100, 0x1100, 0x10, 0x40, 16),
        (PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16),
    ];
    for (i, (ty, flags, off, vaddr, filesz, memsz, align)) in phdrs.into_iter().enumerate() {
        let at = 64 + i * 56;
        put(&mut f, at, 4, u64::from(ty));
        put(&mut f, at + 4, 4, u64::from(flags));
        for (field, v) in [
            (8, off),
            (16, vaddr),
            (24, vaddr),
            (32, filesz),
            (40, memsz),
        ] {
            put(&mut f, at + field, 8, v);
        }
        put(&mut f, at + 48, 8, align);
    }
    f
}

/// Runs `data` through the loader as a program (with itself as interpreter) and as the
/// interpreter of a valid dynamic program; checks each rejection is one line.
fn check(data: &[u8], good_program: &[u8]) {
    let one_line = |what: &str, e: LoadError| {
        let msg = e.to_string();
        assert!(
            !msg.is_empty() && !msg.contains('\n'),
            "{what}: rejection is not one line: {msg:?}"
        );
    };
    match load_untrusted(data) {
        Ok(entry) => assert_eq!(entry.sp % 16, 0),
        Err(e) => one_line("as a program", e),
    }
    let Ok(interp) = Elf::parse(data) else {
        return;
    };
    let prog = Elf::parse(good_program).expect("the seed program is valid");
    let args = Args {
        argv: &[],
        envp: &[],
        execfn: b"/p",
        random: [0; 16],
    };
    if let Err(e) = load(
        &mut Mm::new(),
        (&prog, good_program),
        Some((&interp, data)),
        &args,
    ) {
        one_line("as an interpreter", e);
    }
}

#[test]
fn seeds_load() {
    for seed in [
        tiny_elf(&[0x73, 0, 0, 0]),
        dynamic_elf(),
        interpreter_elf(),
        rich_elf(),
    ] {
        load_untrusted(&seed).unwrap();
    }
}

#[test]
fn mutated_executables_never_panic_and_are_rejected_in_one_line() {
    const MUTATIONS_PER_SEED: usize = 10_000;
    let good_program = dynamic_elf();
    let seeds = [
        tiny_elf(&[0x73, 0, 0, 0]),
        dynamic_elf(),
        interpreter_elf(),
        rich_elf(),
    ];
    let mut loaded = 0;
    for (s, seed) in seeds.iter().enumerate() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (s as u64 + 1));
        for i in 0..MUTATIONS_PER_SEED {
            let data = mutate(&mut rng, seed);
            if catch_unwind(AssertUnwindSafe(|| check(&data, &good_program))).is_err() {
                let path = std::env::temp_dir().join(format!("ctr2wasm-elf-crash-{s}-{i}"));
                let _ = std::fs::write(&path, &data);
                panic!(
                    "seed {s}, mutation {i}: the loader panicked; input saved to {}",
                    path.display()
                );
            }
            loaded += usize::from(Elf::parse(&data).is_ok());
        }
    }
    // The mutations must also reach the mapping code, not stop at the header checks (about
    // a quarter parse).
    let total = MUTATIONS_PER_SEED * seeds.len();
    assert!(
        loaded * 8 > total,
        "only {loaded} of {total} mutants parsed"
    );
}

#[test]
fn mutated_script_lines_never_panic() {
    let seeds: [&[u8]; 4] = [
        b"#!/bin/sh\n",
        b"#! /usr/bin/env  python3 -u \t\necho\n",
        b"#!\t/bin/busybox sh",
        &[b'#', b'!', b'/', b'x', b' ', 0, b'\n'],
    ];
    let mut rng = Rng(0x5eed);
    for seed in seeds {
        for _ in 0..5_000 {
            let mut data = seed.to_vec();
            for _ in 0..1 + rng.below(4) {
                match rng.below(4) {
                    0 => data.truncate(rng.below(data.len() + 1)),
                    1 => data.extend((0..rng.below(300)).map(|_| b"ab \t\n\0/"[rng.below(7)])),
                    2 => {
                        let at = rng.below(data.len());
                        if let Some(b) = data.get_mut(at) {
                            *b = b" \t\n\0#!/x\xff"[rng.below(9)];
                        }
                    }
                    _ => data.insert(rng.below(data.len() + 1), b' '),
                }
            }
            if let Ok(Some(s)) = script::parse(&data) {
                assert!(s.name.len() < script::BINPRM_BUF_SIZE, "{data:?}");
            }
        }
    }
}
