//! whirl: a shard-per-core actor runtime for Linux on io_uring (glommio).
//! The runtime API lands with the core-runtime issue; today the workspace
//! ships the cross-core ring in `whirl-mailbox`.
