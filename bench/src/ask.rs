//! Ask round trips on every peer: the program sends a question carrying a
//! reply channel and awaits the answer. The actor answers through a tokio
//! `oneshot`, the channel actix's `send().await`, ractor's `call` and
//! kameo's `ask` reply through inside; whirl's own `ActorRef::ask` is
//! measured beside it in the suite.

use std::time::Instant;

use hdrhistogram::Histogram;
use tokio::sync::oneshot;

use crate::actors::{Ctx, Logic, Peer};
use crate::report::Samples;

/// Answers each question with its number plus one.
struct Answerer;

impl<P: Peer> Logic<P> for Answerer {
    type Msg = (u64, oneshot::Sender<u64>);

    #[inline]
    fn handle(&mut self, (n, reply): Self::Msg, _ctx: &mut Ctx<'_, P, Self>) {
        // The asker waits for it; it cannot be gone.
        let _ = reply.send(n + 1);
    }
}

/// `samples` round trips (after a tenth as many to warm up) from the
/// program to an actor on core 1 (the program's own core when there is
/// one): the nanoseconds of each.
pub fn round_trips<P: Peer>(peer: &P, samples: u64) -> Histogram<u64> {
    peer.block_on(move |h| async move {
        let answerer = P::spawn(&h, 1, Answerer).await;
        let mut taken = Samples::after_warm_up(samples);
        let mut question = 0;
        while taken.wanted() {
            let began = Instant::now();
            let (reply, answer) = oneshot::channel();
            P::tell(&answerer, (question, reply)).await;
            assert_eq!(answer.await, Ok(question + 1), "answered");
            taken.record(began.elapsed().as_nanos() as u64);
            question += 1;
        }
        taken.into_histogram()
    })
}
