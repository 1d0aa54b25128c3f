//! Savina counting: one actor counts a million messages, then reports.
//! The program is the producer.

use std::time::Instant;

use super::Run;
use crate::actors::{finish_line, Ctx, Done, Logic, Peer};

/// Counts; reports the total when asked.
struct Counter {
    count: u64,
}

/// Messages of [`Counter`].
enum CountMsg {
    /// Add one.
    Increment,
    /// Report the count.
    Total(Done<u64>),
}

impl<P: Peer> Logic<P> for Counter {
    type Msg = CountMsg;

    #[inline]
    fn handle(&mut self, msg: CountMsg, _ctx: &mut Ctx<'_, P, Self>) {
        match msg {
            CountMsg::Increment => self.count += 1,
            CountMsg::Total(mut done) => done.finish(self.count),
        }
    }
}

/// `counts` messages from the program (on core 0) to a counter on core 1;
/// counts every message.
pub fn run<P: Peer>(peer: &P, counts: u64) -> Run {
    peer.block_on(move |h| async move {
        let began = Instant::now();
        let counter = P::spawn(&h, 1, Counter { count: 0 }).await;
        for _ in 0..counts {
            P::tell(&counter, CountMsg::Increment).await;
        }
        let (done, total) = finish_line();
        P::tell(&counter, CountMsg::Total(done)).await;
        assert_eq!(total.await, counts, "counted");
        Run { ops: counts + 1, elapsed: began.elapsed() }
    })
}
