//! One actor program, every actor runtime: the Savina scenarios are written
//! once against [`Logic`] and run on whirl, actix, ractor, kameo and tokio
//! tasks through each one's [`Peer`] adapter.
//!
//! An adapter makes each [`Logic`] a native actor of its runtime (whirl's
//! `Actor`, actix's `Actor` + `Handler`, ractor's `Actor`, kameo's `Actor` +
//! `Message`, or a tokio task reading an mpsc channel) and sends with the
//! runtime's own call (`Context::send`, `do_send`, `cast`, `tell`, `send`).
//! Everything is monomorphised: the adapter adds no dynamic dispatch, no
//! allocation and no reference count of its own per message. Mailboxes are
//! unbounded, as Savina's are, except whirl's, which are bounded; whirl's
//! handlers send through `Context::send`, which holds a message back
//! instead of failing when a mailbox is full.
//!
//! glommio has no actor layer, and its single-thread channels cannot be
//! carried in actor state that must be `Send`; the micro scenarios measure
//! its channels.

use std::future::Future;

pub mod actix_actors;
pub mod kameo_actors;
pub mod ractor_actors;
pub mod tokio_tasks;
pub mod whirl_actors;

/// An actor runtime, configured for a number of cores.
pub trait Peer: Sized + 'static {
    /// An actor's address.
    type Addr<A: Logic<Self>>: Clone + Send + Sync + Unpin + 'static;
    /// What a handler sends with: the runtime's context for the actor.
    type Out<A: Logic<Self>>;
    /// The running program's handle on the runtime.
    type Handle: Clone + Send + Sync + 'static;

    /// The name in the tables.
    fn name(&self) -> String;

    /// Starts the runtime, runs `program` to the end on one of the
    /// runtime's threads (as a task beside its actors), and shuts the
    /// runtime down.
    fn block_on<T, F>(&self, program: impl FnOnce(Self::Handle) -> F + Send + 'static) -> T
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static;

    /// Spawns `actor` on core `core` (modulo the cores; runtimes that
    /// balance on their own ignore it).
    fn spawn<A: Logic<Self>>(
        handle: &Self::Handle,
        core: usize,
        actor: A,
    ) -> impl Future<Output = Self::Addr<A>> + Send;

    /// Sends from a handler.
    fn send<A: Logic<Self>, B: Logic<Self>>(
        out: &mut Self::Out<A>,
        to: &Self::Addr<B>,
        msg: B::Msg,
    );

    /// The address of the actor whose handler runs.
    fn myself<A: Logic<Self>>(out: &Self::Out<A>) -> Self::Addr<A>;

    /// Sends from the program (outside any actor), waiting for room where
    /// mailboxes are bounded.
    fn tell<A: Logic<Self>>(to: &Self::Addr<A>, msg: A::Msg) -> impl Future<Output = ()> + Send;
}

/// The addresses of a group of actors of one kind, shared by its members.
pub type Group<P, A> = std::sync::Arc<[<P as Peer>::Addr<A>]>;

/// What an actor does with its messages, whatever runs it.
pub trait Logic<P: Peer>: Sized + Send + Unpin + 'static {
    /// The messages it takes.
    type Msg: Send + 'static;

    /// Handles one message.
    fn handle(&mut self, msg: Self::Msg, ctx: &mut Ctx<'_, P, Self>);
}

/// A handler's view of its runtime: send, and know itself.
pub struct Ctx<'a, P: Peer, A: Logic<P>> {
    out: &'a mut P::Out<A>,
}

impl<'a, P: Peer, A: Logic<P>> Ctx<'a, P, A> {
    /// Wraps the runtime's context (adapters only).
    pub fn new(out: &'a mut P::Out<A>) -> Self {
        Self { out }
    }

    /// Sends `msg` to `to`.
    #[inline(always)]
    pub fn send<B: Logic<P>>(&mut self, to: &P::Addr<B>, msg: B::Msg) {
        P::send::<A, B>(self.out, to, msg);
    }

    /// This actor's address.
    pub fn myself(&self) -> P::Addr<A> {
        P::myself::<A>(self.out)
    }
}

impl<P: Peer, A: Logic<P>> std::fmt::Debug for Ctx<'_, P, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").finish_non_exhaustive()
    }
}

/// The end of a run: an actor sends the result once, the program awaits it
/// ([`finish_line`]). A tokio oneshot: it works on every executor.
#[derive(Debug)]
pub struct Done<T>(Option<tokio::sync::oneshot::Sender<T>>);

impl<T> Done<T> {
    /// Reports the run's result; later calls do nothing.
    pub fn finish(&mut self, result: T) {
        if let Some(done) = self.0.take() {
            let _ = done.send(result);
        }
    }
}

/// A [`Done`] and the future that resolves when it finishes.
pub fn finish_line<T>() -> (Done<T>, impl Future<Output = T>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    (Done(Some(tx)), async move { rx.await.expect("the run finished") })
}

/// Calls `$body` with each peer value for `$cores` cores, as a generic
/// closure cannot be: `for_each_peer!(cores, |peer| ...)`.
#[macro_export]
macro_rules! for_each_peer {
    ($cores:expr, |$peer:ident| $body:expr) => {{
        let cores: usize = $cores;
        let $peer = $crate::actors::whirl_actors::Whirl { shards: cores };
        $body;
        let $peer = $crate::actors::actix_actors::Actix { threads: cores };
        $body;
        let $peer = $crate::actors::ractor_actors::Ractor { threads: cores };
        $body;
        let $peer = $crate::actors::kameo_actors::Kameo { threads: cores };
        $body;
        let $peer = $crate::actors::tokio_tasks::TokioTasks { threads: cores };
        $body;
    }};
}

/// A tokio runtime on one thread (`current_thread`) or `threads` workers.
pub(crate) fn tokio_runtime(threads: usize) -> tokio::runtime::Runtime {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    builder.enable_all().build().expect("tokio runtime")
}

/// Runs `program` as a task of a tokio runtime with `threads` workers
/// (1: the current-thread runtime).
pub(crate) fn tokio_block_on<T, F>(threads: usize, program: F) -> T
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let rt = tokio_runtime(threads);
    rt.block_on(async move { tokio::spawn(program).await.expect("the program panicked") })
}

/// `"name, 1 thread"` or `"name, N threads"`.
pub(crate) fn named(name: &str, threads: usize, unit: &str) -> String {
    if threads == 1 {
        format!("{name}, 1 {unit}")
    } else {
        format!("{name}, {threads} {unit}s")
    }
}
