//! Sending many messages at once: [`ActorRef::try_send_many`] moves as many
//! as there is room for, with one publication per ring, and leaves the rest
//! with the caller, in order; [`ActorRef::send_many`] waits for room for
//! the rest.

use std::collections::VecDeque;

use crate::base::entry;
use crate::shard::{current_of, Shard};
use crate::{ActorRef, SendError};

impl<M: Send + 'static> ActorRef<M> {
    /// Sends messages from the front of `msgs`, in order, as many as there
    /// is room for now (in the actor's mailbox on its own shard, in the ring
    /// to its shard from another shard, in its shard's injection queue from
    /// a plain thread); returns how many went. The rest stay in `msgs`, in
    /// order: nothing is dropped or sent twice. From another shard the
    /// messages are published together (one release store, at most one
    /// wake-up of the receiving shard). Nothing allocates on a shard.
    ///
    /// A `Vec` becomes a `VecDeque` without copying (`VecDeque::from`); a
    /// slice of `Copy` messages can be sent with
    /// `msgs.extend(slice.iter().copied())` into a reused `VecDeque`.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] when the actor has stopped for good or the
    /// runtime is shutting down, before any message went; `msgs` is left
    /// as it was. `Full` is never returned: `Ok(0)` means no room.
    pub fn try_send_many(&self, msgs: &mut VecDeque<M>) -> Result<usize, SendError<()>> {
        // SAFETY: the paths below call no user code while the shard is used.
        match unsafe { current_of(self.mesh) } {
            Some(shard) if shard.id != self.shard => self.stage_many(shard, msgs),
            _ => self.send_each(msgs),
        }
    }

    /// Sends every message of `msgs`, in order, waiting for room as
    /// [`send_async`](Self::send_async) does; `msgs` is empty when it
    /// returns `Ok`.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] when the actor has stopped for good or the
    /// runtime is shutting down; what was not sent stays in `msgs`.
    pub async fn send_many(&self, msgs: &mut VecDeque<M>) -> Result<(), SendError<()>> {
        let mut attempt = 0u32;
        while !msgs.is_empty() {
            if self.try_send_many(msgs)? == 0 {
                self.wait_for_room(&mut attempt).await;
            }
        }
        Ok(())
    }

    /// From another shard of the actor's runtime: stages what fits in the
    /// ring to its shard, then publishes once.
    fn stage_many(&self, shard: &Shard, msgs: &mut VecDeque<M>) -> Result<usize, SendError<()>> {
        if msgs.is_empty() {
            return Ok(0);
        }
        if !shard.may_send_fast() && !shard.note_send_outside_pass() {
            return Err(SendError::Closed(()));
        }
        if self.stopped_in(&shard.mesh) || shard.ring_closed(self.shard) {
            return Err(SendError::Closed(()));
        }
        let target = entry::target_word(self.slot, self.generation);
        let run = self.fns().run;
        let mut sent = 0;
        while let Some(msg) = msgs.pop_front() {
            if let Err(back) = shard.try_stage_remote(self.shard, run, target, msg) {
                msgs.push_front(back);
                break;
            }
            sent += 1;
        }
        if sent > 0 {
            shard.publish_remote(self.shard, shard.parking.in_pass());
        }
        Ok(sent)
    }

    /// On the actor's own shard or off the runtime: one send each (the
    /// mailbox or injection queue has no publication to share), until one
    /// is refused.
    fn send_each(&self, msgs: &mut VecDeque<M>) -> Result<usize, SendError<()>> {
        let mut sent = 0;
        while let Some(msg) = msgs.pop_front() {
            match self.send(msg) {
                Ok(()) => sent += 1,
                Err(SendError::Full(back)) => {
                    msgs.push_front(back);
                    break;
                }
                Err(SendError::Closed(back)) => {
                    msgs.push_front(back);
                    // Nothing can have gone after a stop seen here; if some
                    // went before it, say how many (the next call says
                    // `Closed`).
                    return if sent == 0 { Err(SendError::Closed(())) } else { Ok(sent) };
                }
            }
        }
        Ok(sent)
    }
}
