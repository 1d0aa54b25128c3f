//! tokio tasks: each [`Logic`] a task reading an unbounded mpsc channel
//! (`while let Some(msg) = rx.recv().await`), on the current-thread runtime
//! for one core and the multi-thread runtime with a worker per core
//! otherwise.

use std::future::Future;

use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

use super::{named, tokio_block_on, Ctx, Logic, Peer};

/// tokio tasks and mpsc channels on `threads` workers.
#[derive(Debug, Clone, Copy)]
pub struct TokioTasks {
    /// Worker threads (1: the current-thread runtime).
    pub threads: usize,
}

impl Peer for TokioTasks {
    type Addr<A: Logic<Self>> = UnboundedSender<A::Msg>;
    type Out<A: Logic<Self>> = UnboundedSender<A::Msg>;
    type Handle = ();

    fn name(&self) -> String {
        if self.threads == 1 {
            "tokio mpsc, current_thread".into()
        } else {
            named("tokio mpsc, multi_thread", self.threads, "worker")
        }
    }

    fn block_on<T, F>(&self, program: impl FnOnce(()) -> F + Send + 'static) -> T
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        tokio_block_on(self.threads, program(()))
    }

    async fn spawn<A: Logic<Self>>(_: &(), _core: usize, actor: A) -> UnboundedSender<A::Msg> {
        let (tx, mut rx) = unbounded_channel();
        let mut myself = tx.clone();
        tokio::spawn(async move {
            let mut actor = actor;
            while let Some(msg) = rx.recv().await {
                actor.handle(msg, &mut Ctx::new(&mut myself));
            }
        });
        tx
    }

    #[inline(always)]
    fn send<A: Logic<Self>, B: Logic<Self>>(
        _out: &mut UnboundedSender<A::Msg>,
        to: &UnboundedSender<B::Msg>,
        msg: B::Msg,
    ) {
        if to.send(msg).is_err() {
            panic!("tokio: the task ended");
        }
    }

    fn myself<A: Logic<Self>>(out: &UnboundedSender<A::Msg>) -> UnboundedSender<A::Msg> {
        out.clone()
    }

    async fn tell<A: Logic<Self>>(to: &UnboundedSender<A::Msg>, msg: A::Msg) {
        if to.send(msg).is_err() {
            panic!("tokio: the task ended");
        }
    }
}
