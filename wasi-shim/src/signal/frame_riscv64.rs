//! The riscv64 signal frame: building `struct rt_sigframe` on the user stack when a handler
//! is entered, and taking it down again in `rt_sigreturn` (`arch/riscv/kernel/signal.c`).
//!
//! The layout lives in [`crate::abi::signal::frame`]. glibc sets no restorer on riscv64, so
//! the handler returns through `ra` into the sigreturn trampoline of the [`VDSO_BASE`] page,
//! which every process has mapped.

use crate::abi::Errno;
use crate::abi::signal::{
    SA_ONSTACK, SA_SIGINFO, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, SigAction, SigInfo, StackT,
    UNBLOCKABLE, frame,
};
use crate::task::mm::{FileBacking, Mm, STACK_SIZE, STACK_TOP, VmaKind};
use crate::task::{Process, Thread};
use ctr2wasm_emulator::mmu::{PAGE_SIZE, Prot};
use ctr2wasm_emulator::riscv64::reg::{A0, A1, A2, RA, SP};
use std::rc::Rc;

/// Where the vDSO page goes: in the gap Linux keeps between the stack and `mmap_base`, where
/// neither the stack nor top-down `mmap` placement reach, so guest mappings land where they
/// would without it.
pub const VDSO_BASE: u64 = STACK_TOP - STACK_SIZE - 16 * PAGE_SIZE;
/// `__vdso_rt_sigreturn`: `li a7, 139` (`__NR_rt_sigreturn`); `ecall`.
const SIGRETURN_CODE: [u32; 2] = [0x08b0_0893, 0x0000_0073];
/// The trampoline's address: the start of the page.
pub const SIGRETURN_TRAMPOLINE: u64 = VDSO_BASE;

/// Maps the vDSO page (read and execute) into a fresh address space.
pub fn map_vdso(mm: &mut Mm) {
    let code: Vec<u8> = SIGRETURN_CODE
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    mm.map_fixed(
        VDSO_BASE,
        PAGE_SIZE,
        Prot::READ | Prot::EXEC,
        VmaKind::Vdso(FileBacking {
            data: Rc::from(code),
            start: 0,
        }),
    );
}

/// True when `sp` lies on the thread's alternate signal stack.
pub fn on_altstack(thread: &Thread, sp: u64) -> bool {
    let s = thread.altstack;
    s.flags & SS_DISABLE == 0 && s.size != 0 && sp.wrapping_sub(s.sp) < s.size
}

/// Pushes the frame for `sig` and points the thread at the handler (`setup_rt_frame`).
/// `old_mask` is the mask `rt_sigreturn` restores.
pub fn setup(
    proc: &mut Process,
    thread: &mut Thread,
    sig: u32,
    act: &SigAction,
    info: &SigInfo,
    old_mask: u64,
) -> Result<(), Errno> {
    let h = &thread.hart;
    let user_sp = h.x[SP];
    // `get_sigframe` / `sigsp`: switch to the alternate stack unless already on it.
    let mut sp = user_sp;
    if act.flags & SA_ONSTACK != 0
        && thread.altstack.flags & SS_DISABLE == 0
        && thread.altstack.size != 0
        && !on_altstack(thread, user_sp)
    {
        sp = thread.altstack.sp.wrapping_add(thread.altstack.size);
    }
    let base = sp.wrapping_sub(frame::SIZE) & !0xf;
    let mut f = vec![0u8; frame::SIZE as usize];
    let mut put = |off: u64, v: &[u8]| {
        let o = off as usize;
        f[o..o + v.len()].copy_from_slice(v);
    };
    put(frame::INFO, &info.to_bytes(sig));
    // uc_flags and uc_link stay 0; uc_stack is the alternate stack as `__save_altstack` saves it.
    let ss_flags = if thread.altstack.flags & SS_DISABLE != 0 || thread.altstack.size == 0 {
        SS_DISABLE
    } else if on_altstack(thread, user_sp) {
        SS_ONSTACK
    } else {
        thread.altstack.flags & SS_AUTODISARM
    };
    let stack = StackT {
        sp: thread.altstack.sp,
        flags: ss_flags,
        size: thread.altstack.size,
    };
    put(frame::UC_STACK, &stack.to_bytes());
    put(frame::UC_SIGMASK, &old_mask.to_le_bytes());
    put(frame::SC_REGS, &h.pc.to_le_bytes());
    for i in 1..32 {
        put(frame::SC_REGS + 8 * i as u64, &h.x[i].to_le_bytes());
    }
    for i in 0..32 {
        put(frame::SC_FPREGS + 8 * i as u64, &h.f[i].to_le_bytes());
    }
    put(frame::SC_FCSR, &h.fcsr().to_le_bytes());
    proc.mm.space.write(base, &f).map_err(|_| Errno::EFAULT)?;
    if thread.altstack.flags & SS_AUTODISARM != 0 && sp != user_sp {
        thread.altstack = StackT {
            sp: 0,
            flags: SS_DISABLE,
            size: 0,
        };
    }
    let h = &mut thread.hart;
    h.x[RA] = SIGRETURN_TRAMPOLINE;
    h.x[SP] = base;
    h.x[A0] = u64::from(sig);
    if act.flags & SA_SIGINFO != 0 {
        h.x[A1] = base + frame::INFO;
        h.x[A2] = base + frame::UC;
    }
    h.pc = act.handler;
    Ok(())
}

