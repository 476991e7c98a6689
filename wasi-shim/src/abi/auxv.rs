//! Auxiliary-vector tags (`include/uapi/linux/auxvec.h`, `arch/riscv/include/uapi/asm/auxvec.h`)
//! and the hardware capabilities riscv64 reports in `AT_HWCAP`.

pub const AT_NULL: u64 = 0;
pub const AT_PHDR: u64 = 3;
pub const AT_PHENT: u64 = 4;
pub const AT_PHNUM: u64 = 5;
pub const AT_PAGESZ: u64 = 6;
pub const AT_BASE: u64 = 7;
pub const AT_FLAGS: u64 = 8;
pub const AT_ENTRY: u64 = 9;
pub const AT_UID: u64 = 11;
pub const AT_EUID: u64 = 12;
pub const AT_GID: u64 = 13;
pub const AT_EGID: u64 = 14;
pub const AT_HWCAP: u64 = 16;
pub const AT_CLKTCK: u64 = 17;
pub const AT_SECURE: u64 = 23;
pub const AT_RANDOM: u64 = 25;
pub const AT_EXECFN: u64 = 31;
pub const AT_L1I_CACHESIZE: u64 = 40;
pub const AT_L1I_CACHEGEOMETRY: u64 = 41;
pub const AT_L1D_CACHESIZE: u64 = 42;
pub const AT_L1D_CACHEGEOMETRY: u64 = 43;
pub const AT_L2_CACHESIZE: u64 = 44;
pub const AT_L2_CACHEGEOMETRY: u64 = 45;
pub const AT_L3_CACHESIZE: u64 = 46;
pub const AT_L3_CACHEGEOMETRY: u64 = 47;
pub const AT_MINSIGSTKSZ: u64 = 51;

/// `AT_HWCAP` on riscv: bit `letter - 'a'` for each single-letter extension
/// (`arch/riscv/kernel/cpufeature.c`). We implement RV64IMAFDC.
pub const RISCV_HWCAP_IMAFDC: u64 = {
    let mut bits = 0u64;
    let letters = *b"imafdc";
    let mut i = 0;
    while i < letters.len() {
        bits |= 1 << (letters[i] - b'a');
        i += 1;
    }
    bits
};

/// `USER_HZ`, reported as `AT_CLKTCK` and the unit of `times(2)`.
pub const USER_HZ: u64 = 100;

#[cfg(test)]
mod tests {
    #[test]
    fn hwcap_matches_linux_on_rv64gc() {
        // What a Linux riscv64 kernel on an RV64GC hart reports (and qemu-riscv64 too).
        assert_eq!(super::RISCV_HWCAP_IMAFDC, 0x112d);
    }
}
