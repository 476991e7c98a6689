//! Terminal ioctls and `struct termios` / `struct winsize` as riscv64 lays them out
//! (`include/uapi/asm-generic/ioctls.h`, `termbits.h`).

use super::{get_u32, put_u32};

pub const TCGETS: u32 = 0x5401;
pub const TCSETS: u32 = 0x5402;
pub const TCSETSW: u32 = 0x5403;
pub const TCSETSF: u32 = 0x5404;
/// `TCFLSH`: discard queued input (`TCIFLUSH`), output (`TCOFLUSH`) or both (`TCIOFLUSH`).
pub const TCFLSH: u32 = 0x540b;
pub const TCIFLUSH: u32 = 0;
pub const TCOFLUSH: u32 = 1;
pub const TCIOFLUSH: u32 = 2;
pub const TIOCGPGRP: u32 = 0x540f;
pub const TIOCSPGRP: u32 = 0x5410;
pub const TIOCGWINSZ: u32 = 0x5413;
pub const TIOCSWINSZ: u32 = 0x5414;

pub const NCCS: usize = 19;

// Indexes into `c_cc` (asm-generic `termbits.h`).
pub const VINTR: usize = 0;
pub const VQUIT: usize = 1;
pub const VERASE: usize = 2;
pub const VKILL: usize = 3;
pub const VEOF: usize = 4;
pub const VTIME: usize = 5;
pub const VMIN: usize = 6;
pub const VSUSP: usize = 10;
pub const VEOL: usize = 11;
pub const VREPRINT: usize = 12;
pub const VWERASE: usize = 14;
pub const VLNEXT: usize = 15;
pub const VEOL2: usize = 16;

// `c_iflag` bits.
pub const IGNCR: u32 = 0o200;
pub const ICRNL: u32 = 0o400;
pub const INLCR: u32 = 0o100;
pub const ISTRIP: u32 = 0o40;
pub const IUTF8: u32 = 0o40000;

// `c_oflag` bits.
pub const OPOST: u32 = 0o1;
pub const ONLCR: u32 = 0o4;
pub const OCRNL: u32 = 0o10;
pub const ONOCR: u32 = 0o20;
pub const ONLRET: u32 = 0o40;
pub const TABDLY: u32 = 0o14000;
/// `TAB3` (`XTABS`): expand tabs to spaces.
pub const XTABS: u32 = 0o14000;

// `c_lflag` bits.
pub const ISIG: u32 = 0o1;
pub const ICANON: u32 = 0o2;
pub const ECHO: u32 = 0o10;
pub const ECHOE: u32 = 0o20;
pub const ECHOK: u32 = 0o40;
pub const ECHONL: u32 = 0o100;
pub const NOFLSH: u32 = 0o200;
pub const ECHOCTL: u32 = 0o1000;
pub const ECHOKE: u32 = 0o4000;
pub const IEXTEN: u32 = 0o100000;

/// `struct termios` (asm-generic: four flag words, the line discipline, 19 control chars).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; NCCS],
}

impl Termios {
    pub const SIZE: usize = 36;

    /// What a fresh terminal reports (`tty_std_termios` in `drivers/tty/tty_io.c`): cooked
    /// mode with echo, 38400 baud, 8 bits.
    pub const SANE: Termios = Termios {
        iflag: 0o2400,   // ICRNL | IXON
        oflag: 0o5,      // OPOST | ONLCR
        cflag: 0o2277,   // B38400 | CS8 | CREAD | HUPCL
        lflag: 0o105073, // ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN
        line: 0,
        cc: [
            3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0,
        ],
    };

    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u32(&mut b, 0, self.iflag);
        put_u32(&mut b, 4, self.oflag);
        put_u32(&mut b, 8, self.cflag);
        put_u32(&mut b, 12, self.lflag);
        b[16] = self.line;
        b[17..].copy_from_slice(&self.cc);
        b
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Termios {
        let mut cc = [0u8; NCCS];
        cc.copy_from_slice(&b[17..]);
        Termios {
            iflag: get_u32(b, 0),
            oflag: get_u32(b, 4),
            cflag: get_u32(b, 8),
            lflag: get_u32(b, 12),
            line: b[16],
            cc,
        }
    }
}

/// `struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Winsize {
    pub rows: u16,
    pub cols: u16,
}

impl Winsize {
    pub const SIZE: usize = 8;

    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0..2].copy_from_slice(&self.rows.to_le_bytes());
        b[2..4].copy_from_slice(&self.cols.to_le_bytes());
        b
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Winsize {
        Winsize {
            rows: u16::from_le_bytes([b[0], b[1]]),
            cols: u16::from_le_bytes([b[2], b[3]]),
        }
    }
}

/// `FIONREAD`: bytes ready to read (`TIOCINQ`).
pub const FIONREAD: u32 = 0x541b;
/// `FIONBIO`: set or clear `O_NONBLOCK` from an `int` (any file, `ioctl_fionbio`).
pub const FIONBIO: u32 = 0x5421;
/// `FIONCLEX`, `FIOCLEX`: clear or set the fd's close-on-exec flag (any file).
pub const FIONCLEX: u32 = 0x5450;
pub const FIOCLEX: u32 = 0x5451;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn termios_round_trips() {
        let t = Termios::SANE;
        assert_eq!(Termios::from_bytes(&t.to_bytes()), t);
        assert_eq!(t.to_bytes()[17], 3, "VINTR is ^C");
    }
}
