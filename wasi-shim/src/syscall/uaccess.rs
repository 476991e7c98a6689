//! Copying between guest memory and the kernel (`copy_from_user` / `copy_to_user`): every
//! fault becomes `EFAULT`, every guest-sized copy is capped first.

use super::{Ctx, GuestAddr};
use crate::abi::Errno;
use crate::abi::fs::PATH_MAX;

impl Ctx<'_> {
    pub fn read_bytes(&mut self, addr: GuestAddr, buf: &mut [u8]) -> Result<(), Errno> {
        self.proc
            .mm
            .space
            .read(addr.0, buf)
            .map_err(|_| Errno::EFAULT)
    }

    pub fn write_bytes(&mut self, addr: GuestAddr, data: &[u8]) -> Result<(), Errno> {
        self.proc
            .mm
            .space
            .write(addr.0, data)
            .map_err(|_| Errno::EFAULT)
    }

    /// Reads a fixed-size struct.
    pub fn read_array<const N: usize>(&mut self, addr: GuestAddr) -> Result<[u8; N], Errno> {
        let mut b = [0u8; N];
        self.read_bytes(addr, &mut b)?;
        Ok(b)
    }

    pub fn read_u32(&mut self, addr: GuestAddr) -> Result<u32, Errno> {
        Ok(u32::from_le_bytes(self.read_array(addr)?))
    }

    /// A NUL-terminated path: `EFAULT` if unreadable, `ENAMETOOLONG` past `PATH_MAX`.
    pub fn read_path(&mut self, addr: GuestAddr) -> Result<Vec<u8>, Errno> {
        match self.proc.mm.space.read_cstr(addr.0, PATH_MAX) {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(Errno::ENAMETOOLONG),
            Err(_) => Err(Errno::EFAULT),
        }
    }
}
