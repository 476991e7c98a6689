//! Cleanup on SIGINT, SIGTERM and SIGHUP: the temporary files `convert` writes (the module
//! beside OUT.wasm, layers entering the blob cache) are removed before the process dies, and it
//! then dies by the same signal, so the shell sees the status it expects (130 for ^C).
//!
//! [`TempFile`] registers its path while it exists. [`install`] sets a handler that only writes
//! the signal's number to a pipe (`write(2)` is async-signal-safe; nothing else is done in
//! signal context); a thread reading the pipe takes the registry's lock, removes every live
//! path, resets the signal to its default action and raises it again. The lock is held to the
//! end, so no temporary file can be created or renamed between the removal and the death:
//! [`TempFile`] creates, renames and deletes its file with the lock held.
//!
//! A signal that was ignored when ctr2wasm started (`nohup`, a background job of a
//! non-interactive shell) stays ignored, as a program that does not catch it would behave.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

/// The signals that end a convert early and are cleaned up after.
const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The paths of the live temporary files.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The pipe's write end, for the handler (-1 until [`install`]).
static PIPE: AtomicI32 = AtomicI32::new(-1);

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding the lock leaves the list itself intact.
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Catches SIGINT, SIGTERM and SIGHUP for the rest of the process (once; later calls do
/// nothing). Without it a [`TempFile`] is still removed on every exit but a signal.
pub fn install() -> io::Result<()> {
    static INSTALLED: Once = Once::new();
    let mut result = Ok(());
    INSTALLED.call_once(|| result = install_once());
    result
}

fn install_once() -> io::Result<()> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else. The reader
    // blocks; the write end stays non-blocking so the handler can never hang.
    let reader = File::from(unsafe { OwnedFd::from_raw_fd(fds[0]) });
    // SAFETY: fds[0] is ours; clearing O_NONBLOCK only changes how reads wait.
    unsafe { libc::fcntl(fds[0], libc::F_SETFL, 0) };
    PIPE.store(fds[1], Ordering::SeqCst);
    std::thread::Builder::new()
        .name("ctr2wasm-signals".into())
        .spawn(move || wait_and_clean_up(reader))?;
    for signal in SIGNALS {
        // SAFETY: sigaction with a zeroed struct only reads the current disposition.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        if unsafe { libc::sigaction(signal, std::ptr::null(), &mut old) } != 0 {
            return Err(io::Error::last_os_error());
        }
        if old.sa_sigaction == libc::SIG_IGN {
            continue;
        }
        // SAFETY: the handler is async-signal-safe (see `on_signal`); SA_RESTART keeps the
        // other threads' system calls from failing with EINTR.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        unsafe { libc::sigemptyset(&mut action.sa_mask) };
        if unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The signal handler: passes the signal's number to the cleanup thread, and nothing else.
extern "C" fn on_signal(signal: libc::c_int) {
    // SAFETY: errno is saved and restored around write(2), the only call made, which is
    // async-signal-safe; the buffer is a local byte.
    unsafe {
        let errno = *libc::__errno_location();
        let byte = signal as u8;
        libc::write(PIPE.load(Ordering::Relaxed), (&byte as *const u8).cast(), 1);
        *libc::__errno_location() = errno;
    }
}

/// The cleanup thread: waits for a signal, removes the live temporary files and dies by it.
fn wait_and_clean_up(mut reader: File) {
    let mut byte = [0u8];
    if io::Read::read_exact(&mut reader, &mut byte).is_err() {
        return;
    }
    let signal = libc::c_int::from(byte[0]);
    let paths = live();
    for path in paths.iter() {
        let _ = std::fs::remove_file(path);
    }
    // SAFETY: resetting to the default action and raising the signal in this thread (which
    // does not block it) ends the whole process as the signal's default does.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
    // Not reached: the default action of all three signals is to terminate.
    std::process::exit(128 + signal);
}

/// A temporary file that is removed when dropped, on an error return, and (after
/// [`install`]) when a signal ends the process.
pub struct TempFile {
    /// `None` only while being persisted or dropped.
    file: Option<tempfile::NamedTempFile>,
}

impl TempFile {
    /// Creates a temporary file in `dir` named as `builder` says.
    pub fn create(builder: &tempfile::Builder, dir: &Path) -> io::Result<TempFile> {
        let mut live = live();
        let file = builder.tempfile_in(dir)?;
        live.push(file.path().to_path_buf());
        Ok(TempFile { file: Some(file) })
    }

    fn inner(&self) -> &tempfile::NamedTempFile {
        self.file
            .as_ref()
            .expect("a TempFile holds its file until consumed")
    }

    pub fn path(&self) -> &Path {
        self.inner().path()
    }

    pub fn as_file(&self) -> &File {
        self.inner().as_file()
    }

    /// Renames the file to `path`; it is then no longer temporary (or, on an error, it is
    /// removed).
    pub fn persist(mut self, path: &Path) -> io::Result<File> {
        let mut live = live();
        let file = self
            .file
            .take()
            .expect("a TempFile holds its file until consumed");
        let temp_path = file.path().to_path_buf();
        let result = file.persist(path).map_err(|e| e.error);
        live.retain(|p| *p != temp_path);
        result
    }
}

impl Write for TempFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file
            .as_mut()
            .expect("a TempFile holds its file until consumed")
            .write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file
            .as_mut()
            .expect("a TempFile holds its file until consumed")
            .flush()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            let mut live = live();
            let temp_path = file.path().to_path_buf();
            drop(file);
            live.retain(|p| *p != temp_path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_holds_a_path_while_the_file_lives() {
        let dir = tempfile::tempdir().unwrap();
        let builder = tempfile::Builder::new();
        let kept = TempFile::create(&builder, dir.path()).unwrap();
        let dropped = TempFile::create(&builder, dir.path()).unwrap();
        let (kept_path, dropped_path) = (kept.path().to_path_buf(), dropped.path().to_path_buf());
        assert!(live().contains(&kept_path) && live().contains(&dropped_path));
        drop(dropped);
        assert!(!live().contains(&dropped_path) && !dropped_path.exists());
        let out = dir.path().join("out");
        kept.persist(&out).unwrap();
        assert!(!live().contains(&kept_path) && out.exists());
    }
}
