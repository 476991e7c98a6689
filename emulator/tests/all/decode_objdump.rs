//! Differential test of the riscv64 decoder against GNU objdump over the encoding space.
//!
//! Every 16-bit encoding and, for each 32-bit major opcode, pseudo-random words plus every
//! combination of the fields that select an operation (funct3 × funct7, × rs2 where rs2 selects
//! too, every CSR number, every fence field) are written as `.insn` lines, assembled with
//! `riscv64-linux-gnu-as` for exactly the extensions we implement (binutils 2.40 knows no
//! Zicond), and disassembled with `riscv64-linux-gnu-objdump -M no-aliases,numeric`. objdump
//! honours the object's arch attribute, so it decodes only those extensions plus the
//! privileged instructions. Each word must agree on legality, operation and operands with
//! [`decode`], after mapping compressed mnemonics to the 32-bit instruction the ISA manual
//! expands them to and applying the decoder's normalisations (`lui`/`auipc` become `li` of
//! the constant, pure integer writes to `x0` and fences become `nop`). The few differences
//! that remain are listed in [`Known`], each with the reason ours is right. A missing
//! assembler or objdump fails the test.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use ctr2wasm_emulator::riscv64::{DecodedOp, Op, decode};

const AS: &str = "riscv64-linux-gnu-as";
const OBJDUMP: &str = "riscv64-linux-gnu-objdump";
const PACKAGE: &str = "binutils-riscv64-linux-gnu";
/// The extensions the decoder implements that binutils 2.40 knows.
const MARCH: &str = "rv64gc_zba_zbb_zbs";
/// Uniformly random words per 32-bit major opcode, on top of the field sweeps.
const RANDOM_PER_OPCODE: usize = 3000;
/// Unexplained mismatches printed in full before the summary.
const SHOWN_MISMATCHES: usize = 30;

const OPCODE_MISC_MEM: u32 = 0x0f;
const OPCODE_OP_IMM: u32 = 0x13;
const OPCODE_OP_IMM_32: u32 = 0x1b;
const OPCODE_AMO: u32 = 0x2f;
const OPCODE_OP: u32 = 0x33;
const OPCODE_OP_32: u32 = 0x3b;
const OPCODE_OP_FP: u32 = 0x53;
const OPCODE_SYSTEM: u32 = 0x73;
/// rd, rs1 and rs2 fields of a 32-bit word.
const REG_FIELDS: u32 = 0x01ff_8f80;
/// rd and rs1 fields of a 32-bit word.
const RD_RS1_FIELDS: u32 = 0x000f_8f80;

/// How an operation's operands read in objdump's `no-aliases,numeric` syntax, with memory
/// operands `off(reg)` split into `off, reg`. Kinds: `xd`/`fd` (rd), `xs1`/`fs1`, `xs2`/`fs2`,
/// `fs3`, `i` (immediate, shift amount or offset), `T` (branch or jump target, compared as an
/// offset), `c` (CSR number), `u` (the 5-bit immediate of `csrr*i`, kept in rs1), `rm`
/// (rounding mode, omitted by objdump when dynamic) and `rm0` (an rm field objdump 2.40 only
/// decodes when zero, and never prints).
struct Form {
    op: Op,
    operands: &'static str,
    /// The only effect is writing integer rd, so the decoder turns rd = x0 into `nop`.
    pure: bool,
}

const fn alu(op: Op, operands: &'static str) -> Form {
    Form {
        op,
        operands,
        pure: true,
    }
}

const fn other(op: Op, operands: &'static str) -> Form {
    Form {
        op,
        operands,
        pure: false,
    }
}

