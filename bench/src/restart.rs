//! Restart latency on the peers that supervise, written as their users
//! restart an actor: from the failure to the first message handled by the
//! new incarnation. whirl's own rows are in `suite::whirl_runtime`.
//!
//! * **actix**: `Supervisor::start`; the actor fails with `ctx.stop()` (a
//!   panic is not caught: it ends the arbiter). The address survives the
//!   restart and the messages queued behind the failure wait for it, as in
//!   whirl.
//! * **ractor**: the child is spawned with `spawn_linked`; the supervisor's
//!   `handle_supervisor_evt` sees `ActorFailed` (the handler returned an
//!   error or panicked) and spawns a new child.
//! * **kameo**: the child is spawned with `spawn_link`; the supervisor's
//!   `on_link_died` sees it die (its handler returned an error or panicked)
//!   and spawns a new child.
//!
//! A ractor or kameo child's address dies with it, so the supervisor hands
//! each new incarnation's address to the program (a tokio channel), which
//! then sends it the next message. That hop is part of what a restart costs
//! there. Everything runs on one thread, as whirl's rows do on one shard.

use std::cell::Cell;
use std::time::Instant;

use hdrhistogram::Histogram;
use tokio::sync::{mpsc, oneshot};

use crate::actors::actix_actors::Actix;
use crate::actors::kameo_actors::Kameo;
use crate::actors::ractor_actors::Ractor;
use crate::actors::Peer;
use crate::report::Samples;

