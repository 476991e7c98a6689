//! The interpreter: executes decoded blocks of one code page.
//!
//! `pc` and `instret` move once per block: entering a block adds its length to `instret`, and
//! an early exit (fault, trap, stale code) gives back what did not retire. The pc of an
//! instruction is derived from its slot. Control passes from block to block here, also into
//! another page when the dispatcher's table of recently used pages holds it; anything else
//! (a page to look up or decode, stale code, the end of the budget) returns to
//! [`super::run`].

use super::decode::{decode, instruction_len};
use super::fp::{self, box_s, unbox_s};
#[cfg(feature = "jit")]
use super::jit::Status;
use super::op::{DecodedOp, Op};
use super::{DecodedPage, Exit, Hart, NO_RESERVATION, RECENT, SLOTS, csr};
use crate::mmu::{Access, AddressSpace, FaultKind, MemFault, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE};

/// Longest block (its length must fit `DecodedOp::block_left`).
const MAX_BLOCK: usize = u8::MAX as usize;

/// Decodes the block starting at `slot` of `page` (at guest address `base`).
fn decode_block(page: &mut DecodedPage, mem: &mut AddressSpace, base: u64, start: usize) {
    let mut slots = [0u16; MAX_BLOCK];
    let mut n = 0;
    let mut slot = start;
    loop {
        let off = slot * 2;
        let lo = u16::from_le_bytes([page.bytes[off], page.bytes[off + 1]]);
        let len = instruction_len(lo);
        let pc = base + off as u64;
        let d = if len == 2 {
            decode(lo, 0, pc)
        } else if off + 4 <= PAGE_SIZE as usize {
            decode(
                lo,
                u16::from_le_bytes([page.bytes[off + 2], page.bytes[off + 3]]),
                pc,
            )
        } else {
            // The instruction straddles into the next page, which must be executable too;
            // fetching it marks that page as code so writes to it invalidate this one.
            match mem.fetch_code_page((base >> 12) + 1) {
                Ok(next) => decode(lo, u16::from_le_bytes([next[0], next[1]]), pc),
                Err(_) => DecodedOp {
                    op: Op::FetchFault,
                    imm: (base + PAGE_SIZE) as i64,
                    len: 4,
                    ..DecodedOp::NOT_DECODED
                },
            }
        };
        page.ops[slot] = d;
        slots[n] = slot as u16;
        n += 1;
        slot += len as usize / 2;
        if d.ends_block() || n == MAX_BLOCK || slot >= SLOTS {
            break;
        }
    }
    for (i, &s) in slots[..n].iter().enumerate() {
        page.ops[s as usize].block_left = (n - i) as u8;
    }
}

#[inline(always)]
fn load<const N: u64>(mem: &mut AddressSpace, addr: u64) -> Result<u64, MemFault> {
    match mem.tlb.read_ptr::<N>(addr) {
        // SAFETY: a TLB hit points into a live frame with N readable bytes at `p`.
        Some(p) => Ok(unsafe {
            match N {
                1 => *p as u64,
                2 => (p as *const u16).read_unaligned() as u64,
                4 => (p as *const u32).read_unaligned() as u64,
                _ => (p as *const u64).read_unaligned(),
            }
        }),
        None => load_slow::<N>(mem, addr),
    }
}

/// Misaligned, page-crossing and TLB-missing loads. Linux emulates misaligned accesses for
/// user space, so they succeed here too.
#[cold]
#[inline(never)]
fn load_slow<const N: u64>(mem: &mut AddressSpace, addr: u64) -> Result<u64, MemFault> {
    let mut b = [0u8; 8];
    mem.read(addr, &mut b[..N as usize])?;
    Ok(u64::from_le_bytes(b))
}

/// Stores; `Ok(true)` means the store hit a page holding decoded code, so the block must end.
#[inline(always)]
fn store<const N: u64>(mem: &mut AddressSpace, addr: u64, v: u64) -> Result<bool, MemFault> {
    match mem.tlb.write_ptr::<N>(addr) {
        Some(p) => {
            // SAFETY: a TLB write hit points into a frame this space owns alone.
            unsafe {
                match N {
                    1 => *p = v as u8,
                    2 => (p as *mut u16).write_unaligned(v as u16),
                    4 => (p as *mut u32).write_unaligned(v as u32),
                    _ => (p as *mut u64).write_unaligned(v),
                }
            }
            Ok(false)
        }
        None => store_slow::<N>(mem, addr, v),
    }
}

