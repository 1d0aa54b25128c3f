//! The `Actor` trait.

use crate::{Context, StopReason};

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
}
