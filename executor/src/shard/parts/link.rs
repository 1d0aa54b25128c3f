//! The data of the link between a supervised child and its supervisor
//! (the behaviour is `shard::ops::link`).

use crate::base::entry;
use crate::StopReason;

/// Where a child reports: its supervisor's shard and slot, its own index
/// among the supervisor's children, and how its notices are delivered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    pub(crate) shard: u16,
    /// The supervisor's slot and generation (`entry::target_word`).
    pub(crate) target: u64,
    pub(crate) child: u32,
    /// Runs a [`Notice`] entry on the supervisor's shard (the supervision
    /// layer's: it turns the notice into the supervisor's message).
    pub(crate) notice: entry::EntryFn,
}

/// A child's word to its supervisor: it went down (`restarting`: and waits
/// to be resumed) or stopped for good.
#[derive(Debug)]
pub(crate) struct Notice {
    pub(crate) child: u32,
    pub(crate) reason: StopReason,
    pub(crate) restarting: bool,
}

/// A runtime-wide actor address without its message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Address {
    pub(crate) shard: u16,
    pub(crate) target: u64,
}
