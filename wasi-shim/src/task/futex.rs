//! Futex wait queues. A waiter is a parked thread whose [`WaitOn::Futex`] names the word; the
//! queue of a word is every such thread of the same thread group, in the order they went to
//! sleep. Keys are (thread group, address): only threads share an address space here
//! (`fork` copies it; a `vfork` parent sleeps while its child borrows it), so a private and a
//! shared futex name the same waiters. Robust lists are walked when a thread ends on its own;
//! when the whole process dies nobody is left to wait on its (private) locks.

use super::run::complete;
use super::{Tasks, WaitOn};
use crate::abi::futex::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS, ROBUST_LIST_LIMIT};
use ctr2wasm_emulator::mmu::AddressSpace;

/// Wakes up to `n` waiters on `addr` of thread group `tgid` whose bitset meets `bitset`;
/// returns how many woke. Each one's `futex` returns 0.
pub fn wake(tasks: &mut Tasks, tgid: u32, addr: u64, n: u32, bitset: u32) -> u32 {
    let mut woken = 0;
    for tid in queue(tasks, tgid, addr, bitset) {
        if woken >= n {
            break;
        }
        if let Some(t) = tasks.threads.get_mut(&tid) {
            complete(t, Ok(0));
            woken += 1;
        }
    }
    woken
}

/// `FUTEX_REQUEUE`: wakes up to `nwake` waiters on `from`, moves up to `nmove` of the rest to
/// `to`; returns the number woken plus moved.
pub fn requeue(tasks: &mut Tasks, tgid: u32, from: u64, to: u64, nwake: u32, nmove: u32) -> u32 {
    let woken = wake(tasks, tgid, from, nwake, u32::MAX);
    let mut moved = 0;
    for tid in queue(tasks, tgid, from, u32::MAX) {
        if moved >= nmove {
            break;
        }
        if let Some(w) = tasks.threads.get_mut(&tid).and_then(|t| t.wait.as_mut())
            && let WaitOn::Futex { addr, .. } = &mut w.on
        {
            *addr = to;
            moved += 1;
        }
    }
    woken + moved
}

/// `exit_robust_list`: a thread with a robust list (`set_robust_list`) ended. Every lock
/// still on the list (and the one in `list_op_pending`) that names the thread as owner is
/// marked `FUTEX_OWNER_DIED`, and one waiter is woken, so the next `pthread_mutex_lock`
/// returns `EOWNERDEAD` instead of waiting forever. The list lives in guest memory
/// (`struct robust_list_head { next, futex_offset, list_op_pending }`); an unreadable entry
/// ends the walk, as in `kernel/futex/core.c`. Entries with the low bit set are PI locks,
/// whose waiters are not woken here (no PI futexes exist).
pub fn exit_robust_list(
    tasks: &mut Tasks,
    space: &mut AddressSpace,
    tgid: u32,
    tid: u32,
    head: u64,
) {
    let word = |space: &mut AddressSpace, at: u64| space.read_u64(at).ok();
    let (Some(first), Some(offset), Some(pending)) = (
        word(space, head),
        head.checked_add(8).and_then(|a| word(space, a)),
        head.checked_add(16).and_then(|a| word(space, a)),
    ) else {
        return;
    };
    let offset = offset as i64;
    let mut entry = first;
    for _ in 0..ROBUST_LIST_LIMIT {
        if entry & !1 == head {
            break;
        }
        // Read the next entry first: handling this one may free it.
        let Some(next) = word(space, entry & !1) else {
            return;
        };
        if entry & !1 != pending & !1 {
            owner_died(tasks, space, tgid, tid, entry, offset, false);
        }
        entry = next;
    }
    if pending != 0 {
        owner_died(tasks, space, tgid, tid, pending, offset, true);
    }
}

