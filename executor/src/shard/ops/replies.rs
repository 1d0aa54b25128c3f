//! The shard's side of asks: answers land in its reply table
//! ([`ReplySlab`](crate::shard::parts::replies::ReplySlab)) and wake the
//! asking task; the ask future (`refs::ask`) takes them from there.

use std::task::Waker;

use whirl_mailbox::Payload;

use crate::shard::parts::replies::Completed;
use crate::shard::Shard;
use crate::types::stats::DeadLetterCause;
use crate::AskError;

impl Shard {
    /// Completes the ask in reply entry `index`, if it still waits.
    pub(crate) fn complete_reply(
        &self,
        index: u32,
        generation: u32,
        result: Result<Payload, AskError>,
    ) {
        let completed = self.replies.borrow_mut().complete(index, generation, result);
        match completed {
            Completed::Stored(Some(waker)) => waker.wake(),
            Completed::Stored(None) => {}
            // The ask gave up (timeout, dropped): the answer is a dead letter.
            Completed::Late(result @ Ok(_)) => {
                self.dead_letter(DeadLetterCause::LateAnswer, result)
            }
            Completed::Late(Err(_)) => {}
            // Dropped here, with the table no longer borrowed.
            Completed::Unknown(result) => drop(result),
        }
    }

    /// The answer in reply entry `index`, if it came; otherwise registers
    /// `waker` (if given) to be woken when it does.
    pub(crate) fn take_answer(
        &self,
        index: u32,
        generation: u32,
        waker: Option<&Waker>,
    ) -> Option<Result<Payload, AskError>> {
        self.replies.borrow_mut().take_answer(index, generation, waker)
    }
}
