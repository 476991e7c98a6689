//! The page table: guest page number to page-table entry.
//!
//! Two levels: an ordered map from 2 MiB region to a leaf of 512 entries. Lookups happen only
//! on TLB misses, and the ordered map gives range operations and `fork` a cheap walk.

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

    pub fn get_mut(&mut self, vpn: u64) -> Option<&mut Pte> {
        let leaf = self.leaves.get_mut(&(vpn >> LEAF_BITS))?;
        leaf.ptes.get_mut(vpn as usize % LEAF_LEN)
    }

    pub fn get_or_insert(&mut self, vpn: u64) -> &mut Pte {
        let leaf = self.leaves.entry(vpn >> LEAF_BITS).or_insert_with(|| Leaf {
            ptes: Box::new(std::array::from_fn(|_| Pte::default())),
        });
        &mut leaf.ptes[vpn as usize % LEAF_LEN]
    }

    /// Drops leaves with no mapped page left.
    pub fn prune(&mut self) {
        self.leaves
            .retain(|_, leaf| leaf.ptes.iter().any(|p| p.flags & PTE_MAPPED != 0));
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
    /// marked as code since the child's decode cache starts empty.
    pub fn clone_for_fork(&self) -> PageTable {
        let leaves = self
            .leaves
            .iter()
            .map(|(&k, leaf)| {
                let ptes = Box::new(std::array::from_fn(|i| {
                    let p = &leaf.ptes[i];
                    Pte {
                        frame: p.frame.clone(),
                        flags: p.flags & !PTE_CODE,
                    }
                }));
                (k, Leaf { ptes })
            })
            .collect();
        PageTable { leaves }
    }
}
