//! Fan-in: many senders, one receiver. Each sender is an actor that sends a
//! burst of 64 to the receiver and then a note to itself to send the next,
//! so no handler sends more than a burst and other actors run in between.

use std::time::Instant;

use crate::actors::{finish_line, Ctx, Logic, Peer};
use crate::savina::{Countdown, Run};

/// Messages a sender sends per handler call.
const BURST: u64 = 64;

/// Sends its share to the receiver, a burst at a time.
struct Sender<P: Peer> {
    to: P::Addr<Countdown>,
    left: u64,
}

impl<P: Peer> Logic<P> for Sender<P> {
    type Msg = ();

    #[inline]
    fn handle(&mut self, (): (), ctx: &mut Ctx<'_, P, Self>) {
        let burst = BURST.min(self.left);
        for _ in 0..burst {
            ctx.send(&self.to, ());
        }
        self.left -= burst;
        if self.left > 0 {
            let me = ctx.myself();
            ctx.send(&me, ());
        }
    }
}

/// `senders` senders, spread round robin over the cores from core 1, each
/// sending `each` messages to one receiver on core 0; counts messages.
pub fn run<P: Peer>(peer: &P, senders: usize, each: u64) -> Run {
    peer.block_on(move |h| async move {
        let began = Instant::now();
        let (done, finished) = finish_line();
        let receiver = P::spawn(&h, 0, Countdown::new(senders as u64 * each, done)).await;
        let mut all = Vec::with_capacity(senders);
        for i in 0..senders {
            all.push(P::spawn(&h, i + 1, Sender::<P> { to: receiver.clone(), left: each }).await);
        }
        for sender in &all {
            P::tell(sender, ()).await;
        }
        finished.await;
        Run { ops: senders as u64 * each, elapsed: began.elapsed() }
    })
}
