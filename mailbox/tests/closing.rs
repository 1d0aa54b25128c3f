//! Each end learns when the other is gone.

use whirl_mailbox::{spsc, PopError};

#[test]
fn consumer_sees_closed_after_draining() {
    let (mut tx, mut rx) = spsc::channel::<u8>(4).unwrap();
    tx.try_push(1).unwrap();
    assert!(!rx.is_closed());
    drop(tx);
    assert!(rx.is_closed());
    assert_eq!(rx.try_pop(), Ok(1));
    assert_eq!(rx.try_pop(), Err(PopError::Closed));
    assert_eq!(rx.try_pop(), Err(PopError::Closed), "closed stays closed");
}

#[test]
fn producer_sees_closed_at_once() {
    let (mut tx, rx) = spsc::channel::<u8>(4).unwrap();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert!(tx.try_push(1).unwrap_err().is_closed());
    assert!(tx.stage(1).unwrap_err().is_closed());
}

#[test]
fn closing_across_threads() {
    let (mut tx, mut rx) = spsc::channel::<u32>(2).unwrap();
    let producer = std::thread::spawn(move || {
        for mut i in 0..100 {
            loop {
                match tx.try_push(i) {
                    Ok(()) => break,
                    Err(e) if e.is_full() => {
                        i = e.into_inner();
                        std::thread::yield_now();
                    }
                    Err(_) => unreachable!("consumer outlives the producer"),
                }
            }
        }
    });
    let mut next = 0;
    loop {
        match rx.try_pop() {
            Ok(v) => {
                assert_eq!(v, next);
                next += 1;
            }
            Err(PopError::Empty) => std::thread::yield_now(),
            Err(PopError::Closed) => break,
        }
    }
    assert_eq!(next, 100);
    producer.join().unwrap();
}
