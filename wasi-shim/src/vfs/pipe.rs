//! Pipes: a 64 KiB ring shared by a read end and a write end.
//!
//! The pipe counts its open ends (each an open file description, however many fds `dup`
//! made of it): a read with no writers left sees EOF, a write with no readers left fails with
//! `EPIPE` (and the writer gets `SIGPIPE`). Blocking is the caller's business: [`Pipe::read`]
//! and [`Pipe::write`] answer `EAGAIN` when they would block and the syscall layer parks the
//! thread on the pipe.
//!
//! The ring's storage is charged against the memory limit as it grows, as Linux accounts
//! pipe buffer pages to the memory cgroup (`fs/pipe.c: pipe_write`, `GFP_KERNEL_ACCOUNT`);
//! a write that would grow it past the limit fails with `ENOMEM`, as a failed page
//! allocation there does.

use crate::abi::Errno;
use ctr2wasm_emulator::mmu::{Charge, memory_available};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// Bytes a pipe holds (`PIPE_DEF_BUFFERS` pages, as `F_GETPIPE_SZ` reports by default).
pub const PIPE_CAPACITY: usize = 64 * 1024;
/// Writes up to this size are atomic (`PIPE_BUF`).
pub const PIPE_BUF: usize = 4096;

pub type PipeRef = Rc<RefCell<Pipe>>;

#[derive(Default)]
pub struct Pipe {
    buf: VecDeque<u8>,
    pub readers: u32,
    pub writers: u32,
    /// A stable inode number for `fstat`.
    pub ino: u64,
    /// The capacity of `buf`.
    charge: Charge,
}

impl Pipe {
    pub fn new(ino: u64) -> PipeRef {
        Rc::new(RefCell::new(Pipe {
            buf: VecDeque::new(),
            readers: 0,
            writers: 0,
            ino,
            charge: Charge::default(),
        }))
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// A read would not block: data, or EOF.
    pub fn readable(&self) -> bool {
        !self.buf.is_empty() || self.writers == 0
    }

    /// A write would not block: room for an atomic write, or a broken pipe.
    pub fn writable(&self) -> bool {
        PIPE_CAPACITY - self.buf.len() >= PIPE_BUF || self.readers == 0
    }

    /// Takes up to `out.len()` bytes; 0 at EOF; `EAGAIN` when empty with writers left.
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, Errno> {
        if self.buf.is_empty() {
            return if self.writers == 0 || out.is_empty() {
                Ok(0)
            } else {
                Err(Errno::EAGAIN)
            };
        }
        let n = out.len().min(self.buf.len());
        for (o, b) in out.iter_mut().zip(self.buf.drain(..n)) {
            *o = b;
        }
        Ok(n)
    }

    /// Appends what fits: all of a write up to `PIPE_BUF` or none of it; `EPIPE` with no
    /// readers; `EAGAIN` when nothing fits.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Errno> {
        if self.readers == 0 {
            return Err(Errno::EPIPE);
        }
        let room = PIPE_CAPACITY - self.buf.len();
        let n = if data.len() <= PIPE_BUF {
            if room < data.len() { 0 } else { data.len() }
        } else {
            room.min(data.len())
        };
        if n == 0 && !data.is_empty() {
            return Err(Errno::EAGAIN);
        }
        // Growing may allocate up to the whole ring at once.
        if self.buf.len() + n > self.buf.capacity() && !memory_available(PIPE_CAPACITY as u64) {
            return Err(Errno::ENOMEM);
        }
        self.buf.extend(&data[..n]);
        self.charge.set_unchecked(self.buf.capacity() as u64);
        Ok(n)
    }
}

/// One end of a pipe, as an open file description holds it; dropping it (the last fd of the
/// description closed, or its process gone) closes that end.
pub struct PipeEnd {
    pub pipe: PipeRef,
    pub write: bool,
}

impl PipeEnd {
    pub fn new(pipe: &PipeRef, write: bool) -> PipeEnd {
        let mut p = pipe.borrow_mut();
        if write {
            p.writers += 1;
        } else {
            p.readers += 1;
        }
        PipeEnd {
            pipe: pipe.clone(),
            write,
        }
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut p = self.pipe.borrow_mut();
        if self.write {
            p.writers -= 1;
        } else {
            p.readers -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eof_epipe_and_atomic_writes() {
        let p = Pipe::new(1);
        let mut p = p.borrow_mut();
        p.readers = 1;
        p.writers = 1;
        let mut b = [0u8; 8];
        assert_eq!(p.read(&mut b), Err(Errno::EAGAIN));
        assert_eq!(p.write(b"hello"), Ok(5));
        assert_eq!(p.read(&mut b), Ok(5));
        let big = vec![1u8; PIPE_CAPACITY + 10];
        assert_eq!(p.write(&big), Ok(PIPE_CAPACITY));
        assert!(!p.writable());
        assert_eq!(p.write(b"x"), Err(Errno::EAGAIN));
        p.writers = 0;
        let mut all = vec![0u8; PIPE_CAPACITY];
        assert_eq!(p.read(&mut all), Ok(PIPE_CAPACITY));
        assert_eq!(p.read(&mut b), Ok(0));
        p.readers = 0;
        assert_eq!(p.write(b"x"), Err(Errno::EPIPE));
    }
}
