//! One doorbell shared by several rings: the consumer parks once for all.
#![cfg(not(loom))] // uses std::sync::Arc where the API takes loom's under loom

mod common;

use std::sync::Arc;
use std::task::{Context, Poll};

use common::thread_waker;
use whirl_mailbox::{spsc, Doorbell, PopError};

#[test]
fn any_ring_wakes_the_shared_doorbell() {
    let doorbell = Arc::new(Doorbell::new());
    let rings = 3;
    let per_ring: u32 = if cfg!(miri) { 20 } else { 10_000 };
    let mut consumers = Vec::new();
    let mut producers = Vec::new();
    for r in 0..rings {
        let (mut tx, rx) = spsc::channel_with_doorbell::<u32>(8, doorbell.clone()).unwrap();
        consumers.push(rx);
        producers.push(std::thread::spawn(move || {
            for i in 0..per_ring {
                common::push_yielding(&mut tx, r * per_ring + i);
            }
        }));
    }
    let waker = thread_waker();
    let mut next = vec![0u32; rings as usize];
    let mut open = rings;
    while open > 0 {
        let mut progressed = false;
        open = 0;
        for (r, rx) in consumers.iter_mut().enumerate() {
            loop {
                match rx.try_pop() {
                    Ok(v) => {
                        assert_eq!(v, r as u32 * per_ring + next[r]);
                        next[r] += 1;
                        progressed = true;
                    }
                    Err(PopError::Empty) => {
                        open += 1;
                        break;
                    }
                    Err(PopError::Closed) => break,
                }
            }
        }
        if !progressed && open > 0 {
            // Announce, re-check every ring, then sleep.
            doorbell.prepare_park(&waker);
            let any = consumers.iter_mut().any(|rx| !rx.is_empty() || rx.is_closed());
            if !any {
                std::thread::park();
            }
            doorbell.cancel_park();
        }
    }
    assert!(next.iter().all(|&n| n == per_ring));
    for p in producers {
        p.join().unwrap();
    }
}

#[test]
fn ring_reports_whether_it_woke() {
    let doorbell = Doorbell::new();
    let (mut first, mut second) = (0, 0);
    assert!(!doorbell.ring(&mut first), "nobody parked");
    doorbell.prepare_park(&thread_waker());
    assert!(doorbell.is_parked());
    assert!(doorbell.ring(&mut first));
    assert!(!doorbell.ring(&mut first), "one producer wakes each park once");
    assert!(doorbell.ring(&mut second), "another producer does not know it was woken");
    doorbell.cancel_park();
    assert!(!doorbell.is_parked());
    assert!(!doorbell.ring(&mut first));
    doorbell.prepare_park(&thread_waker());
    assert!(doorbell.ring(&mut first), "a new park is woken again");
}

#[test]
fn poll_pop_registers_and_is_woken() {
    let (mut tx, mut rx) = spsc::channel::<u8>(2).unwrap();
    let waker = thread_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(rx.poll_pop(&mut cx).is_pending());
    assert!(rx.doorbell().is_parked());
    tx.try_push(9).unwrap();
    assert_eq!(rx.poll_pop(&mut cx), Poll::Ready(Ok(9)));
}
