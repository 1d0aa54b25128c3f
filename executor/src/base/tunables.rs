//! Every tunable number of the executor in one place: choices, not facts
//! of a layout (those stay with their layout, e.g. `entry::MAX_INLINE_BYTES`).
//! Public ones are re-exported at the crate root.

use std::time::Duration;

// ----- A pass: how much runs before the shard lets others in -----------------

/// Run-queue messages per pass before the shard lets its executor's other
/// tasks run.
pub const PASS_BUDGET: usize = 4096;

/// Messages of each pass kept for `Normal` actors when they have work,
/// however busy the `High` ones are.
pub const NORMAL_SHARE: usize = 1024;

/// Messages of each pass kept for `Low` actors when they have work, however
/// busy the others are.
pub const LOW_SHARE: usize = 256;

/// Messages a shard runs from a lower class between two looks at what came
/// for its `High` actors (only on shards that have some).
pub const HIGH_CHECK_EVERY: usize = 64;

/// Envelopes taken from the injection queue per pass, so foreign threads
/// cannot starve the rings.
pub(crate) const INJECTOR_BATCH: usize = 256;

/// Ring entries run between two hand-backs of their words to the sender
/// (by the pass and by batches).
pub(crate) const RELEASE_EVERY: usize = 16;

/// Entries staged on one ring during a pass before they are published
/// anyway, so the receiver starts on a long burst early.
pub(crate) const PUBLISH_BATCH_WORDS: usize = 128;

// ----- Waiting for work ------------------------------------------------------

/// Ring checks between two yields to the executor while spinning.
pub(crate) const SPIN_CHECKS_PER_YIELD: usize = 64;

/// Turns of the spin between two reads of the clock while other tasks run.
/// A turn then lasts as long as their polls (some 100 ns for a task that
/// spins too): the spin overshoots by at most 32 of them, time those tasks
/// were using the core anyway.
pub(crate) const TURNS_PER_CLOCK_READ: u32 = 32;

/// A poll bound halved below this is zero: the shard parks at once (see
/// `IdlePoll`).
pub(crate) const MIN_IDLE_POLL: Duration = Duration::from_micros(1);

/// At a zero poll bound, one idle period in this many polls the whole
/// `spin_before_park` anyway, to notice that work comes soon again: at most
/// a 32nd of the limit per idle period, and none while no work comes.
pub(crate) const PROBE_EVERY: u32 = 32;

// ----- Memory kept ready -----------------------------------------------------

/// The first buffer, in words (entries are 4 words for a one-word message).
pub(crate) const RUN_QUEUE_INITIAL_WORDS: usize = 1024;

/// The first buffer of the `High` and `Low` run queues, in words (most
/// shards have few actors of those classes).
pub(crate) const SMALL_QUEUE_WORDS: usize = 64;

/// Spare arenas a shard keeps for later actors.
pub(crate) const POOL_ARENAS: usize = 64;

/// Slots each shard keeps ready for spawns from other shards and threads.
pub(crate) const FREE_SLOTS_OFFERED: usize = 4096;

/// Most actors of one shard with a handling-time histogram of their own
/// at a time (about 2 MiB); the timed turns of others count in the shard's
/// histogram only.
pub const MAX_TIMED_ACTORS: usize = 1024;

// ----- Asks, shutdown, reports -----------------------------------------------

/// Polls of a full mailbox that retry at the executor's next turn before an
/// ask backs off to a timer.
pub(crate) const ASK_RETRIES_BEFORE_BACKOFF: u32 = 64;

/// How long an ask waits between retries once it backs off.
pub(crate) const ASK_BACKOFF: Duration = Duration::from_micros(20);

/// How long a shard whose actors have all stopped waits for programs that
/// awaited the shutdown to see it, before it cancels them anyway.
pub(crate) const DONE_GRACE: Duration = Duration::from_millis(100);

/// Without a hook: at most one warning per shard per this long.
pub(crate) const WARN_EVERY: Duration = Duration::from_secs(1);

// ----- Numbers the docs quote ---------------------------------------------
// A change to one of these fails here: update the page named, then this.

const _: () = assert!(HIGH_CHECK_EVERY == 64, "docs/scheduling.md quotes 64");
const _: () = assert!(NORMAL_SHARE == 1024, "docs/scheduling.md quotes 1024");
const _: () = assert!(LOW_SHARE == 256, "docs/scheduling.md quotes 256");
const _: () = assert!(INJECTOR_BATCH == 256, "docs/observability.md quotes 256 per pass");
const _: () = assert!(MAX_TIMED_ACTORS == 1024, "docs/observability.md quotes 1024 actors");
