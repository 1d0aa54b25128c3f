//! Model checks of the ring and the park/wake protocol: loom runs each body
//! under every interleaving (and every allowed memory-order outcome) of its
//! threads. Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p whirl-mailbox --test loom --release
//! ```
#![cfg(loom)]

use std::mem::MaybeUninit;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use whirl_mailbox::{entry_ring, spsc, Doorbell, PopError};

/// Wakes a loom thread. Loom reports a deadlock when every thread is parked,
/// which is exactly what a lost wake-up looks like.
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: StdArc<Self>) {
        self.0.unpark();
    }
}

fn current_waker() -> Waker {
    Waker::from(StdArc::new(Unpark(thread::current())))
}

/// Pops one item, parking on the doorbell while the ring is empty.
fn pop_blocking<T>(rx: &mut spsc::Consumer<T>, waker: &Waker) -> Option<T> {
    let mut cx = Context::from_waker(waker);
    loop {
        match rx.poll_pop(&mut cx) {
            Poll::Ready(result) => return result.ok(),
            Poll::Pending => {
                thread::park();
                rx.doorbell().cancel_park();
            }
        }
    }
}

#[test]
fn push_pop_hand_over_items_in_order() {
    loom::model(|| {
        let (mut tx, mut rx) = spsc::channel::<u32>(2).unwrap();
        let producer = thread::spawn(move || {
            let mut sent = 0;
            let mut attempts = 0;
            while sent < 3 && attempts < 6 {
                if tx.try_push(sent).is_ok() {
                    sent += 1;
                }
                attempts += 1;
                thread::yield_now();
            }
            sent
        });
        let mut received = Vec::new();
        for _ in 0..6 {
            match rx.try_pop() {
                Ok(v) => received.push(v),
                Err(PopError::Closed) => break,
                Err(PopError::Empty) => thread::yield_now(),
            }
        }
        let sent = producer.join().unwrap();
        while let Ok(v) = rx.try_pop() {
            received.push(v);
        }
        assert_eq!(received, (0..sent).collect::<Vec<_>>());
    });
}

#[test]
fn batches_publish_and_release_whole() {
    loom::model(|| {
        let (mut tx, mut rx) = spsc::channel::<u32>(2).unwrap();
        let producer = thread::spawn(move || {
            let mut items = 0..4u32;
            for _ in 0..3 {
                tx.push_iter(&mut items).unwrap();
                thread::yield_now();
            }
            items.start
        });
        let mut received = Vec::new();
        for _ in 0..3 {
            let _ = rx.pop_each(2, |v| received.push(v));
            thread::yield_now();
        }
        let sent = producer.join().unwrap();
        let _ = rx.pop_each(4, |v| received.push(v));
        assert_eq!(received, (0..sent).collect::<Vec<_>>());
    });
}

// In the park/wake models the consumer runs on a thread of its own, never on
// the model's main thread: a late wake-up aimed at a thread that is blocked in
// `join` confuses loom (std ignores it), and the consumer never joins.

#[test]
fn refused_items_stay_at_the_head() {
    loom::model(|| {
        let (mut tx, mut rx) = spsc::channel::<u32>(2).unwrap();
        let producer = thread::spawn(move || {
            let mut sent = 0;
            for _ in 0..3 {
                if tx.try_push(sent).is_ok() {
                    sent += 1;
                }
            }
            sent
        });
        let mut received = Vec::new();
        // Refuse every odd item once: it must come back first next time.
        let mut refused_once = Vec::new();
        for _ in 0..4 {
            let _ = rx.pop_until(2, |v| {
                if v % 2 == 1 && !refused_once.contains(&v) {
                    refused_once.push(v);
                    return Err(v);
                }
                received.push(v);
                Ok(())
            });
            thread::yield_now();
        }
        let sent = producer.join().unwrap();
        while let Ok(v) = rx.try_pop() {
            received.push(v);
        }
        assert_eq!(received, (0..sent).collect::<Vec<_>>());
    });
}

#[test]
fn parked_consumer_is_always_woken_by_a_push() {
    loom::model(|| {
        let (mut tx, mut rx) = spsc::channel::<u32>(2).unwrap();
        let consumer = thread::spawn(move || {
            let waker = current_waker();
            assert_eq!(pop_blocking(&mut rx, &waker), Some(1));
            assert_eq!(pop_blocking(&mut rx, &waker), Some(2));
            rx
        });
        tx.try_push(1).unwrap();
        tx.try_push(2).unwrap();
        // The producer stays alive: only the pushes may wake the consumer.
        let rx = consumer.join().unwrap();
        drop((tx, rx));
    });
}

