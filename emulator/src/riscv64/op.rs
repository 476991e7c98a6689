//! The decoded form of one riscv64 instruction: a fixed-size entry of the decode cache.
//!
//! Compressed instructions are expanded to the operation of their 32-bit form, writes to `x0`
//! that have no other effect become [`Op::Nop`], and `lui`/`auipc` become [`Op::Li`] of a
//! constant known at decode time. Names follow the ISA manual so they can be searched for.

/// Operation of a decoded instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Op {
    /// The slot has not been decoded yet (or is the middle of an instruction).
    NotDecoded,
    /// Instruction bits that no supported extension defines; `imm` holds the bits.
    Illegal,
    /// The instruction straddles into a page that cannot be executed; `imm` is that address.
    FetchFault,
    Nop,
    /// rd = imm (from `lui`, `auipc`, `c.li`, `c.lui`).
    Li,
    // RV64I
    Jal,
    Jalr,
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    Lb,
    Lh,
    Lw,
    Ld,
    Lbu,
    Lhu,
    Lwu,
    Sb,
    Sh,
    Sw,
    Sd,
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    Slli,
    Srli,
    Srai,
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Addiw,
    Slliw,
    Srliw,
    Sraiw,
    Addw,
    Subw,
    Sllw,
    Srlw,
    Sraw,
    FenceI,
    Ecall,
    Ebreak,
    // M
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    Mulw,
    Divw,
    Divuw,
    Remw,
    Remuw,
    // A: the low bit of `rs3` is unused; `.aq`/`.rl` need nothing on one hart at a time.
    LrW,
    ScW,
    LrD,
    ScD,
    AmoswapW,
    AmoaddW,
    AmoxorW,
    AmoandW,
    AmoorW,
    AmominW,
    AmomaxW,
    AmominuW,
    AmomaxuW,
    AmoswapD,
    AmoaddD,
    AmoxorD,
    AmoandD,
    AmoorD,
    AmominD,
    AmomaxD,
    AmominuD,
    AmomaxuD,
    // Zicsr: `imm` is the CSR number; the *i forms keep their 5-bit immediate in `rs1`.
    Csrrw,
    Csrrs,
    Csrrc,
    Csrrwi,
    Csrrsi,
    Csrrci,
    // Zba
    Sh1add,
    Sh2add,
    Sh3add,
    AddUw,
    Sh1addUw,
    Sh2addUw,
    Sh3addUw,
    SlliUw,
    // Zbb
    Andn,
    Orn,
    Xnor,
    Clz,
    Clzw,
    Ctz,
    Ctzw,
    Cpop,
    Cpopw,
    Max,
    Maxu,
    Min,
    Minu,
    SextB,
    SextH,
    ZextH,
    Rol,
    Rolw,
    Ror,
    Rori,
    Roriw,
    Rorw,
    OrcB,
    Rev8,
    // Zbs
    Bclr,
    Bclri,
    Bext,
    Bexti,
    Binv,
    Binvi,
    Bset,
    Bseti,
    // Zicond
    CzeroEqz,
    CzeroNez,
    // F and D: `rm` holds the rounding-mode field (7 = dynamic).
    Flw,
    Fsw,
    Fld,
    Fsd,
    FmaddS,
    FmsubS,
    FnmsubS,
    FnmaddS,
    FaddS,
    FsubS,
    FmulS,
    FdivS,
    FsqrtS,
    FsgnjS,
    FsgnjnS,
    FsgnjxS,
    FminS,
    FmaxS,
    FcvtWS,
    FcvtWuS,
    FcvtLS,
    FcvtLuS,
    FmvXW,
    FeqS,
    FltS,
    FleS,
    FclassS,
    FcvtSW,
    FcvtSWu,
    FcvtSL,
    FcvtSLu,
    FmvWX,
    FmaddD,
    FmsubD,
    FnmsubD,
    FnmaddD,
    FaddD,
    FsubD,
    FmulD,
    FdivD,
    FsqrtD,
    FsgnjD,
    FsgnjnD,
    FsgnjxD,
    FminD,
    FmaxD,
    FcvtSD,
    FcvtDS,
    FcvtWD,
    FcvtWuD,
    FcvtLD,
    FcvtLuD,
    FmvXD,
    FeqD,
    FltD,
    FleD,
    FclassD,
    FcvtDW,
    FcvtDWu,
    FcvtDL,
    FcvtDLu,
    FmvDX,
}

/// One decode-cache entry: 16 bytes, so a page of 2048 half-word slots is 32 KiB.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct DecodedOp {
    pub op: Op,
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    pub rs3: u8,
    /// Rounding mode for F/D operations.
    pub rm: u8,
    /// Length of the original instruction in bytes: 2 or 4.
    pub len: u8,
    /// Instructions from this one to the end of its block, this one included.
    pub block_left: u8,
    pub imm: i64,
}

const _: () = assert!(std::mem::size_of::<DecodedOp>() == 16);

impl DecodedOp {
    pub const NOT_DECODED: DecodedOp = DecodedOp {
        op: Op::NotDecoded,
        rd: 0,
        rs1: 0,
        rs2: 0,
        rs3: 0,
        rm: 0,
        len: 0,
        block_left: 0,
        imm: 0,
    };

    /// Whether the block ends after this instruction: control flow, traps, and anything
    /// after which the next instruction must be fetched afresh.
    pub fn ends_block(&self) -> bool {
        matches!(
            self.op,
            Op::Jal
                | Op::Jalr
                | Op::Beq
                | Op::Bne
                | Op::Blt
                | Op::Bge
                | Op::Bltu
                | Op::Bgeu
                | Op::Ecall
                | Op::Ebreak
                | Op::FenceI
                | Op::Illegal
                | Op::FetchFault
        )
    }
}
