//! Encodes regions of decoded blocks as wasm functions of type `(ctx: i32) -> i32` (see
//! [`super::Ctx`]).
//!
//! A region is a hot block and the blocks it jumps to directly (branch targets and
//! fall-throughs, in its page, already decoded). Its function loads the guest registers the
//! region uses into locals, runs its blocks (a `loop` around a `br_table` on the current
//! block, so moving between them keeps every register in a local; the instruction budget is
//! checked at each move), stores the registers it wrote and returns a [`super::Status`] code
//! with `ctx.pc` set, or first tail-calls the translation at that pc if there is one.
//! Translation covers the integer instructions, loads, stores and control flow natively and
//! leaves the rest to the interpreter through a helper; a block stops at the first
//! instruction that must end it (a trap, `fence.i`, a counter CSR), where the interpreter takes
//! over. Field offsets and helper indices are this runtime's own, so a module is only
//! meaningful to the runtime that made it.

use super::helpers::{self, ALU_OPS, AluFn, LoadFn, StepFn, StoreFn};
use super::{Ctx, JUMP_ENTRIES, JumpEntry};
use crate::mmu::{PAGE_MASK, PAGE_SHIFT, TLB_ENTRIES, TlbEntry};
use crate::riscv64::{DecodedOp, Hart, Op};
use std::mem::{offset_of, size_of};
use wasm_encoder::{
    BlockType, CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection,
    ImportSection, Instruction as I, MemArg, MemArgTarget, MemoryType, RefType, TableType,
    TypeSection, ValType,
};

const BLOCK_TYPE: u32 = 0;
const LOAD_TYPE: u32 = 1;
const STORE_TYPE: u32 = 2;
const ALU_TYPE: u32 = 3;
const STEP_TYPE: u32 = 4;

/// An instruction of a block: its address, decoded form, and where that form lives in its
/// decoded page (for instructions left to the interpreter).
pub(super) type Insn = (u64, DecodedOp, *const DecodedOp);

// Locals: the parameter, then the fixed ones, then one per guest register (x0's is unused).
const CTX: u32 = 0;
/// The `Hart`, whose `x` holds the guest registers between translations.
const HART: u32 = 1;
const TLB: u32 = 2;
const INSTRET: u32 = 3;
const LIMIT: u32 = 4;
const PC: u32 = 5;
const STATUS: u32 = 6;
const ADDR: u32 = 7;
const ENTRY: u32 = 8;
const X: u32 = 9;
/// The region's block being run (an index into its blocks).
const CUR: u32 = X + 32;

/// A module of translated regions being built.
pub(super) struct Module {
    code: CodeSection,
    count: u32,
}

impl Module {
    pub fn new() -> Module {
        Module {
            code: CodeSection::new(),
            count: 0,
        }
    }

    /// Adds the region whose blocks are `blocks` (entry pc and instructions, the entry
    /// first); false when the entry's first instruction cannot be translated.
    pub fn add_region(&mut self, blocks: &[(u64, Vec<Insn>)]) -> bool {
        if !blocks[0].1.first().is_some_and(|(_, d, _)| translatable(d)) {
            return false;
        }
        let f = Region {
            blocks,
            cur: 0,
            ops: &blocks[0].1,
            f: Function::new([
                (2, ValType::I32),
                (3, ValType::I64),
                (1, ValType::I32),
                (1, ValType::I64),
                (1, ValType::I32),
                (32, ValType::I64),
                (1, ValType::I32),
            ]),
            depth: 0,
        }
        .encode();
        self.code.function(&f);
        self.count += 1;
        true
    }

