//! The page table: guest page number to page-table entry.
//!
//! Two levels: an ordered map from 2 MiB span to a leaf of 512 entries. Only touched pages
//! have entries (which pages are mapped is [`super::region`]'s business), so range operations
//! walk the leaves present in the range, never every page of it. Lookups happen only on TLB
//! misses, and the ordered map gives range operations and `fork` a cheap walk.
//!
//! Each leaf is charged against the memory limit ([`super::charge`]), as Linux accounts a
//! process's page tables to its memory cgroup (`GFP_PGTABLE_USER`): reading one byte of each
//! 2 MiB of a huge reservation costs a leaf each and no frame, and would otherwise grow
//! without bound.

use super::charge::Charge;
use super::frame::Frame;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Low three bits: `Prot`. Then:
pub(crate) const PTE_MAPPED: u8 = 1 << 3;
/// The page has been decoded as code; writes must invalidate the decode cache.
pub(crate) const PTE_CODE: u8 = 1 << 4;
/// `MAP_SHARED`: the frame is written in place even while other address spaces hold it
/// (a forked child shares it instead of copying on write).
pub(crate) const PTE_SHARED: u8 = 1 << 5;

const LEAF_BITS: u32 = 9;
const LEAF_LEN: usize = 1 << LEAF_BITS;

#[derive(Default, Clone)]
pub(crate) struct Pte {
    /// `None` until first touched: mapped pages cost nothing until used.
    pub frame: Option<Rc<Frame>>,
    pub flags: u8,
}

struct Leaf {
    ptes: Box<[Pte; LEAF_LEN]>,
    _charge: Charge,
}

/// What one leaf costs: its entries and its node in the map.
pub(crate) const LEAF_BYTES: u64 = (std::mem::size_of::<[Pte; LEAF_LEN]>() + 64) as u64;

impl Leaf {
    /// An empty leaf, or `None` past the memory limit.
    fn new() -> Option<Leaf> {
        let charge = Charge::try_new(LEAF_BYTES)?;
        Some(Leaf {
            ptes: Box::new(std::array::from_fn(|_| Pte::default())),
            _charge: charge,
        })
    }
}

#[derive(Default)]
pub(crate) struct PageTable {
    leaves: BTreeMap<u64, Leaf>,
}

impl PageTable {
    pub fn get(&self, vpn: u64) -> Option<&Pte> {
        let leaf = self.leaves.get(&(vpn >> LEAF_BITS))?;
        leaf.ptes.get(vpn as usize % LEAF_LEN)
    }

    /// The entry of page `vpn`, making its leaf if need be; `None` when a new leaf would pass
    /// the memory limit.
    pub fn get_or_insert(&mut self, vpn: u64) -> Option<&mut Pte> {
        let leaf = match self.leaves.entry(vpn >> LEAF_BITS) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(Leaf::new()?),
        };
        leaf.ptes.get_mut(vpn as usize % LEAF_LEN)
    }

    /// Drops the leaves covering pages `[first, end)` that have no mapped page left.
    pub fn prune_range(&mut self, first: u64, end: u64) {
        let Some(keys) = Self::leaf_keys(first, end) else {
            return;
        };
        let empty: Vec<u64> = self
            .leaves
            .range(keys)
            .filter(|(_, leaf)| leaf.ptes.iter().all(|p| p.flags & PTE_MAPPED == 0))
            .map(|(&k, _)| k)
            .collect();
        for k in empty {
            self.leaves.remove(&k);
        }
    }

    /// Visits the mapped entries of pages `[first, end)` in order; costs the number of leaves
    /// there, not the length of the range.
    pub fn for_each_mapped_in(&mut self, first: u64, end: u64, mut f: impl FnMut(u64, &mut Pte)) {
        let Some(keys) = Self::leaf_keys(first, end) else {
            return;
        };
        for (&hi, leaf) in self.leaves.range_mut(keys) {
            for (i, pte) in leaf.ptes.iter_mut().enumerate() {
                let vpn = (hi << LEAF_BITS) | i as u64;
                if (first..end).contains(&vpn) && pte.flags & PTE_MAPPED != 0 {
                    f(vpn, pte);
                }
            }
        }
    }

    /// Number of leaves (for tests of memory use).
    #[cfg(test)]
    pub fn leaf_count(&self) -> usize {
        self.leaves.len()
    }

    /// The keys of the leaves covering pages `[first, end)`, `None` when it is empty.
    fn leaf_keys(first: u64, end: u64) -> Option<std::ops::RangeInclusive<u64>> {
        (first < end).then(|| (first >> LEAF_BITS)..=((end - 1) >> LEAF_BITS))
    }

    pub fn for_each_mapped(&mut self, mut f: impl FnMut(u64, &mut Pte)) {
        for (&hi, leaf) in self.leaves.iter_mut() {
            for (i, pte) in leaf.ptes.iter_mut().enumerate() {
                if pte.flags & PTE_MAPPED != 0 {
                    f((hi << LEAF_BITS) | i as u64, pte);
                }
            }
        }
    }

    pub fn resident_pages(&self) -> usize {
        self.leaves
            .values()
            .map(|l| l.ptes.iter().filter(|p| p.frame.is_some()).count())
            .sum()
    }

    /// The child's table for `fork`: same frames (reference counts go up), and no page
    /// marked as code since the child's decode cache starts empty. `None` when its leaves
    /// would pass the memory limit.
    pub fn clone_for_fork(&self) -> Option<PageTable> {
        let leaves = self
            .leaves
            .iter()
            .map(|(&k, leaf)| {
                let charge = Charge::try_new(LEAF_BYTES)?;
                let ptes = Box::new(std::array::from_fn(|i| {
                    let p = &leaf.ptes[i];
                    Pte {
                        frame: p.frame.clone(),
                        flags: p.flags & !PTE_CODE,
                    }
                }));
                Some((
                    k,
                    Leaf {
                        ptes,
                        _charge: charge,
                    },
                ))
            })
            .collect::<Option<_>>()?;
        Some(PageTable { leaves })
    }
}