#[test]
fn parked_consumer_is_always_woken_by_close() {
    loom::model(|| {
        let (tx, mut rx) = spsc::channel::<u32>(1).unwrap();
        let consumer = thread::spawn(move || pop_blocking(&mut rx, &current_waker()));
        drop(tx);
        assert_eq!(consumer.join().unwrap(), None);
    });
}

#[test]
fn shared_doorbell_woken_by_either_of_two_producers() {
    loom::model(|| {
        let doorbell = Arc::new(Doorbell::new());
        let (mut tx_a, mut rx_a) = spsc::channel_with_doorbell::<u32>(1, doorbell.clone()).unwrap();
        let (mut tx_b, mut rx_b) = spsc::channel_with_doorbell::<u32>(1, doorbell.clone()).unwrap();
        let consumer = thread::spawn(move || {
            let waker = current_waker();
            let mut got = 0;
            while got < 2 {
                let before = got;
                got += rx_a.try_pop().is_ok() as u32;
                got += rx_b.try_pop().is_ok() as u32;
                if got == before {
                    doorbell.prepare_park(&waker);
                    if rx_a.is_empty() && rx_b.is_empty() {
                        thread::park();
                    }
                    doorbell.cancel_park();
                }
            }
            (rx_a, rx_b)
        });
        let b = thread::spawn(move || {
            tx_b.try_push(2).unwrap();
            tx_b
        });
        tx_a.try_push(1).unwrap();
        let tx_b = b.join().unwrap();
        let rx = consumer.join().unwrap();
        drop((tx_a, tx_b, rx));
    });
}

#[test]
fn items_are_dropped_exactly_once_when_ends_race() {
    struct Tracked(Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = spsc::channel::<Tracked>(2).unwrap();
        let counter = drops.clone();
        let producer = thread::spawn(move || {
            let mut pushed = 0;
            for _ in 0..2 {
                match tx.try_push(Tracked(counter.clone())) {
                    Ok(()) => pushed += 1,
                    Err(refused) => drop(refused),
                }
            }
            pushed
        });
        let popped = rx.try_pop().ok();
        drop(popped);
        drop(rx);
        let _pushed = producer.join().unwrap();
        // Every item made (pushed or refused) is dropped exactly once.
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    });
}

/// Two workers, each sending one message to the other, decide quiescence
/// concurrently: if one of them seals, both messages have been handled, and
/// a worker refused by the seal has nothing left to take.
#[test]
fn quiescence_is_never_decided_with_a_message_in_flight() {
    use whirl_mailbox::Quiescence;
    loom::model(|| {
        let group = Arc::new(Quiescence::new(2));
        // in[i]: messages sent to worker i; handled[i]: taken and handled.
        let sent = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let handled = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let workers: Vec<_> = (0..2)
            .map(|me| {
                let (group, sent, handled) = (group.clone(), sent.clone(), handled.clone());
                thread::spawn(move || {
                    let peer = 1 - me;
                    // Busy from the start: send one message to the peer.
                    sent[peer].fetch_add(1, Ordering::SeqCst);
                    let mut decided = false;
                    for _ in 0..2 {
                        let waiting =
                            sent[me].load(Ordering::SeqCst) - handled[me].load(Ordering::SeqCst);
                        if waiting > 0 {
                            if group.is_quiet(me) && !group.note_busy(me) {
                                break;
                            }
                            handled[me].fetch_add(waiting, Ordering::SeqCst);
                        }
                        // Quiet only once the peer took what we sent.
                        if handled[peer].load(Ordering::SeqCst) == 1 {
                            let (_, sealed) = group.note_quiet(me);
                            if sealed {
                                decided = true;
                                break;
                            }
                        }
                        thread::yield_now();
                    }
                    decided
                })
            })
            .collect();
        let decisions: Vec<bool> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        if decisions.iter().any(|&d| d) {
            assert!(group.is_sealed());
            for i in 0..2 {
                assert_eq!(
                    handled[i].load(Ordering::SeqCst),
                    sent[i].load(Ordering::SeqCst),
                    "sealed with a message for worker {i} unhandled"
                );
            }
        }
        assert!(decisions.iter().filter(|&&d| d).count() <= 1, "decided twice");
    });
}

