//! The raw host terminal (`CTR2WASM_TTY=raw`, what the web page sets): the runtime runs the
//! line discipline on the bytes stdin delivers, natively and in the wasm runtime.
//!
//! The expected bytes are what Linux's n_tty gives on a pty for the same keystrokes (checked
//! with the same programs and input on a host pty): echo with erase sequences, `ONLCR`, the
//! edited line reaching the guest, `^D` as end of file.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::userland::{debian_rootfs, ours_command};

/// Runs `argv` on a raw terminal of 100x30, typing each chunk after its pause, then closing
/// stdin. Returns stdout, stderr and the exit code.
fn typed(argv: &[&str], wasm: bool, keys: &[(u64, &[u8])]) -> (String, String, i32) {
    let mut command: Command = ours_command(debian_rootfs(), argv, wasm);
    let mut child = command
        .env("CTR2WASM_TTY", "raw")
        .env("CTR2WASM_TTY_SIZE", "100x30")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ctr2wasm starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let collect = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = collect(Box::new(child.stdout.take().expect("stdout is piped")));
    let err = collect(Box::new(child.stderr.take().expect("stderr is piped")));
    for (pause_ms, bytes) in keys {
        thread::sleep(Duration::from_millis(*pause_ms));
        // A guest that exits early shows why in its output; the writes just fail then.
        let _ = stdin.write_all(bytes);
        let _ = stdin.flush();
    }
    drop(stdin);
    let status = child.wait().expect("ctr2wasm runs");
    (
        out.join().expect("stdout reader"),
        err.join().expect("stderr reader"),
        status.code().unwrap_or(-1),
    )
}

fn canonical_editing_and_end_of_file(wasm: bool) {
    let got = typed(&["/bin/cat"], wasm, &[(300, b"ab\x7fc\r"), (300, b"\x04")]);
    assert_eq!(
        got,
        ("ab\x08 \x08c\r\nac\r\n".into(), String::new(), 0),
        "wasm: {wasm}"
    );
}

#[test]
fn canonical_editing_and_end_of_file_native() {
    canonical_editing_and_end_of_file(false);
}

#[test]
fn canonical_editing_and_end_of_file_wasm() {
    canonical_editing_and_end_of_file(true);
}

/// `stty size` reads `CTR2WASM_TTY_SIZE`; word erase and kill edit what `read` gets.
fn size_word_erase_and_kill(wasm: bool) {
    let got = typed(
        &["/bin/sh", "-c", r#"stty size; read x; echo "<$x>""#],
        wasm,
        &[(500, b"q\x17w\x15e rt\x17y\r")],
    );
    assert_eq!(
        got,
        (
            "30 100\r\nq\x08 \x08w\x08 \x08e rt\x08 \x08\x08 \x08y\r\n<e y>\r\n".into(),
            String::new(),
            0
        ),
        "wasm: {wasm}"
    );
}

#[test]
fn size_word_erase_and_kill_native() {
    size_word_erase_and_kill(false);
}

#[test]
fn size_word_erase_and_kill_wasm() {
    size_word_erase_and_kill(true);
}

/// The page's in-band resize message reaches `TIOCGWINSZ` and sends `SIGWINCH` to the
/// foreground process group; the guest never reads the message.
fn resize_message_and_sigwinch(wasm: bool) {
    let got = typed(
        &[
            "/bin/bash",
            "-c",
            r#"trap 'echo winch' WINCH; stty size; read x; echo "<$x>"; stty size"#,
        ],
        wasm,
        &[(800, b"\x1b_ctr2wasm;winsize;120;40\x1b\\"), (500, b"go\r")],
    );
    assert_eq!(
        got,
        (
            "30 100\r\ngo\r\nwinch\r\n<go>\r\n40 120\r\n".into(),
            String::new(),
            0
        ),
        "wasm: {wasm}"
    );
}

#[test]
fn resize_message_and_sigwinch_native() {
    resize_message_and_sigwinch(false);
}

#[test]
fn resize_message_and_sigwinch_wasm() {
    resize_message_and_sigwinch(true);
}

/// `TIOCSWINSZ` from a guest (`stty cols`) resizes and sends `SIGWINCH` to the foreground
/// process group, the caller's own included.
fn guest_resize_sends_sigwinch(wasm: bool) {
    let got = typed(
        &[
            "/bin/bash",
            "-c",
            "trap 'echo winch' WINCH; stty cols 90 rows 20; stty size",
        ],
        wasm,
        &[],
    );
    assert_eq!(
        got,
        ("winch\r\n20 90\r\n".into(), String::new(), 0),
        "wasm: {wasm}"
    );
}

#[test]
fn guest_resize_sends_sigwinch_native() {
    guest_resize_sends_sigwinch(false);
}

#[test]
fn guest_resize_sends_sigwinch_wasm() {
    guest_resize_sends_sigwinch(true);
}

/// An interactive bash: readline's prompt and editing, ^C (SIGINT to the foreground process
/// group) ends `sleep 100`, and `exit 7` is the status.
fn interactive_bash(wasm: bool) {
    let started = Instant::now();
    let (out, err, code) = typed(
        &["/bin/bash", "--norc", "--noprofile", "-i"],
        wasm,
        &[
            (1500, b"echo hello | tr a-z A-Z\r"),
            (2000, b"sleep 100\r"),
            (2000, b"\x03"),
            (1500, b"exit 7\r"),
        ],
    );
    assert_eq!(code, 7, "wasm: {wasm}\nstdout: {out:?}\nstderr: {err:?}");
    // bash's prompt and readline's echo go to stderr; the programs' output and the line
    // discipline's echo of ^C (the terminal is cooked while `sleep` runs) to stdout.
    assert!(err.contains("echo hello | tr a-z A-Z\r\n"), "{err:?}");
    assert!(err.contains("sleep 100\r\n"), "{err:?}");
    assert!(err.contains("exit 7\r\n"), "{err:?}");
    assert!(out.starts_with("HELLO\r\n^C"), "{out:?}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "^C did not end sleep 100"
    );
}

#[test]
fn interactive_bash_native() {
    interactive_bash(false);
}

#[test]
fn interactive_bash_wasm() {
    interactive_bash(true);
}
