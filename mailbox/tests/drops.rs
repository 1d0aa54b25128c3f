//! Every item is dropped exactly once, whichever end goes first.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use whirl_mailbox::spsc;

/// Counts its drops in a counter private to one test.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

fn fill(tx: &mut spsc::Producer<Tracked>, drops: &Arc<AtomicUsize>, n: usize) {
    for _ in 0..n {
        tx.try_push(Tracked(drops.clone())).ok().unwrap();
    }
}

#[test]
fn producer_dropped_first() {
    let drops = counter();
    let (mut tx, rx) = spsc::channel(8).unwrap();
    fill(&mut tx, &drops, 5);
    drop(tx);
    assert_eq!(drops.load(Ordering::Relaxed), 0, "items stay readable");
    drop(rx);
    assert_eq!(drops.load(Ordering::Relaxed), 5);
}

#[test]
fn consumer_dropped_first() {
    let drops = counter();
    let (mut tx, rx) = spsc::channel(8).unwrap();
    fill(&mut tx, &drops, 5);
    drop(rx);
    let refused = tx.try_push(Tracked(drops.clone())).unwrap_err();
    assert!(refused.is_closed());
    drop(refused);
    assert_eq!(drops.load(Ordering::Relaxed), 1, "only the refused item, handed back");
    drop(tx);
    assert_eq!(drops.load(Ordering::Relaxed), 6);
}

#[test]
fn popped_items_are_not_dropped_again() {
    let drops = counter();
    let (mut tx, mut rx) = spsc::channel(4).unwrap();
    for _ in 0..20 {
        fill(&mut tx, &drops, 3);
        for _ in 0..3 {
            drop(rx.try_pop().unwrap());
        }
    }
    fill(&mut tx, &drops, 2);
    drop(rx.try_pop().unwrap());
    drop((tx, rx));
    assert_eq!(drops.load(Ordering::Relaxed), 62);
}

#[test]
fn staged_items_survive_the_producer() {
    let drops = counter();
    let (mut tx, mut rx) = spsc::channel(4).unwrap();
    tx.stage(Tracked(drops.clone())).ok().unwrap();
    tx.stage(Tracked(drops.clone())).ok().unwrap();
    drop(tx); // publishes what was staged
    assert!(rx.try_pop().is_ok());
    assert!(rx.try_pop().is_ok());
    assert!(rx.try_pop().is_err());
    assert_eq!(drops.load(Ordering::Relaxed), 2);
}

#[test]
fn staged_items_are_dropped_when_both_ends_go() {
    let drops = counter();
    let (mut tx, rx) = spsc::channel(4).unwrap();
    tx.stage(Tracked(drops.clone())).ok().unwrap();
    drop(rx);
    drop(tx);
    assert_eq!(drops.load(Ordering::Relaxed), 1);
}

#[test]
fn full_error_hands_the_item_back_undropped() {
    let drops = counter();
    let (mut tx, _rx) = spsc::channel(1).unwrap();
    fill(&mut tx, &drops, 1);
    let back = tx.try_push(Tracked(drops.clone())).unwrap_err().into_inner();
    assert_eq!(drops.load(Ordering::Relaxed), 0);
    drop(back);
    assert_eq!(drops.load(Ordering::Relaxed), 1);
}

#[test]
fn panicking_batch_handler_loses_and_duplicates_nothing() {
    let drops = counter();
    let (mut tx, mut rx) = spsc::channel(8).unwrap();
    fill(&mut tx, &drops, 6);
    let mut seen = 0;
    let result = catch_unwind(AssertUnwindSafe(|| {
        rx.pop_each(6, |item| {
            seen += 1;
            drop(item);
            if seen == 2 {
                panic!("handler fails on the second item");
            }
        })
    }));
    assert!(result.is_err());
    assert_eq!(drops.load(Ordering::Relaxed), 2);
    // The other four are still there, in the ring, once each.
    assert_eq!(rx.pop_each(10, drop), Ok(4));
    assert_eq!(drops.load(Ordering::Relaxed), 6);
    drop((tx, rx));
    assert_eq!(drops.load(Ordering::Relaxed), 6);
}
