//! The riscv64 guest: hart state, decoder, decode cache and interpreter (RV64GC with Zicsr,
//! Zifencei, Zba, Zbb, Zbs and Zicond).
//!
//! [`run`] executes a hart against an address space until an `ecall`, a fault, an illegal
//! instruction or the end of its instruction budget, and says which. The caller (the Linux
//! personality) handles the syscall or turns the trap into a signal, then calls `run` again.

mod csr;
mod decode;
mod exec;
pub mod fp;
#[cfg(feature = "jit")]
mod jit;
mod op;

use crate::cache::CodeCache;
use crate::mmu::{Access, AddressSpace, FaultKind, MemFault, PAGE_SHIFT, PAGE_SIZE};
pub use decode::{decode, decode32, expand_compressed};
#[cfg(feature = "jit")]
pub use jit::set_threshold as set_jit_threshold;
pub use op::{DecodedOp, Op};

/// Register numbers of the Linux riscv64 calling convention that the kernel side touches.
pub mod reg {
    pub const RA: usize = 1;
    pub const SP: usize = 2;
    pub const GP: usize = 3;
    pub const TP: usize = 4;
    pub const A0: usize = 10;
    pub const A1: usize = 11;
    pub const A2: usize = 12;
    pub const A3: usize = 13;
    pub const A4: usize = 14;
    pub const A5: usize = 15;
    pub const A7: usize = 17;
}

/// The architectural state of one hardware thread, as user mode sees it.
#[derive(Clone, Debug)]
pub struct Hart {
    pub x: [u64; 32],
    /// F registers; singles are NaN-boxed in the low 32 bits.
    pub f: [u64; 32],
    pub pc: u64,
    /// Accrued FP exception flags (`fflags`, low 5 bits of `fcsr`).
    pub fflags: u8,
    /// Dynamic rounding mode (`frm`); values 5..=7 make dynamic-rounding instructions illegal.
    pub frm: u8,
    /// Instructions retired (`instret`, also reported as `cycle`).
    pub instret: u64,
    /// Address reserved by the last `lr`, or [`NO_RESERVATION`].
    pub(crate) reservation: u64,
}

pub(crate) const NO_RESERVATION: u64 = u64::MAX;

impl Default for Hart {
    fn default() -> Self {
        Hart {
            x: [0; 32],
            f: [0; 32],
            pc: 0,
            fflags: 0,
            frm: 0,
            instret: 0,
            reservation: NO_RESERVATION,
        }
    }
}

impl Hart {
    /// `fcsr` as the CSR reads it.
    pub fn fcsr(&self) -> u32 {
        (self.frm as u32) << 5 | self.fflags as u32
    }

    pub fn set_fcsr(&mut self, v: u32) {
        self.fflags = (v & 0x1f) as u8;
        self.frm = ((v >> 5) & 7) as u8;
    }
}

/// Why [`run`] returned. `hart.pc` addresses the instruction concerned (for `Ecall`, the
/// `ecall` itself: the caller advances past it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Exit {
    Ecall,
    Breakpoint,
    BudgetSpent,
    Fault(MemFault),
    IllegalInstruction,
}

const SLOTS: usize = (PAGE_SIZE / 2) as usize;

/// One code page's decode-cache entries: a slot per half-word, filled block by block on
/// first execution.
pub struct DecodedPage {
    ops: [DecodedOp; SLOTS],
    bytes: Box<[u8; PAGE_SIZE as usize]>,
    /// Per slot, the translation state of the block entered there (see `jit::COMPILED`).
    #[cfg(feature = "jit")]
    jit: [u32; SLOTS],
}

/// Recently dispatched pages, so crossing into a hot page skips the hash map and, from inside
/// the interpreter, the dispatcher.
const RECENT: usize = 64;

/// Most code pages decoded at once per address space. A decoded page is about nine times the
/// size of the guest page it comes from (a 16-byte op per half-word plus a copy of the bytes);
/// each is charged against the memory limit, and this cap (about 150 MiB) keeps one guest that
/// executes code spread over a huge range from taking the whole limit. Past it the whole
/// cache is dropped and refilled as code runs, as after `fence.i`; real programs' hot code
/// fits many times over.
const MAX_DECODED_PAGES: usize = 4096;

