//! The host programs the image, registry and node tests drive, found on `PATH`.
//!
//! A missing program fails the test with the Debian package that provides it (`.ci/setup`
//! installs them all); it never skips the test.

use std::env;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// The path of `program`, or a panic naming `package`.
pub(crate) fn require(program: &str, package: &str) -> PathBuf {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .unwrap_or_else(|| {
            panic!(
                "{program} is not on PATH: install the Debian package {package} \
                 (.ci/setup installs it)"
            )
        })
}
