//! The entry ring: entries of any size up to the bound come out whole, in
//! order, exactly once, across wrap-around and threads; leftovers are dropped
//! once.
#![cfg(not(loom))]

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use whirl_mailbox::entry_ring::{self, EntryConsumer, EntryProducer, WriteError};
use whirl_mailbox::Doorbell;

/// Entries in these tests: word 0 is the length, the others a sequence number.
static DROPPED: AtomicUsize = AtomicUsize::new(0);

/// # Safety
///
/// `entry` points at a complete test entry.
unsafe fn drop_entry(entry: *mut u64) -> usize {
    DROPPED.fetch_add(1, Ordering::SeqCst);
    // SAFETY: word 0 of every test entry is its length.
    unsafe { *entry as usize }
}

fn ring(capacity: usize, max: usize) -> (EntryProducer, EntryConsumer) {
    entry_ring::channel(capacity, max, drop_entry, Arc::new(Doorbell::new())).unwrap()
}

/// Writes a test entry: with `try_write` for even sequence numbers, with
/// `reserve` for odd ones, so every test covers both.
fn write(tx: &mut EntryProducer, len: usize, seq: u64) -> Result<(), WriteError> {
    let fill = |words: &mut [MaybeUninit<u64>]| {
        words[0].write(len as u64);
        for word in &mut words[1..] {
            word.write(seq);
        }
    };
    if seq % 2 == 0 {
        // SAFETY: every word is written; the entry holds plain numbers; the
        // drop function reads word 0.
        unsafe { tx.try_write(len, fill) }
    } else {
        // SAFETY: as above, through the reserved words, before the next call.
        let at = unsafe { tx.reserve(len) }?;
        // SAFETY: `reserve` handed out `len` free words.
        fill(unsafe { std::slice::from_raw_parts_mut(at, len) });
        Ok(())
    }
}

/// Reads one entry; returns (length, sequence number).
fn read(rx: &mut EntryConsumer) -> Option<(usize, u64)> {
    let entry = rx.front()?;
    // SAFETY: `front` points at a complete entry of our format.
    let len = unsafe { *entry } as usize;
    let seq = if len > 1 {
        // SAFETY: as above; the entry is `len` words long.
        let words = unsafe { std::slice::from_raw_parts(entry, len) };
        assert!(words[1..].iter().all(|&w| w == words[1]), "entry torn");
        words[1]
    } else {
        u64::MAX
    };
    rx.advance(len);
    Some((len, seq))
}

#[test]
fn entries_of_every_size_come_out_whole_and_in_order_across_laps() {
    let (mut tx, mut rx) = ring(64, 9);
    let mut seq = 0u64;
    let mut expected = std::collections::VecDeque::new();
    let rounds = if cfg!(miri) { 200 } else { 2_000usize };
    for round in 0..rounds {
        // Write until full, sizes cycling through 1..=9.
        loop {
            let len = (round + seq as usize) % 9 + 1;
            match write(&mut tx, len, seq) {
                Ok(()) => {
                    expected.push_back((len, if len > 1 { seq } else { u64::MAX }));
                    seq += 1;
                }
                Err(WriteError::Full) => break,
                Err(WriteError::Closed) => unreachable!(),
            }
        }
        if round == 0 {
            assert!(read(&mut rx).is_none(), "nothing visible before publish");
        }
        tx.publish();
        // Read a few, not all: the next round starts mid-lap.
        for _ in 0..(round % 5 + 1) {
            let Some(got) = read(&mut rx) else { break };
            assert_eq!(Some(got), expected.pop_front());
        }
        rx.release();
    }
    while let Some(got) = read(&mut rx) {
        assert_eq!(Some(got), expected.pop_front());
    }
    assert!(expected.is_empty());
}

#[test]
fn a_writer_may_use_every_word_and_no_more() {
    let (mut tx, mut rx) = ring(8, 4);
    write(&mut tx, 4, 1).unwrap();
    write(&mut tx, 4, 2).unwrap();
    assert_eq!(write(&mut tx, 1, 3), Err(WriteError::Full));
    tx.publish();
    assert_eq!(read(&mut rx), Some((4, 1)));
    assert_eq!(write(&mut tx, 1, 3), Err(WriteError::Full), "not released yet");
    rx.release();
    write(&mut tx, 3, 3).unwrap();
    assert_eq!(write(&mut tx, 2, 4), Err(WriteError::Full));
    write(&mut tx, 1, 4).unwrap();
    tx.publish();
    assert!(!tx.is_drained());
    assert_eq!(read(&mut rx), Some((4, 2)));
    assert_eq!(read(&mut rx), Some((3, 3)));
    assert_eq!(read(&mut rx), Some((1, u64::MAX)));
    assert_eq!(read(&mut rx), None);
    rx.release();
    assert!(tx.is_drained());
}

#[test]
fn entries_left_when_both_ends_are_gone_are_dropped_once() {
    let before = DROPPED.load(Ordering::SeqCst);
    let (mut tx, mut rx) = ring(32, 5);
    for seq in 0..6 {
        write(&mut tx, (seq % 5 + 1) as usize, seq).unwrap();
    }
    tx.publish();
    assert!(read(&mut rx).is_some());
    assert!(read(&mut rx).is_some());
    drop(rx);
    assert_eq!(write(&mut tx, 1, 9), Err(WriteError::Closed));
    drop(tx);
    // Four were left. (The counter is shared with tests running in
    // parallel, which drop entries only when their rings go away at the end.)
    assert_eq!(DROPPED.load(Ordering::SeqCst) - before, 4);
}

