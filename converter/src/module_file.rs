//! Opening a module file named on the command line (`run`, `inspect`, `web-site`): what is
//! refused, and with which one-line message, before anything reads or parses it.
//!
//! The file is opened with `O_NONBLOCK`, so a FIFO nobody writes to cannot hang the open, and
//! `fstat` of that descriptor (not a second lookup of the path) must show a regular file: a
//! device such as `/dev/zero` would otherwise be read without end, and a directory or socket
//! gives a confusing error later. The first eight bytes must be the wasm magic and version 1
//! (a core module, not a component), so a text file or an image tarball given by mistake is
//! one line, not a parser's or wasmtime's multi-line report. Whether the module is one
//! `ctr2wasm convert` wrote is checked by the commands, from its sections
//! ([`crate::module::bundle_of`]).

use std::fs::{File, Metadata};
use std::io::Read as _;
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// The preamble of a core wasm module: `\0asm` and version 1.
const WASM_PREAMBLE: [u8; 8] = *b"\0asm\x01\0\0\0";

/// Why a module file was refused; each names the path.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open {}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a regular file", path.display())]
    NotRegular { path: PathBuf },
    #[error("{} is not a wasm module", path.display())]
    NotWasm { path: PathBuf },
    #[error("{} is larger than a module this process can hold", path.display())]
    TooLarge { path: PathBuf },
}

/// An open module file that is a regular file starting with the wasm preamble.
pub struct ModuleFile {
    path: PathBuf,
    file: File,
    meta: Metadata,
}

impl ModuleFile {
    pub fn open(path: &Path) -> Result<ModuleFile, OpenError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(|source| OpenError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        let meta = file.metadata().map_err(|source| OpenError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if !meta.file_type().is_file() {
            return Err(OpenError::NotRegular {
                path: path.to_path_buf(),
            });
        }
        let mut preamble = [0u8; 8];
        let is_wasm = match file.read_exact_at(&mut preamble, 0) {
            Ok(()) => preamble == WASM_PREAMBLE,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => false,
            Err(source) => {
                return Err(OpenError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        if !is_wasm {
            return Err(OpenError::NotWasm {
                path: path.to_path_buf(),
            });
        }
        Ok(ModuleFile {
            path: path.to_path_buf(),
            file,
            meta,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What `fstat` said of the open file (its identity keys the compiled-module cache).
    pub fn metadata(&self) -> &Metadata {
        &self.meta
    }

    /// The whole file, read from the descriptor that was checked.
    pub fn read_all(&self) -> Result<Vec<u8>, OpenError> {
        let len = usize::try_from(self.meta.len()).map_err(|_| OpenError::TooLarge {
            path: self.path.clone(),
        })?;
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(len)
            .map_err(|_| OpenError::TooLarge {
                path: self.path.clone(),
            })?;
        (&self.file)
            .read_to_end(&mut bytes)
            .map_err(|source| OpenError::Read {
                path: self.path.clone(),
                source,
            })?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_file_is_not_a_module() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.wasm");
        std::fs::write(&path, b"\0asm").unwrap();
        let e = ModuleFile::open(&path).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!("{} is not a wasm module", path.display())
        );
    }

    #[test]
    fn a_component_is_not_a_core_module() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("component.wasm");
        std::fs::write(&path, b"\0asm\x0d\0\x01\0").unwrap();
        assert!(matches!(
            ModuleFile::open(&path),
            Err(OpenError::NotWasm { .. })
        ));
    }

    #[test]
    fn the_preamble_is_read_without_moving_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.wasm");
        std::fs::write(&path, b"\0asm\x01\0\0\0rest").unwrap();
        let m = ModuleFile::open(&path).unwrap();
        assert_eq!(m.read_all().unwrap(), b"\0asm\x01\0\0\0rest");
    }
}
