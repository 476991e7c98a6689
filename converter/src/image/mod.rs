//! The image pipeline: from an image reference to its flattened root file system and the
//! config the runtime needs.
//!
//! ```text
//! IMAGE ─reference─▶ Source ─registry / layout / archive─▶ manifest (index ─platform─▶ one)
//!       ─▶ config + layer blobs (digests checked; registry layers via the cache)
//!       ─flatten─▶ Tree (whiteouts, links, devices; diff_ids checked)
//! ```
//!
//! One file per stage: [`reference`] parses what the user typed, [`platform`] picks a manifest
//! out of an index, [`registry`], [`layout`] and [`archive`] are the three sources, which all
//! hand over a [`manifest::Image`] (checked with [`manifest`] and [`digest`]); [`cache`] keeps
//! downloaded layers, [`flatten`] applies them, [`progress`] reports downloads. Nothing is
//! written to the host file system but the blob cache.

mod cache;
mod digest;
mod flatten;
mod manifest;
mod platform;
mod reference;
