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

/// Writes the site for the converted `module` into `dir` (see [`write_page`]), behind the
/// runtime's JIT build, whose `ctr2wasm_jit.compile` import the page's worker provides.
/// Refuses, before writing anything, a module that is not a converted image.
pub fn write(dir: &Path, module: &[u8], title: &str) -> Result<()> {
    let jit = crate::module::rebase(crate::wasm::RUNTIME_JIT_WASM, module)?;
    write_page(dir, &jit, title)
}

/// Writes the site into `dir` (created if missing; files of the same names are replaced):
/// the page with `title` as its title, and `module` as it is. When `dir` is created here and
/// a write fails, it is removed again, so a failure leaves no half-written site.
pub fn write_page(dir: &Path, module: &[u8], title: &str) -> Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let created = match std::fs::create_dir(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => false,
        Err(e) => {
            return Err(e).with_context(|| format!("cannot create {}", dir.display()));
        }
    };
    let result = write_files(dir, module, title);
    if result.is_err() && created {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

fn write_files(dir: &Path, module: &[u8], title: &str) -> Result<()> {
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
        write_page(&dir, b"\0asm\x01\0\0\0", "debian:13 <riscv64>").unwrap();
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
