//! Instruction decoder: riscv64 bits to [`DecodedOp`] (RV64GC, Zicsr, Zifencei, Zba, Zbb,
//! Zbs, Zicond).
//!
//! Compressed instructions are first expanded to the 32-bit instruction they stand for
//! (RISC-V unprivileged ISA, chapter "C" extension, tables of expansions), so the interpreter
//! only knows one form of every operation. Anything reserved or unknown decodes to
//! [`Op::Illegal`] carrying the original bits; the interpreter turns it into SIGILL.

use super::op::{DecodedOp, Op};

/// Decodes the instruction whose low 16 bits are `lo` and, for 32-bit instructions, whose
/// high 16 bits are `hi`. `pc` is the instruction's address (for `auipc`).
pub fn decode(lo: u16, hi: u16, pc: u64) -> DecodedOp {
    if lo & 3 != 3 {
        let mut d = match expand_compressed(lo) {
            Some(bits) => decode32(bits, pc),
            None => illegal(lo as u32),
        };
        d.len = 2;
        if d.op == Op::Illegal {
            d.imm = lo as i64;
        }
        d
    } else {
        decode32(lo as u32 | (hi as u32) << 16, pc)
    }
}

/// Length in bytes of the instruction starting with half-word `lo`.
pub fn instruction_len(lo: u16) -> u8 {
    if lo & 3 == 3 { 4 } else { 2 }
}

fn illegal(bits: u32) -> DecodedOp {
    DecodedOp {
        op: Op::Illegal,
        imm: bits as i64,
        len: 4,
        ..DecodedOp::NOT_DECODED
    }
}

fn op(op: Op, rd: u32, rs1: u32, rs2: u32, imm: i64) -> DecodedOp {
    DecodedOp {
        op,
        rd: rd as u8,
        rs1: rs1 as u8,
        rs2: rs2 as u8,
        rs3: 0,
        rm: 0,
        len: 4,
        block_left: 0,
        imm,
    }
}

fn imm_i(bits: u32) -> i64 {
    (bits as i32 >> 20) as i64
}

fn imm_s(bits: u32) -> i64 {
    (((bits as i32) >> 25) << 5 | ((bits >> 7) & 0x1f) as i32) as i64
}

fn imm_b(bits: u32) -> i64 {
    let v = ((bits >> 31) & 1) << 12
        | ((bits >> 7) & 1) << 11
        | ((bits >> 25) & 0x3f) << 5
        | ((bits >> 8) & 0xf) << 1;
    ((v << 19) as i32 >> 19) as i64
}

fn imm_j(bits: u32) -> i64 {
    let v = ((bits >> 31) & 1) << 20
        | ((bits >> 12) & 0xff) << 12
        | ((bits >> 20) & 1) << 11
        | ((bits >> 21) & 0x3ff) << 1;
    ((v << 11) as i32 >> 11) as i64
}

