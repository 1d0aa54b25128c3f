//! Savina fork-join: throughput (messages to a fixed set of workers) and
//! creation (a new actor for each message). Each message costs a sine.

use std::time::Instant;

use super::{compute, Countdown, Run};
use crate::actors::{finish_line, Ctx, Logic, Peer};

/// Does the work of each message; reports to the collector after its last.
struct Worker<P: Peer> {
    left: u64,
    collector: P::Addr<Countdown>,
}

impl<P: Peer> Logic<P> for Worker<P> {
    type Msg = f64;

    #[inline]
    fn handle(&mut self, theta: f64, ctx: &mut Ctx<'_, P, Self>) {
        std::hint::black_box(compute(theta));
        self.left -= 1;
        if self.left == 0 {
            ctx.send(&self.collector, ());
        }
    }
}

/// Fork-join throughput: `workers` actors spread over the cores; the
/// program sends `messages` rounds of one message to each; counts every
/// message.
pub fn throughput<P: Peer>(peer: &P, workers: usize, messages: u64) -> Run {
    peer.block_on(move |h| async move {
        let began = Instant::now();
        let (done, finished) = finish_line();
        let collector = P::spawn(&h, 0, Countdown::new(workers as u64, done)).await;
        let mut all = Vec::with_capacity(workers);
        for core in 0..workers {
            let worker = Worker::<P> { left: messages, collector: collector.clone() };
            all.push(P::spawn(&h, core, worker).await);
        }
        for i in 0..messages {
            for worker in &all {
                P::tell(worker, 37.2 + i as f64).await;
            }
        }
        finished.await;
        Run { ops: workers as u64 * messages, elapsed: began.elapsed() }
    })
}

/// Fork-join creation: `actors` actors spawned round robin over the
/// cores, each sent one message; counts actors.
pub fn creation<P: Peer>(peer: &P, actors: u64) -> Run {
    peer.block_on(move |h| async move {
        let began = Instant::now();
        let (done, finished) = finish_line();
        let collector = P::spawn(&h, 0, Countdown::new(actors, done)).await;
        for i in 0..actors {
            let worker = Worker::<P> { left: 1, collector: collector.clone() };
            let worker = P::spawn(&h, i as usize, worker).await;
            P::tell(&worker, 37.2).await;
        }
        finished.await;
        Run { ops: actors, elapsed: began.elapsed() }
    })
}
