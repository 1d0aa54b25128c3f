//! ractor: each [`Logic`] a ractor `Actor` whose state is the logic, sent
//! with `ActorRef::cast`, on a tokio runtime (current-thread for one core,
//! multi-thread with a worker per core otherwise).

use std::future::Future;
use std::marker::PhantomData;

use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::{named, tokio_block_on, Ctx, Logic, Peer};

/// ractor on `threads` tokio workers.
#[derive(Debug, Clone, Copy)]
pub struct Ractor {
    /// tokio worker threads (1: the current-thread runtime).
    pub threads: usize,
}

/// A [`Logic`] as a ractor actor (its state is the logic).
#[derive(Debug)]
pub struct Ractored<A>(PhantomData<fn() -> A>);

impl<A: Logic<Ractor>> Actor for Ractored<A> {
    type Msg = A::Msg;
    type State = A;
    type Arguments = A;

    async fn pre_start(
        &self,
        _myself: ActorRef<A::Msg>,
        logic: A,
    ) -> Result<A, ActorProcessingErr> {
        Ok(logic)
    }

    #[inline(always)]
    async fn handle(
        &self,
        myself: ActorRef<A::Msg>,
        msg: A::Msg,
        logic: &mut A,
    ) -> Result<(), ActorProcessingErr> {
        let mut myself = myself;
        logic.handle(msg, &mut Ctx::new(&mut myself));
        Ok(())
    }
}

impl Peer for Ractor {
    type Addr<A: Logic<Self>> = ActorRef<A::Msg>;
    type Out<A: Logic<Self>> = ActorRef<A::Msg>;
    type Handle = ();

    fn name(&self) -> String {
        named("ractor", self.threads, "thread")
    }

    fn block_on<T, F>(&self, program: impl FnOnce(()) -> F + Send + 'static) -> T
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        tokio_block_on(self.threads, program(()))
    }

    async fn spawn<A: Logic<Self>>(_: &(), _core: usize, actor: A) -> ActorRef<A::Msg> {
        let (actor, _handle) =
            Actor::spawn(None, Ractored::<A>(PhantomData), actor).await.expect("spawn");
        actor
    }

    #[inline(always)]
    fn send<A: Logic<Self>, B: Logic<Self>>(
        _out: &mut ActorRef<A::Msg>,
        to: &ActorRef<B::Msg>,
        msg: B::Msg,
    ) {
        to.cast(msg).expect("ractor: the actor stopped");
    }

    fn myself<A: Logic<Self>>(out: &ActorRef<A::Msg>) -> ActorRef<A::Msg> {
        out.clone()
    }

    async fn tell<A: Logic<Self>>(to: &ActorRef<A::Msg>, msg: A::Msg) {
        to.cast(msg).expect("ractor: the actor stopped");
    }
}
