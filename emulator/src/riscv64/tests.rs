//! Unit tests per instruction class: small hand-encoded programs run on a fresh hart.

use super::decode::{enc_b as b, enc_i as i, enc_r as r, enc_s as s};
use super::*;
use crate::mmu::{FaultKind, Prot};

const CODE: u64 = 0x10000;
const DATA: u64 = 0x20000;

fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x13, rd, 0, rs1, imm)
}
fn lui(rd: u32, imm20: u32) -> u32 {
    imm20 << 12 | rd << 7 | 0x37
}
const ECALL: u32 = 0x73;

struct Machine {
    hart: Hart,
    mem: AddressSpace,
    cache: DecodeCache,
}

impl Machine {
    fn new(code: &[u32]) -> Machine {
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        Self::with_bytes(&bytes)
    }

    fn with_bytes(bytes: &[u8]) -> Machine {
        let mut mem = AddressSpace::new();
        mem.map(CODE, 0x2000, Prot::RX);
        mem.poke(CODE, bytes).unwrap();
        mem.map(DATA, 0x3000, Prot::RW);
        let hart = Hart {
            pc: CODE,
            ..Hart::default()
        };
        Machine {
            hart,
            mem,
            cache: DecodeCache::default(),
        }
    }

    fn run(&mut self) -> Exit {
        run(&mut self.hart, &mut self.mem, &mut self.cache, 1_000_000)
    }

    fn run_to_ecall(&mut self) {
        assert_eq!(self.run(), Exit::Ecall, "pc={:#x}", self.hart.pc);
    }
}

/// Runs `code` (which must end in ecall) with the given registers set; returns the hart.
fn exec(regs: &[(usize, u64)], code: &[u32]) -> Machine {
    let mut m = Machine::new(code);
    for &(n, v) in regs {
        m.hart.x[n] = v;
    }
    m.run_to_ecall();
    m
}

#[test]
fn integer_register_immediate() {
    let m = exec(
        &[(1, 5)],
        &[
            addi(2, 1, -7),
            i(0x13, 3, 2, 1, 6),     // slti
            i(0x13, 4, 3, 2, 1),     // sltiu x4, x2(-2), 1 -> 0
            i(0x13, 5, 4, 1, -1),    // xori -> !5
            i(0x13, 6, 1, 1, 63),    // slli 63
            i(0x13, 7, 5, 6, 0x43f), // srai 63
            i(0x1b, 8, 0, 1, 0x7ff), // addiw
            lui(9, 0x80000),         // sign-extended
            i(0x1b, 10, 1, 1, 31),   // slliw 31 -> sign bit
            ECALL,
        ],
    );
    let x = &m.hart.x;
    assert_eq!(x[2] as i64, -2);
    assert_eq!(x[3], 1);
    assert_eq!(x[4], 0);
    assert_eq!(x[5], !5);
    assert_eq!(x[6], 1 << 63);
    assert_eq!(x[7], u64::MAX);
    assert_eq!(x[8], 5 + 0x7ff);
    assert_eq!(x[9], 0xffff_ffff_8000_0000);
    assert_eq!(x[10], 0xffff_ffff_8000_0000);
    assert_eq!(m.hart.instret, 10);
}

#[test]
fn word_ops_sign_extend() {
    let m = exec(
        &[
            (1, 0x7fff_ffff),
            (2, 1),
            (3, 0xffff_ffff_0000_0001),
            (4, 33),
        ],
        &[
            r(0x3b, 5, 0, 1, 2, 0),    // addw overflow -> negative
            r(0x3b, 6, 0, 3, 2, 0x20), // subw -> 0
            r(0x3b, 7, 1, 2, 4, 0),    // sllw by 33 & 31 = 1
            r(0x3b, 8, 5, 5, 2, 0),    // srlw of negative
            r(0x3b, 9, 5, 5, 2, 0x20), // sraw
            i(0x03, 10, 6, 0, 0),      // placeholder overwritten below
            ECALL,
        ]
        .map(|w| {
            if w == i(0x03, 10, 6, 0, 0) {
                addi(0, 0, 0)
            } else {
                w
            }
        }),
    );
    let x = &m.hart.x;
    assert_eq!(x[5], 0xffff_ffff_8000_0000);
    assert_eq!(x[6], 0);
    assert_eq!(x[7], 2);
    assert_eq!(x[8], 0x4000_0000);
    assert_eq!(x[9], 0xffff_ffff_c000_0000);
}

