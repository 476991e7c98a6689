//! Fuzz target: any bytes as layers of flattening operations — files, directories, hard and
//! symbolic links, whiteouts, opaque whiteouts (at the root too), new layers — on the tree,
//! then packed by the bundle writer and read back ([`wasi_shim::bundle::fuzz::flatten`]). A
//! write error, a path that reads back differently, a panic or a hang is a bug. The seed
//! corpus and variations of it run in CI as `bundle::tests::flatten_fuzz_seed_corpus`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wasi_shim::bundle::fuzz::flatten(data);
});