/// Every operation the decoder produces, except `Illegal` (compared on its own).
const FORMS: &[Form] = &[
    other(Op::Nop, ""),
    alu(Op::Li, "xd,i"),
    other(Op::Jal, "xd,T"),
    other(Op::Jalr, "xd,i,xs1"),
    other(Op::Beq, "xs1,xs2,T"),
    other(Op::Bne, "xs1,xs2,T"),
    other(Op::Blt, "xs1,xs2,T"),
    other(Op::Bge, "xs1,xs2,T"),
    other(Op::Bltu, "xs1,xs2,T"),
    other(Op::Bgeu, "xs1,xs2,T"),
    other(Op::Lb, "xd,i,xs1"),
    other(Op::Lh, "xd,i,xs1"),
    other(Op::Lw, "xd,i,xs1"),
    other(Op::Ld, "xd,i,xs1"),
    other(Op::Lbu, "xd,i,xs1"),
    other(Op::Lhu, "xd,i,xs1"),
    other(Op::Lwu, "xd,i,xs1"),
    other(Op::Sb, "xs2,i,xs1"),
    other(Op::Sh, "xs2,i,xs1"),
    other(Op::Sw, "xs2,i,xs1"),
    other(Op::Sd, "xs2,i,xs1"),
    alu(Op::Addi, "xd,xs1,i"),
    alu(Op::Slti, "xd,xs1,i"),
    alu(Op::Sltiu, "xd,xs1,i"),
    alu(Op::Xori, "xd,xs1,i"),
    alu(Op::Ori, "xd,xs1,i"),
    alu(Op::Andi, "xd,xs1,i"),
    alu(Op::Slli, "xd,xs1,i"),
    alu(Op::Srli, "xd,xs1,i"),
    alu(Op::Srai, "xd,xs1,i"),
    alu(Op::Add, "xd,xs1,xs2"),
    alu(Op::Sub, "xd,xs1,xs2"),
    alu(Op::Sll, "xd,xs1,xs2"),
    alu(Op::Slt, "xd,xs1,xs2"),
    alu(Op::Sltu, "xd,xs1,xs2"),
    alu(Op::Xor, "xd,xs1,xs2"),
    alu(Op::Srl, "xd,xs1,xs2"),
    alu(Op::Sra, "xd,xs1,xs2"),
    alu(Op::Or, "xd,xs1,xs2"),
    alu(Op::And, "xd,xs1,xs2"),
    alu(Op::Addiw, "xd,xs1,i"),
    alu(Op::Slliw, "xd,xs1,i"),
    alu(Op::Srliw, "xd,xs1,i"),
    alu(Op::Sraiw, "xd,xs1,i"),
    alu(Op::Addw, "xd,xs1,xs2"),
    alu(Op::Subw, "xd,xs1,xs2"),
    alu(Op::Sllw, "xd,xs1,xs2"),
    alu(Op::Srlw, "xd,xs1,xs2"),
    alu(Op::Sraw, "xd,xs1,xs2"),
    other(Op::FenceI, ""),
    other(Op::Ecall, ""),
    other(Op::Ebreak, ""),
    alu(Op::Mul, "xd,xs1,xs2"),
    alu(Op::Mulh, "xd,xs1,xs2"),
    alu(Op::Mulhsu, "xd,xs1,xs2"),
    alu(Op::Mulhu, "xd,xs1,xs2"),
    alu(Op::Div, "xd,xs1,xs2"),
    alu(Op::Divu, "xd,xs1,xs2"),
    alu(Op::Rem, "xd,xs1,xs2"),
    alu(Op::Remu, "xd,xs1,xs2"),
    alu(Op::Mulw, "xd,xs1,xs2"),
    alu(Op::Divw, "xd,xs1,xs2"),
    alu(Op::Divuw, "xd,xs1,xs2"),
    alu(Op::Remw, "xd,xs1,xs2"),
    alu(Op::Remuw, "xd,xs1,xs2"),
    other(Op::LrW, "xd,xs1"),
    other(Op::ScW, "xd,xs2,xs1"),
    other(Op::LrD, "xd,xs1"),
    other(Op::ScD, "xd,xs2,xs1"),
    other(Op::AmoswapW, "xd,xs2,xs1"),
    other(Op::AmoaddW, "xd,xs2,xs1"),
    other(Op::AmoxorW, "xd,xs2,xs1"),
    other(Op::AmoandW, "xd,xs2,xs1"),
    other(Op::AmoorW, "xd,xs2,xs1"),
    other(Op::AmominW, "xd,xs2,xs1"),
    other(Op::AmomaxW, "xd,xs2,xs1"),
    other(Op::AmominuW, "xd,xs2,xs1"),
    other(Op::AmomaxuW, "xd,xs2,xs1"),
    other(Op::AmoswapD, "xd,xs2,xs1"),
    other(Op::AmoaddD, "xd,xs2,xs1"),
    other(Op::AmoxorD, "xd,xs2,xs1"),
    other(Op::AmoandD, "xd,xs2,xs1"),
    other(Op::AmoorD, "xd,xs2,xs1"),
    other(Op::AmominD, "xd,xs2,xs1"),
    other(Op::AmomaxD, "xd,xs2,xs1"),
    other(Op::AmominuD, "xd,xs2,xs1"),
    other(Op::AmomaxuD, "xd,xs2,xs1"),
    other(Op::Csrrw, "xd,c,xs1"),
    other(Op::Csrrs, "xd,c,xs1"),
    other(Op::Csrrc, "xd,c,xs1"),
    other(Op::Csrrwi, "xd,c,u"),
    other(Op::Csrrsi, "xd,c,u"),
    other(Op::Csrrci, "xd,c,u"),
    alu(Op::Sh1add, "xd,xs1,xs2"),
    alu(Op::Sh2add, "xd,xs1,xs2"),
    alu(Op::Sh3add, "xd,xs1,xs2"),
    alu(Op::AddUw, "xd,xs1,xs2"),
    alu(Op::Sh1addUw, "xd,xs1,xs2"),
    alu(Op::Sh2addUw, "xd,xs1,xs2"),
    alu(Op::Sh3addUw, "xd,xs1,xs2"),
    alu(Op::SlliUw, "xd,xs1,i"),
    alu(Op::Andn, "xd,xs1,xs2"),
    alu(Op::Orn, "xd,xs1,xs2"),
    alu(Op::Xnor, "xd,xs1,xs2"),
    alu(Op::Clz, "xd,xs1"),
    alu(Op::Clzw, "xd,xs1"),
    alu(Op::Ctz, "xd,xs1"),
    alu(Op::Ctzw, "xd,xs1"),
    alu(Op::Cpop, "xd,xs1"),
    alu(Op::Cpopw, "xd,xs1"),
    alu(Op::Max, "xd,xs1,xs2"),
    alu(Op::Maxu, "xd,xs1,xs2"),
    alu(Op::Min, "xd,xs1,xs2"),
    alu(Op::Minu, "xd,xs1,xs2"),
    alu(Op::SextB, "xd,xs1"),
    alu(Op::SextH, "xd,xs1"),
    alu(Op::ZextH, "xd,xs1"),
    alu(Op::Rol, "xd,xs1,xs2"),
    alu(Op::Rolw, "xd,xs1,xs2"),
    alu(Op::Ror, "xd,xs1,xs2"),
    alu(Op::Rori, "xd,xs1,i"),
    alu(Op::Roriw, "xd,xs1,i"),
    alu(Op::Rorw, "xd,xs1,xs2"),
    alu(Op::OrcB, "xd,xs1"),
    alu(Op::Rev8, "xd,xs1"),
    alu(Op::Bclr, "xd,xs1,xs2"),
    alu(Op::Bclri, "xd,xs1,i"),
    alu(Op::Bext, "xd,xs1,xs2"),
    alu(Op::Bexti, "xd,xs1,i"),
    alu(Op::Binv, "xd,xs1,xs2"),
    alu(Op::Binvi, "xd,xs1,i"),
    alu(Op::Bset, "xd,xs1,xs2"),
    alu(Op::Bseti, "xd,xs1,i"),
    alu(Op::CzeroEqz, "xd,xs1,xs2"),
    alu(Op::CzeroNez, "xd,xs1,xs2"),
    other(Op::Flw, "fd,i,xs1"),
    other(Op::Fsw, "fs2,i,xs1"),
    other(Op::Fld, "fd,i,xs1"),
    other(Op::Fsd, "fs2,i,xs1"),
    other(Op::FmaddS, "fd,fs1,fs2,fs3,rm"),
    other(Op::FmsubS, "fd,fs1,fs2,fs3,rm"),
    other(Op::FnmsubS, "fd,fs1,fs2,fs3,rm"),
    other(Op::FnmaddS, "fd,fs1,fs2,fs3,rm"),
    other(Op::FaddS, "fd,fs1,fs2,rm"),
    other(Op::FsubS, "fd,fs1,fs2,rm"),
    other(Op::FmulS, "fd,fs1,fs2,rm"),
    other(Op::FdivS, "fd,fs1,fs2,rm"),
    other(Op::FsqrtS, "fd,fs1,rm"),
    other(Op::FsgnjS, "fd,fs1,fs2"),
    other(Op::FsgnjnS, "fd,fs1,fs2"),
    other(Op::FsgnjxS, "fd,fs1,fs2"),
    other(Op::FminS, "fd,fs1,fs2"),
    other(Op::FmaxS, "fd,fs1,fs2"),
    other(Op::FcvtWS, "xd,fs1,rm"),
    other(Op::FcvtWuS, "xd,fs1,rm"),
    other(Op::FcvtLS, "xd,fs1,rm"),
    other(Op::FcvtLuS, "xd,fs1,rm"),
    other(Op::FmvXW, "xd,fs1"),
    other(Op::FeqS, "xd,fs1,fs2"),
    other(Op::FltS, "xd,fs1,fs2"),
    other(Op::FleS, "xd,fs1,fs2"),
    other(Op::FclassS, "xd,fs1"),
    other(Op::FcvtSW, "fd,xs1,rm"),
    other(Op::FcvtSWu, "fd,xs1,rm"),
    other(Op::FcvtSL, "fd,xs1,rm"),
    other(Op::FcvtSLu, "fd,xs1,rm"),
    other(Op::FmvWX, "fd,xs1"),
    other(Op::FmaddD, "fd,fs1,fs2,fs3,rm"),
    other(Op::FmsubD, "fd,fs1,fs2,fs3,rm"),
    other(Op::FnmsubD, "fd,fs1,fs2,fs3,rm"),
    other(Op::FnmaddD, "fd,fs1,fs2,fs3,rm"),
    other(Op::FaddD, "fd,fs1,fs2,rm"),
    other(Op::FsubD, "fd,fs1,fs2,rm"),
    other(Op::FmulD, "fd,fs1,fs2,rm"),
    other(Op::FdivD, "fd,fs1,fs2,rm"),
    other(Op::FsqrtD, "fd,fs1,rm"),
    other(Op::FsgnjD, "fd,fs1,fs2"),
    other(Op::FsgnjnD, "fd,fs1,fs2"),
    other(Op::FsgnjxD, "fd,fs1,fs2"),
    other(Op::FminD, "fd,fs1,fs2"),
    other(Op::FmaxD, "fd,fs1,fs2"),
    other(Op::FcvtSD, "fd,fs1,rm"),
    other(Op::FcvtDS, "fd,fs1,rm0"),
    other(Op::FcvtWD, "xd,fs1,rm"),
    other(Op::FcvtWuD, "xd,fs1,rm"),
    other(Op::FcvtLD, "xd,fs1,rm"),
    other(Op::FcvtLuD, "xd,fs1,rm"),
    other(Op::FmvXD, "xd,fs1"),
    other(Op::FeqD, "xd,fs1,fs2"),
    other(Op::FltD, "xd,fs1,fs2"),
    other(Op::FleD, "xd,fs1,fs2"),
    other(Op::FclassD, "xd,fs1"),
    other(Op::FcvtDW, "fd,xs1,rm0"),
    other(Op::FcvtDWu, "fd,xs1,rm0"),
    other(Op::FcvtDL, "fd,xs1,rm"),
    other(Op::FcvtDLu, "fd,xs1,rm"),
    other(Op::FmvDX, "fd,xs1"),
];

