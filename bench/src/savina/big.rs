//! Savina big: many actors each ping random others and wait for the pong,
//! a fixed number of times.

use std::sync::Arc;
use std::time::Instant;

use super::{Countdown, Run};
use crate::actors::{finish_line, Ctx, Group, Logic, Peer};
use crate::dispatch::Rng;

/// One of the many.
struct Big<P: Peer> {
    me: usize,
    all: Option<Group<P, Big<P>>>,
    pings_left: u64,
    rng: Rng,
    sink: P::Addr<Countdown>,
}

/// Messages of [`Big`].
enum BigMsg<P: Peer> {
    /// Everyone's addresses (all are told before any starts, so a ping
    /// never comes before them).
    Peers(Group<P, Big<P>>),
    /// Start pinging.
    Start,
    /// A ping from actor `0`.
    Ping(usize),
    /// The pong to this actor's ping.
    Pong,
}

impl<P: Peer> Big<P> {
    fn ping_someone(&mut self, ctx: &mut Ctx<'_, P, Self>) {
        let all = self.all.as_ref().expect("started");
        let to = self.rng.below(all.len());
        ctx.send(&all[to], BigMsg::Ping(self.me));
    }
}

impl<P: Peer> Logic<P> for Big<P> {
    type Msg = BigMsg<P>;

    #[inline]
    fn handle(&mut self, msg: BigMsg<P>, ctx: &mut Ctx<'_, P, Self>) {
        match msg {
            BigMsg::Peers(all) => self.all = Some(all),
            BigMsg::Start => self.ping_someone(ctx),
            BigMsg::Ping(from) => {
                let all = self.all.as_ref().expect("started");
                ctx.send(&all[from], BigMsg::Pong);
            }
            BigMsg::Pong => {
                self.pings_left -= 1;
                if self.pings_left == 0 {
                    ctx.send(&self.sink, ());
                } else {
                    self.ping_someone(ctx);
                }
            }
        }
    }
}

/// `actors` actors spread round robin over the cores, each sending `pings`
/// pings; counts every message (pings and pongs).
pub fn run<P: Peer>(peer: &P, actors: usize, pings: u64) -> Run {
    peer.block_on(move |h| async move {
        let began = Instant::now();
        let (done, finished) = finish_line();
        let sink = P::spawn(&h, 0, Countdown::new(actors as u64, done)).await;
        let mut all = Vec::with_capacity(actors);
        for me in 0..actors {
            let big = Big {
                me,
                all: None,
                pings_left: pings,
                rng: Rng::new(me as u64),
                sink: sink.clone(),
            };
            all.push(P::spawn(&h, me, big).await);
        }
        let all: Arc<[_]> = all.into();
        for big in all.iter() {
            P::tell(big, BigMsg::Peers(all.clone())).await;
        }
        for big in all.iter() {
            P::tell(big, BigMsg::Start).await;
        }
        finished.await;
        Run { ops: 2 * pings * actors as u64, elapsed: began.elapsed() }
    })
}