/// # Safety
///
/// `entry` points at a complete entry whose word 0 is its length.
unsafe fn drop_entry(entry: *mut u64) -> usize {
    // SAFETY: as the contract says.
    unsafe { *entry as usize }
}

/// Writes and publishes one entry of `len` words (word 0 is the length).
fn write_entry(tx: &mut whirl_mailbox::entry_ring::EntryProducer, len: usize) -> bool {
    // SAFETY: every word written; plain numbers; word 0 is the length, as
    // `drop_entry` reads it.
    let wrote = unsafe {
        tx.try_write(len, |words: &mut [MaybeUninit<u64>]| {
            for word in words.iter_mut() {
                word.write(len as u64);
            }
        })
    };
    wrote.is_ok() && tx.publish()
}

/// A producer waiting for room in a full entry ring is always woken when
/// the consumer frees words: it never sleeps through the release.
#[test]
fn producer_waiting_for_room_is_always_woken_by_a_release() {
    loom::model(|| {
        let (mut tx, mut rx) =
            entry_ring::channel(4, 2, drop_entry, Arc::new(Doorbell::new())).unwrap();
        assert!(write_entry(&mut tx, 2) && write_entry(&mut tx, 2), "fills the ring");
        let producer = thread::spawn(move || {
            let waker = current_waker();
            while !write_entry(&mut tx, 2) {
                if !tx.wait_for_room(2, &waker) {
                    thread::park();
                }
            }
            tx
        });
        let entry = rx.front().expect("published before the spawn");
        // SAFETY: a complete entry whose word 0 is its length.
        let len = unsafe { *entry } as usize;
        rx.advance(len);
        // Kept alive: only the release may wake the producer.
        rx.release();
        let tx = producer.join().unwrap();
        drop((tx, rx));
    });
}

/// A producer waiting for room is woken when the consumer goes away.
#[test]
fn producer_waiting_for_room_is_always_woken_by_close() {
    loom::model(|| {
        let (mut tx, rx) =
            entry_ring::channel(2, 2, drop_entry, Arc::new(Doorbell::new())).unwrap();
        assert!(write_entry(&mut tx, 2), "fills the ring");
        // (Loom threads park in spawned threads; the main one drives.)
        let producer = thread::spawn(move || {
            let waker = current_waker();
            while !tx.is_closed() {
                if !tx.wait_for_room(2, &waker) {
                    thread::park();
                }
            }
        });
        drop(rx);
        producer.join().unwrap();
    });
}

/// Entries of different sizes cross an entry ring whole and in order, with
/// the ring full and wrapping into its spare words on the way.
#[test]
fn entry_ring_hands_over_whole_entries_in_order() {
    loom::model(|| {
        let (mut tx, mut rx) =
            entry_ring::channel(4, 3, drop_entry, Arc::new(Doorbell::new())).unwrap();
        let producer = thread::spawn(move || {
            // Sizes 3, 2, 3: the second entry wraps into the spare words.
            let mut sent = 0u64;
            let mut attempts = 0;
            while sent < 3 && attempts < 6 {
                let len = [3usize, 2, 3][sent as usize];
                // SAFETY: all words written; plain numbers; word 0 is the length.
                let wrote = unsafe {
                    tx.try_write(len, |words: &mut [MaybeUninit<u64>]| {
                        words[0].write(len as u64);
                        for word in &mut words[1..] {
                            word.write(sent);
                        }
                    })
                };
                if wrote.is_ok() {
                    tx.publish();
                    sent += 1;
                }
                attempts += 1;
                thread::yield_now();
            }
            sent
        });
        let mut got = 0u64;
        let mut attempts = 0;
        while got < 3 && attempts < 6 {
            if let Some(entry) = rx.front() {
                // SAFETY: a complete entry of our format.
                let len = unsafe { *entry } as usize;
                assert_eq!(len, [3usize, 2, 3][got as usize]);
                for i in 1..len {
                    // SAFETY: the entry is `len` words long.
                    assert_eq!(unsafe { *entry.add(i) }, got, "torn entry");
                }
                rx.advance(len);
                rx.release();
                got += 1;
            }
            attempts += 1;
            thread::yield_now();
        }
        let sent = producer.join().unwrap();
        assert!(got <= sent);
    });
}