/// Instructions of the privileged architecture that objdump decodes whatever `-march` says
/// (`sfence.vm` and `hret` are from privileged spec 1.9.1). User mode, the only mode we run,
/// gets an illegal-instruction exception for them.
const PRIVILEGED: &[&str] = &[
    "mret",
    "sret",
    "uret",
    "dret",
    "hret",
    "wfi",
    "sfence.vma",
    "sfence.vm",
];

/// The justified differences between objdump 2.40 and the decoder.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Known {
    Privileged,
    Zicond,
    CAddi16spZero,
    FenceReservedFields,
    FenceIReservedFields,
    ExactConversionRm,
    ReservedRm,
}

impl Known {
    fn why(self) -> &'static str {
        match self {
            Known::Privileged => {
                "privileged instruction (mret, sret, wfi, sfence.vma, ...): objdump decodes it \
                 for any -march, but in U-mode it raises illegal-instruction (privileged ISA), \
                 which is what we decode it to"
            }
            Known::Zicond => {
                "czero.eqz/czero.nez (nop when rd = x0): binutils 2.40 predates Zicond (added \
                 in 2.41), so objdump cannot decode them"
            }
            Known::CAddi16spZero => {
                "c.addi16sp with nzimm = 0 (0x6101): objdump prints `c.addi16sp x2,0`, but the \
                 C chapter reserves this code point (C.ADDI16SP is only valid when nzimm != 0)"
            }
            Known::FenceReservedFields => {
                "fence with nonzero rd/rs1 or a reserved fm: objdump rejects it, but the \
                 unprivileged ISA (FENCE) says base implementations shall ignore rd/rs1 and \
                 treat reserved fm/pred/succ configurations as an ordinary fence; ours is nop"
            }
            Known::FenceIReservedFields => {
                "fence.i with nonzero imm/rs1/rd: objdump rejects it, but Zifencei says these \
                 fields are reserved for finer-grain fences and base implementations shall \
                 ignore them"
            }
            Known::ExactConversionRm => {
                "fcvt.d.s/fcvt.d.w/fcvt.d.wu with rm other than 000: objdump 2.40 only decodes \
                 rm=000, but the F/D chapters say implementations must treat the rm field of \
                 exact conversions as usual (legal unless reserved); binutils 2.41 agrees"
            }
            Known::ReservedRm => {
                "static rounding mode 101/110: objdump prints rm 'unknown', but these rm values \
                 are reserved, and like Spike and QEMU we raise illegal-instruction"
            }
        }
    }
}