#[test]
fn multiply_divide_corner_cases() {
    let min = i64::MIN as u64;
    let m = exec(
        &[
            (1, min),
            (2, u64::MAX),
            (3, 0),
            (4, 7),
            (5, 0xffff_ffff_8000_0000),
        ],
        &[
            r(0x33, 6, 4, 1, 2, 1),  // div MIN/-1 -> MIN
            r(0x33, 7, 6, 1, 2, 1),  // rem MIN%-1 -> 0
            r(0x33, 8, 4, 4, 3, 1),  // div by 0 -> -1
            r(0x33, 9, 7, 4, 3, 1),  // remu by 0 -> dividend
            r(0x33, 10, 3, 2, 2, 1), // mulhu
            r(0x33, 11, 1, 1, 2, 1), // mulh MIN*-1
            r(0x33, 12, 2, 2, 2, 1), // mulhsu -1 * (2^64-1)
            r(0x3b, 13, 4, 5, 2, 1), // divw INT_MIN/-1
            r(0x3b, 14, 5, 4, 3, 1), // divuw by 0
            r(0x3b, 15, 6, 5, 3, 1), // remw by 0 -> sext dividend
            ECALL,
        ],
    );
    let x = &m.hart.x;
    assert_eq!(x[6], min);
    assert_eq!(x[7], 0);
    assert_eq!(x[8], u64::MAX);
    assert_eq!(x[9], 7);
    assert_eq!(x[10], u64::MAX - 1);
    assert_eq!(x[11], 0);
    assert_eq!(x[12], u64::MAX);
    assert_eq!(x[13], 0xffff_ffff_8000_0000);
    assert_eq!(x[14], u64::MAX);
    assert_eq!(x[15], 0xffff_ffff_8000_0000);
}

#[test]
fn loads_stores_misaligned_and_page_crossing() {
    let m = exec(
        &[(1, DATA + 0xffd), (2, 0x1122_3344_5566_7788)],
        &[
            s(0x23, 3, 1, 2, 0), // sd across the page boundary
            i(0x03, 3, 3, 1, 0), // ld it back
            i(0x03, 4, 2, 1, 1), // lw at +1 (misaligned)
            i(0x03, 5, 0, 1, 7), // lb 0x11
            i(0x03, 6, 6, 1, 4), // lwu
            i(0x03, 7, 5, 1, 6), // lhu
            ECALL,
        ],
    );
    let x = &m.hart.x;
    assert_eq!(x[3], 0x1122_3344_5566_7788);
    assert_eq!(x[4], 0x4455_6677);
    assert_eq!(x[5], 0x11);
    assert_eq!(x[6], 0x1122_3344);
    assert_eq!(x[7], 0x1122);
}

#[test]
fn branches_and_a_loop() {
    // x1 = 10; loop: x2 += x1; x1 -= 1; bne x1, x0, loop
    let m = exec(
        &[(1, 10)],
        &[
            r(0x33, 2, 0, 2, 1, 0),
            addi(1, 1, -1),
            b(1, 1, 0, -8),
            ECALL,
        ],
    );
    assert_eq!(m.hart.x[2], 55);
    assert_eq!(m.hart.instret, 31);
}

#[test]
fn jal_jalr_link() {
    // jal x1, +8 ; ecall(skipped) ; jalr x5, 0(x1)-> back to 4 ... use: target does ecall.
    let m = exec(&[], &[0x0080_00ef, ECALL, i(0x67, 5, 0, 1, 0)]);
    assert_eq!(m.hart.x[1], CODE + 4);
    assert_eq!(m.hart.x[5], CODE + 12);
    assert_eq!(m.hart.pc, CODE + 4);
}

#[test]
fn compressed_program() {
    // c.li a0, 5; c.addi a0, 3; c.mv a1, a0; c.slli a1, 2; ecall
    let mut bytes = Vec::new();
    for h in [0x4515u16, 0x050d, 0x85aa, 0x058a] {
        bytes.extend_from_slice(&h.to_le_bytes());
    }
    bytes.extend_from_slice(&ECALL.to_le_bytes());
    let mut m = Machine::with_bytes(&bytes);
    m.run_to_ecall();
    assert_eq!(m.hart.x[10], 8);
    assert_eq!(m.hart.x[11], 32);
    assert_eq!(m.hart.pc, CODE + 8);
}

