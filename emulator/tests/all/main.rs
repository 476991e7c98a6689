//! End-to-end tests of the emulator against external oracles: GNU objdump for the decoder,
//! qemu-riscv64 for floating point. Both fail, never skip, when the oracle is missing.

mod decode_objdump;
mod fp_oracle;