/// Decodes a 32-bit instruction.
pub fn decode32(bits: u32, pc: u64) -> DecodedOp {
    let rd = (bits >> 7) & 0x1f;
    let rs1 = (bits >> 15) & 0x1f;
    let rs2 = (bits >> 20) & 0x1f;
    let f3 = (bits >> 12) & 7;
    let f7 = bits >> 25;
    let bad = illegal(bits);
    let d = match bits & 0x7f {
        0x37 => op(Op::Li, rd, 0, 0, (bits & 0xffff_f000) as i32 as i64),
        0x17 => op(
            Op::Li,
            rd,
            0,
            0,
            pc.wrapping_add((bits & 0xffff_f000) as i32 as i64 as u64) as i64,
        ),
        0x6f => op(Op::Jal, rd, 0, 0, imm_j(bits)),
        0x67 if f3 == 0 => op(Op::Jalr, rd, rs1, 0, imm_i(bits)),
        0x63 => {
            let o = match f3 {
                0 => Op::Beq,
                1 => Op::Bne,
                4 => Op::Blt,
                5 => Op::Bge,
                6 => Op::Bltu,
                7 => Op::Bgeu,
                _ => return bad,
            };
            op(o, 0, rs1, rs2, imm_b(bits))
        }
        0x03 => {
            let o = match f3 {
                0 => Op::Lb,
                1 => Op::Lh,
                2 => Op::Lw,
                3 => Op::Ld,
                4 => Op::Lbu,
                5 => Op::Lhu,
                6 => Op::Lwu,
                _ => return bad,
            };
            op(o, rd, rs1, 0, imm_i(bits))
        }
        0x23 => {
            let o = match f3 {
                0 => Op::Sb,
                1 => Op::Sh,
                2 => Op::Sw,
                3 => Op::Sd,
                _ => return bad,
            };
            op(o, 0, rs1, rs2, imm_s(bits))
        }
        0x13 => decode_op_imm(bits, rd, rs1, f3).unwrap_or(bad),
        0x1b => decode_op_imm32(bits, rd, rs1, f3).unwrap_or(bad),
        0x33 => decode_op(rd, rs1, rs2, f3, f7).unwrap_or(bad),
        0x3b => decode_op32(rd, rs1, rs2, f3, f7).unwrap_or(bad),
        // fence, fence.tso, pause: one hart runs at a time, memory is always ordered.
        0x0f if f3 == 0 => op(Op::Nop, 0, 0, 0, 0),
        0x0f if f3 == 1 => op(Op::FenceI, 0, 0, 0, 0),
        0x73 => match f3 {
            0 if bits == 0x0000_0073 => op(Op::Ecall, 0, 0, 0, 0),
            0 if bits == 0x0010_0073 => op(Op::Ebreak, 0, 0, 0, 0),
            0 | 4 => return bad,
            _ => {
                let o = [
                    Op::Illegal,
                    Op::Csrrw,
                    Op::Csrrs,
                    Op::Csrrc,
                    Op::Illegal,
                    Op::Csrrwi,
                    Op::Csrrsi,
                    Op::Csrrci,
                ][f3 as usize];
                op(o, rd, rs1, 0, (bits >> 20) as i64)
            }
        },
        0x2f => decode_amo(bits, rd, rs1, rs2, f3).unwrap_or(bad),
        0x07 => match f3 {
            2 => op(Op::Flw, rd, rs1, 0, imm_i(bits)),
            3 => op(Op::Fld, rd, rs1, 0, imm_i(bits)),
            _ => return bad,
        },
        0x27 => match f3 {
            2 => op(Op::Fsw, 0, rs1, rs2, imm_s(bits)),
            3 => op(Op::Fsd, 0, rs1, rs2, imm_s(bits)),
            _ => return bad,
        },
        0x43 | 0x47 | 0x4b | 0x4f => {
            let double = match (bits >> 25) & 3 {
                0 => false,
                1 => true,
                _ => return bad,
            };
            let o = match (bits & 0x7f, double) {
                (0x43, false) => Op::FmaddS,
                (0x47, false) => Op::FmsubS,
                (0x4b, false) => Op::FnmsubS,
                (0x4f, false) => Op::FnmaddS,
                (0x43, true) => Op::FmaddD,
                (0x47, true) => Op::FmsubD,
                (0x4b, true) => Op::FnmsubD,
                _ => Op::FnmaddD,
            };
            if f3 == 5 || f3 == 6 {
                return bad;
            }
            let mut d = op(o, rd, rs1, rs2, 0);
            d.rs3 = (bits >> 27) as u8;
            d.rm = f3 as u8;
            d
        }
        0x53 => decode_op_fp(rd, rs1, rs2, f3, f7).unwrap_or(bad),
        _ => bad,
    };
    // Writes to x0 without another effect are no-ops. Loads (which can fault), CSR
    // accesses and jumps keep their form; the interpreter discards their x0 result.
    if d.rd == 0 && writes_int_rd_purely(d.op) {
        return op(Op::Nop, 0, 0, 0, 0);
    }
    d
}

fn writes_int_rd_purely(o: Op) -> bool {
    use Op::*;
    matches!(
        o,
        Li | Addi
            | Slti
            | Sltiu
            | Xori
            | Ori
            | Andi
            | Slli
            | Srli
            | Srai
            | Add
            | Sub
            | Sll
            | Slt
            | Sltu
            | Xor
            | Srl
            | Sra
            | Or
            | And
            | Addiw
            | Slliw
            | Srliw
            | Sraiw
            | Addw
            | Subw
            | Sllw
            | Srlw
            | Sraw
            | Mul
            | Mulh
            | Mulhsu
            | Mulhu
            | Div
            | Divu
            | Rem
            | Remu
            | Mulw
            | Divw
            | Divuw
            | Remw
            | Remuw
            | Sh1add
            | Sh2add
            | Sh3add
            | AddUw
            | Sh1addUw
            | Sh2addUw
            | Sh3addUw
            | SlliUw
            | Andn
            | Orn
            | Xnor
            | Clz
            | Clzw
            | Ctz
            | Ctzw
            | Cpop
            | Cpopw
            | Max
            | Maxu
            | Min
            | Minu
            | SextB
            | SextH
            | ZextH
            | Rol
            | Rolw
            | Ror
            | Rori
            | Roriw
            | Rorw
            | OrcB
            | Rev8
            | Bclr
            | Bclri
            | Bext
            | Bexti
            | Binv
            | Binvi
            | Bset
            | Bseti
            | CzeroEqz
            | CzeroNez
    )
}