/// objdump's reading of one word, normalised to the decoder's terms.
#[derive(Debug)]
enum Objdump {
    Illegal,
    Insn {
        op: Op,
        operands: Vec<String>,
    },
    /// A mnemonic we have no [`Form`] for.
    Unmodelled(String),
    /// A rounding-mode operand objdump prints as `unknown`.
    ReservedRm,
    /// Output this test cannot read; always a mismatch.
    Unreadable(String),
}

/// One word to check, at `addr` in the assembled text.
struct Word {
    bits: u32,
    len: u8,
    addr: u64,
}

/// splitmix64: a fixed seed gives the same words on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as u32
    }
}

/// 32-bit major opcodes: low bits 11, and bits [4:2] not 111 (longer encodings).
fn major_opcodes() -> impl Iterator<Item = u32> {
    (0..32u32).filter(|o| o & 7 != 7).map(|o| o << 2 | 3)
}

/// The words under test, CSR calibration words first (see [`csr_names`]).
fn words() -> Vec<(u32, u8)> {
    let mut rng = Rng(0x5eed_dec0_de00_0001);
    let mut w: Vec<(u32, u8)> = Vec::new();
    // csrrs x0, csr, x0 for every CSR number.
    w.extend((0..4096u32).map(|csr| (csr << 20 | 2 << 12 | OPCODE_SYSTEM, 4)));
    w.extend((0..=u16::MAX).filter(|c| c & 3 != 3).map(|c| (c as u32, 2)));
    for opcode in major_opcodes() {
        for _ in 0..RANDOM_PER_OPCODE {
            w.push((rng.next() & !0x7f | opcode, 4));
        }
        for f7 in 0..128u32 {
            for f3 in 0..8u32 {
                for _ in 0..2 {
                    w.push((rng.next() & REG_FIELDS | f7 << 25 | f3 << 12 | opcode, 4));
                }
                // Where rs2 (or imm[4:0]) selects the operation too: Zbb unary ops and
                // shifts, zext.h, lr, fcvt/fsqrt/fmv/fclass.
                if matches!(
                    opcode,
                    OPCODE_OP_IMM
                        | OPCODE_OP_IMM_32
                        | OPCODE_OP
                        | OPCODE_OP_32
                        | OPCODE_OP_FP
                        | OPCODE_AMO
                ) {
                    for rs2 in 0..32u32 {
                        let base = f7 << 25 | rs2 << 20 | f3 << 12 | opcode;
                        w.push((rng.next() & RD_RS1_FIELDS | base, 4));
                    }
                }
            }
        }
    }
    // Every CSR instruction form with every CSR number; every SYSTEM funct12 with rd = x0
    // and rs1 = x0 or random (ecall, ebreak and the privileged instructions).
    for f3 in 0..8u32 {
        for csr in 0..4096u32 {
            w.push((
                rng.next() & RD_RS1_FIELDS | csr << 20 | f3 << 12 | OPCODE_SYSTEM,
                4,
            ));
        }
    }
    for funct12 in 0..4096u32 {
        w.push((funct12 << 20 | OPCODE_SYSTEM, 4));
        w.push((rng.next() & 0x000f_8000 | funct12 << 20 | OPCODE_SYSTEM, 4));
    }
    // Every fm/pred/succ of every MISC-MEM funct3, with rd = rs1 = x0 and with random ones.
    for f3 in 0..8u32 {
        for imm12 in 0..4096u32 {
            w.push((imm12 << 20 | f3 << 12 | OPCODE_MISC_MEM, 4));
        }
        for _ in 0..256 {
            let imm12 = rng.next() & 0xfff;
            w.push((
                rng.next() & RD_RS1_FIELDS | imm12 << 20 | f3 << 12 | OPCODE_MISC_MEM,
                4,
            ));
        }
    }
    w
}

