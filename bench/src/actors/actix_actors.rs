//! actix: each [`Logic`] an actix `Actor` with a `Handler` for its messages,
//! sent with `Addr::do_send`. One core: everything on the `System`'s thread.
//! More: one `Arbiter` (a thread with its own event loop) per core, the
//! actors spread over them, the program on the first.

use std::future::Future;

use actix::{Actor, Addr, Arbiter, ArbiterHandle, AsyncContext, Context, Handler, System};

use super::{named, Ctx, Logic, Peer};

/// actix on `threads` threads.
#[derive(Debug, Clone, Copy)]
pub struct Actix {
    /// Threads running actors.
    pub threads: usize,
}

/// A [`Logic`] as an actix actor. It keeps its own address: actix stops an
/// actor once no address of it is left, and Savina's actors are told each
/// other's addresses in messages, so at times none is held anywhere while
/// the actor still has work (chameneos hung on two arbiters without it).
/// The runtime's end stops them all.
#[derive(Debug)]
pub struct Actixed<A: Logic<Actix>> {
    logic: A,
    myself: Option<Addr<Actixed<A>>>,
}

impl<A: Logic<Actix>> Actor for Actixed<A> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.myself = Some(ctx.address());
    }
}

/// The actix message carrying a [`Logic`]'s message.
#[derive(Debug)]
pub struct Envelope<M>(M);

impl<M: 'static> actix::Message for Envelope<M> {
    type Result = ();
}

impl<A: Logic<Actix>> Handler<Envelope<A::Msg>> for Actixed<A> {
    type Result = ();

    #[inline(always)]
    fn handle(&mut self, Envelope(msg): Envelope<A::Msg>, ctx: &mut Context<Self>) {
        self.logic.handle(msg, &mut Ctx::new(ctx));
    }
}

/// Where actors go: the arbiters, none when everything runs on the
/// `System`'s thread.
pub type Arbiters = std::sync::Arc<Vec<ArbiterHandle>>;

impl Peer for Actix {
    type Addr<A: Logic<Self>> = Addr<Actixed<A>>;
    type Out<A: Logic<Self>> = Context<Actixed<A>>;
    type Handle = Arbiters;

    fn name(&self) -> String {
        named("actix", self.threads, "arbiter")
    }

    fn block_on<T, F>(&self, program: impl FnOnce(Arbiters) -> F + Send + 'static) -> T
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        let system = System::new();
        let arbiters: Vec<Arbiter> = if self.threads > 1 {
            (0..self.threads).map(|_| Arbiter::new()).collect()
        } else {
            vec![]
        };
        let handles: Arbiters = std::sync::Arc::new(arbiters.iter().map(Arbiter::handle).collect());
        let out = match handles.first() {
            // One thread: the program runs on the System's, with the actors.
            None => system.block_on(program(handles)),
            // Several: on the first arbiter, beside its actors.
            Some(first) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let program = program(handles.clone());
                assert!(first.spawn(async move {
                    let _ = tx.send(program.await);
                }));
                system.block_on(async move { rx.await.expect("the program panicked") })
            }
        };
        for arbiter in arbiters {
            arbiter.stop();
            arbiter.join().expect("arbiter thread");
        }
        out
    }

    async fn spawn<A: Logic<Self>>(arbiters: &Arbiters, core: usize, actor: A) -> Addr<Actixed<A>> {
        if arbiters.is_empty() {
            Actixed { logic: actor, myself: None }.start()
        } else {
            let arbiter = &arbiters[core % arbiters.len()];
            Actixed::start_in_arbiter(arbiter, move |_| Actixed { logic: actor, myself: None })
        }
    }

    #[inline(always)]
    fn send<A: Logic<Self>, B: Logic<Self>>(
        _out: &mut Context<Actixed<A>>,
        to: &Addr<Actixed<B>>,
        msg: B::Msg,
    ) {
        to.do_send(Envelope(msg));
    }

    fn myself<A: Logic<Self>>(out: &Context<Actixed<A>>) -> Addr<Actixed<A>> {
        out.address()
    }

    async fn tell<A: Logic<Self>>(to: &Addr<Actixed<A>>, msg: A::Msg) {
        to.do_send(Envelope(msg));
    }
}
