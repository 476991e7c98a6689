//! Host stdin as a wait: a guest thread reading an idle stdin parks while the other tasks
//! keep running, natively and in the wasm runtime, and piped input (data, then end of file)
//! reaches `read` loops intact.
//!
//! The writer side is this test: it feeds the runtime's stdin through a pipe and waits for the
//! guest's answer before writing more, so the guest really finds stdin empty.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use crate::userland::{debian_rootfs, ours_command};

/// Runs `command` and talks to it through pipes: writes `first` to its stdin, waits for the
/// first line of its stdout (so the guest has consumed `first` and is about to read again),
/// waits `pause`, writes `second` and closes stdin. Returns the whole stdout, stderr and the
/// exit code.
fn converse(
    mut command: Command,
    first: &str,
    pause: Duration,
    second: &str,
) -> (String, String, i32) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ctr2wasm starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = thread::spawn(move || {
        let mut e = String::new();
        let _ = stderr.read_to_string(&mut e);
        e
    });
    // A guest that exits early shows why in its output; the writes just fail then.
    let _ = stdin.write_all(first.as_bytes());
    let _ = stdin.flush();
    let mut out = String::new();
    let _ = stdout.read_line(&mut out);
    thread::sleep(pause);
    let _ = stdin.write_all(second.as_bytes());
    drop(stdin);
    let _ = stdout.read_to_string(&mut out);
    let status = child.wait().expect("ctr2wasm runs");
    let err = errors.join().expect("the stderr reader panicked");
    (out, err, status.code().unwrap_or(-1))
}

/// A thread counts while the main thread reads two lines that arrive 300 ms apart: the count
/// must move while the reader waits for the second line.
const BUSY_WHILE_READING: &str = r#"
import sys, threading
count = 0
stop = False
def busy():
    global count
    while not stop:
        count += 1
t = threading.Thread(target=busy)
t.start()
a = sys.stdin.readline()
print("got", repr(a), flush=True)
before = count
b = sys.stdin.readline()
after = count
stop = True
t.join()
end = sys.stdin.readline()
print(repr(b), repr(end), "advanced" if after > before else "stalled")
"#;

fn busy_thread_runs_while_stdin_waits(wasm: bool) {
    let command = ours_command(
        debian_rootfs(),
        &["/usr/bin/python3", "-c", BUSY_WHILE_READING],
        wasm,
    );
    let got = converse(command, "a\n", Duration::from_millis(300), "b\n");
    assert_eq!(
        got,
        (
            "got 'a\\n'\n'b\\n' '' advanced\n".to_string(),
            String::new(),
            0
        ),
        "wasm: {wasm}"
    );
}

#[test]
fn busy_thread_runs_while_stdin_waits_native() {
    busy_thread_runs_while_stdin_waits(false);
}

#[test]
fn busy_thread_runs_while_stdin_waits_wasm() {
    busy_thread_runs_while_stdin_waits(true);
}

fn bash_read_loop(wasm: bool) {
    let command = ours_command(
        debian_rootfs(),
        &[
            "/bin/bash",
            "-c",
            r#"while read x; do echo "<$x>"; done; echo "end $?""#,
        ],
        wasm,
    );
    let got = converse(command, "a\nb\n", Duration::from_millis(100), "c\n");
    assert_eq!(
        got,
        ("<a>\n<b>\n<c>\nend 0\n".to_string(), String::new(), 0),
        "wasm: {wasm}"
    );
}

#[test]
fn bash_read_loop_from_piped_stdin_native() {
    bash_read_loop(false);
}

#[test]
fn bash_read_loop_from_piped_stdin_wasm() {
    bash_read_loop(true);
}
