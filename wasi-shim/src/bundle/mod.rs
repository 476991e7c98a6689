//! The bundle: an image's root file system and config, packed read-only for random access.
//!
//! The converter builds a [`tree::Tree`] from the image's layers and packs it with
//! [`writer`]; the runtime reads files out of it lazily with [`reader`], from the module's
//! own passive data segment ([`embedded`]) or from bytes in memory. The byte layout is
//! [`format`], specified in prose in `wasi-shim/BUNDLE.md`.

#[cfg(target_os = "wasi")]
pub mod embedded;
pub mod format;
/// The flattening fuzz target's entry point (host only).
#[cfg(not(target_os = "wasi"))]
#[doc(hidden)]
pub mod fuzz;
pub mod reader;
pub mod tree;
#[cfg(not(target_os = "wasi"))]
pub mod writer;

#[cfg(test)]
mod tests;
