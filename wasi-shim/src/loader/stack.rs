//! The initial process stack, laid out as Linux's `create_elf_tables` and `copy_strings` do.
//!
//! From the top down: an 8-byte end marker, the `AT_EXECFN` string, the environment strings,
//! the argument strings, alignment to 16, the 16 `AT_RANDOM` bytes, padding, and at the
//! 16-byte-aligned stack pointer: `argc`, the `argv` pointers and NULL, the `envp` pointers
//! and NULL, then the auxiliary vector ending with `AT_NULL`.

use crate::abi::auxv::AT_NULL;
use ctr2wasm_emulator::mmu::AddressSpace;

/// `MAX_ARG_STRLEN`: longest single argument or environment string, NUL included.
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// Most bytes of strings and pointers `execve` accepts: a quarter of the 8 MiB stack limit,
/// as Linux allows (`get_arg_page`).
pub const MAX_ARG_BYTES: usize = (8 << 20) / 4;

/// Where the loader's strings ended up, for the auxiliary vector.
pub struct StackAddrs {
    pub random: u64,
    pub execfn: u64,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    #[error("argument list too long")]
    TooBig,
    #[error("the stack mapping cannot hold the arguments")]
    Fault,
}

/// Writes the initial stack below `top` and returns the stack pointer. `auxv` builds the
/// auxiliary vector (without `AT_NULL`) once the string addresses are known.
pub fn build(
    space: &mut AddressSpace,
    top: u64,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    execfn: &[u8],
    random: [u8; 16],
    auxv: impl FnOnce(&StackAddrs) -> Vec<(u64, u64)>,
) -> Result<u64, StackError> {
    let strings: usize = argv
        .iter()
        .chain(envp)
        .chain(std::iter::once(&execfn.to_vec()))
        .map(|s| s.len() + 1)
        .try_fold(0usize, |acc, n| {
            (n <= MAX_ARG_STRLEN).then(|| acc.saturating_add(n))
        })
        .ok_or(StackError::TooBig)?;
    let pointers = (argv.len() + envp.len() + 3) * 8;
    if strings.saturating_add(pointers) > MAX_ARG_BYTES {
        return Err(StackError::TooBig);
    }

    let mut p = top - 8;
    p -= execfn.len() as u64 + 1;
    let execfn_addr = p;
    let string_ptrs = |list: &[Vec<u8>], p: &mut u64| -> Vec<u64> {
        let total: u64 = list.iter().map(|s| s.len() as u64 + 1).sum();
        *p -= total;
        let mut at = *p;
        list.iter()
            .map(|s| {
                let a = at;
                at += s.len() as u64 + 1;
                a
            })
            .collect()
    };
    let env_ptrs = string_ptrs(envp, &mut p);
    let arg_ptrs = string_ptrs(argv, &mut p);
    let strings_start = p;
    p &= !15;
    p -= 16;
    let random_addr = p;
    let mut aux = auxv(&StackAddrs {
        random: random_addr,
        execfn: execfn_addr,
    });
    aux.push((AT_NULL, 0));
    let words = 1 + (argv.len() + 1) + (envp.len() + 1) + 2 * aux.len();
    let sp = (p - 8 * words as u64) & !15;

    let mut table: Vec<u64> = Vec::with_capacity(words);
    table.push(argv.len() as u64);
    table.extend(&arg_ptrs);
    table.push(0);
    table.extend(&env_ptrs);
    table.push(0);
    table.extend(aux.iter().flat_map(|&(k, v)| [k, v]));

    let mut image = vec![0u8; (top - sp) as usize];
    for (i, w) in table.iter().enumerate() {
        image[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    let mut put = |addr: u64, bytes: &[u8]| {
        let off = (addr - sp) as usize;
        image[off..off + bytes.len()].copy_from_slice(bytes);
    };
    put(random_addr, &random);
    for (s, &a) in argv.iter().zip(&arg_ptrs).chain(envp.iter().zip(&env_ptrs)) {
        put(a, s);
    }
    put(execfn_addr, execfn);
    debug_assert!(strings_start >= random_addr + 16);
    // Everything goes into one buffer mirroring [sp, top), written with one copy.
    space.write(sp, &image).map_err(|_| StackError::Fault)?;
    Ok(sp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::auxv::{AT_EXECFN, AT_PAGESZ, AT_RANDOM};
    use ctr2wasm_emulator::mmu::Prot;

    const TOP: u64 = 0x7fff_0000;

    fn cstr(space: &mut AddressSpace, at: u64) -> Vec<u8> {
        space.read_cstr(at, 4096).unwrap().unwrap()
    }

    #[test]
    fn parses_back_as_linux_lays_it_out() {
        let mut space = AddressSpace::new();
        space.map(TOP - 0x10000, 0x10000, Prot::RW);
        let argv = vec![b"/bin/prog".to_vec(), b"one".to_vec(), b"".to_vec()];
        let envp = vec![b"A=1".to_vec(), b"PATH=/bin".to_vec()];
        let random = *b"0123456789abcdef";
        let sp = build(&mut space, TOP, &argv, &envp, b"/bin/prog", random, |a| {
            vec![
                (AT_PAGESZ, 4096),
                (AT_RANDOM, a.random),
                (AT_EXECFN, a.execfn),
            ]
        })
        .unwrap();
        assert_eq!(sp % 16, 0);
        let word = |space: &mut AddressSpace, i: u64| space.read_u64(sp + 8 * i).unwrap();
        assert_eq!(word(&mut space, 0), 3);
        for (i, a) in argv.iter().enumerate() {
            let p = word(&mut space, 1 + i as u64);
            assert_eq!(&cstr(&mut space, p), a);
        }
        assert_eq!(word(&mut space, 4), 0);
        for (i, e) in envp.iter().enumerate() {
            let p = word(&mut space, 5 + i as u64);
            assert_eq!(&cstr(&mut space, p), e);
        }
        assert_eq!(word(&mut space, 7), 0);
        let mut aux = Vec::new();
        let mut i = 8;
        loop {
            let (k, v) = (word(&mut space, i), word(&mut space, i + 1));
            aux.push((k, v));
            i += 2;
            if k == AT_NULL {
                break;
            }
        }
        assert_eq!(aux.len(), 4);
        assert_eq!(aux[0], (AT_PAGESZ, 4096));
        let mut r = [0u8; 16];
        space.read(aux[1].1, &mut r).unwrap();
        assert_eq!(r, random);
        assert_eq!(aux[1].1 % 16, 0);
        assert_eq!(cstr(&mut space, aux[2].1), b"/bin/prog");
        // The execfn string sits just below the 8-byte end marker, as in Linux.
        assert_eq!(aux[2].1, TOP - 8 - 10);
        assert_eq!(space.read_u64(TOP - 8).unwrap(), 0);
        // Argument strings come right after one another, below the environment strings.
        let argv0 = word(&mut space, 1);
        let env0 = word(&mut space, 5);
        assert_eq!(env0, argv0 + 10 + 4 + 1);
    }

    #[test]
    fn oversized_arguments_are_refused() {
        let mut space = AddressSpace::new();
        space.map(TOP - 0x10000, 0x10000, Prot::RW);
        let huge = vec![vec![b'x'; MAX_ARG_STRLEN]];
        let r = build(&mut space, TOP, &huge, &[], b"/p", [0; 16], |_| vec![]);
        assert_eq!(r, Err(StackError::TooBig));
        let many = vec![vec![b'x'; 1000]; 3000];
        let r = build(&mut space, TOP, &many, &[], b"/p", [0; 16], |_| vec![]);
        assert_eq!(r, Err(StackError::TooBig));
    }
}
