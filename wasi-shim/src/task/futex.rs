//! Futex wait queues. A waiter is a parked thread whose [`WaitOn::Futex`] names the word; the
//! queue of a word is every such thread of the same thread group, in the order they went to
//! sleep. Keys are (thread group, address): only threads share an address space here
//! (`fork` and `vfork` copy it), so a private and a shared futex name the same waiters.

use super::run::complete;
use super::{Tasks, WaitOn};

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
