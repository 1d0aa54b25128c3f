//! Batch push and pop move many items with one publication.

use whirl_mailbox::{spsc, Closed};

#[test]
fn push_iter_takes_only_what_fits() {
    let (mut tx, mut rx) = spsc::channel::<u32>(8).unwrap();
    let mut items = 0..20;
    assert_eq!(tx.push_iter(&mut items), Ok(8));
    assert_eq!(items.next(), Some(8), "the iterator was not advanced past what fit");
    assert_eq!(tx.push_iter(&mut items), Ok(0));
    let mut got = Vec::new();
    assert_eq!(rx.pop_each(5, |v| got.push(v)), Ok(5));
    assert_eq!(got, [0, 1, 2, 3, 4]);
    assert_eq!(tx.push_iter(&mut items), Ok(5));
    assert_eq!(rx.pop_each(usize::MAX, |v| got.push(v)), Ok(8));
    assert_eq!(got, [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13]);
}

#[test]
fn push_slice_copies_a_prefix() {
    let (mut tx, mut rx) = spsc::channel::<u8>(4).unwrap();
    assert_eq!(tx.push_slice(&[1, 2, 3, 4, 5, 6]), Ok(4));
    let mut out = [0u8; 8];
    assert_eq!(rx.pop_slice(&mut out), Ok(4));
    assert_eq!(&out[..4], &[1, 2, 3, 4]);
    assert_eq!(rx.pop_slice(&mut out), Ok(0));
}

#[test]
fn pop_each_respects_max() {
    let (mut tx, mut rx) = spsc::channel::<u8>(16).unwrap();
    tx.push_slice(&[7; 16]).unwrap();
    assert_eq!(rx.pop_each(3, drop), Ok(3));
    assert_eq!(rx.pop_each(0, drop), Ok(0));
    assert_eq!(rx.len(), 13);
}

#[test]
fn batches_report_closed() {
    let (mut tx, rx) = spsc::channel::<u8>(4).unwrap();
    drop(rx);
    assert_eq!(tx.push_slice(&[1]), Err(Closed));
    let mut items = 0..3u8;
    assert_eq!(tx.push_iter(&mut items), Err(Closed));
    assert_eq!(items.next(), Some(0), "nothing was taken from the iterator");

    let (mut tx, mut rx) = spsc::channel::<u8>(4).unwrap();
    tx.push_slice(&[1, 2]).unwrap();
    drop(tx);
    let mut out = [0u8; 4];
    assert_eq!(rx.pop_slice(&mut out), Ok(2), "drains first");
    assert_eq!(rx.pop_slice(&mut out), Err(Closed));
    assert_eq!(rx.pop_each(1, drop), Err(Closed));
}

#[test]
fn pop_until_leaves_a_refused_item_at_the_head() {
    let (mut tx, mut rx) = spsc::channel::<u32>(8).unwrap();
    tx.push_slice(&[1, 2, 3, 4, 5]).unwrap();
    let mut got = Vec::new();
    let taken = rx.pop_until(10, |v| {
        if v == 3 {
            return Err(v);
        }
        got.push(v);
        Ok(())
    });
    assert_eq!(taken, Ok(2));
    assert_eq!(got, [1, 2]);
    assert_eq!(rx.len(), 3, "the refused item and those behind it stay");
    assert_eq!(rx.try_pop(), Ok(3));
    assert_eq!(tx.free_slots(), 6, "only the taken slots were released");
}

#[test]
fn refused_items_are_dropped_once_with_the_ring() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    struct Tracked(Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let (mut tx, mut rx) = spsc::channel(4).unwrap();
    for _ in 0..3 {
        tx.try_push(Tracked(drops.clone())).ok().unwrap();
    }
    assert_eq!(rx.pop_until(3, Err), Ok(0));
    assert_eq!(drops.load(Ordering::Relaxed), 0);
    drop((tx, rx));
    assert_eq!(drops.load(Ordering::Relaxed), 3);
}
