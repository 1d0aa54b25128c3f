//! Shared test helpers (included with `mod common;`).

#![allow(dead_code, unreachable_pub, missing_docs, missing_debug_implementations)]

use std::time::Duration;

use whirl::{Actor, Context, Reply, Runtime};

/// A two-shard runtime that never busy-spins (the machine has two cores).
pub fn runtime(shards: usize) -> Runtime {
    Runtime::builder()
        .shards(shards)
        .spin_before_park(Duration::ZERO)
        .build()
        .expect("runtime builds")
}

/// Counts what it is told; answers questions.
pub struct Counter {
    pub n: u64,
}

pub enum CounterMsg {
    Add(u64),
    Get(Reply<u64>),
    Stop,
}

impl Actor for Counter {
    type Msg = CounterMsg;
    fn handle(&mut self, msg: CounterMsg, ctx: &mut Context<Self>) {
        match msg {
            CounterMsg::Add(k) => self.n += k,
            CounterMsg::Get(reply) => reply.send(self.n),
            CounterMsg::Stop => ctx.stop(),
        }
    }
}
