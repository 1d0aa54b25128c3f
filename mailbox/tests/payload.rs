//! Payloads carry any `Send` value, inline when small, and drop it once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use whirl_mailbox::Payload;

struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn small_values_travel_inline() {
    let p = Payload::new((1u64, 2u64));
    assert!(!p.is_boxed());
    assert_eq!(p.downcast::<(u64, u64)>().ok(), Some((1, 2)));
    assert!(!Payload::new(()).is_boxed());
}

#[test]
fn large_or_overaligned_values_are_boxed() {
    let p = Payload::new([7u8; 100]);
    assert!(p.is_boxed());
    assert_eq!(p.downcast::<[u8; 100]>().ok(), Some([7; 100]));
    #[repr(align(64))]
    #[derive(Debug, PartialEq)]
    struct Aligned(u8);
    let p = Payload::new(Aligned(3));
    assert!(p.is_boxed());
    assert_eq!(p.downcast::<Aligned>().ok(), Some(Aligned(3)));
}

#[test]
fn wrong_type_hands_the_payload_back() {
    let p = Payload::new(String::from("hi"));
    let p = p.downcast::<u32>().unwrap_err();
    assert!(p.is::<String>());
    assert_eq!(p.downcast::<String>().unwrap(), "hi");
}

#[test]
fn dropped_payloads_drop_their_value_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    drop(Payload::new(Tracked(drops.clone())));
    drop(Payload::new([Tracked(drops.clone()), Tracked(drops.clone())]));
    drop(Payload::new(Tracked(drops.clone())));
    drop(Payload::new(vec![Tracked(drops.clone())]));
    let big: [Tracked; 5] = std::array::from_fn(|_| Tracked(drops.clone()));
    drop(Payload::new(big));
    assert_eq!(drops.load(Ordering::Relaxed), 10);
    let taken = Payload::new(Tracked(drops.clone())).downcast::<Tracked>().ok().unwrap();
    assert_eq!(drops.load(Ordering::Relaxed), 10, "taking it out does not drop it");
    drop(taken);
    assert_eq!(drops.load(Ordering::Relaxed), 11);
}

#[test]
fn payloads_cross_rings() {
    let (mut tx, mut rx) = whirl_mailbox::spsc::channel::<Payload>(4).unwrap();
    tx.try_push(Payload::new(5u8)).unwrap();
    tx.try_push(Payload::new(vec![1, 2, 3])).unwrap();
    assert_eq!(rx.try_pop().unwrap().downcast::<u8>().ok(), Some(5));
    assert_eq!(rx.try_pop().unwrap().downcast::<Vec<i32>>().ok(), Some(vec![1, 2, 3]));
}
