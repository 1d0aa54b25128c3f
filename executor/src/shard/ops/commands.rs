//! Commands that travel like messages, in run queues, rings and injection
//! queues: stop an actor, build one, complete an ask, run a closure.

use whirl_mailbox::Payload;

use crate::base::drop_caught;
use crate::base::entry::{self, EntryFn, How};
use crate::base::injected::Injected;
use crate::mesh::phase;
use crate::shard::Shard;
use crate::AskError;

/// Builds and installs an actor on the shard that receives it, at the slot
/// and generation reserved for it.
pub(crate) type SpawnFn = Box<dyn FnOnce(&Shard, u32, u32) + Send>;

// ----- stop ---------------------------------------------------------------

/// Entry: stop the actor at the target after the messages queued before it
/// (written with `()`).
pub(crate) const STOP: EntryFn = EntryFn::stop(run_stop);

/// The run function of [`STOP`].
///
/// # Safety
///
/// As [`entry::RunFn`], for an entry written with `()` and this function.
unsafe fn run_stop(shard: *const (), at: *mut u64, how: How) -> usize {
    // SAFETY: forwarded from the caller; the entry holds a `()`.
    if let Some((shard, (slot, generation), ())) = unsafe { Shard::open_entry(shard, at, how) } {
        match how {
            // Behind everything queued before it (or held for it): stop now.
            How::FromQueue | How::Held => shard.stop_queued(slot, generation),
            // From another shard: behind what that shard sent, which ran in
            // ring order; queue it behind this shard's own messages too.
            _ => shard.request_stop(slot, generation),
        }
    }
    entry::entry_words::<()>()
}

/// Injected: as [`STOP`].
///
/// # Safety
///
/// As [`crate::base::injected::DeliverFn`].
pub(crate) unsafe fn deliver_stop(
    shard: *const (),
    target: u64,
    _: Payload,
) -> Result<(), Payload> {
    // SAFETY: the caller's shard (the contract).
    let shard = unsafe { Shard::from_erased(shard) };
    shard.request_stop(target as u32, (target >> 32) as u32);
    Ok(())
}

/// The envelope of a stop from outside the runtime.
pub(crate) fn injected_stop(slot: u32, generation: u32) -> Injected {
    Injected {
        deliver: deliver_stop,
        target: entry::target_word(slot, generation),
        payload: Payload::new(()),
        kind: entry::Kind::Stop,
    }
}

// ----- spawn ----------------------------------------------------------------

/// Entry: build an actor at the reserved target.
///
/// # Safety
///
/// As [`entry::RunFn`], for an entry written with a [`SpawnFn`].
pub(crate) unsafe fn run_spawn(shard: *const (), at: *mut u64, how: How) -> usize {
    // SAFETY: forwarded from the caller; the entry holds a `SpawnFn`.
    if let Some((shard, (slot, generation), spawn)) = unsafe { Shard::open_entry(shard, at, how) } {
        spawn_here(shard, slot, generation, spawn);
    }
    entry::entry_words::<SpawnFn>()
}

fn spawn_here(shard: &Shard, slot: u32, generation: u32, spawn: SpawnFn) {
    if shard.mesh.phase() >= phase::STOPPING {
        // Too late to start anything: whatever waits for the actor is a
        // dead letter (the spawn itself is a command, not a letter).
        drop_caught(spawn);
        shard.give_up_reserved(slot, generation);
        return;
    }
    spawn(shard, slot, generation);
}

/// Injected: as [`run_spawn`].
///
/// # Safety
///
/// As [`crate::base::injected::DeliverFn`], with a [`SpawnFn`] payload.
pub(crate) unsafe fn deliver_spawn(
    shard: *const (),
    target: u64,
    payload: Payload,
) -> Result<(), Payload> {
    // SAFETY: the caller's shard (the contract).
    let shard = unsafe { Shard::from_erased(shard) };
    let spawn: SpawnFn = payload.downcast().unwrap_or_else(|_| unreachable!("spawn payload"));
    spawn_here(shard, target as u32, (target >> 32) as u32, spawn);
    Ok(())
}

// ----- replies ----------------------------------------------------------------

/// Entry: complete the ask in the target reply entry with an `R`.
///
/// # Safety
///
/// As [`entry::RunFn`], for an entry written with an `R` and this function.
pub(crate) unsafe fn run_reply<R: Send + 'static>(
    shard: *const (),
    at: *mut u64,
    how: How,
) -> usize {
    // SAFETY: forwarded from the caller; the entry holds an `R`.
    let opened = unsafe { Shard::open_entry::<R>(shard, at, how) };
    if let Some((shard, (index, generation), value)) = opened {
        shard.complete_reply(index, generation, Ok(Payload::new(value)));
    }
    entry::entry_words::<R>()
}

/// Entry: the ask in the target reply entry will get no answer, for the
/// reason the entry holds.
///
/// # Safety
///
/// As [`entry::RunFn`], for an entry written with an [`AskError`].
pub(crate) unsafe fn run_reply_dropped(shard: *const (), at: *mut u64, how: How) -> usize {
    // SAFETY: forwarded from the caller; the entry holds an `AskError`.
    let opened = unsafe { Shard::open_entry::<AskError>(shard, at, how) };
    if let Some((shard, (index, generation), why)) = opened {
        shard.complete_reply(index, generation, Err(why));
    }
    entry::entry_words::<AskError>()
}

/// The payload of an injected reply that says no answer will come, and why.
pub(crate) struct NoAnswer(pub(crate) AskError);

/// Injected: complete an ask with the payload (an answer), or with the
/// error a [`NoAnswer`] payload holds.
///
/// # Safety
///
/// As [`crate::base::injected::DeliverFn`].
pub(crate) unsafe fn deliver_reply(
    shard: *const (),
    target: u64,
    payload: Payload,
) -> Result<(), Payload> {
    // SAFETY: the caller's shard (the contract).
    let shard = unsafe { Shard::from_erased(shard) };
    let result = match payload.downcast::<NoAnswer>() {
        Ok(NoAnswer(why)) => Err(why),
        Err(payload) => Ok(payload),
    };
    shard.complete_reply(target as u32, (target >> 32) as u32, result);
    Ok(())
}
