//! The guest CPU and nothing else: decoder, decode cache, interpreter, floating point and a
//! software MMU.
//!
//! The crate knows nothing of files, syscalls or WASI. Its contract with the Linux personality
//! (`wasi-shim`) is [`riscv64::run`]: execute one hart's registers against an
//! [`mmu::AddressSpace`] for a budget of instructions and report why it stopped.

pub mod cache;
pub mod mmu;
pub mod riscv64;
