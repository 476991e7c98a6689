//! The mapped ranges of an address space: which pages are mapped and with what protection,
//! kept as ordered, non-overlapping page ranges so that mapping a huge range costs one entry.
//!
//! Page-table entries are created only when a page is touched; until then a page's protection
//! and sharing come from its region. Invariants: regions never overlap, are never empty, and
//! adjacent regions with the same flags are merged, so their number stays that of the distinct
//! mappings. What a page holds (its frame, whether it was decoded as code) is the page
//! table's business.

use std::collections::BTreeMap;

/// Mapped page ranges by first page number: `first → (end, flags)`, `end` exclusive, `flags`
/// a page-table entry's `Prot` and `PTE_SHARED` bits.
#[derive(Clone, Default)]
pub(crate) struct RegionMap {
    regions: BTreeMap<u64, (u64, u8)>,
}

impl RegionMap {
    /// The flags of the region holding page `vpn`, or `None` if it is unmapped.
    pub fn flags_at(&self, vpn: u64) -> Option<u8> {
        self.regions
            .range(..=vpn)
            .next_back()
            .filter(|(_, (end, _))| *end > vpn)
            .map(|(_, (_, flags))| *flags)
    }

    /// Maps `[first, end)` with `flags`, replacing whatever regions were there.
    pub fn set(&mut self, first: u64, end: u64, flags: u8) {
        if first >= end {
            return;
        }
        self.remove(first, end);
        self.regions.insert(first, (end, flags));
        self.merge_at(end);
        self.merge_at(first);
    }

    /// Unmaps `[first, end)`, splitting regions that straddle its ends.
    pub fn remove(&mut self, first: u64, end: u64) {
        self.take(first, end);
    }

    /// Unmaps `[first, end)` and returns the pieces that were mapped there, in order.
    pub fn take(&mut self, first: u64, end: u64) -> Vec<(u64, u64, u8)> {
        if first >= end {
            return Vec::new();
        }
        self.split_at(first);
        self.split_at(end);
        let starts: Vec<u64> = self.regions.range(first..end).map(|(&s, _)| s).collect();
        starts
            .into_iter()
            .filter_map(|s| self.regions.remove(&s).map(|(e, f)| (s, e, f)))
            .collect()
    }

    /// True when every page of `[first, end)` lies in some region.
    pub fn covers(&self, first: u64, end: u64) -> bool {
        let mut at = first;
        while at < end {
            match self.regions.range(..=at).next_back() {
                Some((_, &(e, _))) if e > at => at = e,
                _ => return false,
            }
        }
        true
    }

    /// Sets the protection bits (`prot`, the low three) of the mapped parts of `[first, end)`,
    /// keeping each region's other flags.
    pub fn protect(&mut self, first: u64, end: u64, prot: u8) {
        if first >= end {
            return;
        }
        self.split_at(first);
        self.split_at(end);
        for (_, (_, flags)) in self.regions.range_mut(first..end) {
            *flags = (*flags & !7) | prot;
        }
        let starts: Vec<u64> = self.regions.range(first..=end).map(|(&s, _)| s).collect();
        for s in starts.into_iter().rev() {
            self.merge_at(s);
        }
    }

    /// Number of regions (for tests of memory use).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.regions.len()
    }

    /// Splits the region holding `at` in two there, if it starts before `at`.
    fn split_at(&mut self, at: u64) {
        let Some((&s, &(e, f))) = self.regions.range(..at).next_back() else {
            return;
        };
        if e > at {
            self.regions.insert(s, (at, f));
            self.regions.insert(at, (e, f));
        }
    }

    /// Joins the region ending at `boundary` with the one starting there if their flags match.
    fn merge_at(&mut self, boundary: u64) {
        let Some(&(right_end, right_flags)) = self.regions.get(&boundary) else {
            return;
        };
        let Some((&s, &(e, f))) = self.regions.range(..boundary).next_back() else {
            return;
        };
        if e == boundary && f == right_flags {
            self.regions.remove(&boundary);
            self.regions.insert(s, (right_end, f));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(r: &RegionMap) -> Vec<(u64, u64, u8)> {
        r.regions.iter().map(|(&s, &(e, f))| (s, e, f)).collect()
    }

    #[test]
    fn split_and_merge() {
        let mut r = RegionMap::default();
        r.set(10, 20, 3);
        r.set(20, 30, 3);
        assert_eq!(all(&r), vec![(10, 30, 3)]);
        r.remove(14, 16);
        assert_eq!(all(&r), vec![(10, 14, 3), (16, 30, 3)]);
        assert!(!r.covers(10, 20));
        assert!(r.covers(16, 30));
        r.protect(12, 18, 1);
        assert_eq!(
            all(&r),
            vec![(10, 12, 3), (12, 14, 1), (16, 18, 1), (18, 30, 3)]
        );
        r.protect(0, 40, 3);
        assert_eq!(all(&r), vec![(10, 14, 3), (16, 30, 3)]);
        assert_eq!(r.take(12, 17), vec![(12, 14, 3), (16, 17, 3)]);
        assert_eq!(all(&r), vec![(10, 12, 3), (17, 30, 3)]);
        assert_eq!(
            (r.flags_at(11), r.flags_at(12), r.flags_at(29)),
            (Some(3), None, Some(3))
        );
        r.set(5, 40, 0);
        assert_eq!(all(&r), vec![(5, 40, 0)]);
    }
}