#[cold]
#[inline(never)]
fn store_slow<const N: u64>(mem: &mut AddressSpace, addr: u64, v: u64) -> Result<bool, MemFault> {
    mem.write(addr, &v.to_le_bytes()[..N as usize])?;
    Ok(mem.has_stale_code())
}

/// Host pointer for an atomic access: naturally aligned (else SIGBUS, as Linux gives for
/// misaligned AMOs) and writable.
#[inline(always)]
fn amo_ptr<const N: u64>(mem: &mut AddressSpace, addr: u64) -> Result<*mut u8, MemFault> {
    if addr & (N - 1) != 0 {
        return Err(MemFault {
            addr,
            access: Access::Write,
            kind: FaultKind::Misaligned,
        });
    }
    match mem.tlb.write_ptr::<N>(addr) {
        Some(p) => Ok(p),
        None => mem.translate(addr, Access::Write),
    }
}

fn sext32(v: u64) -> u64 {
    v as i32 as i64 as u64
}

/// Resolves a rounding-mode field against `frm`; `None` for the reserved encodings.
#[inline(always)]
fn rounding(rm: u8, hart: &Hart) -> Option<u8> {
    let rm = if rm == 7 { hart.frm } else { rm };
    (rm <= fp::RM_RMM).then_some(rm)
}

/// How an instruction left the straight-line path of its block.
pub(super) enum Flow {
    /// Continue at this address (taken branch, or fall-through after a block end).
    Jump(u64),
    /// Leave to the dispatcher with `pc` at the next instruction (stale code, fence.i).
    Resync(u64),
    Exit(Exit),
}

/// Runs blocks starting at `hart.pc` in `page` (the page holding it), following jumps into
/// pages found in `recent`. Returns `None` when execution continues elsewhere (`hart.pc`
/// set), or the exit.
///
/// # Safety
///
/// Every non-null pointer in `recent` points to a live decoded page, which nothing frees
/// or replaces until this returns, and `page` is not aliased.
pub(super) unsafe fn run_pages(
    hart: &mut Hart,
    mem: &mut AddressSpace,
    mut page: &mut DecodedPage,
    recent: &[(u64, *mut DecodedPage); RECENT],
    limit: u64,
    #[cfg(feature = "jit")] jit: &mut super::jit::Jit,
) -> Option<Exit> {
    let mut base = hart.pc & !PAGE_MASK;
    let mut slot = ((hart.pc & PAGE_MASK) >> 1) as usize;
    // Set when translated code handed an instruction to the interpreter: the block from
    // there is interpreted, whatever its slot's state.
    #[cfg(feature = "jit")]
    let mut interpret_next = false;
    loop {
        // Whether to go back to the dispatcher before the next block even if it is near.
        #[allow(unused_mut)]
        let mut to_dispatcher = false;
        #[cfg(feature = "jit")]
        let flow = match jit_entry(page, slot, base, hart.instret, jit, &mut to_dispatcher) {
            Some(index) if !interpret_next => match super::jit::run(index, hart, mem, limit, jit) {
                (Status::Next, pc) => Flow::Jump(pc),
                // `pc` may be in another page: a translation can chain into other pages'.
                // If the jump below leaves for the dispatcher instead, the translation runs
                // again from `pc` next time and hands over again, having retired nothing.
                (Status::Interpret, pc) => {
                    interpret_next = true;
                    Flow::Jump(pc)
                }
                (Status::Resync, pc) => Flow::Resync(pc),
            },
            _ => {
                interpret_next = false;
                interpret(hart, mem, page, base, slot)
            }
        };
        #[cfg(not(feature = "jit"))]
        let flow = interpret(hart, mem, page, base, slot);
        match flow {
            Flow::Jump(target) => {
                hart.pc = target;
                if hart.instret >= limit || to_dispatcher {
                    return None;
                }
                if target & !PAGE_MASK != base {
                    let vpn = target >> PAGE_SHIFT;
                    let (tag, next_page) = recent[vpn as usize % RECENT];
                    // Stale code is dropped (and `recent` cleared) only by the dispatcher.
                    if tag != vpn || mem.has_stale_code() {
                        return None;
                    }
                    // SAFETY: `recent` holds live pages (the caller's promise); this one is
                    // not `page`, whose borrow ends here.
                    page = unsafe { &mut *next_page };
                    base = target & !PAGE_MASK;
                }
                slot = ((target & PAGE_MASK) >> 1) as usize;
            }
            Flow::Resync(next) => {
                hart.pc = next;
                return None;
            }
            Flow::Exit(e) => return Some(e),
        }
    }
}