#[test]
fn atomics_lr_sc_and_amos() {
    let m = exec(
        &[(1, DATA), (2, 5), (3, 0xffff_fff0)],
        &[
            s(0x23, 3, 1, 2, 0),            // sd 5
            r(0x2f, 4, 3, 1, 0, 0x02 << 2), // lr.d x4
            r(0x2f, 5, 3, 1, 3, 0x03 << 2), // sc.d x5 <- ok (0)
            r(0x2f, 6, 3, 1, 3, 0x03 << 2), // sc.d again fails (1)
            r(0x2f, 7, 2, 1, 3, 0x00 << 2), // amoadd.w x7, x3 -> old low word sext
            r(0x2f, 8, 2, 1, 2, 0x10 << 2), // amomin.w
            r(0x2f, 9, 2, 1, 2, 0x18 << 2), // amominu.w
            i(0x03, 10, 3, 1, 0),
            ECALL,
        ],
    );
    let x = &m.hart.x;
    assert_eq!(x[4], 5);
    assert_eq!(x[5], 0);
    assert_eq!(x[6], 1);
    assert_eq!(x[7], 0xffff_ffff_ffff_fff0); // value stored by sc, sign-extended
    assert_eq!(x[8], 0xffff_ffff_ffff_ffe0); // fff0 + fff0 = ffe0 (32-bit)
    assert_eq!(x[9], 0xffff_ffff_ffff_ffe0); // after amomin stays -32
    assert_eq!(x[10], 5); // min(-32 as u32, 5) = 5
}

#[test]
fn misaligned_amo_is_sigbus() {
    let mut m = Machine::new(&[r(0x2f, 4, 3, 1, 0, 0x02 << 2), ECALL]);
    m.hart.x[1] = DATA + 4;
    match m.run() {
        Exit::Fault(f) => assert_eq!((f.addr, f.kind), (DATA + 4, FaultKind::Misaligned)),
        e => panic!("{e:?}"),
    }
    assert_eq!(m.hart.pc, CODE);
}

#[test]
fn bitmanip_zba_zbb_zbs_zicond() {
    let m = exec(
        &[(1, 0x0000_0000_8000_0001), (2, 0x10), (3, 0)],
        &[
            r(0x33, 4, 4, 1, 2, 0x10),     // sh2add
            r(0x3b, 5, 0, 1, 2, 0x04),     // add.uw
            i(0x13, 6, 1, 1, 0x600),       // clz
            i(0x13, 7, 1, 1, 0x602),       // cpop
            i(0x13, 8, 5, 1, 0x6b8),       // rev8
            r(0x33, 9, 1, 1, 2, 0x30),     // rol by 16
            i(0x13, 10, 5, 2, 0x287),      // orc.b of 0x10
            r(0x33, 11, 5, 1, 3, 0x07),    // czero.eqz x1, x3(0) -> 0
            r(0x33, 12, 7, 1, 3, 0x07),    // czero.nez x1, x3(0) -> x1
            i(0x13, 13, 1, 3, 0x280 | 3),  // bseti 3
            i(0x13, 14, 5, 1, 0x480 | 31), // bexti 31
            i(0x1b, 15, 1, 1, 0x600),      // clzw
            ECALL,
        ],
    );
    let x = &m.hart.x;
    assert_eq!(x[4], (0x8000_0001u64 << 2) + 0x10);
    assert_eq!(x[5], 0x8000_0011);
    assert_eq!(x[6], 32);
    assert_eq!(x[7], 2);
    assert_eq!(x[8], 0x0100_0080_0000_0000);
    assert_eq!(x[9], 0x0000_8000_0001_0000);
    assert_eq!(x[10], 0xff);
    assert_eq!(x[11], 0);
    assert_eq!(x[12], 0x8000_0001);
    assert_eq!(x[13], 8);
    assert_eq!(x[14], 1);
    assert_eq!(x[15], 0);
}

#[test]
fn csr_fcsr_and_counters() {
    let m = exec(
        &[(1, 0b011_00001)],
        &[
            i(0x73, 2, 1, 1, 0x003), // csrrw x2, fcsr, x1
            i(0x73, 3, 2, 0, 0x002), // csrrs x3, frm, x0
            i(0x73, 4, 2, 0, 0x001), // frflags
            i(0x73, 5, 2, 0, 0xc02), // rdinstret
            ECALL,
        ],
    );
    assert_eq!(m.hart.x[2], 0);
    assert_eq!(m.hart.x[3], 3);
    assert_eq!(m.hart.x[4], 1);
    assert_eq!(m.hart.x[5], 3);
}

