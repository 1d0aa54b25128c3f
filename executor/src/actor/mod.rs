//! The typed actor layer, above the shard: the [`Actor`] trait (here), the
//! handler's [`Context`](context::Context) and [`Batch`](batch::Batch), the
//! cells that run a typed actor in an untyped slot (`cell`), and spawning
//! (`spawn`, with `install` for the shard's side).

pub(crate) mod batch;
pub(crate) mod cell;
pub(crate) mod context;
pub(crate) mod install;
pub(crate) mod spawn;

use crate::{Batch, Context, StopReason};

/// What an actor does after one of its handlers panicked (see
/// [`Actor::panicked`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AfterPanic {
    /// The panic is a failure: the incarnation ends with
    /// [`StopReason::Panicked`] and the actor's restart policy or supervisor
    /// decides what comes next. The default.
    #[default]
    Fail,
    /// Keep this incarnation and its state, and go on with the next
    /// message, as Akka's `Resume` does. The message in hand is a dead
    /// letter; no restart is counted and no supervisor or watcher is told.
    Resume,
}

/// A unit of state that handles typed messages one at a time on its shard.
///
/// The state lives on the shard that runs it and never moves, so it need not
/// be `Send`: it may hold `Rc`s, glommio files and sockets. What crosses cores
/// is a message (`Msg: Send`) or the `Send` factory that builds the actor on
/// its shard.
///
/// Handlers are synchronous and should be short. Async work (I/O, sleeps)
/// runs as a shard-local task started with [`Context::pipe`], whose result
/// comes back as a message.
pub trait Actor: Sized + 'static {
    /// The messages this actor handles.
    type Msg: Send + 'static;

    /// Handles one message.
    fn handle(&mut self, msg: Self::Msg, ctx: &mut Context<Self>);

    /// Handles the run of messages next in line for this actor in one
    /// turn: `first`, then those `rest` yields, oldest first, at most its
    /// turn budget in all ([`Schedule::turn_budget`](crate::Schedule::turn_budget)).
    ///
    /// The default hands `first` to [`handle`](Self::handle) and leaves the
    /// rest for the next turns: one `handle` per message, in order, with no
    /// look ahead. Override it to do once per batch what would otherwise be
    /// done per message: one write for many log lines, one sum over a block
    /// of samples. `rest` is read in place as it is iterated (nothing is
    /// copied or allocated); messages not taken stay queued for the next
    /// turn, in order.
    ///
    /// The failure rules are those of `handle`: if it panics (or calls
    /// [`Context::fail`]) midway, the messages taken before belong to the
    /// handler (take them one at a time, as the examples do, and they were
    /// handled), the one in hand (the last taken) is a dead letter, and the
    /// rest stay queued and meet the restart policy like any queued
    /// message. Messages collected out of `rest` and dropped unhandled by a
    /// panic are not counted as dead letters.
    ///
    /// ```
    /// use whirl_executor::{Actor, Batch, Context};
    ///
    /// /// Sums samples a block at a time.
    /// struct Total(u64);
    ///
    /// impl Actor for Total {
    ///     type Msg = u64;
    ///
    ///     fn handle(&mut self, sample: u64, _: &mut Context<Self>) {
    ///         self.0 += sample;
    ///     }
    ///
    ///     fn handle_batch(&mut self, first: u64, rest: &mut Batch<'_, u64>, _: &mut Context<Self>) {
    ///         self.0 += first + rest.sum::<u64>();
    ///     }
    /// }
    /// ```
    fn handle_batch(
        &mut self,
        first: Self::Msg,
        rest: &mut Batch<'_, Self::Msg>,
        ctx: &mut Context<Self>,
    ) {
        let _ = rest;
        self.handle(first, ctx);
    }

    /// Runs once on the actor's shard before the first message, in each
    /// incarnation ([`Context::incarnation`] tells a restart from the first
    /// start). A panic or [`Context::fail`] here is a failure.
    fn started(&mut self, ctx: &mut Context<Self>) {
        let _ = ctx;
    }

    /// Runs once when this incarnation of the actor ends, with the reason:
    /// it stopped, failed, or the runtime shuts down. If its restart policy
    /// restarts it, a new incarnation is built next by the same factory
    /// (see [`RestartPolicy`](crate::RestartPolicy)); otherwise the actor is
    /// stopped for good and messages still queued are dead letters.
    fn stopped(&mut self, reason: &StopReason, ctx: &mut Context<Self>) {
        let _ = (reason, ctx);
    }

    /// The actor's own panic hook: runs when `handle`, or a timer or piped
    /// job of the actor, panicked, with the panic's message, before anything
    /// else happens. It may log, repair its state, and choose to
    /// [`Resume`](AfterPanic::Resume) instead of failing. By default it
    /// [`Fail`](AfterPanic::Fail)s.
    ///
    /// Not called for a panic in `started` or `stopped`, nor for an arena
    /// outgrowing its budget (those always fail). A panic in this hook is a
    /// failure. `self` is as the panicking handler left it: only resume when
    /// a half-done change cannot break later messages. What the hook asks of
    /// `ctx` applies when it resumes: a `ctx.stop()` then stops the actor
    /// after the hook; a `ctx.fail(..)` makes it fail after all, with the
    /// panic as the reason. A hook that returns `Fail` fails the actor with
    /// the panic as the reason, whatever it asked of `ctx`.
    fn panicked(&mut self, message: &str, ctx: &mut Context<Self>) -> AfterPanic {
        let _ = (message, ctx);
        AfterPanic::Fail
    }
}