/// Interprets the block at `slot`, decoding it first if needed.
#[inline(always)]
fn interpret(
    hart: &mut Hart,
    mem: &mut AddressSpace,
    page: &mut DecodedPage,
    base: u64,
    slot: usize,
) -> Flow {
    if page.ops[slot].op == Op::NotDecoded {
        decode_block(page, mem, base, slot);
    }
    hart.instret += page.ops[slot].block_left as u64;
    run_block(hart, mem, page, base, slot)
}

/// The table index of the translation of the block at `slot`, if any; otherwise counts the
/// entry, queueing the block once it is hot (and asking for the dispatcher when the queue
/// wants translating).
#[cfg(feature = "jit")]
#[inline(always)]
fn jit_entry(
    page: &mut DecodedPage,
    slot: usize,
    base: u64,
    instret: u64,
    jit: &mut super::jit::Jit,
    to_dispatcher: &mut bool,
) -> Option<u32> {
    use super::jit::{COMPILED, QUEUED};
    let state = page.jit[slot];
    if state >= COMPILED {
        return Some(state & !COMPILED);
    }
    if state < jit.threshold {
        if state + 1 >= jit.threshold {
            page.jit[slot] = QUEUED;
            *to_dispatcher = jit.enqueue(base + slot as u64 * 2, instret);
        } else {
            page.jit[slot] = state + 1;
        }
    }
    None
}

/// Executes one block from `slot` until control leaves it.
#[inline(always)]
fn run_block(
    hart: &mut Hart,
    mem: &mut AddressSpace,
    page: &DecodedPage,
    base: u64,
    mut slot: usize,
) -> Flow {
    loop {
        // `slot` only ever indexes a decoded instruction of this block: block boundaries
        // are reported by `block_left`, and pages never end mid-block.
        let d = page.ops[slot & (SLOTS - 1)];
        let pc = base + (slot as u64) * 2;
        let next = pc + d.len as u64;
        match step(hart, mem, &d, pc, next) {
            Ok(None) => {}
            Ok(Some(flow)) => {
                if let Flow::Resync(_) = flow {
                    // Instructions after this one in the block did not run.
                    hart.instret -= d.block_left as u64 - 1;
                }
                return flow;
            }
            Err(trap) => {
                hart.instret -= d.block_left as u64;
                hart.pc = pc;
                return Flow::Exit(trap);
            }
        }
        if d.block_left == 1 {
            return Flow::Jump(next);
        }
        slot += d.len as usize / 2;
    }
}

impl From<MemFault> for Exit {
    fn from(f: MemFault) -> Exit {
        Exit::Fault(f)
    }
}

