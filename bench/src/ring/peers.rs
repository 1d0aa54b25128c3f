//! The threaded SPSC queues under test, behind one trait.

use std::sync::Arc;

use crossbeam_queue::ArrayQueue;

use super::SpscQueue;

/// whirl's ring (`whirl_mailbox::spsc`).
#[derive(Debug)]
pub struct Whirl;

impl SpscQueue for Whirl {
    const NAME: &'static str = "whirl";
    const HAS_BATCH: bool = true;
    type Tx = whirl_mailbox::spsc::Producer<u64>;
    type Rx = whirl_mailbox::spsc::Consumer<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        whirl_mailbox::spsc::channel(capacity).expect("power-of-two capacity")
    }
    #[inline]
    fn push(tx: &mut Self::Tx, value: u64) -> bool {
        tx.try_push(value).is_ok()
    }
    #[inline]
    fn pop(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_pop().ok()
    }
    #[inline]
    fn push_batch(tx: &mut Self::Tx, items: &[u64]) -> usize {
        tx.push_slice(items).expect("consumer alive")
    }
    #[inline]
    fn pop_batch(rx: &mut Self::Rx, out: &mut [u64]) -> usize {
        rx.pop_slice(out).unwrap_or(0)
    }
}

/// rtrb 0.4, with its slice (chunk) API for batches.
#[derive(Debug)]
pub struct Rtrb;

impl SpscQueue for Rtrb {
    const NAME: &'static str = "rtrb";
    const HAS_BATCH: bool = true;
    type Tx = rtrb::Producer<u64>;
    type Rx = rtrb::Consumer<u64>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        rtrb::RingBuffer::new(capacity)
    }
    #[inline]
    fn push(tx: &mut Self::Tx, value: u64) -> bool {
        tx.push(value).is_ok()
    }
    #[inline]
    fn pop(rx: &mut Self::Rx) -> Option<u64> {
        rx.pop().ok()
    }
    #[inline]
    fn push_batch(tx: &mut Self::Tx, items: &[u64]) -> usize {
        let (pushed, _rest) = tx.push_partial_slice(items);
        pushed.len()
    }
    #[inline]
    fn pop_batch(rx: &mut Self::Rx, out: &mut [u64]) -> usize {
        let (popped, _rest) = rx.pop_partial_slice(out);
        popped.len()
    }
}

/// crossbeam's bounded MPMC `ArrayQueue`, used by one producer and one
/// consumer. It has no batch API.
#[derive(Debug)]
pub struct CrossbeamArrayQueue;

impl SpscQueue for CrossbeamArrayQueue {
    const NAME: &'static str = "crossbeam ArrayQueue";
    const HAS_BATCH: bool = false;
    type Tx = Arc<ArrayQueue<u64>>;
    type Rx = Arc<ArrayQueue<u64>>;

    fn channel(capacity: usize) -> (Self::Tx, Self::Rx) {
        let queue = Arc::new(ArrayQueue::new(capacity));
        (queue.clone(), queue)
    }
    #[inline]
    fn push(tx: &mut Self::Tx, value: u64) -> bool {
        tx.push(value).is_ok()
    }
    #[inline]
    fn pop(rx: &mut Self::Rx) -> Option<u64> {
        rx.pop()
    }
    fn push_batch(tx: &mut Self::Tx, items: &[u64]) -> usize {
        items.iter().take_while(|&&v| tx.push(v).is_ok()).count()
    }
    fn pop_batch(rx: &mut Self::Rx, out: &mut [u64]) -> usize {
        let mut n = 0;
        while n < out.len() {
            match rx.pop() {
                Some(v) => out[n] = v,
                None => break,
            }
            n += 1;
        }
        n
    }
}
