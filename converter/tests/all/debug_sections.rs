//! The runtime's DWARF (`.debug_*` custom sections, most of the runtime's size) is left out
//! of what `convert` writes, unless `--keep-debug-info`; the `name` section stays either way.
//! What `run` and `web-site` put behind the JIT build follows the module: stripped unless the
//! module kept its debug sections. Both kinds of module run.

use crate::module_cache::{assert_runs, convert, exit42_rootfs, run};
use std::path::Path;
use std::process::{Command, Stdio};

/// The names of `module`'s custom sections.
fn custom_sections(module: &[u8]) -> Vec<String> {
    wasmparser::Parser::new(0)
        .parse_all(module)
        .filter_map(|p| match p.unwrap() {
            wasmparser::Payload::CustomSection(c) => Some(c.name().to_string()),
            _ => None,
        })
        .collect()
}

fn debug_sections(module: &[u8]) -> Vec<String> {
    custom_sections(module)
        .into_iter()
        .filter(|n| n.starts_with(".debug"))
        .collect()
}

fn web_site(module: &Path, site: &Path) -> Vec<u8> {
    let status = Command::new(env!("CARGO_BIN_EXE_ctr2wasm"))
        .arg("web-site")
        .arg(module)
        .arg(site)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(site.join("module.wasm")).unwrap()
}

#[test]
fn converted_modules_carry_no_debug_sections_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let rootfs = exit42_rootfs(dir.path());
    let stripped = dir.path().join("stripped.wasm");
    let kept = dir.path().join("kept.wasm");
    convert(&rootfs, &stripped, &[]);
    convert(&rootfs, &kept, &["--keep-debug-info"]);
    let (stripped_bytes, kept_bytes) = (
        std::fs::read(&stripped).unwrap(),
        std::fs::read(&kept).unwrap(),
    );
    eprintln!(
        "module: {} bytes without debug sections, {} with",
        stripped_bytes.len(),
        kept_bytes.len()
    );
    assert_eq!(debug_sections(&stripped_bytes), Vec::<String>::new());
    assert!(custom_sections(&stripped_bytes).contains(&"name".to_string()));
    assert!(custom_sections(&stripped_bytes).contains(&"ctr2wasm.bundle".to_string()));
    let kept_debug = debug_sections(&kept_bytes);
    assert!(
        kept_debug.contains(&".debug_info".to_string()),
        "{kept_debug:?}"
    );
    assert!(custom_sections(&kept_bytes).contains(&"name".to_string()));

    // The web site's module (the JIT build behind the bundle) follows the module.
    let site_of_stripped = web_site(&stripped, &dir.path().join("site-stripped"));
    assert_eq!(debug_sections(&site_of_stripped), Vec::<String>::new());
    assert!(custom_sections(&site_of_stripped).contains(&"name".to_string()));
    let site_of_kept = web_site(&kept, &dir.path().join("site-kept"));
    assert!(debug_sections(&site_of_kept).contains(&".debug_info".to_string()));

    // Both run.
    let cache = dir.path().join("cache");
    assert_runs(&run(&stripped, &cache));
    assert_runs(&run(&kept, &cache));
}