/// Executes one instruction. `Ok(None)`: go on with the next in the block.
#[inline(always)]
pub(super) fn step(
    hart: &mut Hart,
    mem: &mut AddressSpace,
    d: &DecodedOp,
    pc: u64,
    next: u64,
) -> Result<Option<Flow>, Exit> {
    let rd = (d.rd & 31) as usize;
    let r1 = (d.rs1 & 31) as usize;
    let r2 = (d.rs2 & 31) as usize;
    let imm = d.imm as u64;
    let x = &mut hart.x;
    let a = x[r1];
    let b = x[r2];
    macro_rules! set {
        ($v:expr) => {{
            let v = $v;
            x[rd] = v;
        }};
    }
    // Results that may target x0 (loads, jumps, CSR and AMO reads): write, then re-zero.
    macro_rules! set_any {
        ($v:expr) => {{
            let v = $v;
            hart.x[rd] = v;
            hart.x[0] = 0;
        }};
    }
    macro_rules! branch {
        ($cond:expr) => {
            return Ok(Some(Flow::Jump(if $cond {
                pc.wrapping_add(imm)
            } else {
                next
            })))
        };
    }
    macro_rules! store {
        ($n:literal, $v:expr) => {{
            if store::<$n>(mem, a.wrapping_add(imm), $v)? {
                return Ok(Some(Flow::Resync(next)));
            }
        }};
    }
    macro_rules! amo {
        ($n:literal, $f:expr) => {{
            let addr = a;
            let p = amo_ptr::<$n>(mem, addr)?;
            // SAFETY: `amo_ptr` returned an aligned, writable pointer to N bytes.
            let old = unsafe {
                if $n == 4 {
                    (p as *const u32).read() as i32 as i64 as u64
                } else {
                    (p as *const u64).read()
                }
            };
            let f: fn(u64, u64) -> u64 = $f;
            let new = f(old, b);
            unsafe {
                if $n == 4 {
                    (p as *mut u32).write(new as u32)
                } else {
                    (p as *mut u64).write(new)
                }
            }
            set_any!(old);
            if mem.has_stale_code() {
                return Ok(Some(Flow::Resync(next)));
            }
        }};
    }
    match d.op {
        Op::Nop => {}
        Op::Li => set!(imm),
        Op::Addi => set!(a.wrapping_add(imm)),
        Op::Slti => set!(((a as i64) < (imm as i64)) as u64),
        Op::Sltiu => set!((a < imm) as u64),
        Op::Xori => set!(a ^ imm),
        Op::Ori => set!(a | imm),
        Op::Andi => set!(a & imm),
        Op::Slli => set!(a << (imm & 63)),
        Op::Srli => set!(a >> (imm & 63)),
        Op::Srai => set!(((a as i64) >> (imm & 63)) as u64),
        Op::Add => set!(a.wrapping_add(b)),
        Op::Sub => set!(a.wrapping_sub(b)),
        Op::Sll => set!(a << (b & 63)),
        Op::Slt => set!(((a as i64) < (b as i64)) as u64),
        Op::Sltu => set!((a < b) as u64),
        Op::Xor => set!(a ^ b),
        Op::Srl => set!(a >> (b & 63)),
        Op::Sra => set!(((a as i64) >> (b & 63)) as u64),
        Op::Or => set!(a | b),
        Op::And => set!(a & b),
        Op::Addiw => set!(sext32(a.wrapping_add(imm))),
        Op::Slliw => set!(sext32(((a as u32) << (imm & 31)) as u64)),
        Op::Srliw => set!(sext32(((a as u32) >> (imm & 31)) as u64)),
        Op::Sraiw => set!(((a as i32) >> (imm & 31)) as i64 as u64),
        Op::Addw => set!(sext32(a.wrapping_add(b))),
        Op::Subw => set!(sext32(a.wrapping_sub(b))),
        Op::Sllw => set!(sext32(((a as u32) << (b & 31)) as u64)),
        Op::Srlw => set!(sext32(((a as u32) >> (b & 31)) as u64)),
        Op::Sraw => set!(((a as i32) >> (b & 31)) as i64 as u64),
        Op::Mul => set!(a.wrapping_mul(b)),
        Op::Mulh => set!(((a as i64 as i128 * b as i64 as i128) >> 64) as u64),
        Op::Mulhsu => set!(((a as i64 as i128).wrapping_mul(b as i128) >> 64) as u64),
        Op::Mulhu => set!(((a as u128 * b as u128) >> 64) as u64),
        // Division by zero and overflow do not trap (ISA manual, "M" chapter, table of
        // division corner cases).
        Op::Div => set!(match b {
            0 => u64::MAX,
            _ => (a as i64).wrapping_div(b as i64) as u64,
        }),
        Op::Divu => set!(a.checked_div(b).unwrap_or(u64::MAX)),
        Op::Rem => set!(match b {
            0 => a,
            _ => (a as i64).wrapping_rem(b as i64) as u64,
        }),
        Op::Remu => set!(a.checked_rem(b).unwrap_or(a)),
        Op::Mulw => set!(sext32(a.wrapping_mul(b))),
        Op::Divw => set!(match b as i32 {
            0 => u64::MAX,
            d => (a as i32).wrapping_div(d) as i64 as u64,
        }),
        Op::Divuw => set!(match b as u32 {
            0 => u64::MAX,
            d => sext32(((a as u32) / d) as u64),
        }),
        Op::Remw => set!(match b as i32 {
            0 => a as i32 as i64 as u64,
            d => (a as i32).wrapping_rem(d) as i64 as u64,
        }),
        Op::Remuw => set!(match b as u32 {
            0 => sext32(a),
            d => sext32(((a as u32) % d) as u64),
        }),
        Op::Sh1add => set!((a << 1).wrapping_add(b)),
        Op::Sh2add => set!((a << 2).wrapping_add(b)),
        Op::Sh3add => set!((a << 3).wrapping_add(b)),
        Op::AddUw => set!((a as u32 as u64).wrapping_add(b)),
        Op::Sh1addUw => set!(((a as u32 as u64) << 1).wrapping_add(b)),
        Op::Sh2addUw => set!(((a as u32 as u64) << 2).wrapping_add(b)),
        Op::Sh3addUw => set!(((a as u32 as u64) << 3).wrapping_add(b)),
        Op::SlliUw => set!((a as u32 as u64) << (imm & 63)),
        Op::Andn => set!(a & !b),
        Op::Orn => set!(a | !b),
        Op::Xnor => set!(!(a ^ b)),
        Op::Clz => set!(a.leading_zeros() as u64),
        Op::Clzw => set!((a as u32).leading_zeros() as u64),
        Op::Ctz => set!(a.trailing_zeros() as u64),
        Op::Ctzw => set!((a as u32).trailing_zeros() as u64),
        Op::Cpop => set!(a.count_ones() as u64),
        Op::Cpopw => set!((a as u32).count_ones() as u64),
        Op::Max => set!((a as i64).max(b as i64) as u64),
        Op::Maxu => set!(a.max(b)),
        Op::Min => set!((a as i64).min(b as i64) as u64),
        Op::Minu => set!(a.min(b)),
        Op::SextB => set!(a as i8 as i64 as u64),
        Op::SextH => set!(a as i16 as i64 as u64),
        Op::ZextH => set!(a as u16 as u64),
        Op::Rol => set!(a.rotate_left((b & 63) as u32)),
        Op::Rolw => set!(sext32((a as u32).rotate_left((b & 31) as u32) as u64)),
        Op::Ror => set!(a.rotate_right((b & 63) as u32)),
        Op::Rori => set!(a.rotate_right((imm & 63) as u32)),
        Op::Roriw => set!(sext32((a as u32).rotate_right((imm & 31) as u32) as u64)),
        Op::Rorw => set!(sext32((a as u32).rotate_right((b & 31) as u32) as u64)),
        Op::OrcB => set!({
            let mut r = 0u64;
            for i in 0..8 {
                if (a >> (i * 8)) & 0xff != 0 {
                    r |= 0xff << (i * 8);
                }
            }
            r
        }),
        Op::Rev8 => set!(a.swap_bytes()),
        Op::Bclr => set!(a & !(1 << (b & 63))),
        Op::Bclri => set!(a & !(1 << (imm & 63))),
        Op::Bext => set!((a >> (b & 63)) & 1),
        Op::Bexti => set!((a >> (imm & 63)) & 1),
        Op::Binv => set!(a ^ (1 << (b & 63))),
        Op::Binvi => set!(a ^ (1 << (imm & 63))),
        Op::Bset => set!(a | (1 << (b & 63))),
        Op::Bseti => set!(a | (1 << (imm & 63))),
        Op::CzeroEqz => set!(if b == 0 { 0 } else { a }),
        Op::CzeroNez => set!(if b != 0 { 0 } else { a }),

        Op::Lb => set_any!(load::<1>(mem, a.wrapping_add(imm))? as i8 as i64 as u64),
        Op::Lh => set_any!(load::<2>(mem, a.wrapping_add(imm))? as i16 as i64 as u64),
        Op::Lw => set_any!(load::<4>(mem, a.wrapping_add(imm))? as i32 as i64 as u64),
        Op::Ld => set_any!(load::<8>(mem, a.wrapping_add(imm))?),
        Op::Lbu => set_any!(load::<1>(mem, a.wrapping_add(imm))?),
        Op::Lhu => set_any!(load::<2>(mem, a.wrapping_add(imm))?),
        Op::Lwu => set_any!(load::<4>(mem, a.wrapping_add(imm))?),
        Op::Sb => store!(1, b),
        Op::Sh => store!(2, b),
        Op::Sw => store!(4, b),
        Op::Sd => store!(8, b),

        Op::Jal => {
            set_any!(next);
            return Ok(Some(Flow::Jump(pc.wrapping_add(imm))));
        }
        Op::Jalr => {
            let target = a.wrapping_add(imm) & !1;
            set_any!(next);
            return Ok(Some(Flow::Jump(target)));
        }
        Op::Beq => branch!(a == b),
        Op::Bne => branch!(a != b),
        Op::Blt => branch!((a as i64) < (b as i64)),
        Op::Bge => branch!((a as i64) >= (b as i64)),
        Op::Bltu => branch!(a < b),
        Op::Bgeu => branch!(a >= b),

        Op::Ecall => {
            hart.pc = pc;
            return Ok(Some(Flow::Exit(Exit::Ecall)));
        }
        Op::Ebreak => {
            hart.instret -= 1;
            hart.pc = pc;
            return Ok(Some(Flow::Exit(Exit::Breakpoint)));
        }
        Op::FenceI => {
            mem.flush_code();
            return Ok(Some(Flow::Resync(next)));
        }
        Op::Illegal | Op::NotDecoded => return Err(Exit::IllegalInstruction),
        Op::FetchFault => {
            return Err(Exit::Fault(MemFault {
                addr: imm,
                access: Access::Exec,
                kind: FaultKind::Unmapped,
            }));
        }

        Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci => {
            let num = (imm & 0xfff) as u16;
            let retired = hart.instret - d.block_left as u64;
            let src = match d.op {
                Op::Csrrw | Op::Csrrs | Op::Csrrc => a,
                _ => d.rs1 as u64,
            };
            // csrrs/csrrc with x0 (or immediate 0) do not write, so read-only CSRs are fine.
            let writes = matches!(d.op, Op::Csrrw | Op::Csrrwi) || d.rs1 != 0;
            let old = csr::read(hart, num, retired).ok_or(Exit::IllegalInstruction)?;
            if writes {
                let new = match d.op {
                    Op::Csrrw | Op::Csrrwi => src,
                    Op::Csrrs | Op::Csrrsi => old | src,
                    _ => old & !src,
                };
                csr::write(hart, num, new).ok_or(Exit::IllegalInstruction)?;
            }
            set_any!(old);
        }

        Op::LrW | Op::LrD => {
            let v = if d.op == Op::LrW {
                let p = amo_ptr::<4>(mem, a)?;
                // SAFETY: aligned pointer from `amo_ptr`.
                unsafe { (p as *const u32).read() as i32 as i64 as u64 }
            } else {
                let p = amo_ptr::<8>(mem, a)?;
                // SAFETY: as above.
                unsafe { (p as *const u64).read() }
            };
            hart.reservation = a;
            set_any!(v);
        }
        Op::ScW | Op::ScD => {
            let n = if d.op == Op::ScW { 4 } else { 8 };
            if a & (n - 1) != 0 {
                return Err(Exit::Fault(MemFault {
                    addr: a,
                    access: Access::Write,
                    kind: FaultKind::Misaligned,
                }));
            }
            let ok = hart.reservation == a;
            hart.reservation = NO_RESERVATION;
            if ok {
                let stale = if n == 4 {
                    store::<4>(mem, a, b)?
                } else {
                    store::<8>(mem, a, b)?
                };
                set_any!(0);
                if stale {
                    return Ok(Some(Flow::Resync(next)));
                }
            } else {
                set_any!(1);
            }
        }
        Op::AmoswapW => amo!(4, |_, b| b),
        Op::AmoaddW => amo!(4, |a, b| a.wrapping_add(b)),
        Op::AmoxorW => amo!(4, |a, b| a ^ b),
        Op::AmoandW => amo!(4, |a, b| a & b),
        Op::AmoorW => amo!(4, |a, b| a | b),
        Op::AmominW => amo!(4, |a, b| (a as i32).min(b as i32) as u64),
        Op::AmomaxW => amo!(4, |a, b| (a as i32).max(b as i32) as u64),
        Op::AmominuW => amo!(4, |a, b| (a as u32).min(b as u32) as u64),
        Op::AmomaxuW => amo!(4, |a, b| (a as u32).max(b as u32) as u64),
        Op::AmoswapD => amo!(8, |_, b| b),
        Op::AmoaddD => amo!(8, |a, b| a.wrapping_add(b)),
        Op::AmoxorD => amo!(8, |a, b| a ^ b),
        Op::AmoandD => amo!(8, |a, b| a & b),
        Op::AmoorD => amo!(8, |a, b| a | b),
        Op::AmominD => amo!(8, |a, b| (a as i64).min(b as i64) as u64),
        Op::AmomaxD => amo!(8, |a, b| (a as i64).max(b as i64) as u64),
        Op::AmominuD => amo!(8, |a, b| a.min(b)),
        Op::AmomaxuD => amo!(8, |a, b| a.max(b)),

        Op::Flw => {
            let v = load::<4>(mem, a.wrapping_add(imm))?;
            hart.f[rd] = box_s(v as u32);
        }
        Op::Fld => hart.f[rd] = load::<8>(mem, a.wrapping_add(imm))?,
        Op::Fsw => store!(4, hart.f[r2]),
        Op::Fsd => store!(8, hart.f[r2]),
        // Listed rather than `_`, so the match stays one jump table.
        Op::FmaddS
        | Op::FmsubS
        | Op::FnmsubS
        | Op::FnmaddS
        | Op::FaddS
        | Op::FsubS
        | Op::FmulS
        | Op::FdivS
        | Op::FsqrtS
        | Op::FsgnjS
        | Op::FsgnjnS
        | Op::FsgnjxS
        | Op::FminS
        | Op::FmaxS
        | Op::FcvtWS
        | Op::FcvtWuS
        | Op::FcvtLS
        | Op::FcvtLuS
        | Op::FmvXW
        | Op::FeqS
        | Op::FltS
        | Op::FleS
        | Op::FclassS
        | Op::FcvtSW
        | Op::FcvtSWu
        | Op::FcvtSL
        | Op::FcvtSLu
        | Op::FmvWX
        | Op::FmaddD
        | Op::FmsubD
        | Op::FnmsubD
        | Op::FnmaddD
        | Op::FaddD
        | Op::FsubD
        | Op::FmulD
        | Op::FdivD
        | Op::FsqrtD
        | Op::FsgnjD
        | Op::FsgnjnD
        | Op::FsgnjxD
        | Op::FminD
        | Op::FmaxD
        | Op::FcvtSD
        | Op::FcvtDS
        | Op::FcvtWD
        | Op::FcvtWuD
        | Op::FcvtLD
        | Op::FcvtLuD
        | Op::FmvXD
        | Op::FeqD
        | Op::FltD
        | Op::FleD
        | Op::FclassD
        | Op::FcvtDW
        | Op::FcvtDWu
        | Op::FcvtDL
        | Op::FcvtDLu
        | Op::FmvDX => return exec_fp(hart, d, rd, r1, r2).map(|()| None),
    }
    Ok(None)
}

