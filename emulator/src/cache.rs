//! Decode-cache bookkeeping shared by every guest architecture: decoded pages by guest page
//! number, invalidation, and deferred freeing.
//!
//! The interpreter holds a raw pointer to the page it is executing while that very page may
//! be invalidated by a store inside it. Invalidated pages therefore go to a graveyard that is
//! emptied only between blocks, when no pointer into them is live.

use std::collections::HashMap;

pub struct CodeCache<P> {
    pages: HashMap<u64, Box<P>>,
    graveyard: Vec<Box<P>>,
}

impl<P> Default for CodeCache<P> {
    fn default() -> Self {
        CodeCache {
            pages: HashMap::new(),
            graveyard: Vec::new(),
        }
    }
}

impl<P> CodeCache<P> {
    pub fn get_mut(&mut self, vpn: u64) -> Option<&mut P> {
        self.pages.get_mut(&vpn).map(|b| &mut **b)
    }

    pub fn insert(&mut self, vpn: u64, page: Box<P>) -> &mut P {
        if let Some(old) = self.pages.insert(vpn, page) {
            self.graveyard.push(old);
        }
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
    }

    pub fn len(&self) -> usize {
        self.pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }
}
