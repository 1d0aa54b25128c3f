//! The typed message queue of one actor: no atomics, no allocation once it
//! has grown to its working size.

use std::any::Any;
use std::collections::VecDeque;

use whirl_mailbox::Payload;

/// An actor's mailbox. Same-shard senders see its bound directly (`Full`);
/// cross-shard envelopes are bounded by their ring and may take it past the
/// bound by at most the ring capacity per sending shard.
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

/// An inbox of any message type, as the shard's slot table holds it.
pub(crate) trait AnyInbox {
    /// For typed access (`downcast_mut::<Inbox<M>>`).
    fn as_any(&mut self) -> &mut dyn Any;
    /// Queues an envelope's payload, bypassing the bound (cross-shard
    /// messages were bounded by their ring). Hands it back if it is not
    /// this inbox's message type.
    fn deliver(&mut self, payload: Payload) -> Result<(), Payload>;
    /// Messages waiting.
    fn len(&self) -> usize;
    /// Drops every waiting message; returns how many.
    fn clear(&mut self) -> usize;
}

impl<M: Send + 'static> AnyInbox for Inbox<M> {
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }

    fn deliver(&mut self, payload: Payload) -> Result<(), Payload> {
        self.queue.push_back(payload.downcast::<M>()?);
        Ok(())
    }

    fn len(&self) -> usize {
        self.queue.len()
    }

    fn clear(&mut self) -> usize {
        let n = self.queue.len();
        self.queue.clear();
        n
    }
}
