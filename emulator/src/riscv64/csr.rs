//! The control and status registers user mode may touch: the FP CSRs (`fflags`, `frm`,
//! `fcsr`) and the read-only counters (`cycle`, `time`, `instret`). Any other CSR number is
//! an illegal instruction, as on Linux where the kernel does not delegate them.

use super::Hart;
use std::sync::OnceLock;
use std::time::Instant;

pub const FFLAGS: u16 = 0x001;
pub const FRM: u16 = 0x002;
pub const FCSR: u16 = 0x003;
pub const CYCLE: u16 = 0xc00;
pub const TIME: u16 = 0xc01;
pub const INSTRET: u16 = 0xc02;

/// Frequency of the `time` CSR. Linux on riscv64 reports 10 MHz for QEMU's virt board; the
/// value only has to agree with what we would report as timebase-frequency.
pub const TIMEBASE_HZ: u64 = 10_000_000;

/// Reads `csr`; `retired` is the instruction count before this instruction.
/// `None` means the access is illegal.
pub fn read(hart: &Hart, csr: u16, retired: u64) -> Option<u64> {
    Some(match csr {
        FFLAGS => hart.fflags as u64,
        FRM => hart.frm as u64,
        FCSR => hart.fcsr() as u64,
        CYCLE | INSTRET => retired,
        TIME => {
            static START: OnceLock<Instant> = OnceLock::new();
            let ns = START.get_or_init(Instant::now).elapsed().as_nanos();
            (ns / (1_000_000_000 / TIMEBASE_HZ as u128)) as u64
        }
        _ => return None,
    })
}

/// Writes `csr`; `None` means the access is illegal (unknown or read-only CSR).
pub fn write(hart: &mut Hart, csr: u16, value: u64) -> Option<()> {
    match csr {
        FFLAGS => hart.fflags = (value & 0x1f) as u8,
        FRM => hart.frm = (value & 7) as u8,
        FCSR => hart.set_fcsr(value as u32),
        _ => return None,
    }
    Some(())
}
