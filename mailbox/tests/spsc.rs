//! Two threads, one ring: millions of items arrive once each and in order.

mod common;

use common::{pop_blocking, push_yielding, thread_waker};
use whirl_mailbox::spsc;

const ITEMS: u64 = if cfg!(miri) { 2_000 } else { 10_000_000 };

#[test]
fn items_one_by_one_keep_their_sequence() {
    let (mut tx, mut rx) = spsc::channel::<u64>(1024).unwrap();
    let producer = std::thread::spawn(move || {
        for i in 0..ITEMS {
            push_yielding(&mut tx, i);
        }
    });
    let waker = thread_waker();
    let mut expected = 0;
    while let Ok(v) = pop_blocking(&mut rx, &waker) {
        assert_eq!(v, expected);
        expected += 1;
    }
    assert_eq!(expected, ITEMS);
    producer.join().unwrap();
}

#[test]
fn batches_keep_their_sequence() {
    let (mut tx, mut rx) = spsc::channel::<u64>(256).unwrap();
    let producer = std::thread::spawn(move || {
        let mut items = 0..ITEMS;
        while items.start < ITEMS {
            if tx.push_iter(&mut items).unwrap() == 0 {
                std::thread::yield_now();
            }
        }
    });
    let waker = thread_waker();
    let mut expected = 0;
    loop {
        let popped = rx
            .pop_each(64, |v| {
                assert_eq!(v, expected);
                expected += 1;
            })
            .unwrap_or(0);
        if popped == 0 {
            // Empty: block for one item, which also notices the close.
            match pop_blocking(&mut rx, &waker) {
                Ok(v) => {
                    assert_eq!(v, expected);
                    expected += 1;
                }
                Err(_) => break,
            }
        }
    }
    assert_eq!(expected, ITEMS);
    producer.join().unwrap();
}

/// Both threads sleep on every hop, so every hop goes through the park/wake
/// protocol in both directions. A lost wake-up hangs here.
#[test]
fn ping_pong_with_parking_never_loses_a_wake_up() {
    let rounds: u32 = if cfg!(miri) { 50 } else { 20_000 };
    let (mut ping_tx, mut ping_rx) = spsc::channel::<u32>(2).unwrap();
    let (mut pong_tx, mut pong_rx) = spsc::channel::<u32>(2).unwrap();
    let echo = std::thread::spawn(move || {
        let waker = thread_waker();
        while let Ok(v) = pop_blocking(&mut ping_rx, &waker) {
            pong_tx.try_push(v + 1).unwrap();
        }
    });
    let waker = thread_waker();
    for i in 0..rounds {
        ping_tx.try_push(i).unwrap();
        assert_eq!(pop_blocking(&mut pong_rx, &waker), Ok(i + 1));
    }
    drop(ping_tx);
    echo.join().unwrap();
}

#[test]
fn dropping_the_producer_wakes_a_parked_consumer() {
    let (tx, mut rx) = spsc::channel::<u8>(2).unwrap();
    let consumer = std::thread::spawn(move || pop_blocking(&mut rx, &thread_waker()));
    drop(tx);
    assert!(consumer.join().unwrap().is_err());
}
