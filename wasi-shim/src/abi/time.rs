//! Clocks and time structs: clock ids, `struct timespec`, `struct timeval`
//! (`include/uapi/linux/time.h`, `time_types.h`).

use super::{get_u64, put_u64};

pub const CLOCK_REALTIME: u32 = 0;
pub const CLOCK_MONOTONIC: u32 = 1;
pub const CLOCK_PROCESS_CPUTIME_ID: u32 = 2;
pub const CLOCK_THREAD_CPUTIME_ID: u32 = 3;
pub const CLOCK_MONOTONIC_RAW: u32 = 4;
pub const CLOCK_REALTIME_COARSE: u32 = 5;
pub const CLOCK_MONOTONIC_COARSE: u32 = 6;
pub const CLOCK_BOOTTIME: u32 = 7;
pub const CLOCK_TAI: u32 = 11;

pub const TIMER_ABSTIME: u32 = 1;

/// Resolution of the `*_COARSE` clocks: one tick at `CONFIG_HZ=250`, the riscv default.
pub const COARSE_RESOLUTION_NS: u64 = 4_000_000;
pub const NSEC_PER_SEC: u64 = 1_000_000_000;

/// `struct timespec { time_t tv_sec; long tv_nsec; }`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl Timespec {
    pub const SIZE: usize = 16;

    pub fn from_ns(ns: u64) -> Timespec {
        Timespec {
            sec: (ns / NSEC_PER_SEC) as i64,
            nsec: (ns % NSEC_PER_SEC) as i64,
        }
    }

    /// Nanoseconds, or `None` when the value is one `nanosleep` rejects with `EINVAL`
    /// (negative seconds, nanoseconds outside `0..1e9`).
    pub fn to_ns(self) -> Option<u64> {
        let sec = u64::try_from(self.sec).ok()?;
        let nsec = u64::try_from(self.nsec)
            .ok()
            .filter(|&n| n < NSEC_PER_SEC)?;
        // Far-future deadlines saturate instead of failing: the guest asked to wait "forever".
        Some(sec.saturating_mul(NSEC_PER_SEC).saturating_add(nsec))
    }

    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, 0, self.sec as u64);
        put_u64(&mut b, 8, self.nsec as u64);
        b
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Timespec {
        Timespec {
            sec: get_u64(b, 0) as i64,
            nsec: get_u64(b, 8) as i64,
        }
    }
}

/// `struct timeval { time_t tv_sec; suseconds_t tv_usec; }`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Timeval {
    pub sec: i64,
    pub usec: i64,
}

impl Timeval {
    pub const SIZE: usize = 16;

    pub fn from_ns(ns: u64) -> Timeval {
        Timeval {
            sec: (ns / NSEC_PER_SEC) as i64,
            usec: ((ns % NSEC_PER_SEC) / 1000) as i64,
        }
    }

    /// Nanoseconds, or `None` for a negative or out-of-range value (`EINVAL`).
    pub fn to_ns(self) -> Option<u64> {
        let sec = u64::try_from(self.sec).ok()?;
        let usec = u64::try_from(self.usec).ok().filter(|&u| u < 1_000_000)?;
        Some(sec.saturating_mul(NSEC_PER_SEC).saturating_add(usec * 1000))
    }

    /// Decodes the first 16 bytes of `b`.
    pub fn from_bytes(b: &[u8]) -> Timeval {
        Timeval {
            sec: get_u64(b, 0) as i64,
            usec: get_u64(b, 8) as i64,
        }
    }

    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, 0, self.sec as u64);
        put_u64(&mut b, 8, self.usec as u64);
        b
    }
}

/// `setitimer`'s real-time timer (`SIGALRM`).
pub const ITIMER_REAL: i32 = 0;

/// `struct timezone { int tz_minuteswest; int tz_dsttime; }`: we report UTC, no DST.
pub const TIMEZONE_UTC: [u8; 8] = [0; 8];
