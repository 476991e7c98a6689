//! Runtime functions that translated code calls through the function table: the slow paths
//! of memory accesses, and the operations wasm has no instruction for.

use super::Ctx;
use crate::riscv64::exec::{Flow, step};
use crate::riscv64::{DecodedOp, Hart, Op};

pub(super) type LoadFn = extern "C" fn(*mut Ctx, u64, u32) -> u64;
pub(super) type StoreFn = extern "C" fn(*mut Ctx, u64, u64, u32);
pub(super) type AluFn = extern "C" fn(*mut Ctx, u32, u64, u64) -> u64;
pub(super) type StepFn = extern "C" fn(*mut Ctx, *const DecodedOp, u64) -> u32;

/// Table index of a function (on wasm32 a function pointer is its index in the table).
pub(super) fn index_of(f: usize) -> u32 {
    f as u32
}

/// A `size`-byte load the inline TLB path did not take (a miss, a misaligned or
/// page-crossing access): the bytes zero-extended, or `failed` set when the access faults.
pub(super) extern "C" fn load(ctx: *mut Ctx, addr: u64, size: u32) -> u64 {
    // SAFETY: translated code passes the `Ctx` that `jit::run` made from live references.
    let ctx = unsafe { &mut *ctx };
    let space = unsafe { &mut *ctx.space };
    let mut b = [0u8; 8];
    match space.read(addr, &mut b[..size as usize]) {
        Ok(()) => u64::from_le_bytes(b),
        Err(_) => {
            ctx.failed = 1;
            0
        }
    }
}

/// A `size`-byte store the inline TLB path did not take: `failed` is 1 when it faults, 2
/// when it wrote into a page holding decoded code.
pub(super) extern "C" fn store(ctx: *mut Ctx, addr: u64, value: u64, size: u32) {
    // SAFETY: as in `load`.
    let ctx = unsafe { &mut *ctx };
    let space = unsafe { &mut *ctx.space };
    match space.write(addr, &value.to_le_bytes()[..size as usize]) {
        Ok(()) if space.has_stale_code() => ctx.failed = 2,
        Ok(()) => {}
        Err(_) => ctx.failed = 1,
    }
}

/// Register-register operations computed by the interpreter itself, so their corner cases
/// (division by zero, overflow, the high half of products) stay defined in one place. They
/// could go through `step_one` like the rest, but passing operands and result by value
/// costs less than storing and reloading registers around it: a loop of `rem` and `div`
/// runs in 225 ms this way against 370 ms through `step_one`.
pub(super) const ALU_OPS: &[Op] = &[
    Op::Mulh,
    Op::Mulhsu,
    Op::Mulhu,
    Op::Div,
    Op::Divu,
    Op::Rem,
    Op::Remu,
    Op::Divw,
    Op::Divuw,
    Op::Remw,
    Op::Remuw,
    Op::OrcB,
    Op::Rev8,
];

/// `ALU_OPS[op]` of `a` and `b`.
pub(super) extern "C" fn alu(ctx: *mut Ctx, op: u32, a: u64, b: u64) -> u64 {
    // SAFETY: as in `load`; these operations do not touch memory.
    let space = unsafe { &mut *(*ctx).space };
    let mut hart = Hart::default();
    hart.x[1] = a;
    hart.x[2] = b;
    let d = DecodedOp {
        op: ALU_OPS[op as usize],
        rd: 3,
        rs1: 1,
        rs2: 2,
        len: 4,
        block_left: 1,
        ..DecodedOp::NOT_DECODED
    };
    let _ = step(&mut hart, space, &d, 0, 4);
    hart.x[3]
}

/// Executes the instruction `op` (at `pc`) in the interpreter, against the hart itself: the
/// floating-point, atomic and other instructions translations leave to it. The caller has
/// stored the registers the instruction reads and reloads the one it writes. Returns 0 when
/// it retired, 2 when it retired and made code stale, 1 when it traps (the interpreter then
/// executes it again and reports the trap: such instructions act only once they cannot fail).
pub(super) extern "C" fn step_one(ctx: *mut Ctx, op: *const DecodedOp, pc: u64) -> u32 {
    // SAFETY: as in `load`; `op` points into the decoded page that owns the translation,
    // which lives while the translation runs (see `super::codegen`).
    let (hart, space, d) = unsafe { (&mut *(*ctx).hart, &mut *(*ctx).space, &*op) };
    match step(hart, space, d, pc, pc + d.len as u64) {
        Ok(None) => 0,
        Ok(Some(Flow::Resync(_))) => 2,
        _ => 1,
    }
}
