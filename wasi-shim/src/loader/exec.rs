//! `execve`'s loading half: from a guest path to a fresh memory image, following `#!` lines
//! and `PT_INTERP` as Linux's `fs/exec.c`, `fs/binfmt_script.c` and `fs/binfmt_elf.c` do.
//!
//! [`exec_image`] builds a new [`Mm`] and never touches the calling process, so a failed
//! `execve` returns its errno to a process that is still intact; the caller swaps the image in
//! (the point of no return) and resets what `execve` resets (decode cache, handled signals,
//! `O_CLOEXEC` fds, `/proc/self/exe`).
//!
//! Every file is found with the one path walk, relative to the caller's working directory and
//! confined to the guest root: the program, each `#!` interpreter and the ELF interpreter.

use super::script::{self, BadShebang};
use super::{Args, Entry, LoadError, elf::Elf, load};
use crate::abi::Errno;
use crate::task::mm::Mm;
use crate::vfs::path::{Follow, Node};
use crate::vfs::procfs::ProcSelf;
use crate::vfs::{GuestPathBuf, Vfs};

/// `#!` rewrites allowed before `ELOOP`. `exec_binprm` in `fs/exec.c` allows 4 levels of
/// binfmt rewrites ("depth > 5"); the reference (qemu-riscv64 under binfmt_misc) spends one of
/// them on binfmt_misc itself, so 4 nested scripts work and a fifth is `ELOOP`, which is also
/// what the kernel's comment promises. We match the reference.
pub const MAX_SCRIPT_DEPTH: usize = 4;

/// Largest executable file read into memory: far above any real program (python3 is 7 MiB),
/// and it keeps a file grown in the writable layer from asking for a huge buffer.
pub const MAX_EXEC_FILE_BYTES: u64 = 1 << 30;

/// What the new image needs besides its files.
pub struct ExecRequest<'a> {
    /// The path as passed to `execve` (also `AT_EXECFN`).
    pub path: &'a [u8],
    pub argv: &'a [Vec<u8>],
    pub envp: &'a [Vec<u8>],
    /// The 16 `AT_RANDOM` bytes.
    pub random: [u8; 16],
}

/// A loaded image, ready to be swapped into the process.
pub struct Exec {
    pub mm: Mm,
    pub entry: Entry,
    /// The ELF file that runs (the script's interpreter for a script): `/proc/self/exe`.
    pub exe: GuestPathBuf,
}

/// Why a file could not be executed, with the errno `execve` returns.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("{}", describe(*.0))]
    Errno(Errno),
    #[error("is a directory")]
    IsDir,
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Script(#[from] BadShebang),
}

/// An `execve` that failed before the point of no return. Messages name every file involved.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The program (or a `#!` interpreter reached through nesting) itself.
    #[error("{path}: {problem}")]
    Program { path: String, problem: Problem },
    /// The `PT_INTERP` dynamic loader of an ELF program.
    #[error("{path}: interpreter {interp}: {problem}")]
    Interp {
        path: String,
        interp: String,
        problem: Problem,
    },
    /// The `#!` interpreter of a script could not be opened.
    #[error("{path}: bad interpreter {interp}: {problem}")]
    Script {
        path: String,
        interp: String,
        problem: Problem,
    },
    #[error("{path}: more than {MAX_SCRIPT_DEPTH} nested #! interpreters")]
    ScriptLoop { path: String },
}

impl Problem {
    fn errno(&self) -> Errno {
        match self {
            Problem::Errno(e) => *e,
            Problem::IsDir => Errno::EACCES,
            Problem::Load(LoadError::Stack(_)) => Errno::E2BIG,
            Problem::Load(LoadError::NoRoom(_)) => Errno::ENOMEM,
            Problem::Load(_) | Problem::Script(_) => Errno::ENOEXEC,
        }
    }
}

impl ExecError {
    /// What `execve` returns to the guest.
    pub fn errno(&self) -> Errno {
        match self {
            ExecError::Program { problem, .. } | ExecError::Script { problem, .. } => {
                problem.errno()
            }
            // `load_elf_binary`: an interpreter that is not a riscv64 ELF is ELIBBAD.
            ExecError::Interp {
                problem: Problem::Load(LoadError::Elf(_)),
                ..
            } => Errno::ELIBBAD,
            ExecError::Interp { problem, .. } => problem.errno(),
            ExecError::ScriptLoop { .. } => Errno::ELOOP,
        }
    }

