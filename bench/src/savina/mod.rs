//! The Savina actor benchmarks (Imam & Sarkar, "Savina — An Actor Benchmark
//! Suite", AGERE 2014), written once against [`Logic`]
//! and run on every [`Peer`].
//!
//! Each run times one execution, from the first spawn to the last message,
//! as Savina does; the parameters are the paper's defaults ([`Params::paper`])
//! or a scaled-down set for quick runs ([`Params::quick`]). Where the
//! program, not an actor, sends a benchmark's opening burst (counting's
//! producer, the fork-join sender, banking's teller), it says so: a whirl
//! handler cannot send a million messages in one call, and a task waiting
//! for room is how a whirl program feeds an actor.

use std::time::Duration;

use crate::actors::{Ctx, Done, Logic, Peer};

pub mod banking;
pub mod big;
pub mod chameneos;
pub mod counting;
pub mod fork_join;
pub mod ping_pong;
pub mod thread_ring;

/// One execution: how many operations it did, and how long it took.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Operations done (each benchmark says what it counts).
    pub ops: u64,
    /// From the first spawn to the result.
    pub elapsed: Duration,
}

/// Each benchmark's size.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Params {
    /// Ping-pong: pings (each answered by a pong).
    pub pings: u64,
    /// Counting: messages to the counter.
    pub counts: u64,
    /// Fork-join throughput: workers.
    pub fj_workers: usize,
    /// Fork-join throughput: messages to each worker.
    pub fj_messages: u64,
    /// Fork-join creation: actors created, one message each.
    pub fj_actors: u64,
    /// Thread ring: actors in the ring.
    pub ring_actors: usize,
    /// Thread ring: hops of the token.
    pub ring_hops: u64,
    /// Chameneos: creatures.
    pub chameneos: usize,
    /// Chameneos: meetings.
    pub meetings: u64,
    /// Big: actors.
    pub big_actors: usize,
    /// Big: pings each actor sends (each answered by a pong).
    pub big_pings: u64,
    /// Banking: accounts.
    pub accounts: usize,
    /// Banking: transactions.
    pub transactions: u64,
}

impl Params {
    /// The paper's default parameters.
    pub fn paper() -> Self {
        Self {
            pings: 40_000,
            counts: 1_000_000,
            fj_workers: 60,
            fj_messages: 10_000,
            fj_actors: 40_000,
            ring_actors: 100,
            ring_hops: 100_000,
            chameneos: 100,
            meetings: 200_000,
            big_actors: 120,
            big_pings: 20_000,
            accounts: 1_000,
            transactions: 50_000,
        }
    }

    /// A tenth of the paper's work (a twentieth for big), for quick runs.
    pub fn quick() -> Self {
        let p = Self::paper();
        Self {
            pings: p.pings / 10,
            counts: p.counts / 10,
            fj_messages: p.fj_messages / 10,
            fj_actors: p.fj_actors / 10,
            ring_hops: p.ring_hops / 10,
            meetings: p.meetings / 10,
            big_pings: p.big_pings / 20,
            transactions: p.transactions / 10,
            ..p
        }
    }
}

/// Counts down the reports it gets and finishes the run at zero: the
/// collector of fork-join, the sink of big, the teller of banking, the
/// receiver of fan-in.
pub(crate) struct Countdown {
    left: u64,
    done: Done<()>,
}

impl Countdown {
    /// Finishes `done` after `reports` messages.
    pub(crate) fn new(reports: u64, done: Done<()>) -> Self {
        Self { left: reports, done }
    }
}

impl<P: Peer> Logic<P> for Countdown {
    type Msg = ();

    #[inline]
    fn handle(&mut self, (): (), _ctx: &mut Ctx<'_, P, Self>) {
        self.left -= 1;
        if self.left == 0 {
            self.done.finish(());
        }
    }
}

/// Savina's per-message work in the fork-join benchmarks: a sine, squared.
#[inline(never)]
pub fn compute(theta: f64) -> f64 {
    let s = std::hint::black_box(theta).sin();
    s * s
}
