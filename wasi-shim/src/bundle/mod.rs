//! The bundle: an image's root file system and config, packed read-only for random access.
//!
//! The converter builds a [`tree::Tree`] from the image's layers and packs it with
//! [`writer`]; the runtime reads files out of it lazily with [`reader`]. The byte layout is
//! specified in `wasi-shim/BUNDLE.md`.

pub mod tree;
