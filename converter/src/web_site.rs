//! The static web site that runs a module in a browser: the page, its worker, the bundled
//! JavaScript (xterm.js, a WASI implementation) and the module as `module.wasm`. Everything a
//! site needs is in it; nothing loads from elsewhere at run time.
//!
//! The page's files are `web/`'s build output, built by `build.rs` and embedded here; the
//! page itself is documented in `web/src/main.js` (URL parameters, terminal protocol).

use anyhow::{Context as _, Result};
use std::path::Path;

/// The page's files, `(name, bytes)`, as `build.rs` found them in the web build output.
static FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/web_files.rs"));

/// The name the page fetches the module by.
pub const MODULE_NAME: &str = "module.wasm";

/// Writes the site into `dir` (created if missing; files of the same names are replaced):
/// the page with `title` as its title, and `module` — behind the runtime's JIT build, whose
/// `ctr2wasm_jit.compile` import the page's worker provides (a module that is not a
/// converted image goes as it is).
pub fn write(dir: &Path, module: &[u8], title: &str) -> Result<()> {
    let rebased = crate::module::rebase(crate::wasm::RUNTIME_JIT_WASM, module).ok();
    let module = rebased.as_deref().unwrap_or(module);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, bytes) in FILES {
        let page;
        let bytes = if *name == "index.html" {
            page = fill_title(bytes, title);
            page.as_slice()
        } else {
            bytes
        };
        write_file(&dir.join(name), bytes)?;
    }
    write_file(&dir.join(MODULE_NAME), module)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// `index.html` with `{{title}}` replaced by `title`, escaped for HTML text.
fn fill_title(page: &[u8], title: &str) -> Vec<u8> {
    let escaped = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    String::from_utf8_lossy(page)
        .replace("{{title}}", &escaped)
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_has_the_page_the_worker_and_the_module() {
        let dir = std::env::temp_dir().join(format!("ctr2wasm-web-site-{}", std::process::id()));
        write(&dir, b"\0asm\x01\0\0\0", "debian:13 <riscv64>").unwrap();
        for name in [
            "index.html",
            "main.js",
            "worker.js",
            "style.css",
            MODULE_NAME,
        ] {
            assert!(dir.join(name).is_file(), "{name} is missing");
        }
        let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(
            page.contains("<title>debian:13 &lt;riscv64&gt;</title>"),
            "{page}"
        );
        assert!(!page.contains("{{title}}"));
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no remote loads"
        );
        assert_eq!(
            std::fs::read(dir.join(MODULE_NAME)).unwrap(),
            b"\0asm\x01\0\0\0"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