fn decode_op_imm(bits: u32, rd: u32, rs1: u32, f3: u32) -> Option<DecodedOp> {
    let imm = imm_i(bits);
    let shamt = ((bits >> 20) & 0x3f) as i64;
    let f6 = bits >> 26;
    let imm12 = bits >> 20;
    let o = match f3 {
        0 => Op::Addi,
        2 => Op::Slti,
        3 => Op::Sltiu,
        4 => Op::Xori,
        6 => Op::Ori,
        7 => Op::Andi,
        1 => {
            let o = match (f6, imm12) {
                (0, _) => Op::Slli,
                (_, 0x600) => Op::Clz,
                (_, 0x601) => Op::Ctz,
                (_, 0x602) => Op::Cpop,
                (_, 0x604) => Op::SextB,
                (_, 0x605) => Op::SextH,
                (0x12, _) => Op::Bclri,
                (0x0a, _) => Op::Bseti,
                (0x1a, _) => Op::Binvi,
                _ => return None,
            };
            return Some(op(o, rd, rs1, 0, shamt));
        }
        _ => {
            let o = match (f6, imm12) {
                (_, 0x287) => Op::OrcB,
                (_, 0x6b8) => Op::Rev8,
                (0, _) => Op::Srli,
                (0x10, _) => Op::Srai,
                (0x18, _) => Op::Rori,
                (0x12, _) => Op::Bexti,
                _ => return None,
            };
            return Some(op(o, rd, rs1, 0, shamt));
        }
    };
    Some(op(o, rd, rs1, 0, imm))
}

fn decode_op_imm32(bits: u32, rd: u32, rs1: u32, f3: u32) -> Option<DecodedOp> {
    let f7 = bits >> 25;
    let shamt5 = ((bits >> 20) & 0x1f) as i64;
    let imm12 = bits >> 20;
    let d = match f3 {
        0 => op(Op::Addiw, rd, rs1, 0, imm_i(bits)),
        1 => match (f7, imm12) {
            (0, _) => op(Op::Slliw, rd, rs1, 0, shamt5),
            (_, 0x600) => op(Op::Clzw, rd, rs1, 0, 0),
            (_, 0x601) => op(Op::Ctzw, rd, rs1, 0, 0),
            (_, 0x602) => op(Op::Cpopw, rd, rs1, 0, 0),
            _ if bits >> 26 == 0b000010 => op(Op::SlliUw, rd, rs1, 0, ((bits >> 20) & 0x3f) as i64),
            _ => return None,
        },
        5 => match f7 {
            0 => op(Op::Srliw, rd, rs1, 0, shamt5),
            0x20 => op(Op::Sraiw, rd, rs1, 0, shamt5),
            0x30 => op(Op::Roriw, rd, rs1, 0, shamt5),
            _ => return None,
        },
        _ => return None,
    };
    Some(d)
}

fn decode_op(rd: u32, rs1: u32, rs2: u32, f3: u32, f7: u32) -> Option<DecodedOp> {
    use Op::*;
    let o = match (f7, f3) {
        (0, 0) => Add,
        (0, 1) => Sll,
        (0, 2) => Slt,
        (0, 3) => Sltu,
        (0, 4) => Xor,
        (0, 5) => Srl,
        (0, 6) => Or,
        (0, 7) => And,
        (0x20, 0) => Sub,
        (0x20, 5) => Sra,
        (0x20, 4) => Xnor,
        (0x20, 6) => Orn,
        (0x20, 7) => Andn,
        (1, 0) => Mul,
        (1, 1) => Mulh,
        (1, 2) => Mulhsu,
        (1, 3) => Mulhu,
        (1, 4) => Div,
        (1, 5) => Divu,
        (1, 6) => Rem,
        (1, 7) => Remu,
        (0x10, 2) => Sh1add,
        (0x10, 4) => Sh2add,
        (0x10, 6) => Sh3add,
        (0x05, 4) => Min,
        (0x05, 5) => Minu,
        (0x05, 6) => Max,
        (0x05, 7) => Maxu,
        (0x30, 1) => Rol,
        (0x30, 5) => Ror,
        (0x24, 1) => Bclr,
        (0x24, 5) => Bext,
        (0x14, 1) => Bset,
        (0x34, 1) => Binv,
        (0x07, 5) => CzeroEqz,
        (0x07, 7) => CzeroNez,
        _ => return None,
    };
    Some(op(o, rd, rs1, rs2, 0))
}

