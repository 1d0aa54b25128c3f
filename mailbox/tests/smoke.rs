//! The basic contract of one ring, on one thread.

use whirl_mailbox::{spsc, PopError, PushError};

#[test]
fn push_then_pop_in_order() {
    let (mut tx, mut rx) = spsc::channel::<u32>(4).unwrap();
    assert_eq!(rx.try_pop(), Err(PopError::Empty));
    tx.try_push(1).unwrap();
    tx.try_push(2).unwrap();
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.try_pop(), Ok(1));
    assert_eq!(rx.try_pop(), Ok(2));
    assert_eq!(rx.try_pop(), Err(PopError::Empty));
    assert!(rx.is_empty());
}

#[test]
fn full_ring_hands_the_item_back() {
    let (mut tx, mut rx) = spsc::channel::<String>(2).unwrap();
    tx.try_push("a".into()).unwrap();
    tx.try_push("b".into()).unwrap();
    let err = tx.try_push("c".into()).unwrap_err();
    assert!(err.is_full());
    assert_eq!(format!("{err:?}"), "Full(..)");
    assert_eq!(err.into_inner(), "c");
    assert_eq!(rx.try_pop().unwrap(), "a");
    tx.try_push("c".into()).unwrap();
    assert_eq!(rx.try_pop().unwrap(), "b");
    assert_eq!(rx.try_pop().unwrap(), "c");
}

#[test]
fn staged_items_are_invisible_until_published() {
    let (mut tx, mut rx) = spsc::channel::<u8>(4).unwrap();
    tx.stage(1).unwrap();
    tx.stage(2).unwrap();
    assert_eq!(tx.staged(), 2);
    assert_eq!(rx.try_pop(), Err(PopError::Empty));
    tx.publish();
    assert_eq!(tx.staged(), 0);
    assert_eq!(rx.try_pop(), Ok(1));
    assert_eq!(rx.try_pop(), Ok(2));
}

#[test]
fn staged_items_take_slots() {
    let (mut tx, _rx) = spsc::channel::<u8>(2).unwrap();
    tx.stage(1).unwrap();
    tx.stage(2).unwrap();
    assert!(matches!(tx.stage(3), Err(PushError::Full(3))));
    assert_eq!(tx.free_slots(), 0);
}

#[test]
fn error_types_display_what_happened() {
    let full: PushError<u8> = PushError::Full(1);
    assert_eq!(full.to_string(), "ring is full");
    let closed: PushError<u8> = PushError::Closed(1);
    assert!(closed.is_closed());
    assert!(closed.to_string().contains("consumer is gone"));
    assert!(PopError::Closed.to_string().contains("producer is gone"));
}

#[test]
fn ends_are_send_for_send_items() {
    fn assert_send<T: Send>() {}
    assert_send::<spsc::Producer<Box<u8>>>();
    assert_send::<spsc::Consumer<Box<u8>>>();
}

/// On Linux outside miri the cheap asymmetric barrier pair must be in use;
/// if membarrier were missing every publication would pay a full fence.
#[test]
#[cfg(all(target_os = "linux", not(miri)))]
fn membarrier_is_available_here() {
    assert!(whirl_mailbox::asymmetric_barriers());
}
