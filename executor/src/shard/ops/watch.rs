//! Watching (Erlang's monitors): an actor asks to be told, with a message
//! of its own type, when another actor stops for good.
//!
//! The watcher's shard keeps the watch (which actor, and how to turn the
//! reason into its message); the watched actor's shard keeps who watches it
//! (`Slots::watchers`). When the watched actor stops for good, each watcher
//! gets a command with the reason, through the rings like any command, and
//! its message is queued past the mailbox bound (one per watch). A watch
//! set on an actor that has already stopped fires at once, with
//! [`StopReason::AlreadyStopped`]. Restarts do not fire a watch: the
//! actor is still there, behind the same ref. A watcher that stops for good
//! drops its watches.

use crate::base::entry::{self, How};
use crate::shard::parts::slots::{State, Watcher};
use crate::shard::Shard;
use crate::types::schedule::Priority;
use crate::StopReason;

/// Turns the reason into the watcher's message and queues it.
pub(crate) type Fire = crate::shard::parts::watches::Fire<Shard>;

impl Shard {
    /// The actor at `slot` watches the actor at `target` on shard `to`;
    /// `fire` queues its message when the watch fires.
    pub(crate) fn watch(&self, slot: u32, to: u16, target: u64, fire: Fire) {
        let id = self.watches.with(|watches| watches.add(slot, fire));
        self.command_to(
            to,
            entry::EntryFn::command(run_watch),
            target,
            Watcher { shard: self.id, id },
        );
    }

    /// Queues `msg` for the actor at `slot` past its mailbox bound (a
    /// watch or a notice fires once), `run` being its actor type's run
    /// function; held if it is restarting, dropped if it is gone.
    pub(crate) fn queue_unbounded<M: Send + 'static>(
        &self,
        slot: u32,
        generation: u32,
        run: entry::EntryFn,
        msg: M,
    ) {
        let live = self.slots.with(|slots| match slots.live(slot, generation) {
            Some(s) if !s.stopping => {
                s.queued += 1;
                true
            }
            _ => false,
        });
        let target = entry::target_word(slot, generation);
        if live {
            self.push_command(run, target, msg);
        } else if let Err(msg) = self.hold_for_restart(run, slot, generation, msg, false) {
            crate::base::drop_caught(msg);
        }
    }

    /// Records `watcher` on the actor at `slot`, or fires it at once if
    /// that actor has stopped for good.
    fn add_watcher(&self, slot: u32, generation: u32, watcher: Watcher) {
        let added = self.slots.with(|slots| {
            // Live, restarting, stopping (it fires once `stopped` returns) or
            // reserved for a spawn on its way.
            let there = match slots.slots.get(slot as usize) {
                Some(s) => s.generation == generation && s.state != State::Vacant,
                None => self.is_reserved_beyond(slot, generation),
            };
            if there {
                slots.ensure(slot);
                slots.watchers.entry(slot).or_default().push(watcher);
            }
            there
        });
        if !added {
            self.fire_watchers(vec![watcher], StopReason::AlreadyStopped);
        }
    }

    /// The actor these watchers watch stopped for good.
    pub(crate) fn fire_watchers(&self, watchers: Vec<Watcher>, reason: StopReason) {
        for watcher in watchers {
            if watcher.shard == self.id {
                // Its target is a watch id, not a slot, so no actor's class
                // applies: `High`, so the notice is queued for the watcher
                // (in its own class) at once.
                self.push_entry_of_class(
                    Priority::High,
                    FIRED,
                    id_target(watcher.id),
                    reason.clone(),
                );
                self.wake_dispatcher();
            } else {
                self.send_command(watcher.shard, FIRED, id_target(watcher.id), reason.clone());
            }
        }
    }

    /// A watch of this shard fired: the watcher gets its message.
    fn fired(&self, id: u64, reason: StopReason) {
        let fire = self.watches.with(|watches| watches.remove(id));
        if let Some(fire) = fire {
            fire(self, reason);
        }
    }

    /// The actor at `slot` stopped for good: its watches go.
    pub(crate) fn forget_watches(&self, slot: u32) {
        let gone = self.watches.with(|watches| watches.remove_of(slot));
        // The closures hold the watchers' mapping functions: user code may
        // run in their drops, so not inside the borrow.
        crate::base::drop_caught(gone);
    }
}

/// Entry: watch the actor at the target for the watcher the entry holds.
///
/// # Safety
///
/// As [`entry::RunFn`], for an entry written with a [`Watcher`].
unsafe fn run_watch(shard: *const (), at: *mut u64, how: How) -> usize {
    // SAFETY: forwarded from the caller; the entry holds a `Watcher`.
    if let Some((shard, (slot, generation), watcher)) = unsafe { Shard::open_entry(shard, at, how) }
    {
        shard.add_watcher(slot, generation, watcher);
    }
    entry::entry_words::<Watcher>()
}

/// A watch id as an entry's target: its low 30 bits in the slot, the next
/// 32 in the generation (ids count up from 0 and never reach `1 << 62`).
fn id_target(id: u64) -> u64 {
    entry::target_word(id as u32 & entry::SLOT_MASK, (id >> 30) as u32)
}

/// Entry: the watch whose id is the target fired, with the reason the
/// entry holds.
const FIRED: entry::EntryFn = entry::EntryFn::command(run_fired);

/// The run function of [`FIRED`].
///
/// # Safety
///
/// As [`entry::RunFn`], for an entry written with a [`StopReason`].
unsafe fn run_fired(shard: *const (), at: *mut u64, how: How) -> usize {
    // SAFETY: forwarded from the caller; the entry holds a `StopReason`.
    let opened = unsafe { Shard::open_entry::<StopReason>(shard, at, how) };
    if let Some((shard, (low, high), reason)) = opened {
        shard.fired(u64::from(low) | u64::from(high) << 30, reason);
    }
    entry::entry_words::<StopReason>()
}
