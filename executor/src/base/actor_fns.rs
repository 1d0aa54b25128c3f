//! The functions any shard needs to deliver messages to actors of one
//! type, built once per type by the typed layer (`cell::fns_of`).

use crate::base::entry::EntryFn;
use crate::base::injected::DeliverFn;

/// What any shard needs to deliver messages to actors of one type.
#[derive(Debug)]
pub(crate) struct ActorFns {
    /// Runs a message entry.
    pub(crate) run: EntryFn,
    /// Queues a message sent from outside the runtime; hands it back if the
    /// mailbox is full.
    pub(crate) inject: DeliverFn,
}
