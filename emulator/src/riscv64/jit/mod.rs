//! Hot-block translation to WebAssembly (feature `jit`: the runtime module's JIT build).
//!
//! The interpreter counts entries into each block of a decoded page. A block entered
//! [`threshold`] times is queued, and the dispatcher translates queued blocks in batches into
//! one small wasm module ([`codegen`]). The embedder compiles that module through the
//! `ctr2wasm_jit.compile` import, against the runtime's own memory and function table, and
//! appends its functions to the table; from then on, entering the block calls its
//! translation, which covers the block and the blocks it jumps to directly in its page (a
//! region). A translation keeps guest registers in wasm locals, inlines the TLB hit path, and
//! moves between its blocks without leaving. Where it ends with a jump to a block that is
//! translated too, it tail-calls that block's translation through a direct-mapped table from
//! guest pc to function ([`JumpEntry`]), so hot code runs from translation to translation
//! without returning to the interpreter.
//!
//! Translated code never raises a guest fault itself: a TLB miss calls back into the runtime
//! ([`helpers`]), and when that access fails the block stops *before* the instruction, whose
//! pc it reports, and the interpreter executes it, faulting exactly as it would have. Decoded
//! pages own the translation state of their slots, so dropping a stale page drops its
//! translations too (their table slots are not reused).

mod codegen;
mod helpers;

use super::{DecodedPage, SLOTS};
use crate::cache::CodeCache;
use crate::mmu::{AddressSpace, PAGE_MASK, PAGE_SHIFT, TlbEntry};
use std::sync::atomic::{AtomicU32, Ordering};

/// Per-slot state of `DecodedPage::jit`: below [`NEVER`], the number of entries so far; then
/// "cannot be translated", "waiting in the queue", and `COMPILED | table index`.
const NEVER: u32 = COMPILED - 2;
pub(super) const QUEUED: u32 = COMPILED - 1;
pub(super) const COMPILED: u32 = 1 << 31;

/// Entries into a block before it is translated. Compiling costs about 20 µs per block in
/// wasmtime, some thousands of interpreted instructions, so only blocks that keep running pay.
const DEFAULT_THRESHOLD: u32 = 2000;
/// Blocks translated together into one module: a module has a fixed cost (instantiation,
/// code memory) of a few hundred microseconds.
const BATCH: usize = 64;
/// Most blocks in a region, and most instructions: past these, successors are left out (a
/// region's code is compiled for each of its entries, so large ones cost compile time).
const REGION_BLOCKS: usize = 8;
const REGION_INSNS: usize = 512;
/// A partial batch is translated anyway once this many instructions have run since its first
/// block was queued.
const MAX_WAIT: u64 = 4_000_000;
/// Translation stops past this many functions (the table slots of dropped translations are
/// never reused).
const MAX_FUNCTIONS: u32 = 1 << 20;

/// The threshold that turns translation off: no count is below it.
const OFF: u32 = 0;

static THRESHOLD: AtomicU32 = AtomicU32::new(DEFAULT_THRESHOLD);

/// Sets the number of entries after which a block is translated for address spaces created
/// from now on; `None` turns translation off. With 1, every block is translated on its own
/// as soon as it has run once, before it runs again: slow, but it puts nearly all code that
/// runs twice through the translator, which is what the differential tests want.
pub fn set_threshold(entries: Option<u32>) {
    let t = entries.map_or(OFF, |n| n.clamp(1, NEVER - 1));
    THRESHOLD.store(t, Ordering::Relaxed);
}

/// What translated code returns.
pub(super) enum Status {
    /// Continue at `pc`.
    Next,
    /// The instruction at `pc` must be interpreted (a memory access the fast path could not
    /// make): run one block in the interpreter before entering a translation again.
    Interpret,
    /// A store made decoded code stale: continue at `pc` through the dispatcher.
    Resync,
}

/// The interface between the interpreter and translated code, in the runtime's memory.
/// [`codegen`] reads the fields by their offsets.
#[repr(C)]
pub(super) struct Ctx {
    hart: *mut super::Hart,
    tlb: *const TlbEntry,
    space: *mut AddressSpace,
    /// Set by a helper whose access failed (1) or made code stale (2).
    failed: u32,
    pc: u64,
    instret: u64,
    limit: u64,
    jumps: *const JumpEntry,
}

