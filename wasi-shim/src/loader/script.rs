//! `#!` interpreter lines, parsed exactly as Linux's `fs/binfmt_script.c` (`load_script`) does.
//!
//! The kernel looks only at the first [`BINPRM_BUF_SIZE`] bytes of the file, zero-padded when
//! the file is shorter. The line ends at the first newline before any NUL; without one, the
//! interpreter path must be followed by a space, tab or NUL inside the buffer (a path cut off
//! by the buffer's end is refused), and the optional argument is silently truncated. Spaces and
//! tabs before the name and after the argument are dropped; everything between the name and
//! the end of the line is one argument, inner blanks included. What to do with the result
//! (argv rewriting, nesting limits) is [`super::exec`]'s business.

/// `BINPRM_BUF_SIZE`: how much of the file the kernel reads to recognise its format.
pub const BINPRM_BUF_SIZE: usize = 256;

/// A parsed `#!` line.
#[derive(Debug, PartialEq, Eq)]
pub struct Shebang {
    /// The interpreter path (empty for a file that is just `#!`, which then fails to open).
    pub name: Vec<u8>,
    /// The optional single argument (may be empty, as Linux passes it).
    pub arg: Option<Vec<u8>>,
}

/// The file starts with `#!` but the line names no interpreter, or its path does not fit in
/// [`BINPRM_BUF_SIZE`] bytes: `ENOEXEC`.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("#! line names no interpreter or its path is longer than {BINPRM_BUF_SIZE} bytes")]
pub struct BadShebang;

fn spacetab(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Parses the start of a file: `Ok(None)` when it does not start with `#!`.
pub fn parse(file_head: &[u8]) -> Result<Option<Shebang>, BadShebang> {
    let mut buf = [0u8; BINPRM_BUF_SIZE];
    let n = file_head.len().min(BINPRM_BUF_SIZE);
    buf[..n].copy_from_slice(&file_head[..n]);
    if !buf.starts_with(b"#!") {
        return Ok(None);
    }
    let buf_end = BINPRM_BUF_SIZE - 1;
    // Both scans include `last`, like the kernel's helpers.
    let next_non_spacetab = |first: usize, last: usize| (first..=last).find(|&i| !spacetab(buf[i]));
    let next_terminator =
        |first: usize, last: usize| (first..=last).find(|&i| spacetab(buf[i]) || buf[i] == 0);

    // `strnchr` stops at a NUL: a newline after one does not count.
    let newline = buf
        .iter()
        .take_while(|&&c| c != 0)
        .position(|&c| c == b'\n');
    let mut i_end = match newline {
        Some(i) => i,
        None => {
            let first = next_non_spacetab(2, buf_end).ok_or(BadShebang)?;
            // No blank or NUL after the path: it was cut off by the buffer.
            next_terminator(first, buf_end).ok_or(BadShebang)?;
            buf_end
        }
    };
    // buf[1] is '!', so this stops by index 2.
    while spacetab(buf[i_end - 1]) {
        i_end -= 1;
    }
    let i_name = match next_non_spacetab(2, i_end) {
        Some(i) if i != i_end => i,
        _ => return Err(BadShebang),
    };
    let i_sep = next_terminator(i_name, i_end);
    let i_arg = match i_sep {
        Some(s) if buf[s] != 0 => next_non_spacetab(s, i_end),
        _ => None,
    };
    // The kernel writes a NUL at i_end (and at i_sep when there is an argument); each string
    // then ends at its first NUL.
    let cstr = |from: usize, to: usize| -> Vec<u8> {
        let s = &buf[from..to.max(from)];
        s.split(|&c| c == 0).next().unwrap_or_default().to_vec()
    };
    let name_end = match (i_arg, i_sep) {
        (Some(_), Some(s)) => s,
        _ => i_end,
    };
    Ok(Some(Shebang {
        name: cstr(i_name, name_end),
        arg: i_arg.map(|a| cstr(a, i_end)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &[u8]) -> (String, Option<String>) {
        let sb = parse(s).unwrap().expect("a #! line");
        (
            String::from_utf8(sb.name).unwrap(),
            sb.arg.map(|a| String::from_utf8(a).unwrap()),
        )
    }

    fn owned(name: &str, arg: Option<&str>) -> (String, Option<String>) {
        (name.to_string(), arg.map(str::to_string))
    }

    #[test]
    fn not_a_script() {
        assert_eq!(parse(b"\x7fELF"), Ok(None));
        assert_eq!(parse(b"#"), Ok(None));
        assert_eq!(parse(b""), Ok(None));
    }

    #[test]
    fn name_and_one_argument() {
        assert_eq!(ok(b"#!/bin/sh\necho"), owned("/bin/sh", None));
        assert_eq!(ok(b"#!/bin/sh"), owned("/bin/sh", None));
        assert_eq!(ok(b"#! /bin/sh -e\n"), owned("/bin/sh", Some("-e")));
        // Blanks before the name and after the argument go; inner ones stay.
        assert_eq!(
            ok(b"#!  /usr/bin/env   a  b \t \nrest"),
            owned("/usr/bin/env", Some("a  b"))
        );
        assert_eq!(ok(b"#!/bin/sh \t\n"), owned("/bin/sh", None));
        assert_eq!(ok(b"#!/bin/sh\t-x\n"), owned("/bin/sh", Some("-x")));
    }

    #[test]
    fn nul_bytes_end_strings_and_hide_later_newlines() {
        assert_eq!(ok(b"#!/bin/sh\0junk\n"), owned("/bin/sh", None));
        assert_eq!(ok(b"#!/bin/sh a\0b\n"), owned("/bin/sh", Some("a")));
    }

    #[test]
    fn empty_lines_are_enoexec() {
        assert_eq!(parse(b"#!\n"), Err(BadShebang));
        assert_eq!(parse(b"#!   \n"), Err(BadShebang));
        assert_eq!(
            parse(&[b"#!".as_slice(), &[b' '; 300]].concat()),
            Err(BadShebang)
        );
    }

    #[test]
    fn a_bare_hash_bang_names_the_empty_path() {
        // The NUL padding ends the "path" at once; the kernel then fails to open "" with
        // ENOENT rather than refusing the line.
        assert_eq!(
            parse(b"#!"),
            Ok(Some(Shebang {
                name: Vec::new(),
                arg: None
            }))
        );
    }

    #[test]
    fn the_256_byte_buffer() {
        // A path that runs past the buffer is refused ...
        let long = [b"#!/".as_slice(), &[b'a'; 300]].concat();
        assert_eq!(parse(&long), Err(BadShebang));
        // ... one that ends inside it keeps its name, and the argument is cut at byte 255.
        let mut line = b"#!/bin/sh ".to_vec();
        line.extend(std::iter::repeat_n(b'x', 300));
        let (name, arg) = ok(&line);
        assert_eq!(name, "/bin/sh");
        assert_eq!(arg.unwrap().len(), BINPRM_BUF_SIZE - 1 - 10);
        // A newline at index 255 still counts.
        let mut line = b"#!/bin/sh ".to_vec();
        line.extend(std::iter::repeat_n(b'y', 245));
        line.push(b'\n');
        assert_eq!(ok(&line).1.unwrap().len(), 245);
    }
}