/// Assembles the words and returns objdump's text for each, in order.
fn disassemble(words: &[Word]) -> Vec<String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let source = dir.join("decode_objdump.s");
    let object = dir.join("decode_objdump.o");
    let mut asm = String::with_capacity(words.len() * 24);
    asm.push_str(".text\n");
    for w in words {
        match w.len {
            2 => writeln!(asm, ".insn 2, 0x{:04x}", w.bits),
            _ => writeln!(asm, ".insn 4, 0x{:08x}", w.bits),
        }
        .expect("writing to a String cannot fail");
    }
    std::fs::write(&source, asm)
        .unwrap_or_else(|e| panic!("decode_objdump: cannot write {}: {e}", source.display()));
    let status = Command::new(AS)
        .arg(format!("-march={MARCH}"))
        .arg("-o")
        .arg(&object)
        .arg(&source)
        .status()
        .unwrap_or_else(|e| panic!("decode_objdump: cannot run {AS} ({e}); install {PACKAGE}"));
    assert!(
        status.success(),
        "decode_objdump: {AS} failed on {}",
        source.display()
    );
    let out = Command::new(OBJDUMP)
        .args(["-d", "-M", "no-aliases,numeric"])
        .arg(&object)
        .output()
        .unwrap_or_else(|e| {
            panic!("decode_objdump: cannot run {OBJDUMP} ({e}); install {PACKAGE}")
        });
    assert!(
        out.status.success(),
        "decode_objdump: {OBJDUMP} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("objdump prints ASCII only");
    // Instruction lines read `  addr:\tbytes \tmnemonic\toperands`.
    let mut lines = Vec::with_capacity(words.len());
    for line in text.lines() {
        let mut fields = line.splitn(3, '\t');
        let (Some(addr), Some(_bytes), Some(insn)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Some(addr) = addr.trim().strip_suffix(':') else {
            continue;
        };
        let Ok(addr) = u64::from_str_radix(addr, 16) else {
            continue;
        };
        let expected = words.get(lines.len()).map(|w| w.addr);
        assert_eq!(
            Some(addr),
            expected,
            "decode_objdump: objdump line out of step with the words: {line:?}"
        );
        lines.push(insn.trim().to_string());
    }
    assert_eq!(
        lines.len(),
        words.len(),
        "decode_objdump: objdump printed {} instructions for {} words",
        lines.len(),
        words.len()
    );
    lines
}

/// Maps the names objdump prints for CSRs to their numbers, from the calibration words
/// `csrrs x0, csr, x0` (one per CSR number) at the start of the listing.
fn csr_names(lines: &[String]) -> HashMap<String, u32> {
    let mut names = HashMap::new();
    for (csr, line) in (0..4096u32).zip(lines) {
        let (_, operands) = split_insn(line);
        let name = operands
            .get(1)
            .unwrap_or_else(|| panic!("decode_objdump: calibration line {line:?}"));
        if let Some(old) = names.insert(name.clone(), csr) {
            panic!("decode_objdump: objdump names CSRs {old:#x} and {csr:#x} both {name}");
        }
    }
    names
}

/// Splits an objdump instruction into its mnemonic and operands, dropping the `# ...`
/// comment and `<symbol>` annotations and splitting `off(reg)` into `off, reg`.
fn split_insn(line: &str) -> (&str, Vec<String>) {
    let line = line.split('#').next().unwrap_or_default();
    let line = line.split(" <").next().unwrap_or_default();
    let mut parts = line.splitn(2, '\t');
    let mnemonic = parts.next().unwrap_or_default().trim();
    let mut operands = Vec::new();
    for op in parts.next().unwrap_or_default().trim().split(',') {
        let op = op.trim();
        if op.is_empty() {
            continue;
        }
        match op.split_once('(') {
            Some((off, reg)) => {
                if !off.is_empty() {
                    operands.push(off.to_string());
                }
                operands.push(reg.trim_end_matches(')').to_string());
            }
            None => operands.push(op.to_string()),
        }
    }
    (mnemonic, operands)
}

/// The 32-bit instruction a compressed mnemonic expands to (RISC-V unprivileged ISA, "C"
/// extension), with its operands in that instruction's order.
fn expand(mnemonic: &str, t: Vec<String>) -> Result<(String, Vec<String>), String> {
    let s = |v: &str| v.to_string();
    let get = |i: usize| {
        t.get(i)
            .cloned()
            .ok_or_else(|| format!("{mnemonic}: missing operand {i}"))
    };
    let Some(base) = mnemonic.strip_prefix("c.") else {
        return Ok((s(mnemonic), t));
    };
    let expanded = match base {
        "addi4spn" => ("addi", t.clone()),
        "fld" | "lw" | "ld" | "fsd" | "sw" | "sd" => (base, t.clone()),
        "fldsp" | "lwsp" | "ldsp" | "fsdsp" | "swsp" | "sdsp" => {
            (base.trim_end_matches("sp"), t.clone())
        }
        "addi" | "addiw" | "andi" | "slli" | "srli" | "srai" | "sub" | "xor" | "or" | "and"
        | "subw" | "addw" | "add" => (base, vec![get(0)?, get(0)?, get(1)?]),
        "addi16sp" => ("addi", vec![get(0)?, get(0)?, get(1)?]),
        "slli64" | "srli64" | "srai64" => (&base[..4], vec![get(0)?, get(0)?, s("0")]),
        "li" => ("addi", vec![get(0)?, s("x0"), get(1)?]),
        "lui" => ("lui", t.clone()),
        "j" => ("jal", vec![s("x0"), get(0)?]),
        "beqz" => ("beq", vec![get(0)?, s("x0"), get(1)?]),
        "bnez" => ("bne", vec![get(0)?, s("x0"), get(1)?]),
        "jr" => ("jalr", vec![s("x0"), s("0"), get(0)?]),
        "jalr" => ("jalr", vec![s("x1"), s("0"), get(0)?]),
        "mv" => ("add", vec![get(0)?, s("x0"), get(1)?]),
        "ebreak" => ("ebreak", vec![]),
        _ => return Ok((s(mnemonic), t)),
    };
    Ok((s(expanded.0), expanded.1))
}

fn parse_int(s: &str) -> Result<i64, String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = match digits.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).map(|v| v as i64),
        None => digits.parse::<i64>(),
    }
    .map_err(|e| format!("bad number {s:?}: {e}"))?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