/// What one decoded page costs the memory limit: the page and its copy of the bytes.
const DECODED_PAGE_BYTES: u64 = std::mem::size_of::<DecodedPage>() as u64 + PAGE_SIZE;

/// The decode cache of one address space. Create one per address space (a forked child
/// starts with an empty one) and pass it to every [`run`] on that space.
pub struct DecodeCache {
    pages: CodeCache<DecodedPage>,
    recent: [(u64, *mut DecodedPage); RECENT],
    #[cfg(feature = "jit")]
    jit: jit::Jit,
}

impl Default for DecodeCache {
    fn default() -> Self {
        DecodeCache {
            pages: CodeCache::new(DECODED_PAGE_BYTES),
            recent: [(u64::MAX, std::ptr::null_mut()); RECENT],
            #[cfg(feature = "jit")]
            jit: jit::Jit::default(),
        }
    }
}

impl DecodeCache {
    /// Number of pages holding decoded code.
    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    fn sync(&mut self, mem: &mut AddressSpace) {
        if let Some(stale) = mem.take_stale_code() {
            for vpn in stale {
                self.pages.invalidate(vpn);
            }
            self.recent = [(u64::MAX, std::ptr::null_mut()); RECENT];
            #[cfg(feature = "jit")]
            self.jit.forget_jumps();
        }
        self.pages.collect_garbage();
    }

    fn page(&mut self, mem: &mut AddressSpace, vpn: u64) -> Result<*mut DecodedPage, MemFault> {
        let r = &mut self.recent[vpn as usize % RECENT];
        if r.0 == vpn {
            return Ok(r.1);
        }
        let ptr: *mut DecodedPage = match self.pages.get_mut(vpn) {
            Some(p) => p,
            None => {
                let bytes = mem.fetch_code_page(vpn)?;
                if self.pages.len() >= MAX_DECODED_PAGES
                    || !self.pages.has_room() && !self.pages.is_empty()
                {
                    // `page` runs between blocks: no pointer into a decoded page is live.
                    self.pages.invalidate_all();
                    self.pages.collect_garbage();
                    self.recent = [(u64::MAX, std::ptr::null_mut()); RECENT];
                    #[cfg(feature = "jit")]
                    self.jit.forget_jumps();
                }
                if !self.pages.has_room() {
                    // Nothing of ours left to drop: the fault is answered by the OOM kill.
                    return Err(MemFault {
                        addr: vpn << PAGE_SHIFT,
                        access: Access::Exec,
                        kind: FaultKind::OutOfMemory,
                    });
                }
                self.pages.insert(
                    vpn,
                    Box::new(DecodedPage {
                        ops: [DecodedOp::NOT_DECODED; SLOTS],
                        bytes,
                        #[cfg(feature = "jit")]
                        jit: [0; SLOTS],
                    }),
                )
            }
        };
        self.recent[vpn as usize % RECENT] = (vpn, ptr);
        Ok(ptr)
    }
}

/// Runs `hart` on `mem` for about `budget` instructions (checked at block ends, so it may
/// overrun by one block).
pub fn run(hart: &mut Hart, mem: &mut AddressSpace, cache: &mut DecodeCache, budget: u64) -> Exit {
    // Another hart may have run since this one's `lr`: the reservation cannot survive.
    hart.reservation = NO_RESERVATION;
    let limit = hart.instret.saturating_add(budget);
    loop {
        cache.sync(mem);
        #[cfg(feature = "jit")]
        if cache.jit.due(hart.instret) {
            cache.jit.translate(&mut cache.pages);
        }
        if hart.instret >= limit {
            return Exit::BudgetSpent;
        }
        let vpn = hart.pc >> PAGE_SHIFT;
        let page = match cache.page(mem, vpn) {
            Ok(p) => p,
            Err(mut fault) => {
                fault.addr = hart.pc;
                return Exit::Fault(fault);
            }
        };
        // SAFETY: `page` and the pointers in `recent` point into boxes owned by `cache`,
        // which is not touched until `run_pages` returns; invalidations during it only move
        // boxes to the graveyard, emptied by `sync` above.
        let exit = unsafe {
            exec::run_pages(
                hart,
                mem,
                &mut *page,
                &cache.recent,
                limit,
                #[cfg(feature = "jit")]
                &mut cache.jit,
            )
        };
        if let Some(exit) = exit {
            return exit;
        }
    }
}

#[cfg(test)]
mod tests;
