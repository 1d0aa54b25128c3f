//! Plain public data the layers above share: how a runtime is configured,
//! what goes wrong, why an actor stopped, how it is restarted and
//! scheduled, what is counted, what a snapshot reads. Files here import only `base` and each other.

pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod failure;
pub(crate) mod restart_policy;
pub(crate) mod schedule;
pub(crate) mod snapshot;
pub(crate) mod stats;
