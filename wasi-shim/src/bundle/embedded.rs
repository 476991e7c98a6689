//! The bundle of the running module. `ctr2wasm convert` appends the bundle to the runtime
//! module as a passive data segment and replaces the bodies of the two exported functions
//! below: [`ctr2wasm_bundle_len`] with a constant, and [`ctr2wasm_bundle_read`] with one
//! `memory.init` from that segment. The bundle thus stays outside linear memory, and each
//! read copies only what it asks for.
//!
//! Unconverted (the bare runtime module), the bodies are placeholders that report no bundle.
//! They read through volatile pointers so the compiler can neither inline them nor assume
//! anything about what they return or write: the converter replaces them after compilation.

/// A stand-in the compiler cannot see through.
static NO_BUNDLE: u32 = 0;

/// The bundle's length in bytes; 0 in the bare runtime.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn ctr2wasm_bundle_len() -> u32 {
    // SAFETY: a read of a static.
    unsafe { core::ptr::read_volatile(&raw const NO_BUNDLE) }
}

/// Copies `len` bundle bytes from `offset` to `dst`; a trap if out of range.
///
/// # Safety
/// `dst` must be valid for `len` bytes of writes.
#[unsafe(no_mangle)]
#[inline(never)]
pub unsafe extern "C" fn ctr2wasm_bundle_read(dst: *mut u8, offset: u32, len: u32) {
    let src = core::ptr::addr_of!(NO_BUNDLE).cast::<u8>();
    for i in 0..len as usize {
        // SAFETY: never reached with len > 0 in the bare runtime (its length is 0, so every
        // read is refused first); the converted module has a different body.
        unsafe {
            dst.add(i)
                .write_volatile(src.add((offset as usize + i) % 4).read_volatile());
        }
    }
}

/// The running module's bundle, if it has one.
pub fn source() -> Option<super::reader::Source> {
    match ctr2wasm_bundle_len() {
        0 => None,
        len => Some(super::reader::Source::Segment {
            len: u64::from(len),
        }),
    }
}

/// Fills `buf` from bundle offset `offset` (bounds checked by the caller).
pub fn read(offset: u64, buf: &mut [u8]) {
    // The segment is at most 4 GiB, so the checked offset fits.
    // SAFETY: `buf` is valid for its length.
    unsafe { ctr2wasm_bundle_read(buf.as_mut_ptr(), offset as u32, buf.len() as u32) }
}
