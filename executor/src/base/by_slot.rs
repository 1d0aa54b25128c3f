//! Side tables keyed by slot index.
//!
//! Slot indices are small, dense and chosen by the shard, never by a user,
//! so these tables need neither SipHash's cost nor its defence against
//! chosen keys: each word is mixed in with a multiply by an odd constant, as
//! FxHash does, which keeps a stop's handful of side-table removals off the
//! profile.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A side table from slot index (or `(slot, generation)`) to `V`.
pub(crate) type BySlot<V, K = u32> = HashMap<K, V, BuildHasherDefault<SlotHasher>>;

/// Hashes one slot index.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SlotHasher(u64);

impl SlotHasher {
    /// 2^64 / golden ratio, odd.
    const K: u64 = 0x9E37_79B9_7F4A_7C15;

    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for SlotHasher {
    #[inline]
    fn write_u32(&mut self, word: u32) {
        self.mix(u64::from(word));
    }

    fn write(&mut self, bytes: &[u8]) {
        // Slot keys are `u32`s (or pairs of them); anything else still hashes.
        for &byte in bytes {
            self.mix(u64::from(byte));
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        // hashbrown takes a bucket from the low bits and a 7-bit tag from
        // the top ones. A product keeps its factor's trailing zeros in its
        // low bits, so slots 64 apart would share 1/64 of the buckets: the
        // rotation brings the well-mixed middle bits down (as rustc-hash 2
        // does; 32 spreads strides of 1, 64, 1024 and 4096 well, the test
        // below checks three of them).
        self.0.rotate_left(32)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::Hash;

    use super::*;

    fn hash(slot: u32) -> u64 {
        let mut h = SlotHasher::default();
        h.write_u32(slot);
        h.finish()
    }

    fn distinct(values: impl Iterator<Item = u64>) -> usize {
        values.collect::<std::collections::HashSet<u64>>().len()
    }

    #[test]
    fn dense_and_strided_slots_spread_over_tags_and_buckets() {
        assert!(distinct((0..1024).map(|s| hash(s) >> 57)) > 100, "tags");
        for stride in [1, 64, 1024] {
            let buckets = distinct((0..1024).map(|s| hash(s * stride) & 1023));
            // A uniform hash fills about 63 % of 1024 buckets with 1024 keys.
            assert!(buckets > 550, "stride {stride}: {buckets} of 1024 buckets");
        }
    }

    #[test]
    fn a_pair_hashes_both_words() {
        let pair = |a: u32, b: u32| {
            let mut h = SlotHasher::default();
            (a, b).hash(&mut h);
            h.finish()
        };
        assert_ne!(pair(1, 7), pair(2, 7));
        assert_ne!(pair(1, 7), pair(1, 8));
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
