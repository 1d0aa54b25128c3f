//! Savina ping-pong: two actors pass a ball back and forth.

use std::time::Instant;

use super::Run;
use crate::actors::{finish_line, Ctx, Done, Logic, Peer};

/// Sends pings and counts the pongs.
struct Pinger<P: Peer> {
    ponger: Option<P::Addr<Ponger<P>>>,
    left: u64,
    done: Done<()>,
}

/// Messages of [`Pinger`].
enum PingMsg<P: Peer> {
    /// Start playing with this ponger.
    Start(P::Addr<Ponger<P>>),
    /// A pong.
    Pong,
}

impl<P: Peer> Logic<P> for Pinger<P> {
    type Msg = PingMsg<P>;

    fn handle(&mut self, msg: PingMsg<P>, ctx: &mut Ctx<'_, P, Self>) {
        match msg {
            PingMsg::Start(ponger) => self.ponger = Some(ponger),
            PingMsg::Pong if self.left == 0 => return self.done.finish(()),
            PingMsg::Pong => {}
        }
        self.left -= 1;
        ctx.send(self.ponger.as_ref().expect("started"), ());
    }
}

/// Answers each ping with a pong.
struct Ponger<P: Peer> {
    pinger: P::Addr<Pinger<P>>,
}

impl<P: Peer> Logic<P> for Ponger<P> {
    type Msg = ();

    fn handle(&mut self, (): (), ctx: &mut Ctx<'_, P, Self>) {
        ctx.send(&self.pinger, PingMsg::Pong);
    }
}

/// `pings` round trips between two actors, on cores 0 and 1; counts every
/// message.
pub fn run<P: Peer>(peer: &P, pings: u64) -> Run {
    peer.block_on(move |h| async move {
        let began = Instant::now();
        let (done, finished) = finish_line();
        let pinger = P::spawn(&h, 0, Pinger { ponger: None, left: pings, done }).await;
        let ponger = P::spawn(&h, 1, Ponger { pinger: pinger.clone() }).await;
        P::tell(&pinger, PingMsg::Start(ponger)).await;
        finished.await;
        Run { ops: 2 * pings, elapsed: began.elapsed() }
    })
}
