//! Savina thread ring: a token passed around a ring of actors a fixed
//! number of times.

use std::time::Instant;

use super::Run;
use crate::actors::{finish_line, Ctx, Done, Logic, Peer};

/// A member of the ring.
struct Member<P: Peer> {
    next: Option<P::Addr<Member<P>>>,
    first: Option<P::Addr<Member<P>>>,
    done: Option<Done<()>>,
}

/// Messages of [`Member`].
enum RingMsg<P: Peer> {
    /// Your neighbour, and the ring's first member.
    Link(P::Addr<Member<P>>, P::Addr<Member<P>>),
    /// Finish the run when the token stops (the first member only).
    Watch(Done<()>),
    /// The token, with the hops it still has to make.
    Token(u64),
    /// The token stopped.
    Stopped,
}

impl<P: Peer> Logic<P> for Member<P> {
    type Msg = RingMsg<P>;

    #[inline]
    fn handle(&mut self, msg: RingMsg<P>, ctx: &mut Ctx<'_, P, Self>) {
        match msg {
            RingMsg::Token(0) => ctx.send(self.first.as_ref().expect("linked"), RingMsg::Stopped),
            RingMsg::Token(hops) => {
                ctx.send(self.next.as_ref().expect("linked"), RingMsg::Token(hops - 1));
            }
            RingMsg::Link(next, first) => {
                self.next = Some(next);
                self.first = Some(first);
            }
            RingMsg::Watch(done) => self.done = Some(done),
            RingMsg::Stopped => self.done.as_mut().expect("the first member").finish(()),
        }
    }
}

/// `hops` hops around a ring of `actors` actors spread round robin over the
/// cores; counts hops.
pub fn run<P: Peer>(peer: &P, actors: usize, hops: u64) -> Run {
    peer.block_on(move |h| async move {
        let began = Instant::now();
        let mut ring = Vec::with_capacity(actors);
        for core in 0..actors {
            ring.push(P::spawn(&h, core, Member { next: None, first: None, done: None }).await);
        }
        for (i, member) in ring.iter().enumerate() {
            let next = ring[(i + 1) % actors].clone();
            P::tell(member, RingMsg::Link(next, ring[0].clone())).await;
        }
        let (done, finished) = finish_line();
        P::tell(&ring[0], RingMsg::Watch(done)).await;
        P::tell(&ring[0], RingMsg::Token(hops)).await;
        finished.await;
        Run { ops: hops, elapsed: began.elapsed() }
    })
}