fn rm_number(s: &str) -> Result<Option<u8>, String> {
    Ok(Some(match s {
        "rne" => 0,
        "rtz" => 1,
        "rdn" => 2,
        "rup" => 3,
        "rmm" => 4,
        "dyn" => 7,
        "unknown" => return Ok(None),
        _ => return Err(format!("bad rounding mode {s:?}")),
    }))
}

/// objdump's text for the word at `addr`, in the decoder's terms.
fn read_objdump(
    line: &str,
    addr: u64,
    forms: &HashMap<String, &Form>,
    csrs: &HashMap<String, u32>,
) -> Objdump {
    let (mnemonic, operands) = split_insn(line);
    if mnemonic.starts_with('.') || mnemonic == "c.unimp" {
        return Objdump::Illegal;
    }
    match read_insn(mnemonic, operands, addr, forms, csrs) {
        Ok(o) => o,
        Err(e) => Objdump::Unreadable(e),
    }
}

fn read_insn(
    mnemonic: &str,
    operands: Vec<String>,
    addr: u64,
    forms: &HashMap<String, &Form>,
    csrs: &HashMap<String, u32>,
) -> Result<Objdump, String> {
    let (mut mnemonic, mut operands) = expand(mnemonic, operands)?;
    match mnemonic.as_str() {
        "lui" | "auipc" => {
            let hi = parse_int(operands.get(1).ok_or("lui/auipc without immediate")?)?;
            let mut value = ((hi as u32) << 12) as i32 as i64;
            if mnemonic == "auipc" {
                value = addr.wrapping_add(value as u64) as i64;
            }
            operands = vec![operands[0].clone(), value.to_string()];
            mnemonic = "li".to_string();
        }
        // fence.tso and pause are fences too; one hart at a time needs no ordering.
        "fence" | "fence.tso" | "pause" => {
            mnemonic = "nop".to_string();
            operands.clear();
        }
        _ => {}
    }
    if mnemonic.starts_with("amo") || mnemonic.starts_with("lr.") || mnemonic.starts_with("sc.") {
        for suffix in [".aqrl", ".aq", ".rl"] {
            if let Some(m) = mnemonic.strip_suffix(suffix) {
                mnemonic = m.to_string();
                break;
            }
        }
    }
    let Some(form) = forms.get(&mnemonic.replace('.', "")) else {
        return Ok(Objdump::Unmodelled(mnemonic));
    };
    if form.pure && operands.first().is_some_and(|rd| rd == "x0") {
        return Ok(Objdump::Insn {
            op: Op::Nop,
            operands: vec![],
        });
    }
    let mut tokens = operands.iter();
    let mut out = Vec::new();
    for kind in form.operands.split(',').filter(|k| !k.is_empty()) {
        if kind == "rm0" {
            out.push("0".to_string());
            continue;
        }
        let token = tokens.next();
        if kind == "rm" {
            match token.map(|t| rm_number(t)).transpose()? {
                None => out.push("7".to_string()),
                Some(Some(rm)) => out.push(rm.to_string()),
                Some(None) => return Ok(Objdump::ReservedRm),
            }
            continue;
        }
        let token = token.ok_or_else(|| format!("{mnemonic}: too few operands"))?;
        let value = match kind {
            "i" | "u" => parse_int(token)?.to_string(),
            "T" => {
                let target = u64::from_str_radix(token, 16)
                    .map_err(|e| format!("bad target {token:?}: {e}"))?;
                (target.wrapping_sub(addr) as i64).to_string()
            }
            "c" => match csrs.get(token) {
                Some(csr) => csr.to_string(),
                None => parse_int(token)?.to_string(),
            },
            _ => {
                let file = &kind[..1];
                if !token.starts_with(file) || token[1..].parse::<u8>().is_err() {
                    return Err(format!("{mnemonic}: {token:?} is not a {file} register"));
                }
                token.clone()
            }
        };
        out.push(value);
    }
    if let Some(extra) = tokens.next() {
        return Err(format!("{mnemonic}: unexpected operand {extra:?}"));
    }
    Ok(Objdump::Insn {
        op: form.op,
        operands: out,
    })
}

