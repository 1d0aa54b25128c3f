//! whirl: one shard per core, each [`Logic`] a whirl `Actor`.

use std::future::Future;

use futures_lite::future::yield_now;
use whirl::{Actor, ActorRef, Context, Placement, Runtime, SendError, System};

use super::{named, Ctx, Logic, Peer};

/// whirl with `shards` shards and the builder's defaults otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Whirl {
    /// Shards, one per core.
    pub shards: usize,
}

/// A [`Logic`] as a whirl actor.
#[derive(Debug)]
pub struct Whirled<A>(A);

impl<A: Logic<Whirl>> Actor for Whirled<A> {
    type Msg = A::Msg;

    #[inline(always)]
    fn handle(&mut self, msg: A::Msg, ctx: &mut Context<Self>) {
        self.0.handle(msg, &mut Ctx::new(ctx));
    }
}

impl Peer for Whirl {
    type Addr<A: Logic<Self>> = ActorRef<A::Msg>;
    type Out<A: Logic<Self>> = Context<Whirled<A>>;
    type Handle = System;

    fn name(&self) -> String {
        named("whirl", self.shards, "shard")
    }

    fn block_on<T, F>(&self, program: impl FnOnce(System) -> F + Send + 'static) -> T
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        let rt = Runtime::builder().shards(self.shards).build().expect("whirl runtime");
        let out = rt.block_on(program).expect("block_on");
        rt.shutdown();
        out
    }

    async fn spawn<A: Logic<Self>>(system: &System, core: usize, actor: A) -> ActorRef<A::Msg> {
        let shard = core % system.shards();
        system.spawn_once(Placement::Shard(shard), move || Whirled(actor)).expect("spawn")
    }

    #[inline(always)]
    fn send<A: Logic<Self>, B: Logic<Self>>(
        out: &mut Context<Whirled<A>>,
        to: &ActorRef<B::Msg>,
        msg: B::Msg,
    ) {
        // Full only when one handler call sends more than a mailbox's worth.
        if out.send(to, msg).is_err() {
            panic!("whirl: a send from a handler failed");
        }
    }

    fn myself<A: Logic<Self>>(out: &Context<Whirled<A>>) -> ActorRef<A::Msg> {
        out.myself()
    }

    /// `ActorRef::send` and a yield while full: `ActorRef::send_async`
    /// would be the call, but its future is not `Send` (it may sleep on a
    /// glommio timer), and the harness's programs are `Send` futures.
    async fn tell<A: Logic<Self>>(to: &ActorRef<A::Msg>, msg: A::Msg) {
        send_or_yield(to, msg).await;
    }
}

/// `ActorRef::send`, yielding to the shard while the mailbox is full: a
/// `Send` future, where `send_async`'s is not.
pub(crate) async fn send_or_yield<M: Send + 'static>(to: &ActorRef<M>, msg: M) {
    let mut msg = msg;
    loop {
        match to.send(msg) {
            Ok(()) => return,
            Err(SendError::Full(back)) => {
                msg = back;
                yield_now().await;
            }
            Err(SendError::Closed(_)) => panic!("whirl: the actor stopped"),
        }
    }
}
