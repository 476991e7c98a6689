//! Decode-cache bookkeeping shared by every guest architecture: decoded pages by guest page
//! number, invalidation, deferred freeing, and their charge against the memory limit.
//!
//! The interpreter holds a raw pointer to the page it is executing while that very page may
//! be invalidated by a store inside it. Invalidated pages therefore go to a graveyard that is
//! emptied only between blocks, when no pointer into them is live.
//!
//! A decoded page is several times the size of the guest page it comes from, and every
//! forked process decodes its own: the cache charges each page it holds, graveyard included
//! ([`crate::mmu::charge`]), so that a thousand forked shells meet the memory limit instead
//! of the end of the runtime's heap. [`CodeCache::has_room`] says whether one more fits.

use crate::mmu::{Charge, memory_available};
use std::collections::HashMap;

pub struct CodeCache<P> {
    pages: HashMap<u64, Box<P>>,
    graveyard: Vec<Box<P>>,
    /// What one page costs: `size_of::<P>()` and whatever `P` owns.
    page_bytes: u64,
    /// `page_bytes` for every page in `pages` and `graveyard`.
    charge: Charge,
}

impl<P> CodeCache<P> {
    /// An empty cache whose pages cost `page_bytes` each.
    pub fn new(page_bytes: u64) -> Self {
        CodeCache {
            pages: HashMap::new(),
            graveyard: Vec::new(),
            page_bytes,
            charge: Charge::default(),
        }
    }

    pub fn get_mut(&mut self, vpn: u64) -> Option<&mut P> {
        self.pages.get_mut(&vpn).map(|b| &mut **b)
    }

    /// True when one more page fits under the memory limit; [`Self::insert`] charges it
    /// without checking again.
    pub fn has_room(&self) -> bool {
        memory_available(self.page_bytes)
    }

    pub fn insert(&mut self, vpn: u64, page: Box<P>) -> &mut P {
        if let Some(old) = self.pages.insert(vpn, page) {
            self.graveyard.push(old);
        }
        self.recharge();
        self.pages
            .get_mut(&vpn)
            .map(|b| &mut **b)
            .expect("just inserted")
    }

    /// Drops the decoded form of page `vpn`. The page before it goes too: an instruction
    /// at its end may straddle into `vpn`.
    pub fn invalidate(&mut self, vpn: u64) {
        for v in [vpn, vpn.wrapping_sub(1)] {
            if let Some(old) = self.pages.remove(&v) {
                self.graveyard.push(old);
            }
        }
    }

    pub fn invalidate_all(&mut self) {
        self.graveyard.extend(self.pages.drain().map(|(_, p)| p));
    }

    /// Frees invalidated pages; call only when no pointer into a decoded page is live.
    pub fn collect_garbage(&mut self) {
        self.graveyard.clear();
        self.recharge();
    }

    pub fn len(&self) -> usize {
        self.pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    fn recharge(&mut self) {
        let held = (self.pages.len() + self.graveyard.len()) as u64;
        self.charge.set_unchecked(held * self.page_bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmu::memory_in_use;

    #[test]
    fn decoded_pages_are_charged_until_collected() {
        let base = memory_in_use();
        let mut cache = CodeCache::<[u8; 16]>::new(1000);
        cache.insert(1, Box::new([0; 16]));
        cache.insert(2, Box::new([0; 16]));
        assert_eq!(memory_in_use(), base + 2000);
        cache.invalidate(2);
        // Pages 2 and 1 wait in the graveyard, still charged.
        assert_eq!(memory_in_use(), base + 2000);
        cache.collect_garbage();
        assert_eq!(memory_in_use(), base);
        cache.insert(3, Box::new([0; 16]));
        drop(cache);
        assert_eq!(memory_in_use(), base);
    }
}
