//! Linux's user-visible ABI for riscv64: constants, syscall numbers and struct layouts.
//!
//! Every number and byte offset the guest can observe lives here and nowhere else, under the
//! kernel's own names so the headers can be searched for them. Structs are encoded to and
//! decoded from the exact little-endian byte layout the riscv64 kernel uses, with their sizes
//! pinned by tests; the syscall code never lays out guest memory by hand.

pub mod auxv;
pub mod errno;
pub mod fs;
pub mod futex;
pub mod hwprobe;
pub mod mm;
pub mod process;
pub mod resource;
pub mod signal;
pub mod syscall_nr;
pub mod termios;
pub mod time;
pub mod utsname;

pub use errno::Errno;

/// Reads a little-endian `u64` at `off`; callers pass buffers of the struct's fixed size.
pub(crate) fn get_u64(buf: &[u8], off: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[off..off + 8]);
    u64::from_le_bytes(b)
}

pub(crate) fn get_u32(buf: &[u8], off: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[off..off + 4]);
    u32::from_le_bytes(b)
}

pub(crate) fn put_u64(buf: &mut [u8], off: usize, v: u64) {
    buf[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u32(buf: &mut [u8], off: usize, v: u32) {
    buf[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
