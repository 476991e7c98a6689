//! A process's file-descriptor table: small integers mapped to shared open file descriptions,
//! each with its own close-on-exec flag.

use crate::abi::Errno;
use crate::vfs::file::OpenFile;
use std::cell::RefCell;
use std::rc::Rc;

/// A guest file descriptor number, as the guest passed it (negative ones included).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GuestFd(pub i32);

/// An open file description shared by the fds that `dup` made from one `open`.
pub type FileRef = Rc<RefCell<OpenFile>>;

#[derive(Clone)]
struct Slot {
    file: FileRef,
    cloexec: bool,
}

#[derive(Clone, Default)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
}

impl FdTable {
    /// The description behind `fd`, or `EBADF`.
    pub fn get(&self, fd: GuestFd) -> Result<FileRef, Errno> {
        self.slot(fd).map(|s| s.file.clone())
    }

    pub fn cloexec(&self, fd: GuestFd) -> Result<bool, Errno> {
        self.slot(fd).map(|s| s.cloexec)
    }

    pub fn set_cloexec(&mut self, fd: GuestFd, on: bool) -> Result<(), Errno> {
        let i = usize::try_from(fd.0).map_err(|_| Errno::EBADF)?;
        match self.slots.get_mut(i) {
            Some(Some(s)) => {
                s.cloexec = on;
                Ok(())
            }
            _ => Err(Errno::EBADF),
        }
    }

    /// Installs `file` at the lowest free fd not below `min`; `EMFILE` at `limit`
    /// (`RLIMIT_NOFILE`), `EINVAL` when `min` itself is out of range (`F_DUPFD`).
    pub fn install(
        &mut self,
        file: FileRef,
        cloexec: bool,
        min: usize,
        limit: u64,
    ) -> Result<GuestFd, Errno> {
        let limit = usize::try_from(limit.min(i32::MAX as u64)).unwrap_or(usize::MAX);
        if min >= limit {
            return Err(Errno::EINVAL);
        }
        let free = (min..limit).find(|&i| !matches!(self.slots.get(i), Some(Some(_))));
        let i = free.ok_or(Errno::EMFILE)?;
        self.put(i, Slot { file, cloexec });
        Ok(GuestFd(i as i32))
    }

    /// Installs `file` at exactly `fd`, closing what was there (`dup3`).
    pub fn install_at(
        &mut self,
        fd: GuestFd,
        file: FileRef,
        cloexec: bool,
        limit: u64,
    ) -> Result<(), Errno> {
        let i = usize::try_from(fd.0).map_err(|_| Errno::EBADF)?;
        if i as u64 >= limit {
            return Err(Errno::EBADF);
        }
        self.put(i, Slot { file, cloexec });
        Ok(())
    }

    pub fn close(&mut self, fd: GuestFd) -> Result<(), Errno> {
        let i = usize::try_from(fd.0).map_err(|_| Errno::EBADF)?;
        match self.slots.get_mut(i) {
            Some(slot @ Some(_)) => {
                *slot = None;
                Ok(())
            }
            _ => Err(Errno::EBADF),
        }
    }

    /// The open fds in increasing order (`/proc/self/fd`).
    pub fn open_fds(&self) -> impl Iterator<Item = GuestFd> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| GuestFd(i as i32))
    }

    /// Closes every fd marked close-on-exec (`execve`).
    pub fn close_on_exec(&mut self) {
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|s| s.cloexec) {
                *slot = None;
            }
        }
    }

    fn slot(&self, fd: GuestFd) -> Result<&Slot, Errno> {
        let i = usize::try_from(fd.0).map_err(|_| Errno::EBADF)?;
        self.slots
            .get(i)
            .and_then(Option::as_ref)
            .ok_or(Errno::EBADF)
    }

    fn put(&mut self, i: usize, slot: Slot) {
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(slot);
    }
}