/// Our operands in the order and units of `form`.
fn our_operands(d: &DecodedOp, form: &Form) -> Vec<String> {
    form.operands
        .split(',')
        .filter(|k| !k.is_empty())
        .map(|kind| match kind {
            "xd" => format!("x{}", d.rd),
            "fd" => format!("f{}", d.rd),
            "xs1" => format!("x{}", d.rs1),
            "fs1" => format!("f{}", d.rs1),
            "xs2" => format!("x{}", d.rs2),
            "fs2" => format!("f{}", d.rs2),
            "fs3" => format!("f{}", d.rs3),
            "i" | "T" | "c" => d.imm.to_string(),
            "u" => d.rs1.to_string(),
            "rm" | "rm0" => d.rm.to_string(),
            _ => unreachable!("operand kind {kind} in FORMS"),
        })
        .collect()
}

/// Why a disagreement is expected, if it is.
fn known_difference(bits: u32, len: u8, objdump: &Objdump, ours: &DecodedOp) -> Option<Known> {
    let opcode = bits & 0x7f;
    // funct3, which is rm on F/D operations.
    let f3 = (bits >> 12) & 7;
    match (objdump, ours.op) {
        (Objdump::Unmodelled(m), Op::Illegal) if PRIVILEGED.contains(&m.as_str()) => {
            Some(Known::Privileged)
        }
        (Objdump::ReservedRm, Op::Illegal) => Some(Known::ReservedRm),
        (Objdump::Illegal, Op::CzeroEqz | Op::CzeroNez | Op::Nop)
            if opcode == OPCODE_OP && bits >> 25 == 0x07 && (f3 == 5 || f3 == 7) =>
        {
            Some(Known::Zicond)
        }
        (Objdump::Insn { .. }, Op::Illegal) if len == 2 && bits == 0x6101 => {
            Some(Known::CAddi16spZero)
        }
        (Objdump::Illegal, Op::Nop) if opcode == OPCODE_MISC_MEM && f3 == 0 => {
            Some(Known::FenceReservedFields)
        }
        (Objdump::Illegal, Op::FenceI) => Some(Known::FenceIReservedFields),
        (Objdump::Illegal, Op::FcvtDS | Op::FcvtDW | Op::FcvtDWu) if matches!(f3, 1..=4 | 7) => {
            Some(Known::ExactConversionRm)
        }
        _ => None,
    }
}