thread_local! {
    /// When the phoenix of this thread last failed (each runtime's phoenix
    /// fails and answers on one thread: whirl's on its shard's).
    static FAILED_AT: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Records the failure, now.
pub(crate) fn failing() {
    FAILED_AT.with(|at| at.set(Some(Instant::now())));
}

/// Nanoseconds since the last failure.
pub(crate) fn since_failure() -> u64 {
    let at = FAILED_AT.with(Cell::get).expect("failed before, on this thread");
    at.elapsed().as_nanos() as u64
}

/// A panic that skips the panic hook, in every runtime's row: the hook's
/// printing is not what is measured.
pub(crate) fn panic_quietly() -> ! {
    std::panic::resume_unwind(Box::new("restart benchmark"))
}

/// Messages of every peer's phoenix.
#[derive(Debug)]
pub enum PhoenixMsg {
    /// Fail: by panicking, or the peer's way of failing without one.
    Fail {
        /// Panic rather than fail quietly.
        panic: bool,
    },
    /// Answers the nanoseconds from the last failure to its handling.
    SinceFailure(oneshot::Sender<u64>),
}

impl actix::Message for PhoenixMsg {
    type Result = ();
}

/// A [`PhoenixMsg::SinceFailure`] and where its answer comes, made before
/// the failure so that nothing of the question is made in the measured time.
fn question() -> (PhoenixMsg, oneshot::Receiver<u64>) {
    let (reply, answer) = oneshot::channel();
    (PhoenixMsg::SinceFailure(reply), answer)
}

/// The new incarnation's answer to [`question`].
async fn answered(answer: oneshot::Receiver<u64>) -> u64 {
    answer.await.expect("the new incarnation answers")
}

/// actix: `samples` restarts of a supervised actor that stops itself.
pub fn actix(samples: u64) -> Histogram<u64> {
    use actix::{Actor, ActorContext, Context, Handler, Supervised, Supervisor};

    /// `failed` from the failure to the restart: the answer must come after.
    struct Phoenix {
        failed: bool,
    }
    impl Actor for Phoenix {
        type Context = Context<Self>;
    }
    impl Supervised for Phoenix {
        fn restarting(&mut self, _: &mut Context<Self>) {
            self.failed = false;
        }
    }
    impl Handler<PhoenixMsg> for Phoenix {
        type Result = ();
        fn handle(&mut self, msg: PhoenixMsg, ctx: &mut Context<Self>) {
            match msg {
                PhoenixMsg::Fail { .. } => {
                    failing();
                    self.failed = true;
                    ctx.stop();
                }
                PhoenixMsg::SinceFailure(reply) => {
                    assert!(!self.failed, "answered before the restart");
                    let _ = reply.send(since_failure());
                }
            }
        }
    }

    Actix { threads: 1 }.block_on(move |_| async move {
        let phoenix = Supervisor::start(|_| Phoenix { failed: false });
        let mut taken = Samples::after_warm_up(samples);
        while taken.wanted() {
            let (question, answer) = question();
            phoenix.do_send(PhoenixMsg::Fail { panic: false });
            phoenix.do_send(question);
            taken.record(answered(answer).await);
        }
        taken.into_histogram()
    })
}

/// ractor: `samples` restarts of a linked child by its supervisor.
pub fn ractor(samples: u64, panic: bool) -> Histogram<u64> {
    use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

    struct Phoenix;
    impl Actor for Phoenix {
        type Msg = PhoenixMsg;
        type State = ();
        type Arguments = ();
        async fn pre_start(
            &self,
            _: ActorRef<PhoenixMsg>,
            (): (),
        ) -> Result<(), ActorProcessingErr> {
            Ok(())
        }
        async fn handle(
            &self,
            _: ActorRef<PhoenixMsg>,
            msg: PhoenixMsg,
            (): &mut (),
        ) -> Result<(), ActorProcessingErr> {
            match msg {
                PhoenixMsg::Fail { panic } => {
                    failing();
                    if panic {
                        panic_quietly();
                    }
                    Err("restart benchmark".into())
                }
                PhoenixMsg::SinceFailure(reply) => {
                    let _ = reply.send(since_failure());
                    Ok(())
                }
            }
        }
    }

    /// Spawns the child and restarts it on failure, telling `incarnations`.
    struct Overseer;
    impl Actor for Overseer {
        type Msg = ();
        type State = mpsc::UnboundedSender<ActorRef<PhoenixMsg>>;
        type Arguments = mpsc::UnboundedSender<ActorRef<PhoenixMsg>>;
        async fn pre_start(
            &self,
            myself: ActorRef<()>,
            incarnations: Self::Arguments,
        ) -> Result<Self::State, ActorProcessingErr> {
            let (child, _) = Actor::spawn_linked(None, Phoenix, (), myself.get_cell()).await?;
            incarnations.send(child)?;
            Ok(incarnations)
        }
        async fn handle_supervisor_evt(
            &self,
            myself: ActorRef<()>,
            event: SupervisionEvent,
            incarnations: &mut Self::State,
        ) -> Result<(), ActorProcessingErr> {
            if let SupervisionEvent::ActorFailed(..) = event {
                let (child, _) = Actor::spawn_linked(None, Phoenix, (), myself.get_cell()).await?;
                incarnations.send(child)?;
            }
            Ok(())
        }
    }

    Ractor { threads: 1 }.block_on(move |()| async move {
        let (tell, mut incarnations) = mpsc::unbounded_channel();
        let (overseer, _) = Actor::spawn(None, Overseer, tell).await.expect("spawn");
        let mut phoenix = incarnations.recv().await.expect("the first child");
        let mut taken = Samples::after_warm_up(samples);
        while taken.wanted() {
            let (question, answer) = question();
            phoenix.cast(PhoenixMsg::Fail { panic }).expect("alive");
            phoenix = incarnations.recv().await.expect("restarted");
            phoenix.cast(question).expect("alive");
            taken.record(answered(answer).await);
        }
        overseer.stop(None);
        taken.into_histogram()
    })
}

/// kameo: `samples` restarts of a linked child by its supervisor.
pub fn kameo(samples: u64, panic: bool) -> Histogram<u64> {
    use std::ops::ControlFlow;

    use kameo::actor::{ActorId, ActorRef, Spawn, WeakActorRef};
    use kameo::error::{ActorStopReason, Infallible};
    use kameo::message::{Context, Message};
    use kameo::Actor;

    struct Phoenix;
    impl Actor for Phoenix {
        type Args = Self;
        type Error = Infallible;
        async fn on_start(state: Self, _: ActorRef<Self>) -> Result<Self, Infallible> {
            Ok(state)
        }
    }
    impl Message<PhoenixMsg> for Phoenix {
        type Reply = Result<(), &'static str>;
        async fn handle(
            &mut self,
            msg: PhoenixMsg,
            _: &mut Context<Self, Self::Reply>,
        ) -> Self::Reply {
            match msg {
                PhoenixMsg::Fail { panic } => {
                    failing();
                    if panic {
                        panic_quietly();
                    }
                    Err("restart benchmark")
                }
                PhoenixMsg::SinceFailure(reply) => {
                    let _ = reply.send(since_failure());
                    Ok(())
                }
            }
        }
    }

    /// Spawns the child and restarts it when it dies, telling
    /// `incarnations`.
    struct Overseer {
        incarnations: mpsc::UnboundedSender<ActorRef<Phoenix>>,
    }
    impl Actor for Overseer {
        type Args = Self;
        type Error = Infallible;
        async fn on_start(state: Self, myself: ActorRef<Self>) -> Result<Self, Infallible> {
            let child = Phoenix::spawn_link(&myself, Phoenix).await;
            let _ = state.incarnations.send(child);
            Ok(state)
        }
        async fn on_link_died(
            &mut self,
            myself: WeakActorRef<Self>,
            _: ActorId,
            reason: ActorStopReason,
        ) -> Result<ControlFlow<ActorStopReason>, Infallible> {
            if let (ActorStopReason::Panicked(_), Some(myself)) = (reason, myself.upgrade()) {
                let child = Phoenix::spawn_link(&myself, Phoenix).await;
                let _ = self.incarnations.send(child);
            }
            Ok(ControlFlow::Continue(()))
        }
    }

    Kameo { threads: 1 }.block_on(move |()| async move {
        let (tell, mut incarnations) = mpsc::unbounded_channel();
        let overseer = Overseer::spawn(Overseer { incarnations: tell });
        let mut phoenix = incarnations.recv().await.expect("the first child");
        let mut taken = Samples::after_warm_up(samples);
        while taken.wanted() {
            let (question, answer) = question();
            phoenix.tell(PhoenixMsg::Fail { panic }).try_send().expect("room");
            phoenix = incarnations.recv().await.expect("restarted");
            phoenix.tell(question).try_send().expect("room");
            taken.record(answered(answer).await);
        }
        overseer.kill();
        taken.into_histogram()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every peer restarts its phoenix, each round, and the new incarnation
    /// answers: a peer that lost the message or never restarted would hang
    /// or panic here, not pass.
    #[test]
    fn every_peer_restarts_and_answers() {
        let rounds = 20;
        for taken in [
            actix(rounds),
            ractor(rounds, false),
            ractor(rounds, true),
            kameo(rounds, false),
            kameo(rounds, true),
        ] {
            assert_eq!(taken.len(), rounds);
        }
    }
}
