//! The asks pending on one shard: a slab of reply entries, reused from ask
//! to ask, each waiting for its answer (see `refs::ask`).

use std::task::Waker;

use whirl_mailbox::Payload;

use crate::base::entry;
use crate::mesh::ShardShared;
use crate::AskError;

/// State of one pending ask in a shard's reply table.
enum ReplyState {
    Vacant,
    Waiting(Option<Waker>),
    Done(Result<Payload, AskError>),
}

struct ReplyEntry {
    generation: u32,
    state: ReplyState,
}

/// What [`ReplySlab::complete`] did with an answer.
pub(crate) enum Completed {
    /// Stored for its ask; wake this task (once the table is no longer
    /// borrowed).
    Stored(Option<Waker>),
    /// The ask gave up (timeout, dropped): the answer is handed back, a
    /// dead letter.
    Late(Result<Payload, AskError>),
    /// No such entry: handed back, to be dropped once the table is no
    /// longer borrowed (an answer's `Drop` is user code).
    Unknown(Result<Payload, AskError>),
}

/// The asks pending on one shard.
#[derive(Default)]
pub(crate) struct ReplySlab {
    entries: Vec<ReplyEntry>,
    free: Vec<u32>,
}

impl ReplySlab {
    /// Opens an entry for a new ask: its index and generation.
    pub(crate) fn open(&mut self) -> (u32, u32) {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                // The index travels as an entry's target, which has 30 bits
                // (a billion asks pending on one shard: tens of GiB).
                assert!(self.entries.len() < entry::SLOT_MASK as usize, "too many pending asks");
                self.entries.push(ReplyEntry { generation: 0, state: ReplyState::Vacant });
                (self.entries.len() - 1) as u32
            }
        };
        let entry = &mut self.entries[index as usize];
        entry.state = ReplyState::Waiting(None);
        (index, entry.generation)
    }

    /// Asks opened and not closed yet (answered or not).
    pub(crate) fn open_asks(&self) -> usize {
        self.entries.len() - self.free.len()
    }

    /// Frees the entry; returns the answer it held, if one came, for the
    /// caller to drop once the table is no longer borrowed (an answer's
    /// `Drop` is user code). The new generation is mirrored in `shared`, so
    /// its `Reply`, wherever it is, sees that the asker is gone
    /// (`Reply::is_cancelled`).
    #[must_use]
    pub(crate) fn close(
        &mut self,
        index: u32,
        shared: &ShardShared,
    ) -> Option<Result<Payload, AskError>> {
        let entry = &mut self.entries[index as usize];
        entry.generation = entry.generation.wrapping_add(1);
        // Generation first, then the deadline: a reader that loads them the
        // other way round (`deadline_of`) and sees the next ask's deadline
        // also sees the generation move on.
        shared.reply_generations.set(index, entry.generation);
        shared.reply_deadlines.set(index, 0);
        self.free.push(index);
        match std::mem::replace(&mut entry.state, ReplyState::Vacant) {
            ReplyState::Done(answer) => Some(answer),
            _ => None,
        }
    }

    /// Stores the answer for the ask in entry `index`, if it still waits.
    pub(crate) fn complete(
        &mut self,
        index: u32,
        generation: u32,
        result: Result<Payload, AskError>,
    ) -> Completed {
        let Some(entry) = self.entries.get_mut(index as usize) else {
            return Completed::Unknown(result);
        };
        if entry.generation != generation {
            return Completed::Late(result);
        }
        match std::mem::replace(&mut entry.state, ReplyState::Done(result)) {
            ReplyState::Waiting(waker) => Completed::Stored(waker),
            _ => Completed::Stored(None),
        }
    }

    /// The answer in entry `index`, if it came; otherwise registers `waker`
    /// (if given) to be woken when it does.
    pub(crate) fn take_answer(
        &mut self,
        index: u32,
        generation: u32,
        waker: Option<&Waker>,
    ) -> Option<Result<Payload, AskError>> {
        let entry = &mut self.entries[index as usize];
        debug_assert_eq!(entry.generation, generation);
        match &mut entry.state {
            ReplyState::Done(_) => match std::mem::replace(&mut entry.state, ReplyState::Vacant) {
                ReplyState::Done(result) => Some(result),
                _ => unreachable!(),
            },
            ReplyState::Waiting(registered) => {
                if let Some(waker) = waker {
                    if !registered.as_ref().is_some_and(|w| w.will_wake(waker)) {
                        *registered = Some(waker.clone());
                    }
                }
                None
            }
            ReplyState::Vacant => Some(Err(AskError::Closed)),
        }
    }
}