fn describe(o: &Objdump) -> String {
    match o {
        Objdump::Illegal => "illegal".to_string(),
        Objdump::Insn { op, operands } => format!("{op:?} {}", operands.join(",")),
        Objdump::Unmodelled(m) => format!("unmodelled mnemonic {m}"),
        Objdump::ReservedRm => "reserved rounding mode".to_string(),
        Objdump::Unreadable(e) => format!("unreadable: {e}"),
    }
}

#[test]
fn decoder_matches_objdump() {
    let forms: HashMap<String, &Form> = FORMS
        .iter()
        .map(|f| (format!("{:?}", f.op).to_lowercase(), f))
        .collect();
    assert_eq!(forms.len(), FORMS.len(), "FORMS lists an operation twice");

    let mut addr = 0u64;
    let words: Vec<Word> = words()
        .into_iter()
        .map(|(bits, len)| {
            let w = Word { bits, len, addr };
            addr += u64::from(len);
            w
        })
        .collect();
    let lines = disassemble(&words);
    let csrs = csr_names(&lines);

    let mut agreed = 0usize;
    let mut illegal_both = 0usize;
    let mut known: BTreeMap<Known, (usize, String)> = BTreeMap::new();
    let mut mismatches = 0usize;
    let mut report = String::new();
    let (mut n16, mut n32) = (0usize, 0usize);
    for (w, line) in words.iter().zip(&lines) {
        if w.len == 2 {
            n16 += 1;
        } else {
            n32 += 1;
        }
        let ours = decode(w.bits as u16, (w.bits >> 16) as u16, w.addr);
        let theirs = read_objdump(line, w.addr, &forms, &csrs);
        let same = ours.len == w.len
            && match &theirs {
                Objdump::Illegal => {
                    if ours.op == Op::Illegal {
                        illegal_both += 1;
                    }
                    ours.op == Op::Illegal
                }
                Objdump::Insn { op, operands } => {
                    *op == ours.op
                        && forms
                            .get(&format!("{:?}", ours.op).to_lowercase())
                            .is_some_and(|form| our_operands(&ours, form) == *operands)
                }
                _ => false,
            };
        if same {
            agreed += 1;
            continue;
        }
        if let Some(k) = known_difference(w.bits, w.len, &theirs, &ours) {
            let entry = known.entry(k).or_insert_with(|| (0, String::new()));
            if entry.0 == 0 {
                entry.1 = format!(
                    "{:0width$x}: objdump `{line}`",
                    w.bits,
                    width = 2 * w.len as usize
                );
            }
            entry.0 += 1;
            continue;
        }
        mismatches += 1;
        if mismatches <= SHOWN_MISMATCHES {
            let ours_text = match forms.get(&format!("{:?}", ours.op).to_lowercase()) {
                Some(form) => format!("{:?} {}", ours.op, our_operands(&ours, form).join(",")),
                None => format!("{:?}", ours.op),
            };
            writeln!(
                report,
                "{:0width$x} at {:#x}: objdump `{line}` = {}; ours {ours_text} ({ours:?})",
                w.bits,
                w.addr,
                describe(&theirs),
                width = 2 * w.len as usize
            )
            .expect("writing to a String cannot fail");
        }
    }

    let mut summary = format!(
        "checked {} words ({n16} 16-bit, {n32} 32-bit): {agreed} agree ({illegal_both} illegal \
         to both), {mismatches} unexplained\n",
        words.len()
    );
    for (k, (count, example)) in &known {
        writeln!(
            summary,
            "  known difference {k:?}: {count} words, e.g. {example}\n    why: {}",
            k.why()
        )
        .expect("writing to a String cannot fail");
    }
    eprintln!("{summary}");
    assert!(
        mismatches == 0,
        "{mismatches} words decode differently from objdump:\n{report}{summary}"
    );
}