/// One entry of the table from a block's guest pc to the table index of its translation,
/// which translated code probes when it jumps.
#[derive(Clone, Copy)]
#[repr(C)]
pub(super) struct JumpEntry {
    /// The block's pc; odd (never a pc) when the entry is free.
    pc: u64,
    index: u32,
}

/// Entries in a jump table (16 bytes each: 256 KiB per address space that translates).
pub(super) const JUMP_ENTRIES: usize = 1 << 14;
const FREE: JumpEntry = JumpEntry {
    pc: u64::MAX,
    index: 0,
};

/// The jump table slot of `pc`. Translated code computes the same: keep `codegen` in step.
fn jump_slot(pc: u64) -> usize {
    ((pc >> 1) ^ (pc >> 15)) as u32 as usize & (JUMP_ENTRIES - 1)
}

/// Translation state of one address space.
pub(super) struct Jit {
    /// Entry pcs of the blocks waiting to be translated.
    queue: Vec<u64>,
    /// `instret` when the first block in `queue` was queued.
    queued_at: u64,
    pub(super) threshold: u32,
    /// Allocated with the first translation.
    jumps: Option<Box<[JumpEntry; JUMP_ENTRIES]>>,
}

impl Default for Jit {
    fn default() -> Self {
        Jit {
            queue: Vec::new(),
            queued_at: 0,
            threshold: THRESHOLD.load(Ordering::Relaxed),
            jumps: None,
        }
    }
}

/// Functions added to the table by this runtime, over all address spaces.
static FUNCTIONS: AtomicU32 = AtomicU32::new(0);

impl Jit {
    /// Queues the block at `pc` (its slot is marked [`QUEUED`] by the caller); true when the
    /// batch is full and the interpreter should return to the dispatcher.
    pub(super) fn enqueue(&mut self, pc: u64, instret: u64) -> bool {
        if self.queue.is_empty() {
            self.queued_at = instret;
        }
        self.queue.push(pc);
        self.queue.len() >= self.batch()
    }

    fn batch(&self) -> usize {
        if self.threshold == 1 { 1 } else { BATCH }
    }

    /// Forgets every translation's jump entry; call when decoded pages are dropped, which
    /// drops their translations.
    pub(super) fn forget_jumps(&mut self) {
        if let Some(j) = &mut self.jumps {
            j.fill(FREE);
        }
    }

    pub(super) fn due(&self, instret: u64) -> bool {
        !self.queue.is_empty()
            && (self.queue.len() >= self.batch()
                || instret.wrapping_sub(self.queued_at) >= MAX_WAIT)
    }

    /// Translates the queued blocks whose pages are still decoded. Call from the dispatcher,
    /// when no pointer into a decoded page is live.
    pub(super) fn translate(&mut self, pages: &mut CodeCache<DecodedPage>) {
        let mut queue = std::mem::take(&mut self.queue);
        queue.sort_unstable();
        queue.dedup();
        let mut module = codegen::Module::new();
        let mut placed = Vec::new();
        // Blocks already inside a region of this batch: the blocks of a loop get hot
        // together, and the region of the first (lowest) covers the rest.
        let mut covered = std::collections::HashSet::new();
        for &pc in &queue {
            let slot = slot_of(pc);
            let Some(page) = pages.get_mut(pc >> PAGE_SHIFT) else {
                continue;
            };
            if page.jit[slot] != QUEUED {
                continue;
            }
            if covered.contains(&pc) {
                // Counted again: entered from outside often enough, it gets a region too.
                page.jit[slot] = 0;
                continue;
            }
            let region = region(page, pc);
            if module.add_region(&region) {
                placed.push(pc);
                covered.extend(region.iter().map(|(b, _)| *b));
            } else {
                page.jit[slot] = NEVER;
            }
        }
        queue.clear();
        self.queue = queue;
        if placed.is_empty() {
            return;
        }
        let base = if FUNCTIONS.load(Ordering::Relaxed) < MAX_FUNCTIONS {
            compile(&module.finish())
        } else {
            None
        };
        match base {
            Some(_) => {
                FUNCTIONS.fetch_add(placed.len() as u32, Ordering::Relaxed);
            }
            // No embedder support, or a full table: interpret from now on.
            None => self.threshold = OFF,
        }
        let jumps = self
            .jumps
            .get_or_insert_with(|| Box::new([FREE; JUMP_ENTRIES]));
        for (i, pc) in placed.into_iter().enumerate() {
            let Some(page) = pages.get_mut(pc >> PAGE_SHIFT) else {
                continue;
            };
            page.jit[slot_of(pc)] = match base {
                Some(b) => {
                    let index = b + i as u32;
                    jumps[jump_slot(pc)] = JumpEntry { pc, index };
                    COMPILED | index
                }
                None => NEVER,
            };
        }
    }
}