fn decode_op32(rd: u32, rs1: u32, rs2: u32, f3: u32, f7: u32) -> Option<DecodedOp> {
    use Op::*;
    let o = match (f7, f3) {
        (0, 0) => Addw,
        (0, 1) => Sllw,
        (0, 5) => Srlw,
        (0x20, 0) => Subw,
        (0x20, 5) => Sraw,
        (1, 0) => Mulw,
        (1, 4) => Divw,
        (1, 5) => Divuw,
        (1, 6) => Remw,
        (1, 7) => Remuw,
        (0x04, 0) => AddUw,
        (0x04, 4) if rs2 == 0 => ZextH,
        (0x10, 2) => Sh1addUw,
        (0x10, 4) => Sh2addUw,
        (0x10, 6) => Sh3addUw,
        (0x30, 1) => Rolw,
        (0x30, 5) => Rorw,
        _ => return None,
    };
    Some(op(o, rd, rs1, rs2, 0))
}

fn decode_amo(bits: u32, rd: u32, rs1: u32, rs2: u32, f3: u32) -> Option<DecodedOp> {
    use Op::*;
    let double = match f3 {
        2 => false,
        3 => true,
        _ => return None,
    };
    let o = match (bits >> 27, double) {
        (0x02, false) if rs2 == 0 => LrW,
        (0x02, true) if rs2 == 0 => LrD,
        (0x03, false) => ScW,
        (0x03, true) => ScD,
        (0x01, false) => AmoswapW,
        (0x00, false) => AmoaddW,
        (0x04, false) => AmoxorW,
        (0x0c, false) => AmoandW,
        (0x08, false) => AmoorW,
        (0x10, false) => AmominW,
        (0x14, false) => AmomaxW,
        (0x18, false) => AmominuW,
        (0x1c, false) => AmomaxuW,
        (0x01, true) => AmoswapD,
        (0x00, true) => AmoaddD,
        (0x04, true) => AmoxorD,
        (0x0c, true) => AmoandD,
        (0x08, true) => AmoorD,
        (0x10, true) => AmominD,
        (0x14, true) => AmomaxD,
        (0x18, true) => AmominuD,
        (0x1c, true) => AmomaxuD,
        _ => return None,
    };
    Some(op(o, rd, rs1, rs2, 0))
}