#[test]
fn writing_a_read_only_csr_is_illegal() {
    let mut m = Machine::new(&[addi(1, 0, 1), i(0x73, 2, 1, 1, 0xc00), ECALL]);
    assert_eq!(m.run(), Exit::IllegalInstruction);
    assert_eq!(m.hart.pc, CODE + 4);
    assert_eq!(m.hart.instret, 1);
}

#[test]
fn fp_dynamic_rounding_and_flags() {
    // fcvt.d.l f1, x1; fcvt.d.l f2, x2; fdiv.d f3, f1, f2 (dyn); fcvt.l.d x3, f3, rtz
    let m = exec(
        &[(1, 1), (2, 3), (4, 3 << 5)], // frm = RUP
        &[
            i(0x73, 0, 1, 4, 0x003),   // fscsr x4
            r(0x53, 1, 7, 1, 2, 0x69), // fcvt.d.l f1, x1
            r(0x53, 2, 7, 2, 2, 0x69), // fcvt.d.l f2, x2
            r(0x53, 3, 7, 1, 2, 0x0d), // fdiv.d f3, f1, f2 (dyn = RUP)
            r(0x53, 5, 1, 3, 2, 0x61), // fcvt.l.d x5, f3, rtz
            i(0x73, 6, 2, 0, 0x001),   // frflags
            ECALL,
        ],
    );
    assert_eq!(m.hart.f[3], (1.0f64 / 3.0).to_bits() + 1);
    assert_eq!(m.hart.x[5], 0);
    assert_eq!(m.hart.x[6], fp::NX as u64);
}

#[test]
fn invalid_dynamic_rounding_mode_is_illegal() {
    let mut m = Machine::new(&[i(0x73, 0, 5, 7, 0x002), r(0x53, 1, 7, 1, 2, 0x01), ECALL]); // csrwi frm, 7
    assert_eq!(m.run(), Exit::IllegalInstruction);
    assert_eq!(m.hart.pc, CODE + 4);
}

#[test]
fn nan_boxing() {
    // fmv.d.x f1, x1 (improperly boxed single); fadd.s f2, f1, f1 -> canonical NaN
    let m = exec(
        &[(1, 0x0000_0000_3f80_0000)],
        &[r(0x53, 1, 0, 1, 0, 0x79), r(0x53, 2, 0, 1, 1, 0x00), ECALL],
    );
    assert_eq!(m.hart.f[2], 0xffff_ffff_7fc0_0000);
}

#[test]
fn faults_report_address_and_pc() {
    let mut m = Machine::new(&[addi(1, 0, 0x123), i(0x03, 2, 3, 1, 0), ECALL]);
    match m.run() {
        Exit::Fault(f) => assert_eq!((f.addr, f.kind), (0x123, FaultKind::Unmapped)),
        e => panic!("{e:?}"),
    }
    assert_eq!(m.hart.pc, CODE + 4);
    assert_eq!(m.hart.instret, 1);
    // Store to read-only code.
    let mut m = Machine::new(&[lui(1, 0x10), s(0x23, 2, 1, 0, 0), ECALL]);
    match m.run() {
        Exit::Fault(f) => assert_eq!((f.addr, f.kind), (CODE, FaultKind::Protection)),
        e => panic!("{e:?}"),
    }
    // Jump to unmapped memory.
    let mut m = Machine::new(&[lui(1, 0x500), i(0x67, 0, 0, 1, 0)]);
    match m.run() {
        Exit::Fault(f) => assert_eq!((f.addr, f.access), (0x50_0000, crate::mmu::Access::Exec)),
        e => panic!("{e:?}"),
    }
}

#[test]
fn illegal_instruction_stops_before_retiring() {
    let mut m = Machine::new(&[addi(1, 0, 1), 0xffff_ffff]);
    assert_eq!(m.run(), Exit::IllegalInstruction);
    assert_eq!(m.hart.pc, CODE + 4);
    assert_eq!(m.hart.x[1], 1);
}

#[test]
fn self_modifying_code_is_seen_after_a_store() {
    // Code in an RWX page overwrites its own next instruction (addi x5,x0,1 -> addi x5,x0,2).
    let patched = addi(5, 0, 2);
    let mut mem_code = [
        lui(1, 0x10), // x1 = CODE
        lui(2, patched >> 12),
        addi(2, 2, (patched & 0xfff) as i32),
        s(0x23, 2, 1, 2, 16), // sw x2, 16(x1)
        addi(5, 0, 1),        // at CODE+16: replaced before it runs
        ECALL,
    ];
    // lui+addi with a negative low part needs the usual +1 adjustment.
    if patched & 0x800 != 0 {
        mem_code[1] = lui(2, (patched >> 12) + 1);
    }
    let bytes: Vec<u8> = mem_code.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut m = Machine::with_bytes(&bytes);
    m.mem.protect(CODE, 0x2000, Prot::RWX);
    m.run_to_ecall();
    assert_eq!(m.hart.x[5], 2);
}

