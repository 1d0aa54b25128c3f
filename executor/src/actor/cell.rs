//! An actor in its cell, and the functions, monomorphized per actor type,
//! through which the shard runs its messages and its lifecycle.
//!
//! An [`ActorRef`](crate::ActorRef) carries a pointer to its actor type's
//! [`ActorFns`], so a sender on any shard writes an entry whose run function
//! is this actor type's: running a message is one indirect call, and no type
//! check is needed beyond the generation (a slot's generation names one
//! actor, hence one type; generations never repeat).

use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};

use whirl_mailbox::Payload;

use crate::actor::batch::{Batch, Source};
use crate::base::actor_fns::ActorFns;
use crate::base::entry::{self, EntryFn, How};
use crate::shard::parts::slots::{Admit, Lifecycle};
use crate::shard::Shard;
use crate::{Actor, Context, StopReason};

struct FnsOf<A>(PhantomData<A>);

impl<A: Actor> FnsOf<A> {
    const FNS: ActorFns =
        ActorFns { run: EntryFn::message(run_message::<A>), inject: inject_message::<A> };
}

/// The functions of actor type `A`.
pub(crate) fn fns_of<A: Actor>() -> &'static ActorFns {
    &FnsOf::<A>::FNS
}

/// An actor and the factory it was built from (kept to rebuild it on
/// restart). `repr(C)` with the actor first: a pointer to the cell is a
/// pointer to the actor, so message delivery needs only `A`.
#[repr(C)]
pub(crate) struct ActorCell<A, F> {
    pub(crate) actor: A,
    pub(crate) factory: F,
}

struct LifecycleOf<A, F>(PhantomData<(A, F)>);

impl<A: Actor, F: Fn() -> A + 'static> LifecycleOf<A, F> {
    const LIFECYCLE: Lifecycle = Lifecycle {
        start: start::<A>,
        stop: stop::<A>,
        panicked: panicked::<A>,
        rebuild: rebuild::<A, F>,
        free: free::<A, F>,
        type_name: std::any::type_name::<A>,
    };
}

/// The lifecycle of actors of type `A` built by `F`.
pub(crate) fn lifecycle_of<A: Actor, F: Fn() -> A + 'static>() -> &'static Lifecycle {
    &LifecycleOf::<A, F>::LIFECYCLE
}

/// Builds an actor's cell; the pointer is freed by its lifecycle's `free`.
pub(crate) fn build<A: Actor, F: Fn() -> A + 'static>(factory: F) -> *mut () {
    let actor = factory();
    Box::into_raw(Box::new(ActorCell { actor, factory })).cast()
}

/// # Safety
///
/// `actor` is a live cell of an `A`, and `shard` the shard it lives on.
unsafe fn start<A: Actor>(
    actor: *mut (),
    shard: *const (),
    slot: u32,
    generation: u32,
) -> Option<(StopReason, bool)> {
    // SAFETY: as the contract says; the cell starts with the actor.
    let (actor, shard) = unsafe { (&mut *actor.cast::<A>(), Shard::from_erased(shard)) };
    let mut ctx = Context::new(shard, slot, generation);
    match catch_unwind(AssertUnwindSafe(|| actor.started(&mut ctx))) {
        Ok(()) => ctx.take_end(),
        Err(panic) => {
            let reason = shard.failure_of(slot, &*panic);
            tracing::error!(shard = shard.id, slot, %reason, "actor failed in `started`");
            Some((reason, false))
        }
    }
}

/// # Safety
///
/// As [`start`].
unsafe fn stop<A: Actor>(
    actor: *mut (),
    shard: *const (),
    slot: u32,
    generation: u32,
    reason: &StopReason,
) {
    // SAFETY: as the contract says.
    let (actor, shard) = unsafe { (&mut *actor.cast::<A>(), Shard::from_erased(shard)) };
    let mut ctx = Context::new(shard, slot, generation);
    if catch_unwind(AssertUnwindSafe(|| actor.stopped(reason, &mut ctx))).is_err() {
        tracing::error!(shard = shard.id, slot, "actor panicked in `stopped`");
    }
}

/// # Safety
///
/// As [`start`].
unsafe fn panicked<A: Actor>(
    actor: *mut (),
    shard: *const (),
    slot: u32,
    generation: u32,
    message: &str,
) -> Option<Option<(StopReason, bool)>> {
    // SAFETY: as the contract says.
    let (actor, shard) = unsafe { (&mut *actor.cast::<A>(), Shard::from_erased(shard)) };
    let mut ctx = Context::new(shard, slot, generation);
    match catch_unwind(AssertUnwindSafe(|| actor.panicked(message, &mut ctx))) {
        // A hook that resumes yet fails on purpose fails.
        Ok(crate::AfterPanic::Resume) => match ctx.take_end() {
            Some((reason, _)) if reason.is_failure() => None,
            end => Some(end),
        },
        Ok(crate::AfterPanic::Fail) => None,
        Err(_) => {
            tracing::error!(shard = shard.id, slot, "actor panicked in `panicked`");
            None
        }
    }
}

/// # Safety
///
/// `actor` is a cell built by [`build::<A, F>`], not in use.
unsafe fn rebuild<A: Actor, F: Fn() -> A>(actor: *mut ()) -> bool {
    // SAFETY: as the contract says.
    let cell = unsafe { &mut *actor.cast::<ActorCell<A, F>>() };
    let Ok(new) = catch_unwind(AssertUnwindSafe(|| (cell.factory)())) else {
        return false;
    };
    let old = std::mem::replace(&mut cell.actor, new);
    if catch_unwind(AssertUnwindSafe(move || drop(old))).is_err() {
        tracing::error!("a failed actor's drop panicked");
    }
    true
}