/// `rt_sigreturn`: restores registers, FP state, mask and alternate stack from the frame at
/// `sp`. Returns the restored `a0`.
pub fn restore(proc: &mut Process, thread: &mut Thread) -> Result<u64, Errno> {
    let base = thread.hart.x[SP];
    let mut f = vec![0u8; frame::SIZE as usize];
    proc.mm
        .space
        .read(base, &mut f)
        .map_err(|_| Errno::EFAULT)?;
    let get = |off: u64| {
        let o = off as usize;
        u64::from_le_bytes(f[o..o + 8].try_into().expect("8 bytes in the frame"))
    };
    let h = &mut thread.hart;
    h.pc = get(frame::SC_REGS);
    for i in 1..32 {
        h.x[i] = get(frame::SC_REGS + 8 * i as u64);
    }
    for i in 0..32 {
        h.f[i] = get(frame::SC_FPREGS + 8 * i as u64);
    }
    h.set_fcsr(get(frame::SC_FCSR) as u32);
    thread.sigmask = get(frame::UC_SIGMASK) & !UNBLOCKABLE;
    // `restore_altstack`: errors are ignored, as Linux does.
    let ss = frame::UC_STACK as usize;
    let stack = StackT::from_bytes(f[ss..ss + StackT::SIZE].try_into().expect("stack_t"));
    if !on_altstack(thread, thread.hart.x[SP]) {
        thread.altstack = if stack.flags & SS_DISABLE != 0 {
            StackT {
                sp: 0,
                flags: SS_DISABLE,
                size: 0,
            }
        } else {
            StackT {
                sp: stack.sp,
                flags: stack.flags & SS_AUTODISARM,
                size: stack.size,
            }
        };
    }
    Ok(thread.hart.x[A0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::signal::{SI_USER, SS_DISABLE};
    use crate::vfs::GuestPathBuf;
    use ctr2wasm_emulator::riscv64::Hart;

    fn setup_process() -> (Process, Thread) {
        let mut p = Process::new(1, GuestPathBuf::root(), GuestPathBuf::root());
        p.mm.map_fixed(0x10_0000, 4 * PAGE_SIZE, Prot::RW, VmaKind::Anonymous);
        let mut h = Hart::default();
        for (i, x) in h.x.iter_mut().enumerate() {
            *x = 0x100 + i as u64;
        }
        for (i, f) in h.f.iter_mut().enumerate() {
            *f = 0x4000_0000_0000_0000 | i as u64;
        }
        h.x[SP] = 0x10_0000 + 4 * PAGE_SIZE - 8;
        h.pc = 0x1234;
        h.set_fcsr(0x45);
        (p, Thread::new(1, 1, h))
    }

    #[test]
    fn frame_round_trips_registers_and_mask() {
        let (mut p, mut t) = setup_process();
        let before = t.hart.clone();
        t.sigmask = 0b1000;
        let act = SigAction {
            handler: 0x9000,
            flags: SA_SIGINFO,
            mask: 0,
        };
        let info = SigInfo {
            code: SI_USER,
            pid: 7,
            ..SigInfo::default()
        };
        setup(&mut p, &mut t, 10, &act, &info, 0b1000).unwrap();
        let base = t.hart.x[SP];
        assert_eq!(base % 16, 0);
        assert!(base <= before.x[SP] - frame::SIZE);
        assert_eq!(t.hart.pc, 0x9000);
        assert_eq!(t.hart.x[RA], SIGRETURN_TRAMPOLINE);
        assert_eq!(t.hart.x[A0], 10);
        assert_eq!(t.hart.x[A1], base);
        assert_eq!(t.hart.x[A2], base + frame::UC);
        assert_eq!(p.mm.space.read_u32(base).unwrap(), 10);
        assert_eq!(p.mm.space.read_u32(base + 16).unwrap(), 7);
        assert_eq!(p.mm.space.read_u64(base + frame::SC_REGS).unwrap(), 0x1234);
        assert_eq!(
            p.mm.space.read_u64(base + frame::SC_REGS + 8 * 5).unwrap(),
            0x105
        );
        // The handler edits the saved pc; sigreturn brings everything else back as it was.
        p.mm.space.write_u64(base + frame::SC_REGS, 0x2000).unwrap();
        t.sigmask = u64::MAX;
        t.hart.x[9] = 0;
        t.hart.f[3] = 0;
        restore(&mut p, &mut t).unwrap();
        assert_eq!(t.hart.pc, 0x2000);
        assert_eq!(t.hart.x, before.x);
        assert_eq!(t.hart.f, before.f);
        assert_eq!(t.hart.fcsr(), 0x45);
        assert_eq!(t.sigmask, 0b1000);
        assert_eq!(t.altstack.flags, SS_DISABLE);
    }

    #[test]
    fn unwritable_stack_fails() {
        let (mut p, mut t) = setup_process();
        t.hart.x[SP] = 0x10_0000 + 64;
        let act = SigAction {
            handler: 0x9000,
            flags: 0,
            mask: 0,
        };
        assert_eq!(
            setup(&mut p, &mut t, 10, &act, &SigInfo::default(), 0),
            Err(Errno::EFAULT)
        );
    }
}