    /// The status bash 5.2 gives a command that failed this way: 127 when `execve` says
    /// `ENOENT` (the program, its ELF interpreter or its `#!` interpreter does not exist:
    /// "required file not found"), 126 for every other reason.
    pub fn exit_code(&self) -> i32 {
        if self.errno() == Errno::ENOENT {
            127
        } else {
            126
        }
    }
}

/// Describes an errno in the words `strerror` uses, lowercased, for messages.
pub fn describe(e: Errno) -> String {
    match e {
        Errno::ENOENT => "no such file or directory".into(),
        Errno::ENOTDIR => "not a directory".into(),
        Errno::EISDIR => "is a directory".into(),
        Errno::EACCES => "permission denied".into(),
        Errno::ELOOP => "too many levels of symbolic links".into(),
        Errno::ENAMETOOLONG => "file name too long".into(),
        e => format!("error {e}"),
    }
}

fn show(p: &[u8]) -> String {
    String::from_utf8_lossy(p).into_owned()
}

/// Opens `path` for execution (`open_exec`): it must be a regular file with an execute bit.
/// Returns its guest path after symlinks and its contents.
fn read_exec_file(
    vfs: &Vfs,
    me: &ProcSelf,
    cwd: &GuestPathBuf,
    path: &[u8],
) -> Result<(GuestPathBuf, Vec<u8>), Problem> {
    let (guest, node) = vfs
        .resolve(me, cwd, path, Follow::Final)
        .and_then(|r| r.existing())
        .map_err(Problem::Errno)?;
    if let Node::Proc(_) = node {
        return Err(Problem::Errno(Errno::EACCES));
    }
    if node.is_dir() {
        return Err(Problem::IsDir);
    }
    if !node.is_executable_file() {
        return Err(Problem::Errno(Errno::EACCES));
    }
    if node.size() > MAX_EXEC_FILE_BYTES {
        return Err(Problem::Errno(Errno::ENOMEM));
    }
    Ok((guest, node.read_all().map_err(Problem::Errno)?))
}

