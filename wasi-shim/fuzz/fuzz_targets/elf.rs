//! Fuzz target: any bytes through the ELF loader's parse and map path
//! ([`wasi_shim::loader::load_untrusted`]). A rejection is fine; a panic, a hang or an
//! allocation failure is a loader bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = wasi_shim::loader::load_untrusted(data) {
        assert!(!e.to_string().contains('\n'));
    }
});