    pub fn finish(self) -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], [ValType::I32]);
        types
            .ty()
            .function([ValType::I32, ValType::I64, ValType::I32], [ValType::I64]);
        types
            .ty()
            .function([ValType::I32, ValType::I64, ValType::I64, ValType::I32], []);
        types.ty().function(
            [ValType::I32, ValType::I32, ValType::I64, ValType::I64],
            [ValType::I64],
        );
        types
            .ty()
            .function([ValType::I32, ValType::I32, ValType::I64], [ValType::I32]);
        let mut imports = ImportSection::new();
        imports.import(
            "env",
            "memory",
            EntityType::Memory(MemoryType {
                minimum: 0,
                maximum: None,
                memory64: false,
                shared: false,
                page_size_log2: None,
            }),
        );
        imports.import(
            "env",
            "table",
            EntityType::Table(TableType {
                element_type: RefType::FUNCREF,
                table64: false,
                minimum: 0,
                maximum: None,
                shared: false,
            }),
        );
        let mut funcs = FunctionSection::new();
        let mut exports = ExportSection::new();
        for i in 0..self.count {
            funcs.function(BLOCK_TYPE);
            exports.export(&i.to_string(), ExportKind::Func, i);
        }
        let mut m = wasm_encoder::Module::new();
        m.section(&types)
            .section(&imports)
            .section(&funcs)
            .section(&exports)
            .section(&self.code);
        m.finish()
    }
}

/// Whether translated code can execute `d`: everything but what ends a block for the
/// dispatcher (traps, `fence.i`) and the counter CSRs (which read `instret` mid-block); the
/// floating-point CSRs (`fflags`, `frm`, `fcsr`) are fine.
pub(super) fn translatable(d: &DecodedOp) -> bool {
    use Op::*;
    match d.op {
        NotDecoded | Illegal | FetchFault | Ecall | Ebreak | FenceI => false,
        Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci => matches!(d.imm & 0xfff, 1..=3),
        _ => true,
    }
}

/// Where a block continues when it ends with a direct jump, a branch or no control flow at
/// all (a full block, the end of a page); nothing for a block that ends otherwise.
pub(super) fn successors(ops: &[Insn]) -> Vec<u64> {
    use Op::*;
    if !ops.iter().all(|(_, d, _)| translatable(d)) {
        return Vec::new();
    }
    let Some(&(pc, d, _)) = ops.last() else {
        return Vec::new();
    };
    let next = pc + d.len as u64;
    let target = pc.wrapping_add(d.imm as u64);
    match d.op {
        Beq | Bne | Blt | Bge | Bltu | Bgeu => vec![target, next],
        Jal => vec![target],
        Jalr => Vec::new(),
        _ => vec![next],
    }
}

/// Whether `op` may write its `rd` (as an x register, or as an f register, which translated
/// code treats the same).
fn writes_rd(op: Op) -> bool {
    use Op::*;
    !matches!(
        op,
        Nop | Sb | Sh | Sw | Sd | Beq | Bne | Blt | Bge | Bltu | Bgeu
    )
}

