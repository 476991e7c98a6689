//! `struct new_utsname` and what our kernel says about itself in it.

/// Each `utsname` field is `__NEW_UTS_LEN + 1` bytes.
const FIELD_LEN: usize = 65;

/// The identity `uname(2)` reports: a recent kernel on riscv64.
pub const SYSNAME: &str = "Linux";
pub const NODENAME: &str = "localhost";
pub const RELEASE: &str = "6.12.0";
pub const VERSION: &str = "#1 SMP PREEMPT_DYNAMIC ctr2wasm";
pub const MACHINE: &str = "riscv64";
pub const DOMAINNAME: &str = "(none)";

pub const SIZE: usize = 6 * FIELD_LEN;

/// The six NUL-padded fields of `struct new_utsname`.
pub fn to_bytes(fields: [&str; 6]) -> [u8; SIZE] {
    let mut b = [0u8; SIZE];
    for (i, f) in fields.iter().enumerate() {
        let n = f.len().min(FIELD_LEN - 1);
        b[i * FIELD_LEN..i * FIELD_LEN + n].copy_from_slice(&f.as_bytes()[..n]);
    }
    b
}