fn decode_op_fp(rd: u32, rs1: u32, rs2: u32, f3: u32, f7: u32) -> Option<DecodedOp> {
    use Op::*;
    // Operations with a rounding-mode field reject the reserved modes 5 and 6 here; 7
    // (dynamic) is resolved against frm when executed.
    let rounded = |o: Op| {
        if f3 == 5 || f3 == 6 {
            None
        } else {
            let mut d = op(o, rd, rs1, rs2, 0);
            d.rm = f3 as u8;
            Some(d)
        }
    };
    let plain = |o: Op| Some(op(o, rd, rs1, rs2, 0));
    match f7 {
        0x00 => rounded(FaddS),
        0x01 => rounded(FaddD),
        0x04 => rounded(FsubS),
        0x05 => rounded(FsubD),
        0x08 => rounded(FmulS),
        0x09 => rounded(FmulD),
        0x0c => rounded(FdivS),
        0x0d => rounded(FdivD),
        0x2c if rs2 == 0 => rounded(FsqrtS),
        0x2d if rs2 == 0 => rounded(FsqrtD),
        0x10 => match f3 {
            0 => plain(FsgnjS),
            1 => plain(FsgnjnS),
            2 => plain(FsgnjxS),
            _ => None,
        },
        0x11 => match f3 {
            0 => plain(FsgnjD),
            1 => plain(FsgnjnD),
            2 => plain(FsgnjxD),
            _ => None,
        },
        0x14 => match f3 {
            0 => plain(FminS),
            1 => plain(FmaxS),
            _ => None,
        },
        0x15 => match f3 {
            0 => plain(FminD),
            1 => plain(FmaxD),
            _ => None,
        },
        0x20 if rs2 == 1 => rounded(FcvtSD),
        0x21 if rs2 == 0 => rounded(FcvtDS),
        0x50 => match f3 {
            0 => plain(FleS),
            1 => plain(FltS),
            2 => plain(FeqS),
            _ => None,
        },
        0x51 => match f3 {
            0 => plain(FleD),
            1 => plain(FltD),
            2 => plain(FeqD),
            _ => None,
        },
        0x60 => rounded(
            [FcvtWS, FcvtWuS, FcvtLS, FcvtLuS]
                .get(rs2 as usize)
                .copied()?,
        ),
        0x61 => rounded(
            [FcvtWD, FcvtWuD, FcvtLD, FcvtLuD]
                .get(rs2 as usize)
                .copied()?,
        ),
        0x68 => rounded(
            [FcvtSW, FcvtSWu, FcvtSL, FcvtSLu]
                .get(rs2 as usize)
                .copied()?,
        ),
        0x69 => rounded(
            [FcvtDW, FcvtDWu, FcvtDL, FcvtDLu]
                .get(rs2 as usize)
                .copied()?,
        ),
        0x70 if rs2 == 0 && f3 == 0 => plain(FmvXW),
        0x70 if rs2 == 0 && f3 == 1 => plain(FclassS),
        0x71 if rs2 == 0 && f3 == 0 => plain(FmvXD),
        0x71 if rs2 == 0 && f3 == 1 => plain(FclassD),
        0x78 if rs2 == 0 && f3 == 0 => plain(FmvWX),
        0x79 if rs2 == 0 && f3 == 0 => plain(FmvDX),
        _ => None,
    }
}

// --- Compressed expansion -------------------------------------------------------------

pub(super) fn enc_r(opcode: u32, rd: u32, f3: u32, rs1: u32, rs2: u32, f7: u32) -> u32 {
    f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opcode
}

pub(super) fn enc_i(opcode: u32, rd: u32, f3: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opcode
}

