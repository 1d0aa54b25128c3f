//! One whirl shard: the actor slots, dispatch loop, fairness budget, timers and
//! arenas that run on one pinned glommio executor. Built in the core-runtime
//! issue; this crate holds no code yet.
