//! Rings of zero-sized items count them without storing anything.

use whirl_mailbox::{spsc, PopError};

#[test]
fn unit_items_are_counted() {
    let (mut tx, mut rx) = spsc::channel::<()>(8).unwrap();
    for _ in 0..8 {
        tx.try_push(()).unwrap();
    }
    assert!(tx.try_push(()).unwrap_err().is_full());
    assert_eq!(rx.pop_each(100, |()| {}), Ok(8));
    assert_eq!(rx.try_pop(), Err(PopError::Empty));
}

#[test]
fn zero_sized_items_with_drop_are_dropped() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Token;
    impl Drop for Token {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }
    let (mut tx, mut rx) = spsc::channel::<Token>(4).unwrap();
    for _ in 0..3 {
        tx.try_push(Token).ok().unwrap();
    }
    drop(rx.try_pop().unwrap());
    assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    drop(tx);
    drop(rx);
    assert_eq!(DROPS.load(Ordering::Relaxed), 3);
}