pub(super) fn enc_s(opcode: u32, f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    ((imm >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1f) << 7 | opcode
}

pub(super) fn enc_b(f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    ((imm >> 12) & 1) << 31
        | ((imm >> 5) & 0x3f) << 25
        | rs2 << 20
        | rs1 << 15
        | f3 << 12
        | ((imm >> 1) & 0xf) << 8
        | ((imm >> 11) & 1) << 7
        | 0x63
}

fn enc_j(rd: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    ((imm >> 20) & 1) << 31
        | ((imm >> 1) & 0x3ff) << 21
        | ((imm >> 11) & 1) << 20
        | ((imm >> 12) & 0xff) << 12
        | rd << 7
        | 0x6f
}

/// Bit `from` of `v`, placed at bit `to`.
fn bit(v: u32, from: u32, to: u32) -> u32 {
    ((v >> from) & 1) << to
}

/// Bits `[lo, lo+n)` of `v`, placed at bit `to`.
fn bits_at(v: u32, lo: u32, n: u32, to: u32) -> u32 {
    ((v >> lo) & ((1 << n) - 1)) << to
}

fn sext(v: u32, width: u32) -> i32 {
    ((v << (32 - width)) as i32) >> (32 - width)
}

/// The 32-bit instruction a compressed one expands to, or `None` if reserved.
pub fn expand_compressed(c: u16) -> Option<u32> {
    let c = c as u32;
    let f3 = c >> 13;
    // Registers x8..x15 in the 3-bit fields.
    let rdp = bits_at(c, 2, 3, 0) + 8;
    let rs1p = bits_at(c, 7, 3, 0) + 8;
    let rd = bits_at(c, 7, 5, 0);
    let rs2 = bits_at(c, 2, 5, 0);
    // imm[5] at bit 12, imm[4:0] at bits 6:2 (CI format).
    let ci_imm = sext(bit(c, 12, 5) | bits_at(c, 2, 5, 0), 6);
    // Unsigned offsets of the CL/CS formats.
    let cl_w = bits_at(c, 10, 3, 3) | bit(c, 6, 2) | bit(c, 5, 6);
    let cl_d = bits_at(c, 10, 3, 3) | bits_at(c, 5, 2, 6);
    match (c & 3, f3) {
        (0, 0) => {
            let imm = bits_at(c, 11, 2, 4) | bits_at(c, 7, 4, 6) | bit(c, 6, 2) | bit(c, 5, 3);
            (imm != 0).then(|| enc_i(0x13, rdp, 0, 2, imm as i32))
        }
        (0, 1) => Some(enc_i(0x07, rdp, 3, rs1p, cl_d as i32)),
        (0, 2) => Some(enc_i(0x03, rdp, 2, rs1p, cl_w as i32)),
        (0, 3) => Some(enc_i(0x03, rdp, 3, rs1p, cl_d as i32)),
        (0, 5) => Some(enc_s(0x27, 3, rs1p, rdp, cl_d as i32)),
        (0, 6) => Some(enc_s(0x23, 2, rs1p, rdp, cl_w as i32)),
        (0, 7) => Some(enc_s(0x23, 3, rs1p, rdp, cl_d as i32)),
        (0, _) => None,
        (1, 0) => Some(enc_i(0x13, rd, 0, rd, ci_imm)),
        (1, 1) => (rd != 0).then(|| enc_i(0x1b, rd, 0, rd, ci_imm)),
        (1, 2) => Some(enc_i(0x13, rd, 0, 0, ci_imm)),
        (1, 3) if rd == 2 => {
            let imm = sext(
                bit(c, 12, 9) | bit(c, 6, 4) | bit(c, 5, 6) | bits_at(c, 3, 2, 7) | bit(c, 2, 5),
                10,
            );
            (imm != 0).then(|| enc_i(0x13, 2, 0, 2, imm))
        }
        (1, 3) => (ci_imm != 0).then_some(((ci_imm as u32) << 12) | rd << 7 | 0x37),
        (1, 4) => {
            let shamt = bit(c, 12, 5) | bits_at(c, 2, 5, 0);
            match bits_at(c, 10, 2, 0) {
                0 => Some(enc_i(0x13, rs1p, 5, rs1p, shamt as i32)),
                1 => Some(enc_i(0x13, rs1p, 5, rs1p, (shamt | 0x400) as i32)),
                2 => Some(enc_i(0x13, rs1p, 7, rs1p, ci_imm)),
                _ => {
                    let (f3, f7, opcode) = match (bit(c, 12, 0), bits_at(c, 5, 2, 0)) {
                        (0, 0) => (0, 0x20, 0x33),
                        (0, 1) => (4, 0, 0x33),
                        (0, 2) => (6, 0, 0x33),
                        (0, 3) => (7, 0, 0x33),
                        (1, 0) => (0, 0x20, 0x3b),
                        (1, 1) => (0, 0, 0x3b),
                        _ => return None,
                    };
                    Some(enc_r(opcode, rs1p, f3, rs1p, rdp, f7))
                }
            }
        }
        (1, 5) => {
            let imm = sext(
                bit(c, 12, 11)
                    | bit(c, 11, 4)
                    | bits_at(c, 9, 2, 8)
                    | bit(c, 8, 10)
                    | bit(c, 7, 6)
                    | bit(c, 6, 7)
                    | bits_at(c, 3, 3, 1)
                    | bit(c, 2, 5),
                12,
            );
            Some(enc_j(0, imm))
        }
        (1, _) => {
            let imm = sext(
                bit(c, 12, 8)
                    | bits_at(c, 10, 2, 3)
                    | bits_at(c, 5, 2, 6)
                    | bits_at(c, 3, 2, 1)
                    | bit(c, 2, 5),
                9,
            );
            Some(enc_b(f3 & 1, rs1p, 0, imm))
        }
        (2, 0) => {
            let shamt = bit(c, 12, 5) | bits_at(c, 2, 5, 0);
            Some(enc_i(0x13, rd, 1, rd, shamt as i32))
        }
        (2, 1) => {
            let off = bit(c, 12, 5) | bits_at(c, 5, 2, 3) | bits_at(c, 2, 3, 6);
            Some(enc_i(0x07, rd, 3, 2, off as i32))
        }
        (2, 2) => {
            let off = bit(c, 12, 5) | bits_at(c, 4, 3, 2) | bits_at(c, 2, 2, 6);
            (rd != 0).then(|| enc_i(0x03, rd, 2, 2, off as i32))
        }
        (2, 3) => {
            let off = bit(c, 12, 5) | bits_at(c, 5, 2, 3) | bits_at(c, 2, 3, 6);
            (rd != 0).then(|| enc_i(0x03, rd, 3, 2, off as i32))
        }
        (2, 4) => match (bit(c, 12, 0), rd, rs2) {
            (0, 0, 0) => None,
            (0, _, 0) => Some(enc_i(0x67, 0, 0, rd, 0)),
            (0, _, _) => Some(enc_r(0x33, rd, 0, 0, rs2, 0)),
            (_, 0, 0) => Some(0x0010_0073),
            (_, _, 0) => Some(enc_i(0x67, 1, 0, rd, 0)),
            _ => Some(enc_r(0x33, rd, 0, rd, rs2, 0)),
        },
        (2, 5) => {
            let off = bits_at(c, 10, 3, 3) | bits_at(c, 7, 3, 6);
            Some(enc_s(0x27, 3, 2, rs2, off as i32))
        }
        (2, 6) => {
            let off = bits_at(c, 9, 4, 2) | bits_at(c, 7, 2, 6);
            Some(enc_s(0x23, 2, 2, rs2, off as i32))
        }
        (2, _) => {
            let off = bits_at(c, 10, 3, 3) | bits_at(c, 7, 3, 6);
            Some(enc_s(0x23, 3, 2, rs2, off as i32))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_integer_forms() {
        // addi a0, a0, -1
        let d = decode32(0xfff5_0513, 0);
        assert_eq!((d.op, d.rd, d.rs1, d.imm), (Op::Addi, 10, 10, -1));
        // auipc t0, 0x1 at 0x1000 -> li t0, 0x2000
        let d = decode32(0x0000_1297, 0x1000);
        assert_eq!((d.op, d.rd, d.imm), (Op::Li, 5, 0x2000));
        // jal ra, -8
        let d = decode32(0xff9f_f0ef, 0);
        assert_eq!((d.op, d.rd, d.imm), (Op::Jal, 1, -8));
        // bne a0, a1, 16
        let d = decode32(0x00b5_1863, 0);
        assert_eq!((d.op, d.rs1, d.rs2, d.imm), (Op::Bne, 10, 11, 16));
        // sd ra, -8(sp)
        let d = decode32(0xfe11_3c23, 0);
        assert_eq!((d.op, d.rs1, d.rs2, d.imm), (Op::Sd, 2, 1, -8));
        // add x0, a0, a1 is a no-op
        assert_eq!(decode32(0x00b5_0033, 0).op, Op::Nop);
    }

    #[test]
    fn compressed_expansions() {
        // c.addi16sp sp, -64 == addi sp, sp, -64
        assert_eq!(expand_compressed(0x7139), Some(0xfc01_0113));
        // c.ldsp ra, 8(sp) == ld ra, 8(sp)
        assert_eq!(expand_compressed(0x60a2), Some(0x0081_3083));
        // c.jr ra == jalr x0, 0(ra)
        assert_eq!(expand_compressed(0x8082), Some(0x0000_8067));
        // c.mv a0, a1 == add a0, x0, a1
        assert_eq!(expand_compressed(0x852e), Some(0x00b0_0533));
        // c.li a0, -1 == addi a0, x0, -1
        assert_eq!(expand_compressed(0x557d), Some(0xfff0_0513));
        // c.sdsp ra, 24(sp) == sd ra, 24(sp)
        assert_eq!(expand_compressed(0xec06), Some(0x0011_3c23));
        // c.beqz a0, +12
        assert_eq!(expand_compressed(0xc511), Some(0x0005_0663));
        // c.j -4
        assert_eq!(expand_compressed(0xbff5), Some(0xffdf_f06f));
        // c.lui a5, 0x1 == lui a5, 0x1
        assert_eq!(expand_compressed(0x6785), Some(0x0000_17b7));
        // The all-zero half-word is defined to be illegal.
        assert_eq!(expand_compressed(0), None);
    }

    #[test]
    fn reserved_encodings_are_illegal() {
        assert_eq!(decode(0, 0, 0).op, Op::Illegal);
        assert_eq!(decode32(0xffff_ffff, 0).op, Op::Illegal);
        // fadd.d with rm=5 is reserved.
        assert_eq!(decode32(0x02b5_5553, 0).op, Op::Illegal);
        // mret is not a user-mode instruction.
        assert_eq!(decode32(0x3020_0073, 0).op, Op::Illegal);
    }
}