/// `handle_futex_death` for the lock whose list entry is `entry` (low bit: PI).
fn owner_died(
    tasks: &mut Tasks,
    space: &mut AddressSpace,
    tgid: u32,
    tid: u32,
    entry: u64,
    offset: i64,
    pending_op: bool,
) {
    let pi = entry & 1 != 0;
    let addr = (entry & !1).wrapping_add_signed(offset);
    if !addr.is_multiple_of(4) {
        return;
    }
    let Ok(val) = space.read_u32(addr) else {
        return;
    };
    // A lock being taken when the thread died, with no owner yet: a waiter may already
    // sleep on it and must retry.
    if pending_op && !pi && val == 0 {
        wake(tasks, tgid, addr, 1, u32::MAX);
        return;
    }
    if val & FUTEX_TID_MASK != tid {
        return;
    }
    let new = (val & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
    if space.write_u32(addr, new).is_ok() && !pi && val & FUTEX_WAITERS != 0 {
        wake(tasks, tgid, addr, 1, u32::MAX);
    }
}

/// The tids waiting on `addr` of `tgid` (bitset permitting), first come first.
fn queue(tasks: &Tasks, tgid: u32, addr: u64, bitset: u32) -> Vec<u32> {
    let mut q: Vec<(u64, u32)> = tasks
        .threads
        .values()
        .filter(|t| t.tgid == tgid)
        .filter_map(|t| match &t.wait {
            Some(w) => match w.on {
                WaitOn::Futex { addr: a, bitset: b } if a == addr && b & bitset != 0 => {
                    Some((t.wait_seq, t.tid))
                }
                _ => None,
            },
            None => None,
        })
        .collect();
    q.sort_unstable();
    q.into_iter().map(|(_, tid)| tid).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{Thread, Wait};
    use ctr2wasm_emulator::riscv64::Hart;

    fn waiter(tasks: &mut Tasks, tid: u32, addr: u64, bitset: u32) {
        let mut t = Thread::new(tid, 1, Hart::default());
        tasks.park(
            &mut t,
            Wait {
                on: WaitOn::Futex { addr, bitset },
                deadline_ns: None,
                restartable: true,
            },
        );
        tasks.threads.insert(tid, t);
    }

    #[test]
    fn robust_list_marks_the_dead_owners_locks() {
        use ctr2wasm_emulator::mmu::Prot;
        let mut space = AddressSpace::new();
        space.map(0x1000, 0x1000, Prot::RW);
        let head = 0x1000;
        // Two entries; each lock word sits 8 bytes after its entry (futex_offset 8).
        let (a, b) = (0x1100u64, 0x1200u64);
        for (at, v) in [(head, a), (head + 8, 8), (head + 16, 0), (a, b), (b, head)] {
            space.write_u64(at, v).unwrap();
        }
        space.write_u32(a + 8, 42 | FUTEX_WAITERS).unwrap();
        // Owned by another thread: left alone.
        space.write_u32(b + 8, 43).unwrap();
        let mut tasks = Tasks::default();
        waiter(&mut tasks, 7, a + 8, u32::MAX);
        exit_robust_list(&mut tasks, &mut space, 1, 42, head);
        assert_eq!(
            space.read_u32(a + 8).unwrap(),
            FUTEX_WAITERS | FUTEX_OWNER_DIED
        );
        assert_eq!(space.read_u32(b + 8).unwrap(), 43);
        assert!(tasks.threads[&7].wait.is_none());
    }

    #[test]
    fn wakes_in_arrival_order_and_requeues() {
        let mut tasks = Tasks::default();
        waiter(&mut tasks, 7, 0x100, u32::MAX);
        waiter(&mut tasks, 3, 0x100, 1);
        waiter(&mut tasks, 5, 0x100, 4);
        waiter(&mut tasks, 9, 0x200, u32::MAX);
        assert_eq!(wake(&mut tasks, 1, 0x100, 1, 1), 1);
        assert!(tasks.threads[&7].wait.is_none());
        assert!(tasks.threads[&3].wait.is_some());
        // Bit 2 only matches thread 5.
        assert_eq!(wake(&mut tasks, 1, 0x100, 5, 4), 1);
        assert!(tasks.threads[&5].wait.is_none());
        // Another thread group's word is another queue.
        assert_eq!(wake(&mut tasks, 2, 0x200, 5, u32::MAX), 0);
        assert_eq!(requeue(&mut tasks, 1, 0x100, 0x200, 0, 5), 1);
        assert_eq!(wake(&mut tasks, 1, 0x200, 5, u32::MAX), 2);
        assert_eq!(tasks.threads[&3].hart.pc, 4);
    }
}
