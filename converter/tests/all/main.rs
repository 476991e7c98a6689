//! End-to-end tests of the `ctr2wasm` binary, built as one test binary.
//!
//! `guest` builds the riscv64 guest programs of `tests/guest/`; `diff` runs each of them under
//! `ctr2wasm exec` (natively and in the wasm runtime module) and under qemu-riscv64 and
//! compares everything they print; `exec_errors` checks diagnostics, tracing and statistics.

mod diff;
mod exec_errors;
mod guest;