fn slot_of(pc: u64) -> usize {
    ((pc & PAGE_MASK) >> 1) as usize
}

/// The region entered at `pc`: its block, then breadth-first the blocks it jumps to directly
/// that are in the same page (whose translations drop with it) and already decoded.
fn region(page: &DecodedPage, pc: u64) -> Vec<(u64, Vec<codegen::Insn>)> {
    let mut blocks = vec![(pc, block_ops(page, pc))];
    let mut insns = blocks[0].1.len();
    let mut i = 0;
    while i < blocks.len() {
        for next in codegen::successors(&blocks[i].1) {
            if blocks.len() >= REGION_BLOCKS {
                return blocks;
            }
            let slot = slot_of(next);
            if next >> PAGE_SHIFT != pc >> PAGE_SHIFT
                || blocks.iter().any(|(b, _)| *b == next)
                || !codegen::translatable(&page.ops[slot])
            {
                continue;
            }
            let ops = block_ops(page, next);
            if insns + ops.len() > REGION_INSNS {
                continue;
            }
            insns += ops.len();
            blocks.push((next, ops));
        }
        i += 1;
    }
    blocks
}

/// The decoded instructions of the block entered at `pc`, with their addresses (guest, and
/// in the page).
fn block_ops(page: &DecodedPage, pc: u64) -> Vec<codegen::Insn> {
    let base = pc & !PAGE_MASK;
    let slot = slot_of(pc);
    let n = page.ops[slot].block_left as usize;
    let mut ops = Vec::with_capacity(n);
    let mut s = slot;
    for _ in 0..n {
        let d = &page.ops[s % SLOTS];
        ops.push((base + s as u64 * 2, *d, d as *const _));
        s += d.len as usize / 2;
    }
    ops
}

/// Runs the translation at table `index` (of the block at `hart.pc`); returns how it ended
/// and the pc to continue at, with `hart.instret` counting what retired.
pub(super) fn run(
    index: u32,
    hart: &mut super::Hart,
    mem: &mut AddressSpace,
    limit: u64,
    jit: &Jit,
) -> (Status, u64) {
    let hart_ptr: *mut super::Hart = hart;
    let mut ctx = Ctx {
        hart: hart_ptr,
        tlb: mem.tlb.entries_ptr(),
        space: mem,
        failed: 0,
        pc: 0,
        instret: hart.instret,
        limit,
        jumps: jit.jumps.as_ref().map_or(std::ptr::null(), |j| j.as_ptr()),
    };
    let status = call(index, &mut ctx);
    // SAFETY: `hart_ptr` comes from a live reference; translated code is done with it.
    let hart = unsafe { &mut *hart_ptr };
    hart.instret = ctx.instret;
    let status = match status {
        0 => Status::Next,
        1 => Status::Interpret,
        _ => Status::Resync,
    };
    (status, ctx.pc)
}

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "ctr2wasm_jit")]
unsafe extern "C" {
    /// Compiles the module at `ptr` (imports `env.memory` and `env.table`, exports its
    /// functions as "0", "1", ...) and appends the functions to the runtime's table; returns
    /// the table index of the first, or -1.
    #[link_name = "compile"]
    fn compile_import(ptr: *const u8, len: usize) -> i32;
}

fn compile(module: &[u8]) -> Option<u32> {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: the embedder only reads `len` bytes at `ptr`.
        let base = unsafe { compile_import(module.as_ptr(), module.len()) };
        u32::try_from(base).ok()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        // Only a wasm runtime can add functions to itself.
        let _ = module;
        None
    }
}

fn call(index: u32, ctx: &mut Ctx) -> u32 {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: on wasm32 a function pointer is a table index, and `index` was returned by
        // `compile` for a function of type (i32) -> i32, which `call_indirect` checks again.
        let f: extern "C" fn(*mut Ctx) -> u32 =
            unsafe { std::mem::transmute::<usize, _>(index as usize) };
        f(ctx)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (index, ctx);
        unreachable!("no translation is ever compiled outside wasm")
    }
}
