//! Resource limits: `RLIMIT_*`, `struct rlimit` and the limits a fresh Linux login gets
//! (`include/uapi/asm-generic/resource.h`, `include/asm-generic/resource.h`).

use super::{get_u64, put_u64};

pub const RLIMIT_CPU: u32 = 0;
pub const RLIMIT_FSIZE: u32 = 1;
pub const RLIMIT_DATA: u32 = 2;
pub const RLIMIT_STACK: u32 = 3;
pub const RLIMIT_CORE: u32 = 4;
pub const RLIMIT_RSS: u32 = 5;
pub const RLIMIT_NPROC: u32 = 6;
pub const RLIMIT_NOFILE: u32 = 7;
pub const RLIMIT_MEMLOCK: u32 = 8;
pub const RLIMIT_AS: u32 = 9;
pub const RLIMIT_LOCKS: u32 = 10;
pub const RLIMIT_SIGPENDING: u32 = 11;
pub const RLIMIT_MSGQUEUE: u32 = 12;
pub const RLIMIT_NICE: u32 = 13;
pub const RLIMIT_RTPRIO: u32 = 14;
pub const RLIMIT_RTTIME: u32 = 15;
pub const RLIM_NLIMITS: usize = 16;
pub const RLIM_INFINITY: u64 = u64::MAX;

/// `_STK_LIM`: the default stack limit, and the size of the initial stack mapping.
pub const STK_LIM: u64 = 8 << 20;
/// The default open-file limits (`INR_OPEN_CUR`, `INR_OPEN_MAX`).
pub const INR_OPEN_CUR: u64 = 1024;
pub const INR_OPEN_MAX: u64 = 4096;
/// Tasks one user may have; the kernel derives it from RAM, we pick a typical value.
const DEFAULT_NPROC: u64 = 63_434;
/// `MLOCK_LIMIT`: 8 MiB since Linux 5.16.
const MLOCK_LIMIT: u64 = 8 << 20;
/// `MQ_BYTES_MAX`.
const MQ_BYTES_MAX: u64 = 819_200;

/// `struct rlimit { rlim_t rlim_cur, rlim_max; }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    pub cur: u64,
    pub max: u64,
}

impl Rlimit {
    pub const SIZE: usize = 16;

    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, 0, self.cur);
        put_u64(&mut b, 8, self.max);
        b
    }

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Rlimit {
        Rlimit {
            cur: get_u64(b, 0),
            max: get_u64(b, 8),
        }
    }
}

/// The limits init starts with (`INIT_RLIMITS`), indexed by `RLIMIT_*`.
pub const INIT_RLIMITS: [Rlimit; RLIM_NLIMITS] = {
    const INF: Rlimit = Rlimit {
        cur: RLIM_INFINITY,
        max: RLIM_INFINITY,
    };
    let mut l = [INF; RLIM_NLIMITS];
    l[RLIMIT_STACK as usize] = Rlimit {
        cur: STK_LIM,
        max: RLIM_INFINITY,
    };
    l[RLIMIT_CORE as usize] = Rlimit {
        cur: 0,
        max: RLIM_INFINITY,
    };
    l[RLIMIT_NPROC as usize] = Rlimit {
        cur: DEFAULT_NPROC,
        max: DEFAULT_NPROC,
    };
    l[RLIMIT_NOFILE as usize] = Rlimit {
        cur: INR_OPEN_CUR,
        max: INR_OPEN_MAX,
    };
    l[RLIMIT_MEMLOCK as usize] = Rlimit {
        cur: MLOCK_LIMIT,
        max: MLOCK_LIMIT,
    };
    l[RLIMIT_SIGPENDING as usize] = Rlimit {
        cur: DEFAULT_NPROC,
        max: DEFAULT_NPROC,
    };
    l[RLIMIT_MSGQUEUE as usize] = Rlimit {
        cur: MQ_BYTES_MAX,
        max: MQ_BYTES_MAX,
    };
    l[RLIMIT_NICE as usize] = Rlimit { cur: 0, max: 0 };
    l[RLIMIT_RTPRIO as usize] = Rlimit { cur: 0, max: 0 };
    l
};
