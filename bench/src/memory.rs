//! Heap bytes per actor on every peer: `actors` actors on one core, each
//! sent one message and done with it, all alive when the heap is measured.
//! Everything counts (the runtime's record of the actor, its task, its
//! mailbox as it stands after a message), as a service that keeps many
//! mostly idle actors pays it. The binary must install
//! [`TrackingAllocator`](crate::alloc::TrackingAllocator).

use crate::actors::{finish_line, Ctx, Logic, Peer};
use crate::alloc::live_bytes;
use crate::savina::Countdown;

/// Reports its message to the collector, and keeps nothing else.
struct Member<P: Peer> {
    collector: P::Addr<Countdown>,
}

impl<P: Peer> Logic<P> for Member<P> {
    type Msg = ();

    fn handle(&mut self, (): (), ctx: &mut Ctx<'_, P, Self>) {
        ctx.send(&self.collector, ());
    }
}

/// Heap bytes per live actor, with `actors` alive on core 0.
pub fn per_actor<P: Peer>(peer: &P, actors: u64) -> f64 {
    peer.block_on(move |h| async move {
        let (done, finished) = finish_line();
        let collector = P::spawn(&h, 0, Countdown::new(actors, done)).await;
        let mut members = Vec::with_capacity(actors as usize);
        let before = live_bytes();
        for _ in 0..actors {
            let member = P::spawn(&h, 0, Member::<P> { collector: collector.clone() }).await;
            P::tell(&member, ()).await;
            members.push(member);
        }
        finished.await;
        // The program's vector of addresses was allocated before `before`.
        let bytes = live_bytes() - before;
        drop(members);
        bytes as f64 / actors as f64
    })
}
