//! Where ctr2wasm keeps its caches: `$XDG_CACHE_HOME/ctr2wasm` or `~/.cache/ctr2wasm` on
//! Linux, the platform's cache directory elsewhere; `CTR2WASM_CACHE_DIR` overrides it.

use std::path::PathBuf;

pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CTR2WASM_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "ctr2wasm").map(|d| d.cache_dir().to_path_buf())
}
