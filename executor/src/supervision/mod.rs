//! OTP supervision on top of the typed actor layer: a supervisor is an
//! actor that starts children, hears of their failures through notices
//! (`shard::ops::link`), and restarts them by its strategy.

pub(crate) mod supervisor;
