//! `riscv_hwprobe(2)` keys and values (`arch/riscv/include/uapi/asm/hwprobe.h`).

/// Size of `struct riscv_hwprobe { __s64 key; __u64 value; }`.
pub const PAIR_SIZE: u64 = 16;

pub const RISCV_HWPROBE_KEY_MVENDORID: i64 = 0;
pub const RISCV_HWPROBE_KEY_MARCHID: i64 = 1;
pub const RISCV_HWPROBE_KEY_MIMPID: i64 = 2;
pub const RISCV_HWPROBE_KEY_BASE_BEHAVIOR: i64 = 3;
pub const RISCV_HWPROBE_BASE_BEHAVIOR_IMA: u64 = 1 << 0;
pub const RISCV_HWPROBE_KEY_IMA_EXT_0: i64 = 4;
pub const RISCV_HWPROBE_IMA_FD: u64 = 1 << 0;
pub const RISCV_HWPROBE_IMA_C: u64 = 1 << 1;
pub const RISCV_HWPROBE_EXT_ZBA: u64 = 1 << 3;
pub const RISCV_HWPROBE_EXT_ZBB: u64 = 1 << 4;
pub const RISCV_HWPROBE_EXT_ZBS: u64 = 1 << 5;
pub const RISCV_HWPROBE_EXT_ZICOND: u64 = 1 << 35;
pub const RISCV_HWPROBE_KEY_CPUPERF_0: i64 = 5;
pub const RISCV_HWPROBE_MISALIGNED_EMULATED: u64 = 1;
pub const RISCV_HWPROBE_KEY_MISALIGNED_SCALAR_PERF: i64 = 9;

/// `flags` bit asking which CPUs share the given pairs instead of what they share.
pub const RISCV_HWPROBE_WHICH_CPUS: u64 = 1 << 0;
pub const RISCV_HWPROBE_KEY_ZICBOZ_BLOCK_SIZE: i64 = 6;
pub const RISCV_HWPROBE_KEY_HIGHEST_VIRT_ADDRESS: i64 = 7;
pub const RISCV_HWPROBE_KEY_TIME_CSR_FREQ: i64 = 8;
