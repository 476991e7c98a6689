//! End-to-end tests of the `ctr2wasm` binary, built as one test binary.
//!
//! `guest` builds the riscv64 guest programs of `tests/guest/`; `diff` runs each of them under
//! `ctr2wasm exec` (natively and in the wasm runtime module) and under qemu-riscv64 and
//! compares everything they print; `exec_errors` checks diagnostics, tracing and statistics;
//! `userland` runs Debian's riscv64 bash, coreutils and python3 against qemu-riscv64; `memory`
//! checks the guest-memory limit; `vfs` checks what only our kernel has (`/proc`, `/dev`, the in-memory upper layer) exactly.
//! `stdin` checks that a thread waiting for host stdin lets the others run. `mounts` checks host
//! directories mounted with `--dir`: guest programs against qemu-riscv64 in a host directory,
//! and Debian's shell and coreutils against the host directory they leave.
//! `convert` converts the fixture images from a registry, OCI layouts and docker archives and
//! runs them in wasmtime and node.
//! `images` builds the container images the `convert` tests read and holds them to skopeo and
//! umoci; `registry` serves them from a real registry on 127.0.0.1; `node_runner` checks
//! `tests/node/run-wasi.mjs`, which runs modules under node's WASI. `host_tools` finds the
//! programs these drive. `hostile_text` checks that a signal mid-convert leaves no temporary
//! file and that image-controlled text is shown escaped. `cli_inputs` checks what `run`,
//! `inspect` and `web-site` refuse; `module_cache` that a damaged compiled-module cache is
//! never mapped; `debug_sections` that converted modules carry no DWARF unless asked.
//! `hostile_layers` checks that deep paths, sparse files and gzip bombs convert in bounded
//! time and memory, that each limit stops a conversion with its flag named, and that an
//! opaque whiteout at a root works.

mod cli_inputs;
mod convert;
mod debug_sections;
mod diff;
mod exec_errors;
mod guest;
mod host_tools;
mod hostile_layers;
mod hostile_text;
mod images;
mod memory;
mod module_cache;
mod mounts;
mod node_runner;
mod registry;
mod stdin;
mod tty;
mod userland;
mod vfs;