/// Loads the program at `req.path` (relative to `cwd`) into a new memory image.
pub fn exec_image(
    vfs: &Vfs,
    me: &ProcSelf,
    cwd: &GuestPathBuf,
    req: &ExecRequest,
) -> Result<Exec, ExecError> {
    let mut path = req.path.to_vec();
    let mut argv = req.argv.to_vec();
    let mut depth = 0;
    let program_err = |path: &[u8], problem: Problem| ExecError::Program {
        path: show(path),
        problem,
    };
    let (mut exe, mut data) =
        read_exec_file(vfs, me, cwd, &path).map_err(|problem| program_err(&path, problem))?;
    loop {
        let shebang = script::parse(&data).map_err(|e| program_err(&path, e.into()))?;
        let Some(shebang) = shebang else {
            break;
        };
        depth += 1;
        if depth > MAX_SCRIPT_DEPTH {
            return Err(ExecError::ScriptLoop {
                path: show(req.path),
            });
        }
        // `load_script`: argv[0] is replaced by the interpreter, its argument and the path
        // the script was opened by.
        let mut new_argv = vec![shebang.name.clone()];
        new_argv.extend(shebang.arg.clone());
        new_argv.push(path.clone());
        new_argv.extend(argv.into_iter().skip(1));
        argv = new_argv;
        (exe, data) =
            read_exec_file(vfs, me, cwd, &shebang.name).map_err(|problem| ExecError::Script {
                path: show(&path),
                interp: show(&shebang.name),
                problem,
            })?;
        path = shebang.name;
    }

    let elf = Elf::parse(&data).map_err(|e| program_err(&path, LoadError::from(e).into()))?;
    let interp = match &elf.interp {
        Some(interp_path) => {
            let interp_err = |problem: Problem| ExecError::Interp {
                path: show(&path),
                interp: show(interp_path),
                problem,
            };
            let (_, interp_data) = read_exec_file(vfs, me, cwd, interp_path).map_err(interp_err)?;
            let interp_elf =
                Elf::parse(&interp_data).map_err(|e| interp_err(LoadError::from(e).into()))?;
            Some((interp_elf, interp_data))
        }
        None => None,
    };
    let mut mm = Mm::new();
    let entry = load(
        &mut mm,
        (&elf, &data),
        interp.as_ref().map(|(e, d)| (e, d.as_slice())),
        &Args {
            argv: &argv,
            envp: req.envp,
            execfn: req.path,
            random: req.random,
        },
    )
    .map_err(|e| program_err(&path, e.into()))?;
    Ok(Exec { mm, entry, exe })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::elf::tests::tiny_elf;
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};

    /// A host directory with a static `/bin/prog` and the given executable files.
    fn rootfs(name: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("ctr2wasm-exec-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let prog = tiny_elf(&[0x73, 0, 0, 0]);
        for (path, data) in [("bin/prog", prog.as_slice())].iter().chain(files) {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, data).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        root
    }

    fn exec(root: &Path, path: &str, argv: &[&str]) -> Result<(Exec, Vec<String>), ExecError> {
        let vfs = Vfs::new(crate::vfs::lower::Lower::Host(root.to_path_buf()));
        let none = GuestPathBuf::root();
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        let mut image = exec_image(
            &vfs,
            &ProcSelf::nobody(&none),
            &GuestPathBuf::root(),
            &ExecRequest {
                path: path.as_bytes(),
                argv: &argv,
                envp: &[],
                random: [0; 16],
            },
        )?;
        let sp = image.entry.sp;
        let space = &mut image.mm.space;
        let argc = space.read_u64(sp).unwrap();
        let args = (0..argc)
            .map(|i| {
                let p = space.read_u64(sp + 8 + 8 * i).unwrap();
                String::from_utf8(space.read_cstr(p, 4096).unwrap().unwrap()).unwrap()
            })
            .collect();
        Ok((image, args))
    }

    #[test]
    fn scripts_rewrite_argv_and_run_their_interpreter() {
        let root = rootfs(
            "scripts",
            &[
                ("s/one", b"#!/bin/prog -x\n"),
                ("s/two", b"#! /s/one  a b \n"),
                ("s/rel", b"#!bin/prog\n"),
            ],
        );
        let (image, argv) = exec(&root, "/s/two", &["two", "arg"]).unwrap();
        assert_eq!(argv, ["/bin/prog", "-x", "/s/one", "a b", "/s/two", "arg"]);
        assert_eq!(image.exe.as_bytes(), b"/bin/prog");
        assert_eq!(image.entry.pc, 0x10078);
        // A relative interpreter is looked up from the working directory, like open_exec.
        let (_, argv) = exec(&root, "s/rel", &["rel"]).unwrap();
        assert_eq!(argv, ["bin/prog", "s/rel"]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn failures_carry_the_errno_execve_returns() {
        let chain: Vec<(String, Vec<u8>)> = (1..=5)
            .map(|i| {
                let target = if i == 1 {
                    "/bin/prog".to_string()
                } else {
                    format!("/s/{}", i - 1)
                };
                (format!("s/{i}"), format!("#!{target}\n").into_bytes())
            })
            .collect();
        let mut files: Vec<(&str, &[u8])> = chain
            .iter()
            .map(|(p, d)| (p.as_str(), d.as_slice()))
            .collect();
        files.extend([
            ("s/nope", b"#!/missing\n".as_slice()),
            ("s/text", b"plain text\n".as_slice()),
        ]);
        let root = rootfs("errors", &files);
        assert!(exec(&root, "/s/4", &[]).is_ok());
        let err = |path: &str| exec(&root, path, &[]).err().expect("the exec fails");
        let e = err("/s/5");
        assert_eq!((e.errno(), e.exit_code()), (Errno::ELOOP, 126));
        assert_eq!(e.to_string(), "/s/5: more than 4 nested #! interpreters");
        let e = err("/s/nope");
        assert_eq!((e.errno(), e.exit_code()), (Errno::ENOENT, 127));
        assert_eq!(
            e.to_string(),
            "/s/nope: bad interpreter /missing: no such file or directory"
        );
        let e = err("/s/text");
        assert_eq!((e.errno(), e.exit_code()), (Errno::ENOEXEC, 126));
        let e = err("/s");
        assert_eq!(
            (e.errno(), e.to_string()),
            (Errno::EACCES, "/s: is a directory".into())
        );
        let e = err("/absent");
        assert_eq!((e.errno(), e.exit_code()), (Errno::ENOENT, 127));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
