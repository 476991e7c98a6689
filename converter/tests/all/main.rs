//! End-to-end tests of the `ctr2wasm` binary, built as one test binary.
//!
//! `guest` builds the riscv64 guest programs of `tests/guest/`; `diff` runs each of them under
//! `ctr2wasm exec` (natively and in the wasm runtime module) and under qemu-riscv64 and
//! compares everything they print; `exec_errors` checks diagnostics, tracing and statistics;
//! `userland` runs Debian's riscv64 bash, coreutils and python3 against qemu-riscv64; `memory`
//! checks the guest-memory limit; `vfs` checks what only our kernel has (`/proc`, `/dev`, the in-memory upper layer) exactly.
//! `stdin` checks that a thread waiting for host stdin lets the others run.

mod diff;
mod exec_errors;
mod guest;
mod memory;
mod stdin;
mod tty;
mod userland;
mod vfs;