/// # Safety
///
/// `actor` came from [`build::<A, F>`] and is not used again.
unsafe fn free<A: Actor, F>(actor: *mut ()) {
    // SAFETY: as the contract says.
    drop(unsafe { Box::from_raw(actor.cast::<ActorCell<A, F>>()) });
}

/// Runs (or drops) a message entry for an actor of type `A`. From a ring,
/// returns 0 without reading it if its actor is restarting with a full
/// mailbox: the ring waits.
///
/// # Safety
///
/// As [`RunFn`], for an entry written with `A::Msg` and this function.
pub(crate) unsafe fn run_message<A: Actor>(shard: *const (), at: *mut u64, how: How) -> usize {
    if how == How::FromRing {
        // SAFETY: not `Drop`, so `shard` is the running shard; the entry is
        // complete, so its word 1 is the target.
        let (running, (slot, generation)) =
            unsafe { (Shard::from_erased(shard), entry::target(at)) };
        if running.ring_must_pause(slot, generation) {
            // Not read: it stays in the ring, which waits (`Shard::waiting`).
            return 0;
        }
    }
    // SAFETY: forwarded from the caller; the entry holds an `A::Msg`.
    if let Some((shard, (slot, generation), msg)) = unsafe { Shard::open_entry(shard, at, how) } {
        // SAFETY: a ref's generation names one actor, hence type `A`.
        unsafe { deliver::<A>(shard, slot, generation, msg, how) };
    }
    entry::entry_words::<A::Msg>()
}

/// Hands `msg` to the actor at `slot` (with the messages that follow it
/// for that actor where it came from, as one batch), or counts it as a dead
/// letter. Messages not from a ring (`how`) are counted in the slot's
/// `queued` (they came through the run queue, or were held).
///
/// # Safety
///
/// The caller must ensure: if the slot holds a live actor of `generation`,
/// it is an `A` (refs name one actor by slot and generation).
#[inline(always)]
pub(crate) unsafe fn deliver<A: Actor>(
    shard: &Shard,
    slot: u32,
    generation: u32,
    msg: A::Msg,
    how: How,
) {
    let counted = how != How::FromRing;
    let (actor, turn_budget, timed) =
        match shard.slots.with(|slots| slots.admit(slot, generation, counted)) {
            Admit::Run(actor, turn_budget, timed) => (actor, turn_budget, timed),
            Admit::Hold => {
                shard.keep_for_later(slot, generation, fns_of::<A>().run, msg, !counted);
                return;
            }
            Admit::Refuse => {
                let run = fns_of::<A>().run;
                if shard.is_reserved(slot, generation) {
                    // A message that overtook its actor's spawn waits for it.
                    shard.keep_pending(slot, run, entry::target_word(slot, generation), msg);
                } else if let Err(msg) = shard.hold_for_restart(run, slot, generation, msg, counted)
                {
                    shard.dead_letter(shard.mesh.stop_cause(), msg);
                }
                return;
            }
        };
    shard.turn.begin((slot, generation));
    let source = match how {
        How::FromQueue => Source::Queue(shard.queues.serving_class()),
        How::FromRing => Source::Ring,
        _ => Source::Alone,
    };
    let rest = shard.turn.cap().min(turn_budget as usize) - 1;
    let mut rest = Batch::new(shard, (slot, generation), source, rest);
    let mut ctx = Context::<A>::new(shard, slot, generation);
    #[cfg(feature = "message-spans")]
    let span =
        tracing::trace_span!("handle", shard = shard.id, slot, actor = std::any::type_name::<A>())
            .entered();
    if timed {
        shard.metrics.start_turn();
    }
    // SAFETY: the cell is live (the slot is) and starts with the `A`; no
    // other reference to it exists while its handler runs (handlers do not
    // nest, and the shard marks it running so it is not freed under us).
    unsafe { (*actor.cast::<A>()).handle_batch(msg, &mut rest, &mut ctx) };
    let taken = rest.taken();
    if timed {
        shard.metrics.record_turn(slot, 1 + taken);
    }
    #[cfg(feature = "message-spans")]
    drop(span);
    shard.handler_returned(slot, generation, ctx.take_end());
    // After: ending the incarnation may run held messages (`run_held`),
    // whose deliveries set it too.
    shard.turn.took_extra(taken);
}

/// Queues a message sent from outside the runtime.
///
/// # Safety
///
/// `shard` runs on this thread, and `target` names an actor of type `A`
/// (or none).
unsafe fn inject_message<A: Actor>(
    shard: *const (),
    target: u64,
    payload: Payload,
) -> Result<(), Payload> {
    // SAFETY: the caller's shard (the contract).
    let shard = unsafe { Shard::from_erased(shard) };
    let (slot, generation) = (target as u32, (target >> 32) as u32);
    let msg = match payload.downcast::<A::Msg>() {
        Ok(msg) => msg,
        Err(payload) => {
            shard.dead_letter(crate::types::stats::DeadLetterCause::WrongType, payload);
            return Ok(());
        }
    };
    match shard.send_local(fns_of::<A>(), slot, generation, msg) {
        Ok(()) => Ok(()),
        Err(crate::SendError::Full(msg)) => Err(Payload::new(msg)),
        Err(crate::SendError::Closed(msg)) => {
            shard.dead_letter(shard.mesh.stop_cause(), msg);
            Ok(())
        }
    }
}
