//! Telling when a group of workers that send to each other has gone quiet:
//! nothing queued anywhere and nothing in flight.

use crate::sync::{AtomicBool, AtomicU64, Ordering};

/// Set in `activity` once the group has been found quiet.
const SEALED: u64 = 1 << 63;

/// Detects that every member of a group is quiet at once, and makes that
/// decision final.
///
/// Each member is busy or quiet. A member is quiet when its last look found
/// nothing to do *and* everything it sent has been taken by its receivers;
/// it must [`note_busy`](Self::note_busy) before it takes anything and
/// before it sends anything while quiet. When every flag is set at once no
/// message is in flight: a receiver clears its flag before it takes a
/// message, and a sender sets its own only after its receivers took
/// everything, so a message in flight always has a busy sender or receiver.
///
/// The member that finds every flag set seals an activity counter with a CAS
/// from the value it read *before* it looked at the flags. So either someone
/// became busy in between (the counter moved: the CAS fails, look again
/// later), or the decision is final: every later `note_busy` sees the seal
/// and returns false, and the caller must neither take nor send.
///
/// All accesses are SeqCst: the argument above is about the order of flag
/// stores, counter updates and flag loads across members, which must be a
/// single total order (a store-buffer pattern between a member's flag store
/// and another's flag load).
#[derive(Debug)]
pub struct Quiescence {
    quiet: Box<[AtomicBool]>,
    activity: AtomicU64,
}

impl Quiescence {
    /// A group of `members`, all busy.
    pub fn new(members: usize) -> Self {
        Self {
            quiet: (0..members).map(|_| AtomicBool::new(false)).collect(),
            activity: AtomicU64::new(0),
        }
    }

    /// Whether `member` is quiet. Cheap: a member may call it on every turn.
    #[inline]
    pub fn is_quiet(&self, member: usize) -> bool {
        // Relaxed: used by the member itself (the only writer of its flag
        // besides `note_quiet`/`note_busy`, which it also calls), or as a hint.
        self.quiet[member].load(Ordering::Relaxed)
    }

    /// `member` has work again. Returns false once the group was found quiet:
    /// then it must not take or send anything.
    pub fn note_busy(&self, member: usize) -> bool {
        self.quiet[member].store(false, Ordering::SeqCst);
        self.activity.fetch_add(1, Ordering::SeqCst) & SEALED == 0
    }

    /// `member` is quiet. Returns `(newly, sealed)`: whether its flag was
    /// newly set, and whether this call found the whole group quiet and made
    /// the decision.
    pub fn note_quiet(&self, member: usize) -> (bool, bool) {
        let newly = !self.quiet[member].swap(true, Ordering::SeqCst);
        let before = self.activity.load(Ordering::SeqCst);
        if before & SEALED != 0 {
            return (newly, false);
        }
        let all_quiet = self.quiet.iter().all(|q| q.load(Ordering::SeqCst));
        let sealed = all_quiet
            && self
                .activity
                .compare_exchange(before, before | SEALED, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok();
        (newly, sealed)
    }

    /// Makes the decision without waiting for quiet (a deadline passed):
    /// later `note_busy` calls return false.
    pub fn seal(&self) {
        self.activity.fetch_or(SEALED, Ordering::SeqCst);
    }

    /// Whether the decision has been made.
    pub fn is_sealed(&self) -> bool {
        self.activity.load(Ordering::SeqCst) & SEALED != 0
    }

    /// Marks `member` quiet for good (it has gone away) without deciding.
    pub fn retire(&self, member: usize) {
        self.quiet[member].store(true, Ordering::SeqCst);
    }
}
