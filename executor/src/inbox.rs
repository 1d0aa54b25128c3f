//! The typed message queue of one actor: no atomics, no allocation once it
//! has grown to its working size.

use std::any::Any;
use std::collections::VecDeque;

use whirl_mailbox::Payload;

/// An actor's mailbox, bounded. Same-shard senders see the bound directly
/// (`Full`); a cross-shard envelope for a full mailbox stays in its ring, so
/// the sender sees the ring fill up. Only envelopes from threads outside the
/// runtime (bounded by the injection queue) and messages that waited for a
/// spawn to arrive are queued past the bound.
#[derive(Debug)]
pub(crate) struct Inbox<M> {
    queue: VecDeque<M>,
    capacity: usize,
}

impl<M: Send + 'static> Inbox<M> {
    pub(crate) fn new(capacity: usize) -> Self {
        // Grows on demand: spawning allocates nothing for the queue.
        Self { queue: VecDeque::new(), capacity }
    }

    /// Queues `msg` unless the mailbox is at its bound.
    #[inline]
    pub(crate) fn push(&mut self, msg: M) -> Result<(), M> {
        if self.queue.len() >= self.capacity {
            return Err(msg);
        }
        self.queue.push_back(msg);
        Ok(())
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<M> {
        self.queue.pop_front()
    }
}

/// Why an inbox did not take a payload.
pub(crate) enum Refused {
    /// At its bound; try again once the actor has handled some messages.
    Full(Payload),
    /// Not this inbox's message type (a ref outliving its slot); the caller
    /// drops it as a dead letter once no borrow is held.
    WrongType(Payload),
}

/// An inbox of any message type, as the shard's slot table holds it.
pub(crate) trait AnyInbox {
    /// For typed access (`downcast_mut::<Inbox<M>>`).
    fn as_any(&mut self) -> &mut dyn Any;
    /// Queues an envelope's payload; `bounded`: unless the mailbox is full.
    /// Hands it back if refused.
    fn offer(&mut self, payload: Payload, bounded: bool) -> Result<(), Refused>;
    /// Messages waiting.
    fn len(&self) -> usize;
}

impl<M: Send + 'static> AnyInbox for Inbox<M> {
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }

    fn offer(&mut self, payload: Payload, bounded: bool) -> Result<(), Refused> {
        if bounded && self.queue.len() >= self.capacity {
            return Err(Refused::Full(payload));
        }
        self.queue.push_back(payload.downcast::<M>().map_err(Refused::WrongType)?);
        Ok(())
    }

    fn len(&self) -> usize {
        self.queue.len()
    }
}
