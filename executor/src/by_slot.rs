//! Side tables keyed by slot index.
//!
//! Slot indices are small, dense and chosen by the shard, never by a user,
//! so these tables need neither SipHash's cost nor its defence against
//! chosen keys: the key is multiplied by an odd constant (a bijection that
//! spreads the index over all 64 bits, as FxHash does), which keeps a stop's
//! handful of side-table removals off the profile.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A side table from slot index to `V`.
pub(crate) type BySlot<V> = HashMap<u32, V, BuildHasherDefault<SlotHasher>>;

/// Hashes one slot index.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SlotHasher(u64);

impl Hasher for SlotHasher {
    #[inline]
    fn write_u32(&mut self, slot: u32) {
        // 2^64 / golden ratio, odd: hashbrown takes its 7 tag bits from the
        // top of the hash and its bucket from the bottom, and both vary.
        self.0 = u64::from(slot).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u32` keys use this hasher; anything else still hashes.
        for &byte in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_slots_spread_over_tags_and_buckets() {
        let hash = |slot: u32| {
            let mut h = SlotHasher::default();
            h.write_u32(slot);
            h.finish()
        };
        let tags: std::collections::HashSet<u64> = (0..1024).map(|s| hash(s) >> 57).collect();
        let buckets: std::collections::HashSet<u64> = (0..1024).map(|s| hash(s) & 1023).collect();
        assert!(tags.len() > 100, "{} distinct tags", tags.len());
        assert_eq!(buckets.len(), 1024, "a bijection on the low bits");
    }

    #[test]
    fn a_table_keeps_what_it_is_given() {
        let mut table: BySlot<u32> = BySlot::default();
        for slot in 0..10_000 {
            table.insert(slot, slot * 2);
        }
        assert!((0..10_000).all(|slot| table.remove(&slot) == Some(slot * 2)));
        assert!(table.is_empty());
    }
}