#[test]
fn a_store_into_a_page_entered_by_chaining_is_seen() {
    // Page 0 calls a function on page 1 twice (the second call follows the jump without the
    // dispatcher), patches the function's first instruction, and calls it again.
    const F: u64 = CODE + 0x1000;
    let patched = addi(5, 5, 100);
    let mut hi = patched >> 12;
    if patched & 0x800 != 0 {
        hi += 1;
    }
    let caller = [
        lui(6, (F >> 12) as u32),
        i(0x67, 1, 0, 6, 0), // jalr ra, 0(x6)
        i(0x67, 1, 0, 6, 0),
        lui(2, hi),
        addi(2, 2, (patched & 0xfff) as i32),
        s(0x23, 2, 6, 2, 0), // sw x2, 0(x6)
        i(0x67, 1, 0, 6, 0),
        ECALL,
    ];
    let callee = [addi(5, 5, 1), i(0x67, 0, 0, 1, 0)]; // ret
    let mut bytes = vec![0u8; 0x1000 + 8];
    for (at, w) in caller.iter().enumerate() {
        bytes[at * 4..at * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    for (at, w) in callee.iter().enumerate() {
        bytes[0x1000 + at * 4..0x1000 + at * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    let mut m = Machine::with_bytes(&bytes);
    m.mem.protect(CODE, 0x2000, Prot::RWX);
    m.run_to_ecall();
    assert_eq!(m.hart.x[5], 102);
}

#[test]
fn fence_i_and_external_writes_invalidate() {
    let mut m = Machine::new(&[addi(5, 0, 1), ECALL]);
    m.run_to_ecall();
    assert_eq!(m.hart.x[5], 1);
    // The kernel side rewrites the code (as a debugger or loader would) and re-runs it.
    m.mem.poke(CODE, &addi(5, 0, 9).to_le_bytes()).unwrap();
    m.hart.pc = CODE;
    m.run_to_ecall();
    assert_eq!(m.hart.x[5], 9);
}

#[test]
fn budget_ends_at_block_boundary() {
    let mut m = Machine::new(&[addi(1, 1, 1), b(0, 0, 0, -4)]); // infinite loop
    assert_eq!(
        run(&mut m.hart, &mut m.mem, &mut m.cache, 1000),
        Exit::BudgetSpent
    );
    assert!(m.hart.instret >= 1000 && m.hart.instret < 1010);
    assert_eq!(m.hart.x[1] * 2, m.hart.instret);
}

#[test]
fn instruction_straddling_pages() {
    // A 4-byte instruction at CODE+0xffe, after a c.nop run.
    let mut bytes = vec![0u8; 0x1000 + 8];
    for h in bytes[..0xffe].chunks_mut(2) {
        h.copy_from_slice(&0x0001u16.to_le_bytes()); // c.nop
    }
    bytes[0xffe..0x1002].copy_from_slice(&addi(7, 0, 42).to_le_bytes());
    bytes[0x1002..0x1006].copy_from_slice(&ECALL.to_le_bytes());
    let mut m = Machine::with_bytes(&bytes);
    m.run_to_ecall();
    assert_eq!(m.hart.x[7], 42);
    assert_eq!(m.hart.pc, CODE + 0x1002);
}

#[test]
fn the_decode_cache_is_bounded() {
    // A chain of `jal x0, +4096`, one per page, over more pages than the cache holds.
    const JAL_NEXT_PAGE: u32 = 0x0000_106f;
    let npages = MAX_DECODED_PAGES as u64 + 8;
    let base = 0x100_0000;
    let mut m = Machine::new(&[]);
    m.mem.map(base, npages * PAGE_SIZE, Prot::RX);
    for p in 0..npages - 1 {
        m.mem
            .poke(base + p * PAGE_SIZE, &JAL_NEXT_PAGE.to_le_bytes())
            .unwrap();
    }
    m.mem
        .poke(base + (npages - 1) * PAGE_SIZE, &ECALL.to_le_bytes())
        .unwrap();
    m.hart.pc = base;
    m.run_to_ecall();
    assert_eq!(m.hart.pc, base + (npages - 1) * PAGE_SIZE);
    assert!(m.cache.pages() <= MAX_DECODED_PAGES, "{}", m.cache.pages());
}