#[test]
fn threads_hand_over_a_million_entries() {
    let count: u64 = if cfg!(miri) { 2_000 } else { 1_000_000 };
    let (mut tx, mut rx) = ring(256, 17);
    let producer = std::thread::spawn(move || {
        for seq in 0..count {
            let len = (seq % 17 + 1) as usize;
            while write(&mut tx, len, seq).is_err() {
                tx.publish();
                std::thread::yield_now();
            }
            if seq % 7 == 0 {
                tx.publish();
            }
        }
    });
    let mut next = 0;
    while next < count {
        match read(&mut rx) {
            Some((len, seq)) => {
                assert_eq!(len, (next % 17 + 1) as usize);
                if len > 1 {
                    assert_eq!(seq, next);
                }
                next += 1;
                if next % 5 == 0 {
                    rx.release();
                }
            }
            None => {
                rx.release();
                std::thread::yield_now();
            }
        }
    }
    producer.join().unwrap();
}

/// Counts wake-ups.
struct CountWakes(AtomicUsize);

impl std::task::Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_producer_waiting_for_room_is_woken_once_by_the_release_that_makes_it() {
    let (mut tx, mut rx) = ring(8, 4);
    let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
    let waker = std::task::Waker::from(wakes.clone());
    write(&mut tx, 4, 0).unwrap();
    write(&mut tx, 4, 1).unwrap();
    tx.publish();
    assert_eq!(write(&mut tx, 4, 2), Err(WriteError::Full));
    // Room for 4 words: none yet, so the producer may sleep.
    assert!(!tx.wait_for_room(4, &waker));
    // Reading without releasing frees nothing and wakes nobody.
    assert_eq!(read(&mut rx), Some((4, 0)));
    assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
    rx.release();
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "the release wakes the producer");
    // Later releases of the same wait do not wake again.
    assert_eq!(read(&mut rx), Some((4, 1)));
    rx.release();
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
    // With room already there, the wait is cancelled at once.
    assert!(tx.wait_for_room(4, &waker));
    write(&mut tx, 4, 2).unwrap();
    tx.publish();
    assert_eq!(read(&mut rx), Some((4, 2)));
    rx.release();
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "a cancelled wait is not woken");
    // A consumer that goes away wakes a waiting producer.
    write(&mut tx, 4, 3).unwrap();
    write(&mut tx, 4, 4).unwrap();
    tx.publish();
    assert!(!tx.wait_for_room(4, &waker));
    drop(rx);
    assert_eq!(wakes.0.load(Ordering::SeqCst), 2);
    assert!(tx.wait_for_room(4, &waker), "a closed ring is not waited on");
}

mod model {
    //! The ring against a model: a `VecDeque` of staged, published and
    //! read-but-unreleased entries. Any sequence of writes (every size up
    //! to the bound), publications, reads and releases gives the same
    //! entries in the same order, and `Full` exactly when the entry does not
    //! fit in what the consumer has released.

    use std::collections::VecDeque;

    use proptest::prelude::*;

    use super::{read, ring, write};
    use whirl_mailbox::entry_ring::WriteError;

    #[derive(Debug, Clone)]
    enum Op {
        Write(usize),
        Publish,
        Read(usize),
        Release,
    }

    fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
        let op = prop_oneof![
            4 => (1..=max).prop_map(Op::Write),
            1 => Just(Op::Publish),
            2 => (1..6usize).prop_map(Op::Read),
            1 => Just(Op::Release),
        ];
        proptest::collection::vec(op, 1..600)
    }

    fn against_model(capacity: usize, max: usize, ops: &[Op]) {
        let (mut tx, mut rx) = ring(capacity, max);
        // (length, sequence) of entries staged, and published but unread.
        let (mut staged, mut published) = (VecDeque::new(), VecDeque::new());
        // Words written and words the consumer released.
        let (mut written, mut released, mut read_words) = (0usize, 0usize, 0usize);
        let mut seq = 0u64;
        for op in ops {
            match *op {
                Op::Write(len) => {
                    let fits = written - released + len <= capacity;
                    match write(&mut tx, len, seq) {
                        Ok(()) => {
                            assert!(
                                fits,
                                "wrote {len} words into {} free",
                                capacity - (written - released)
                            );
                            staged.push_back((len, if len > 1 { seq } else { u64::MAX }));
                            written += len;
                            seq += 1;
                        }
                        Err(WriteError::Full) => assert!(!fits, "Full with room for {len} words"),
                        Err(e) => panic!("{e:?}"),
                    }
                }
                Op::Publish => {
                    assert_eq!(tx.publish(), !staged.is_empty());
                    published.extend(staged.drain(..));
                }
                Op::Read(n) => {
                    for _ in 0..n {
                        let got = read(&mut rx);
                        assert_eq!(got, published.pop_front(), "the oldest published entry");
                        read_words += got.map_or(0, |(len, _)| len);
                    }
                }
                Op::Release => {
                    rx.release();
                    released = read_words;
                }
            }
            assert_eq!(tx.staged(), staged.iter().map(|(len, _)| len).sum::<usize>());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        #[cfg_attr(miri, ignore)]
        fn a_small_ring_matches_its_model(ops in ops(9)) {
            against_model(16, 9, &ops);
        }

        #[test]
        #[cfg_attr(miri, ignore)]
        fn entries_as_long_as_the_ring_match_the_model(ops in ops(32)) {
            against_model(32, 32, &ops);
        }
    }
}
