//! kameo: each [`Logic`] a kameo `Actor` with a `Message` impl for its
//! messages, spawned with an unbounded mailbox (Savina's actors have one)
//! and sent with `tell(..).try_send()`, on a tokio runtime (current-thread
//! for one core, multi-thread with a worker per core otherwise).

use std::future::Future;

use kameo::actor::{ActorRef, Spawn};
use kameo::error::Infallible;
use kameo::mailbox;
use kameo::message::{Context, Message};
use kameo::Actor;

use super::{named, tokio_block_on, Ctx, Logic, Peer};

/// kameo on `threads` tokio workers.
#[derive(Debug, Clone, Copy)]
pub struct Kameo {
    /// tokio worker threads (1: the current-thread runtime).
    pub threads: usize,
}

/// A [`Logic`] as a kameo actor. It keeps a reference to itself: kameo
/// stops an actor once no strong reference is left, and Savina's actors
/// pass each other's references in messages, so at times none is held
/// while the actor still has work. The runtime's end stops them all.
#[derive(Debug)]
pub struct Kamed<A: Logic<Kameo>> {
    logic: A,
    myself: Option<ActorRef<Kamed<A>>>,
}

impl<A: Logic<Kameo>> Actor for Kamed<A> {
    type Args = Self;
    type Error = Infallible;

    async fn on_start(mut state: Self, myself: ActorRef<Self>) -> Result<Self, Infallible> {
        state.myself = Some(myself);
        Ok(state)
    }
}

impl<A: Logic<Kameo>> Message<A::Msg> for Kamed<A> {
    type Reply = ();

    #[inline(always)]
    async fn handle(&mut self, msg: A::Msg, ctx: &mut Context<Self, ()>) {
        self.logic.handle(msg, &mut Ctx::new(ctx));
    }
}

impl Peer for Kameo {
    type Addr<A: Logic<Self>> = ActorRef<Kamed<A>>;
    type Out<A: Logic<Self>> = Context<Kamed<A>, ()>;
    type Handle = ();

    fn name(&self) -> String {
        named("kameo", self.threads, "thread")
    }

    fn block_on<T, F>(&self, program: impl FnOnce(()) -> F + Send + 'static) -> T
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        tokio_block_on(self.threads, program(()))
    }

    async fn spawn<A: Logic<Self>>(_: &(), _core: usize, actor: A) -> ActorRef<Kamed<A>> {
        Kamed::spawn_with_mailbox(Kamed { logic: actor, myself: None }, mailbox::unbounded())
    }

    #[inline(always)]
    fn send<A: Logic<Self>, B: Logic<Self>>(
        _out: &mut Context<Kamed<A>, ()>,
        to: &ActorRef<Kamed<B>>,
        msg: B::Msg,
    ) {
        if to.tell(msg).try_send().is_err() {
            panic!("kameo: the actor stopped");
        }
    }

    fn myself<A: Logic<Self>>(out: &Context<Kamed<A>, ()>) -> ActorRef<Kamed<A>> {
        out.actor_ref().clone()
    }

    async fn tell<A: Logic<Self>>(to: &ActorRef<Kamed<A>>, msg: A::Msg) {
        if to.tell(msg).try_send().is_err() {
            panic!("kameo: the actor stopped");
        }
    }
}