/// F and D arithmetic (everything that does not touch memory).
#[inline(always)]
fn exec_fp(hart: &mut Hart, d: &DecodedOp, rd: usize, r1: usize, r2: usize) -> Result<(), Exit> {
    let r3 = (d.rs3 & 31) as usize;
    let (fa, fb, fc) = (hart.f[r1], hart.f[r2], hart.f[r3]);
    let (sa, sb, sc) = (unbox_s(fa), unbox_s(fb), unbox_s(fc));
    let xa = hart.x[r1];
    let mut flags = 0u8;
    let fl = &mut flags;
    const S_SIGN: u32 = 1 << 31;
    const D_SIGN: u64 = 1 << 63;
    macro_rules! rm {
        () => {
            rounding(d.rm, hart).ok_or(Exit::IllegalInstruction)?
        };
    }
    macro_rules! fs {
        ($v:expr) => {
            hart.f[rd] = box_s($v)
        };
    }
    macro_rules! fd {
        ($v:expr) => {
            hart.f[rd] = $v
        };
    }
    macro_rules! xi {
        ($v:expr) => {{
            hart.x[rd] = $v;
            hart.x[0] = 0;
        }};
    }
    match d.op {
        Op::FaddS => fs!(fp::f32_add(sa, sb, rm!(), fl)),
        Op::FsubS => fs!(fp::f32_sub(sa, sb, rm!(), fl)),
        Op::FmulS => fs!(fp::f32_mul(sa, sb, rm!(), fl)),
        Op::FdivS => fs!(fp::f32_div(sa, sb, rm!(), fl)),
        Op::FsqrtS => fs!(fp::f32_sqrt(sa, rm!(), fl)),
        Op::FmaddS => fs!(fp::f32_fma(sa, sb, sc, rm!(), fl)),
        Op::FmsubS => fs!(fp::f32_fma(sa, sb, sc ^ S_SIGN, rm!(), fl)),
        Op::FnmsubS => fs!(fp::f32_fma(sa ^ S_SIGN, sb, sc, rm!(), fl)),
        Op::FnmaddS => fs!(fp::f32_fma(sa ^ S_SIGN, sb, sc ^ S_SIGN, rm!(), fl)),
        Op::FsgnjS => fs!((sa & !S_SIGN) | (sb & S_SIGN)),
        Op::FsgnjnS => fs!((sa & !S_SIGN) | (!sb & S_SIGN)),
        Op::FsgnjxS => fs!(sa ^ (sb & S_SIGN)),
        Op::FminS => fs!(fp::f32_min(sa, sb, fl)),
        Op::FmaxS => fs!(fp::f32_max(sa, sb, fl)),
        Op::FcvtWS => xi!(fp::f32_to_i32(sa, rm!(), fl) as i64 as u64),
        Op::FcvtWuS => xi!(fp::f32_to_u32(sa, rm!(), fl) as i32 as i64 as u64),
        Op::FcvtLS => xi!(fp::f32_to_i64(sa, rm!(), fl) as u64),
        Op::FcvtLuS => xi!(fp::f32_to_u64(sa, rm!(), fl)),
        // fmv.x.w moves the raw low 32 bits, NaN-boxed or not.
        Op::FmvXW => xi!(fa as u32 as i32 as i64 as u64),
        Op::FeqS => xi!(fp::f32_eq(sa, sb, fl) as u64),
        Op::FltS => xi!(fp::f32_lt(sa, sb, fl) as u64),
        Op::FleS => xi!(fp::f32_le(sa, sb, fl) as u64),
        Op::FclassS => xi!(fp::f32_class(sa)),
        Op::FcvtSW => fs!(fp::f32_from_i32(xa as i32, rm!(), fl)),
        Op::FcvtSWu => fs!(fp::f32_from_u32(xa as u32, rm!(), fl)),
        Op::FcvtSL => fs!(fp::f32_from_i64(xa as i64, rm!(), fl)),
        Op::FcvtSLu => fs!(fp::f32_from_u64(xa, rm!(), fl)),
        Op::FmvWX => fs!(xa as u32),

        Op::FaddD => fd!(fp::f64_add(fa, fb, rm!(), fl)),
        Op::FsubD => fd!(fp::f64_sub(fa, fb, rm!(), fl)),
        Op::FmulD => fd!(fp::f64_mul(fa, fb, rm!(), fl)),
        Op::FdivD => fd!(fp::f64_div(fa, fb, rm!(), fl)),
        Op::FsqrtD => fd!(fp::f64_sqrt(fa, rm!(), fl)),
        Op::FmaddD => fd!(fp::f64_fma(fa, fb, fc, rm!(), fl)),
        Op::FmsubD => fd!(fp::f64_fma(fa, fb, fc ^ D_SIGN, rm!(), fl)),
        Op::FnmsubD => fd!(fp::f64_fma(fa ^ D_SIGN, fb, fc, rm!(), fl)),
        Op::FnmaddD => fd!(fp::f64_fma(fa ^ D_SIGN, fb, fc ^ D_SIGN, rm!(), fl)),
        Op::FsgnjD => fd!((fa & !D_SIGN) | (fb & D_SIGN)),
        Op::FsgnjnD => fd!((fa & !D_SIGN) | (!fb & D_SIGN)),
        Op::FsgnjxD => fd!(fa ^ (fb & D_SIGN)),
        Op::FminD => fd!(fp::f64_min(fa, fb, fl)),
        Op::FmaxD => fd!(fp::f64_max(fa, fb, fl)),
        Op::FcvtSD => fs!(fp::f64_to_f32(fa, rm!(), fl)),
        Op::FcvtDS => {
            rm!();
            fd!(fp::f32_to_f64(sa, fl))
        }
        Op::FcvtWD => xi!(fp::f64_to_i32(fa, rm!(), fl) as i64 as u64),
        Op::FcvtWuD => xi!(fp::f64_to_u32(fa, rm!(), fl) as i32 as i64 as u64),
        Op::FcvtLD => xi!(fp::f64_to_i64(fa, rm!(), fl) as u64),
        Op::FcvtLuD => xi!(fp::f64_to_u64(fa, rm!(), fl)),
        Op::FmvXD => xi!(fa),
        Op::FeqD => xi!(fp::f64_eq(fa, fb, fl) as u64),
        Op::FltD => xi!(fp::f64_lt(fa, fb, fl) as u64),
        Op::FleD => xi!(fp::f64_le(fa, fb, fl) as u64),
        Op::FclassD => xi!(fp::f64_class(fa)),
        Op::FcvtDW => fd!(fp::f64_from_i32(xa as i32, rm!(), fl)),
        Op::FcvtDWu => fd!(fp::f64_from_u32(xa as u32, rm!(), fl)),
        Op::FcvtDL => fd!(fp::f64_from_i64(xa as i64, rm!(), fl)),
        Op::FcvtDLu => fd!(fp::f64_from_u64(xa, rm!(), fl)),
        Op::FmvDX => fd!(xa),
        _ => return Err(Exit::IllegalInstruction),
    }
    hart.fflags |= flags;
    Ok(())
}