fn mem(offset: usize, align: u32) -> MemArg {
    MemArg {
        offset: offset as u64,
        align,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// One region being encoded.
struct Region<'a> {
    blocks: &'a [(u64, Vec<Insn>)],
    /// The block being encoded, and its instructions.
    cur: usize,
    ops: &'a [Insn],
    f: Function,
    /// Structured-control nesting inside the current block's code.
    depth: u32,
}

impl Region<'_> {
    fn i(&mut self, ins: I) {
        self.f.instruction(&ins);
    }

    /// Pushes guest register `r`.
    fn get(&mut self, r: u8) {
        let r = r & 31;
        if r == 0 {
            self.i(I::I64Const(0));
        } else {
            self.i(I::LocalGet(X + r as u32));
        }
    }

    /// Pops into guest register `r` (a write to x0 is dropped).
    fn set(&mut self, r: u8) {
        let r = r & 31;
        if r == 0 {
            self.i(I::Drop);
        } else {
            self.i(I::LocalSet(X + r as u32));
        }
    }

    /// Stores guest register `r` (not x0) from its local into the hart.
    fn spill(&mut self, r: u8) {
        self.i(I::LocalGet(HART));
        self.i(I::LocalGet(X + r as u32));
        self.i(I::I64Store(Self::reg_in_hart(r)));
    }

    /// Loads guest register `r` (not x0) from the hart into its local.
    fn reload(&mut self, r: u8) {
        self.i(I::LocalGet(HART));
        self.i(I::I64Load(Self::reg_in_hart(r)));
        self.i(I::LocalSet(X + r as u32));
    }

    fn reg_in_hart(r: u8) -> MemArg {
        mem(offset_of!(Hart, x) + r as usize * 8, 3)
    }

    fn begin(&mut self, ins: I) {
        self.i(ins);
        self.depth += 1;
    }

    fn end(&mut self) {
        self.i(I::End);
        self.depth -= 1;
    }

    /// The label of the loop that dispatches on `CUR`, from the current code.
    fn dispatch_label(&self) -> u32 {
        (self.blocks.len() - 1 - self.cur) as u32 + self.depth
    }

    /// Leaves the function with `pc`, `status`, and `not_retired` of the instructions counted
    /// on entry to this block given back.
    fn exit(&mut self, pc: u64, status: i32, not_retired: usize) {
        self.i(I::I64Const(pc as i64));
        self.i(I::LocalSet(PC));
        self.i(I::I32Const(status));
        self.i(I::LocalSet(STATUS));
        if not_retired > 0 {
            self.i(I::LocalGet(INSTRET));
            self.i(I::I64Const(not_retired as i64));
            self.i(I::I64Sub);
            self.i(I::LocalSet(INSTRET));
        }
        self.i(I::Br(self.dispatch_label() + 1));
    }

    /// Continues at `target`: in the region's block there while the budget lasts, else by
    /// leaving the function.
    fn goto(&mut self, target: u64) {
        if let Some(j) = self.blocks.iter().position(|(pc, _)| *pc == target) {
            self.i(I::LocalGet(INSTRET));
            self.i(I::LocalGet(LIMIT));
            self.i(I::I64LtU);
            self.begin(I::If(BlockType::Empty));
            self.i(I::I32Const(j as i32));
            self.i(I::LocalSet(CUR));
            self.i(I::Br(self.dispatch_label()));
            self.end();
        }
        self.exit(target, 0, 0);
    }

    fn encode(mut self) -> Function {
        // Registers used are loaded on entry (a written one too: an early exit stores it);
        // only those written are stored back.
        let mut used = [false; 32];
        let mut written = [false; 32];
        for (_, ops) in self.blocks {
            for (_, d, _) in ops.iter().take_while(|(_, d, _)| translatable(d)) {
                for r in [d.rd, d.rs1, d.rs2] {
                    used[(r & 31) as usize] = true;
                }
                written[(d.rd & 31) as usize] |= writes_rd(d.op);
            }
        }
        used[0] = false;
        written[0] = false;

        self.i(I::LocalGet(CTX));
        self.i(I::I32Load(mem(offset_of!(Ctx, hart), 2)));
        self.i(I::LocalSet(HART));
        self.i(I::LocalGet(CTX));
        self.i(I::I32Load(mem(offset_of!(Ctx, tlb), 2)));
        self.i(I::LocalSet(TLB));
        self.i(I::LocalGet(CTX));
        self.i(I::I64Load(mem(offset_of!(Ctx, instret), 3)));
        self.i(I::LocalSet(INSTRET));
        self.i(I::LocalGet(CTX));
        self.i(I::I64Load(mem(offset_of!(Ctx, limit), 3)));
        self.i(I::LocalSet(LIMIT));
        for r in (1..32).filter(|&r| used[r]) {
            self.reload(r as u8);
        }

        // block $exit { loop $dispatch { block^k { br_table } code 0 } code 1 } ... } }
        let k = self.blocks.len();
        self.i(I::Block(BlockType::Empty));
        self.i(I::Loop(BlockType::Empty));
        for _ in 0..k {
            self.i(I::Block(BlockType::Empty));
        }
        self.i(I::LocalGet(CUR));
        let labels: Vec<u32> = (0..k as u32).collect();
        self.i(I::BrTable(labels.into(), 0));
        for cur in 0..k {
            self.i(I::End);
            let blocks = self.blocks;
            self.cur = cur;
            self.ops = &blocks[cur].1;
            self.block();
        }
        self.i(I::End);
        self.i(I::End);

        for r in (1..32).filter(|&r| written[r]) {
            self.spill(r as u8);
        }
        self.i(I::LocalGet(CTX));
        self.i(I::LocalGet(PC));
        self.i(I::I64Store(mem(offset_of!(Ctx, pc), 3)));
        self.i(I::LocalGet(CTX));
        self.i(I::LocalGet(INSTRET));
        self.i(I::I64Store(mem(offset_of!(Ctx, instret), 3)));
        self.i(I::LocalGet(STATUS));
        self.i(I::If(BlockType::Empty));
        self.i(I::LocalGet(STATUS));
        self.i(I::Return);
        self.i(I::End);
        self.chain();
        self.i(I::I32Const(0));
        self.i(I::End);
        self.f
    }

    /// Encodes the current block; its code always ends in a branch.
    fn block(&mut self) {
        let n = self.ops.len();
        let translated = self
            .ops
            .iter()
            .take_while(|(_, d, _)| translatable(d))
            .count();
        self.i(I::LocalGet(INSTRET));
        self.i(I::I64Const(n as i64));
        self.i(I::I64Add);
        self.i(I::LocalSet(INSTRET));
        for k in 0..translated {
            let (pc, d, at) = self.ops[k];
            if self.op(k, pc, &d, at) {
                return;
            }
        }
        match self.ops.get(translated) {
            // The interpreter takes over at an instruction translations leave to it.
            Some(&(pc, _, _)) => self.exit(pc, 0, n - translated),
            // The block ended without control flow (a full block, the end of the page).
            None => {
                let (pc, d, _) = self.ops[n - 1];
                self.goto(pc + d.len as u64);
            }
        }
    }

    /// Tail-calls the translation of the block at `PC` when the jump table has it and the
    /// budget lasts (see `super::jump_slot`).
    fn chain(&mut self) {
        self.i(I::LocalGet(PC));
        self.i(I::I64Const(1));
        self.i(I::I64ShrU);
        self.i(I::LocalGet(PC));
        self.i(I::I64Const(15));
        self.i(I::I64ShrU);
        self.i(I::I64Xor);
        self.i(I::I32WrapI64);
        self.i(I::I32Const(JUMP_ENTRIES as i32 - 1));
        self.i(I::I32And);
        self.i(I::I32Const(size_of::<JumpEntry>() as i32));
        self.i(I::I32Mul);
        self.i(I::LocalGet(CTX));
        self.i(I::I32Load(mem(offset_of!(Ctx, jumps), 2)));
        self.i(I::I32Add);
        self.i(I::LocalTee(ENTRY));
        self.i(I::I64Load(mem(offset_of!(JumpEntry, pc), 3)));
        self.i(I::LocalGet(PC));
        self.i(I::I64Eq);
        self.i(I::LocalGet(INSTRET));
        self.i(I::LocalGet(LIMIT));
        self.i(I::I64LtU);
        self.i(I::I32And);
        self.i(I::If(BlockType::Empty));
        self.i(I::LocalGet(CTX));
        self.i(I::LocalGet(ENTRY));
        self.i(I::I32Load(mem(offset_of!(JumpEntry, index), 2)));
        self.i(I::ReturnCallIndirect {
            type_index: BLOCK_TYPE,
            table_index: 0,
        });
        self.i(I::End);
    }

    /// Encodes instruction `k`; true when it left the block (control flow, with `PC` set).
    fn op(&mut self, k: usize, pc: u64, d: &DecodedOp, at: *const DecodedOp) -> bool {
        use Op::*;
        let imm = d.imm;
        let next = pc + d.len as u64;
        let (rd, a, b) = (d.rd, d.rs1, d.rs2);
        match d.op {
            Nop => {}
            Li => {
                self.i(I::I64Const(imm));
                self.set(rd);
            }
            Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu => self.load(k, pc, d),
            Sb | Sh | Sw | Sd => self.store(k, pc, d),
            Beq | Bne | Blt | Bge | Bltu | Bgeu => {
                self.get(a);
                self.get(b);
                self.i(match d.op {
                    Beq => I::I64Eq,
                    Bne => I::I64Ne,
                    Blt => I::I64LtS,
                    Bge => I::I64GeS,
                    Bltu => I::I64LtU,
                    _ => I::I64GeU,
                });
                let target = pc.wrapping_add(imm as u64);
                self.begin(I::If(BlockType::Empty));
                self.goto(target);
                self.i(I::Else);
                self.goto(next);
                self.end();
                return true;
            }
            Jal => {
                let target = pc.wrapping_add(imm as u64);
                self.i(I::I64Const(next as i64));
                self.set(rd);
                self.goto(target);
                return true;
            }
            Jalr => {
                self.get(a);
                self.i(I::I64Const(imm));
                self.i(I::I64Add);
                self.i(I::I64Const(!1));
                self.i(I::I64And);
                self.i(I::LocalSet(PC));
                self.i(I::I64Const(next as i64));
                self.set(rd);
                self.i(I::Br(self.dispatch_label() + 1));
                return true;
            }
            op if ALU_OPS.contains(&op) => {
                let index = ALU_OPS.iter().position(|&o| o == op).expect("listed") as i32;
                self.i(I::LocalGet(CTX));
                self.i(I::I32Const(index));
                self.get(a);
                self.get(b);
                self.i(I::I32Const(
                    helpers::index_of(helpers::alu as AluFn as usize) as i32,
                ));
                self.i(I::CallIndirect {
                    type_index: ALU_TYPE,
                    table_index: 0,
                });
                self.set(rd);
            }
            _ if self.alu(d) => self.set(rd),
            _ => self.step_one(k, pc, d, at),
        }
        false
    }

    /// Leaves instruction `k` to the interpreter (`helpers::step_one`), with the registers
    /// it may read or write in memory around the call.
    fn step_one(&mut self, k: usize, pc: u64, d: &DecodedOp, at: *const DecodedOp) {
        let regs = [d.rs1 & 31, d.rs2 & 31, d.rd & 31];
        for r in regs.into_iter().filter(|&r| r != 0) {
            self.spill(r);
        }
        self.i(I::LocalGet(CTX));
        self.i(I::I32Const(at as usize as i32));
        self.i(I::I64Const(pc as i64));
        self.i(I::I32Const(
            helpers::index_of(helpers::step_one as StepFn as usize) as i32,
        ));
        self.i(I::CallIndirect {
            type_index: STEP_TYPE,
            table_index: 0,
        });
        self.leave_on_status(k, pc, d.len);
        if d.rd & 31 != 0 {
            self.reload(d.rd & 31);
        }
    }

    /// Pushes the result of a register or immediate operation wasm has an instruction for;
    /// false (nothing pushed) for any other operation.
    fn alu(&mut self, d: &DecodedOp) -> bool {
        use Op::*;
        let (a, b, imm) = (d.rs1, d.rs2, d.imm);
        // Operand shapes: `a OP b`, `a OP imm`, and 32-bit forms sign-extended afterwards.
        let rr = |s: &mut Self, op: I<'static>| {
            s.get(a);
            s.get(b);
            s.i(op);
        };
        let ri = |s: &mut Self, op: I<'static>| {
            s.get(a);
            s.i(I::I64Const(imm));
            s.i(op);
        };
        let rr32 = |s: &mut Self, op: I<'static>| {
            s.get(a);
            s.i(I::I32WrapI64);
            s.get(b);
            s.i(I::I32WrapI64);
            s.i(op);
            s.i(I::I64ExtendI32S);
        };
        let ri32 = |s: &mut Self, op: I<'static>| {
            s.get(a);
            s.i(I::I32WrapI64);
            s.i(I::I32Const(imm as i32));
            s.i(op);
            s.i(I::I64ExtendI32S);
        };
        let bool64 = |s: &mut Self| s.i(I::I64ExtendI32U);
        // (a as u32 as u64) << shift, plus b.
        let add_uw = |s: &mut Self, shift: i64| {
            s.get(a);
            s.i(I::I64Const(0xffff_ffff));
            s.i(I::I64And);
            s.i(I::I64Const(shift));
            s.i(I::I64Shl);
            s.get(b);
            s.i(I::I64Add);
        };
        // a with bit `b` (or `imm`) of a mask: 1 << n.
        let bit = |s: &mut Self, reg: bool| {
            s.i(I::I64Const(1));
            if reg {
                s.get(b);
            } else {
                s.i(I::I64Const(imm & 63));
            }
            s.i(I::I64Shl);
        };
        // select(x, y, cond) with the operands re-read, as min/max need.
        let pick = |s: &mut Self, cmp: I<'static>| {
            s.get(a);
            s.get(b);
            s.get(a);
            s.get(b);
            s.i(cmp);
            s.i(I::Select);
        };
        match d.op {
            Addi => ri(self, I::I64Add),
            Slti => {
                ri(self, I::I64LtS);
                bool64(self);
            }
            Sltiu => {
                ri(self, I::I64LtU);
                bool64(self);
            }
            Xori => ri(self, I::I64Xor),
            Ori => ri(self, I::I64Or),
            Andi => ri(self, I::I64And),
            Slli => ri(self, I::I64Shl),
            Srli => ri(self, I::I64ShrU),
            Srai => ri(self, I::I64ShrS),
            Add => rr(self, I::I64Add),
            Sub => rr(self, I::I64Sub),
            Sll => rr(self, I::I64Shl),
            Slt => {
                rr(self, I::I64LtS);
                bool64(self);
            }
            Sltu => {
                rr(self, I::I64LtU);
                bool64(self);
            }
            Xor => rr(self, I::I64Xor),
            Srl => rr(self, I::I64ShrU),
            Sra => rr(self, I::I64ShrS),
            Or => rr(self, I::I64Or),
            And => rr(self, I::I64And),
            Addiw => {
                ri(self, I::I64Add);
                self.i(I::I64Extend32S);
            }
            Slliw => ri32(self, I::I32Shl),
            Srliw => ri32(self, I::I32ShrU),
            Sraiw => ri32(self, I::I32ShrS),
            Addw => {
                rr(self, I::I64Add);
                self.i(I::I64Extend32S);
            }
            Subw => {
                rr(self, I::I64Sub);
                self.i(I::I64Extend32S);
            }
            Sllw => rr32(self, I::I32Shl),
            Srlw => rr32(self, I::I32ShrU),
            Sraw => rr32(self, I::I32ShrS),
            Mul => rr(self, I::I64Mul),
            Mulw => {
                rr(self, I::I64Mul);
                self.i(I::I64Extend32S);
            }
            Sh1add | Sh2add | Sh3add => {
                self.get(a);
                self.i(I::I64Const(match d.op {
                    Sh1add => 1,
                    Sh2add => 2,
                    _ => 3,
                }));
                self.i(I::I64Shl);
                self.get(b);
                self.i(I::I64Add);
            }
            AddUw => add_uw(self, 0),
            Sh1addUw => add_uw(self, 1),
            Sh2addUw => add_uw(self, 2),
            Sh3addUw => add_uw(self, 3),
            SlliUw => {
                self.get(a);
                self.i(I::I64Const(0xffff_ffff));
                self.i(I::I64And);
                self.i(I::I64Const(imm & 63));
                self.i(I::I64Shl);
            }
            Andn | Orn => {
                self.get(a);
                self.get(b);
                self.i(I::I64Const(-1));
                self.i(I::I64Xor);
                self.i(if d.op == Andn { I::I64And } else { I::I64Or });
            }
            Xnor => {
                rr(self, I::I64Xor);
                self.i(I::I64Const(-1));
                self.i(I::I64Xor);
            }
            Clz | Ctz | Cpop => {
                self.get(a);
                self.i(match d.op {
                    Clz => I::I64Clz,
                    Ctz => I::I64Ctz,
                    _ => I::I64Popcnt,
                });
            }
            Clzw | Ctzw | Cpopw => {
                self.get(a);
                self.i(I::I32WrapI64);
                self.i(match d.op {
                    Clzw => I::I32Clz,
                    Ctzw => I::I32Ctz,
                    _ => I::I32Popcnt,
                });
                self.i(I::I64ExtendI32U);
            }
            Max => pick(self, I::I64GtS),
            Maxu => pick(self, I::I64GtU),
            Min => pick(self, I::I64LtS),
            Minu => pick(self, I::I64LtU),
            SextB => {
                self.get(a);
                self.i(I::I64Extend8S);
            }
            SextH => {
                self.get(a);
                self.i(I::I64Extend16S);
            }
            ZextH => {
                self.get(a);
                self.i(I::I64Const(0xffff));
                self.i(I::I64And);
            }
            Rol => rr(self, I::I64Rotl),
            Ror => rr(self, I::I64Rotr),
            Rori => ri(self, I::I64Rotr),
            Rolw => rr32(self, I::I32Rotl),
            Rorw => rr32(self, I::I32Rotr),
            Roriw => ri32(self, I::I32Rotr),
            Bclr | Bclri => {
                self.get(a);
                bit(self, d.op == Bclr);
                self.i(I::I64Const(-1));
                self.i(I::I64Xor);
                self.i(I::I64And);
            }
            Bext | Bexti => {
                self.get(a);
                if d.op == Bext {
                    self.get(b);
                } else {
                    self.i(I::I64Const(imm & 63));
                }
                self.i(I::I64ShrU);
                self.i(I::I64Const(1));
                self.i(I::I64And);
            }
            Binv | Binvi => {
                self.get(a);
                bit(self, d.op == Binv);
                self.i(I::I64Xor);
            }
            Bset | Bseti => {
                self.get(a);
                bit(self, d.op == Bset);
                self.i(I::I64Or);
            }
            CzeroEqz | CzeroNez => {
                // select(0, a, cond): zero when rs2 == 0 (eqz) or rs2 != 0 (nez).
                self.i(I::I64Const(0));
                self.get(a);
                self.get(b);
                self.i(I::I64Eqz);
                if d.op == CzeroNez {
                    self.i(I::I32Eqz);
                }
                self.i(I::Select);
            }
            _ => return false,
        }
        true
    }

    /// Sets `ADDR` to the access's address and `ENTRY` to its TLB entry; pushes whether the
    /// entry's `tag` field matches for a `size`-byte access.
    fn tlb_check(&mut self, d: &DecodedOp, size: u64, tag: usize) {
        self.get(d.rs1);
        self.i(I::I64Const(d.imm));
        self.i(I::I64Add);
        self.i(I::LocalTee(ADDR));
        self.i(I::I64Const(PAGE_SHIFT as i64));
        self.i(I::I64ShrU);
        self.i(I::I32WrapI64);
        self.i(I::I32Const(TLB_ENTRIES as i32 - 1));
        self.i(I::I32And);
        self.i(I::I32Const(size_of::<TlbEntry>() as i32));
        self.i(I::I32Mul);
        self.i(I::LocalGet(TLB));
        self.i(I::I32Add);
        self.i(I::LocalTee(ENTRY));
        self.i(I::I64Load(mem(tag, 3)));
        self.i(I::LocalGet(ADDR));
        self.i(I::I64Const((!PAGE_MASK | (size - 1)) as i64));
        self.i(I::I64And);
        self.i(I::I64Eq);
    }

    /// Pushes the host address of a TLB hit.
    fn host_addr(&mut self) {
        self.i(I::LocalGet(ENTRY));
        self.i(I::I32Load(mem(offset_of!(TlbEntry, addend), 2)));
        self.i(I::LocalGet(ADDR));
        self.i(I::I32WrapI64);
        self.i(I::I32Add);
    }

    fn load(&mut self, k: usize, pc: u64, d: &DecodedOp) {
        let (size, fast, extend) = match d.op {
            Op::Lb => (1, I::I64Load8S(mem(0, 0)), Some(I::I64Extend8S)),
            Op::Lbu => (1, I::I64Load8U(mem(0, 0)), None),
            Op::Lh => (2, I::I64Load16S(mem(0, 0)), Some(I::I64Extend16S)),
            Op::Lhu => (2, I::I64Load16U(mem(0, 0)), None),
            Op::Lw => (4, I::I64Load32S(mem(0, 0)), Some(I::I64Extend32S)),
            Op::Lwu => (4, I::I64Load32U(mem(0, 0)), None),
            _ => (8, I::I64Load(mem(0, 0)), None),
        };
        self.tlb_check(d, size, offset_of!(TlbEntry, read_tag));
        self.begin(I::If(BlockType::Result(ValType::I64)));
        self.host_addr();
        self.i(fast);
        self.i(I::Else);
        self.i(I::LocalGet(CTX));
        self.i(I::LocalGet(ADDR));
        self.i(I::I32Const(size as i32));
        self.i(I::I32Const(
            helpers::index_of(helpers::load as LoadFn as usize) as i32,
        ));
        self.i(I::CallIndirect {
            type_index: LOAD_TYPE,
            table_index: 0,
        });
        if let Some(ext) = extend {
            self.i(ext);
        }
        self.i(I::LocalGet(CTX));
        self.i(I::I32Load(mem(offset_of!(Ctx, failed), 2)));
        self.begin(I::If(BlockType::Empty));
        self.exit(pc, 1, self.ops.len() - k);
        self.end();
        self.end();
        self.set(d.rd);
    }

    fn store(&mut self, k: usize, pc: u64, d: &DecodedOp) {
        let (size, fast) = match d.op {
            Op::Sb => (1, I::I64Store8(mem(0, 0))),
            Op::Sh => (2, I::I64Store16(mem(0, 0))),
            Op::Sw => (4, I::I64Store32(mem(0, 0))),
            _ => (8, I::I64Store(mem(0, 0))),
        };
        self.tlb_check(d, size, offset_of!(TlbEntry, write_tag));
        self.begin(I::If(BlockType::Empty));
        self.host_addr();
        self.get(d.rs2);
        self.i(fast);
        self.i(I::Else);
        self.i(I::LocalGet(CTX));
        self.i(I::LocalGet(ADDR));
        self.get(d.rs2);
        self.i(I::I32Const(size as i32));
        self.i(I::I32Const(
            helpers::index_of(helpers::store as StoreFn as usize) as i32,
        ));
        self.i(I::CallIndirect {
            type_index: STORE_TYPE,
            table_index: 0,
        });
        self.i(I::LocalGet(CTX));
        self.i(I::I32Load(mem(offset_of!(Ctx, failed), 2)));
        self.leave_on_status(k, pc, d.len);
        self.end();
    }

    /// Pops the outcome of a helper that executed instruction `k` (at `pc`, `len` bytes): 0
    /// goes on; 1 leaves for the interpreter to execute it (it did not retire); 2 leaves
    /// after it, through the dispatcher (it retired, and wrote into decoded code).
    fn leave_on_status(&mut self, k: usize, pc: u64, len: u8) {
        let n = self.ops.len();
        self.i(I::LocalTee(STATUS));
        self.begin(I::If(BlockType::Empty));
        self.i(I::LocalGet(STATUS));
        self.i(I::I32Const(2));
        self.i(I::I32Eq);
        self.begin(I::If(BlockType::Empty));
        self.exit(pc + len as u64, 2, n - k - 1);
        self.i(I::Else);
        self.exit(pc, 1, n - k);
        self.end();
        self.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::riscv64::decode;

    /// Decodes a straight sequence of 32-bit instructions at `base`.
    fn ops(base: u64, words: &[u32]) -> Vec<Insn> {
        let mut pc = base;
        words
            .iter()
            .map(|&w| {
                let d = decode(w as u16, (w >> 16) as u16, pc);
                let r = (pc, d, std::ptr::null());
                pc += 4;
                r
            })
            .collect()
    }

    fn region(base: u64, words: &[u32]) -> Vec<(u64, Vec<Insn>)> {
        vec![(base, ops(base, words))]
    }

    #[test]
    fn every_translatable_shape_encodes_a_valid_module() {
        let mut m = Module::new();
        // addi a0,a0,1; ld a1,8(a0); sd a1,16(a0); mulhu a2,a0,a1; lw a3,0(a2); bne a0,a1,-20
        let loop_ = ops(
            0x1000,
            &[
                0x0015_0513,
                0x0085_3583,
                0x00b5_3823,
                0x02b5_3633,
                0x0006_2683,
                0xfeb5_16e3,
            ],
        );
        assert_eq!(successors(&loop_), [0x1000, 0x1018]);
        // With its fall-through block (add a0,a0,a1; jal x0, -0x1c back to the loop).
        let after = ops(0x1018, &[0x00b5_0533, 0xfe5f_f06f]);
        assert_eq!(successors(&after), [0x1000]);
        assert!(m.add_region(&[(0x1000, loop_), (0x1018, after)]));
        // jalr x0, 0(ra)
        assert!(m.add_region(&region(0x2000, &[0x0000_8067])));
        // ecall first: nothing to translate.
        assert!(!m.add_region(&region(0x3000, &[0x0000_0073])));
        // add, fadd.d and frflags (left to the interpreter), then csrr a0, instret (where it
        // stops).
        let partial = ops(
            0x4000,
            &[0x00b5_0533, 0x02b5_7553, 0x0010_2773, 0xc020_2573],
        );
        assert!(successors(&partial).is_empty());
        assert!(m.add_region(&[(0x4000, partial)]));
        let bytes = m.finish();
        wasmparser::Validator::new()
            .validate_all(&bytes)
            .expect("valid module");
    }
}
