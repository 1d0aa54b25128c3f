//! The lock-free plumbing under the whirl actor runtime: no glommio, no
//! allocation after construction, model-checked with loom and run under miri.
//!
//! * [`spsc`]: the bounded single-producer single-consumer ring every
//!   cross-core message travels through, with batch push and pop that publish
//!   with one store.
//! * [`entry_ring`]: the same kind of ring for entries of any size up to a
//!   bound, each a run of words: whirl's cross-core messages travel inline
//!   in one, whatever their size.
//! * [`Doorbell`]: the park/wake protocol that lets a consumer sleep on its
//!   rings and a producer wake it, never losing a wake-up, at the cost of a
//!   compiler fence and one load per publication on the producer.
//! * [`Quiescence`]: how a group of consumers that also produce for each
//!   other learns that nothing is in flight any more (shutdown's drain).
//! * [`Payload`]: a type-erased `Send` value of up to two words (16 bytes) carried
//!   inline (boxed when larger), the body of every cross-core envelope.
//!
//! # Guarantees
//!
//! * Items come out in the order they were pushed, each exactly once.
//! * Every item that is not popped is dropped exactly once, whichever end goes
//!   away first.
//! * A refused push hands the item back ([`PushError`]).
//!
//! # Example
//!
//! ```
//! use whirl_mailbox::{spsc, PopError, PushError};
//!
//! let (mut tx, mut rx) = spsc::channel::<u32>(4)?;
//! let consumer = std::thread::spawn(move || {
//!     let mut sum = 0;
//!     loop {
//!         match rx.try_pop() {
//!             Ok(n) => sum += n,
//!             Err(PopError::Empty) => std::thread::yield_now(),
//!             Err(PopError::Closed) => return sum,
//!         }
//!     }
//! });
//! for mut n in 1..=100 {
//!     while let Err(PushError::Full(back)) = tx.try_push(n) {
//!         n = back;
//!         std::thread::yield_now();
//!     }
//! }
//! drop(tx); // closes the ring
//! assert_eq!(consumer.join().unwrap(), 5050);
//! # Ok::<(), whirl_mailbox::CapacityError>(())
//! ```
#![doc(test(attr(deny(warnings))))]

mod atomic_waker;
mod barrier;
mod doorbell;
pub mod entry_ring;
mod error;
mod payload;
mod quiescence;
pub mod spsc;
mod sync;

pub use barrier::asymmetric_barriers;
pub use doorbell::Doorbell;
pub use error::{CapacityError, Closed, PopError, PushError};
pub use payload::{Payload, INLINE_WORDS};
pub use quiescence::Quiescence;
