//! The JIT build of the runtime module appends translated code to its own function table:
//! the embedder must be able to reach that table and grow it.

fn main() {
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "wasm32");
    if wasm && std::env::var_os("CARGO_FEATURE_JIT").is_some() {
        println!("cargo:rustc-link-arg-bins=--export-table");
        println!("cargo:rustc-link-arg-bins=--growable-table");
    }
}
