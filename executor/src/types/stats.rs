//! Counters a runtime publishes: totals over its shards, dead letters by
//! cause, and what a shutdown cut short.

use std::fmt;
use std::sync::Arc;

/// Why a message was not handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(usize)]
pub enum DeadLetterCause {
    /// Sent to an actor that had stopped, or queued when it stopped.
    Stopped = 0,
    /// An answer to an ask that had given up (timed out or dropped).
    LateAnswer = 1,
    /// The question of an ask dropped before its mailbox had room for it.
    Unsent = 2,
    /// In flight or queued when the shutdown deadline passed.
    ShutdownTimeout = 3,
    /// For a shard that had exited.
    ShardExited = 4,
    /// Of a type its target does not handle (a ref outliving its slot).
    WrongType = 5,
    /// Being handled when its actor failed (a panic or `Context::fail`).
    FailedHandling = 6,
    /// Waiting for an actor that restarted under `MailboxOnRestart::Drop`.
    DroppedOnRestart = 7,
}

impl DeadLetterCause {
    /// Every cause, in the order of [`Stats::dead_letter_causes`].
    pub const ALL: [Self; 8] = [
        Self::Stopped,
        Self::LateAnswer,
        Self::Unsent,
        Self::ShutdownTimeout,
        Self::ShardExited,
        Self::WrongType,
        Self::FailedHandling,
        Self::DroppedOnRestart,
    ];

    /// A short name, as used in metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::Stopped => "stopped",
            Self::LateAnswer => "late_answer",
            Self::Unsent => "unsent",
            Self::ShutdownTimeout => "shutdown_timeout",
            Self::ShardExited => "shard_exited",
            Self::WrongType => "wrong_type",
            Self::FailedHandling => "failed_handling",
            Self::DroppedOnRestart => "dropped_on_restart",
        }
    }
}

impl fmt::Display for DeadLetterCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Counters over all shards of a runtime.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Live actors.
    pub actors: usize,
    /// Messages waiting in mailboxes, as of each shard's last pass.
    pub queued: usize,
    /// Messages counted as dead letters, all causes.
    pub dead_letters: u64,
    /// Dead letters by cause, indexed like [`DeadLetterCause::ALL`].
    pub dead_letter_causes: [u64; DeadLetterCause::ALL.len()],
    /// Restarts of failed actors (new incarnations in their slots).
    pub restarts: u64,
    /// Times a shard's publication woke a parked shard (each goes through
    /// glommio's cross-thread wake-up).
    pub wakes: u64,
    /// Actor slots the shards have allocated (live, free and reserved): the
    /// memory the slot tables hold, which stays flat as actors come and go.
    pub slots: usize,
}

impl Stats {
    /// Dead letters of one cause.
    pub fn dead_letters_of(&self, cause: DeadLetterCause) -> u64 {
        self.dead_letter_causes[cause as usize]
    }
}

/// What a shutdown did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// The deadline passed before every shard was quiet: actors were stopped
    /// with messages still queued or in flight.
    pub timed_out: bool,
    /// Messages the deadline cut short (dead letters of cause
    /// [`DeadLetterCause::ShutdownTimeout`]).
    pub cut_short: u64,
    /// Dead letters of every cause over the runtime's life.
    pub dead_letters: u64,
}

/// Dead letters of one cause on one shard since the last report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadLetters {
    /// The shard that counted them.
    pub shard: usize,
    /// Why they were not handled.
    pub cause: DeadLetterCause,
    /// How many.
    pub count: u64,
}

/// A function the program installs to hear of dead letters
/// (`Builder::on_dead_letters` in the `whirl` crate). Called on the shard's
/// thread; may send, spawn and stop.
#[derive(Clone)]
pub struct DeadLetterHook(pub Arc<dyn Fn(DeadLetters) + Send + Sync>);

impl fmt::Debug for DeadLetterHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeadLetterHook(..)")
    }
}
