//! Live query: what every shard and actor is doing, read on each shard's
//! own thread while the shards keep running.
//!
//! A query sends a closure to each shard it asks (through the shard's
//! injection queue, like any work from outside); the shard runs it between
//! two messages of a pass, reads its own counters (see `shard::parts::metrics`) into a
//! [`ShardStats`] or [`ActorStats`], and hands it back. The shards never
//! publish anything on their hot paths: a query costs them only the time it
//! takes to copy their counters. Queries work from any shard or thread and
//! are `async`; off the runtime, block on them with any executor
//! (`futures_lite::future::block_on`, say).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::mesh::Mesh;
use crate::shard::parts::metrics::Timings;
use crate::shard::parts::slots::State;
use crate::shard::{with_current, Shard};
use crate::types::snapshot::{
    ActorState, ActorStats, HandlingTime, PeerStats, ShardStats, Snapshot,
};

/// A shard part's timings as the public [`HandlingTime`].
fn handling_time(timings: Timings) -> HandlingTime {
    HandlingTime::new(timings.histogram, timings.sum_ns)
}

impl Shard {
    /// Reads this shard's counters and its actors'.
    fn shard_stats(&self) -> ShardStats {
        let shared = self.shared();
        let metrics = &self.metrics;
        let names = self.names_by_slot();
        let mut actors = Vec::new();
        self.slots.with(|slots| {
            for slot in 0..slots.slots.len() as u32 {
                if let Some(stats) = self.actor_stats_of(slots, slot, &names) {
                    actors.push(stats);
                }
            }
        });
        let peers = self.peer_stats();
        let dead_letters = std::array::from_fn(|i| {
            shared.dead_letters[i].load(std::sync::atomic::Ordering::Relaxed)
        });
        ShardStats {
            shard: self.id as usize,
            uptime: metrics.uptime(),
            idle: metrics.idle(),
            parks: metrics.parks(),
            wakeups: metrics.wakeups(),
            ready: std::array::from_fn(|p| self.queues.all()[p].with(|q| q.len())),
            peers,
            actors,
            handling_time: handling_time(metrics.shard_timings()),
            dead_letters,
            restarts: shared.restarts.load(std::sync::atomic::Ordering::Relaxed),
            slots: self.slots.with(|slots| slots.slots.len()),
        }
    }

    fn peer_stats(&self) -> Vec<PeerStats> {
        let mut inbound = self.rings.inbound().borrow_mut();
        self.rings.outbound().with(|outbound| {
            (0..outbound.len())
                .filter(|&peer| peer != self.id as usize)
                .map(|peer| {
                    let out = outbound[peer].as_ref();
                    let into = inbound.get_mut(peer).and_then(Option::as_mut);
                    PeerStats {
                        peer,
                        sent: out.map_or(0, |p| p.entries_written()),
                        received: self.metrics.received(peer),
                        ring_words: into.as_ref().map_or(0, |ring| ring.capacity()),
                        inbound_words: into.map_or(0, |ring| ring.occupied_words()),
                        wakes: out.map_or(0, |p| p.wakes()),
                    }
                })
                .collect()
        })
    }

    /// The stats of the actor at `slot`, if one is there.
    fn actor_stats_of(
        &self,
        slots: &mut crate::shard::parts::slots::Slots,
        slot: u32,
        names: &Names,
    ) -> Option<ActorStats> {
        let s = slots.slots.get(slot as usize)?;
        let state = match s.state {
            State::Live => ActorState::Running,
            State::Restarting => ActorState::Restarting,
            State::Stopping => ActorState::Stopping,
            State::Vacant | State::Reserved => return None,
        };
        let generation = s.generation;
        let (queued, priority, actor_type) = (s.queued, s.priority, (s.lifecycle.type_name)());
        let counters = &mut slots.counters[slot as usize];
        if slots.metrics {
            counters.high_water = counters.high_water.max(queued);
        }
        let restarts = slots.restarts.get(&slot).map_or(0, |r| r.incarnation);
        let (arena_bytes, arena_budget) =
            self.arenas.with(|arenas| arenas.usage(slot, self.mesh.config.arena_budget));
        Some(ActorStats {
            shard: self.id as usize,
            slot,
            names: names.get(&(slot, generation)).cloned().unwrap_or_default(),
            actor_type,
            state,
            priority,
            handled: counters.handled,
            mailbox_depth: queued,
            mailbox_high_water: counters.high_water,
            restarts,
            arena_bytes,
            arena_budget,
            handling_time: self.metrics.timings_of(slot).map(handling_time),
        })
    }

    /// The names registered for this shard's actors, by slot and
    /// generation.
    fn names_by_slot(&self) -> Names {
        let mut names = Names::new();
        if self.shared().registered.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            return names;
        }
        let registry = self.mesh.registry.lock().unwrap_or_else(|e| e.into_inner());
        for (name, r) in registry.iter().filter(|(_, r)| r.shard == self.id) {
            names.entry((r.slot, r.generation)).or_default().push(name.clone());
        }
        names
    }
}

/// Registered names by `(slot, generation)`.
type Names = std::collections::HashMap<(u32, u32), Vec<String>>;

impl Mesh {
    /// Reads every shard's counters on its own thread (see [`Snapshot`]).
    /// Works from any shard or thread; completes once every shard answered
    /// or is known not to.
    pub fn snapshot(self: &Arc<Self>) -> impl Future<Output = Snapshot> + Send + 'static {
        let mesh = self.clone();
        let asked =
            Answers::ask(&mesh, 0..self.shard_count(), |shard, _| Some(shard.shard_stats()));
        async move {
            let answers = asked.await;
            let mut snapshot =
                Snapshot { runtime: mesh.stats(), shards: Vec::new(), unanswered: Vec::new() };
            for (shard, answer) in answers.into_iter().enumerate() {
                match answer {
                    Some(stats) => snapshot.shards.push(stats),
                    None => snapshot.unanswered.push(shard),
                }
            }
            snapshot
        }
    }

    /// The shards that do not run a closure sent to them (exited, or their
    /// injection queue is full): a liveness check that reads nothing.
    pub fn unanswered_shards(
        self: &Arc<Self>,
    ) -> impl Future<Output = Vec<usize>> + Send + 'static {
        let asked = Answers::ask(self, 0..self.shard_count(), |_, _| Some(()));
        async move {
            let answers = asked.await;
            answers.iter().enumerate().filter(|(_, a)| a.is_none()).map(|(i, _)| i).collect()
        }
    }

    /// The counters of the actor at `slot` of `shard` under `generation`,
    /// read on its shard; `None` if no such actor lives (or the shard did
    /// not answer).
    pub(crate) fn actor_stats(
        self: &Arc<Self>,
        shard: usize,
        slot: u32,
        generation: u32,
    ) -> impl Future<Output = Option<ActorStats>> + Send + 'static {
        let asked = Answers::ask(self, shard..shard + 1, move |shard, _| {
            let names = shard.names_by_slot();
            shard.slots.with(|slots| {
                let live =
                    slots.slots.get(slot as usize).is_some_and(|s| s.generation == generation);
                if !live {
                    return None;
                }
                shard.actor_stats_of(slots, slot, &names)
            })
        });
        async move { asked.await.pop().flatten() }
    }
}

// ----- answers from shards -----------------------------------------------------

/// Answers to one query, one per shard asked.
struct Answers<T> {
    state: Mutex<AnswersState<T>>,
}

struct AnswersState<T> {
    got: Vec<Option<T>>,
    /// Shards that have not answered yet.
    left: usize,
    waker: Option<Waker>,
}

impl<T: Send + 'static> Answers<T> {
    /// Runs `read` on each shard of `shards`; the future resolves to what
    /// each returned, `None` for a shard that did not run it (exited, or
    /// its injection queue was full).
    fn ask(
        mesh: &Arc<Mesh>,
        shards: std::ops::Range<usize>,
        read: impl Fn(&Shard, usize) -> Option<T> + Clone + Send + 'static,
    ) -> Gathering<T> {
        let count = shards.len();
        let answers = Arc::new(Answers {
            state: Mutex::new(AnswersState {
                got: (0..count).map(|_| None).collect(),
                left: count,
                waker: None,
            }),
        });
        for (index, shard) in shards.enumerate() {
            let answer = Answer { answers: answers.clone(), index };
            let read = read.clone();
            let mesh_id = mesh.id;
            let run: Box<dyn FnOnce() + Send> = Box::new(move || {
                let value = with_current(|current| match current {
                    Some(current) if current.mesh_id == mesh_id => read(current, shard),
                    _ => None,
                });
                answer.give(value);
            });
            // Refused (exited, or full): the closure is dropped here, and
            // its `Answer` answers `None`.
            let _ = mesh.run_on(shard, run);
        }
        Gathering { answers }
    }
}

/// The answer one shard owes; answers `None` if dropped unanswered (the
/// shard exited with the query still queued).
struct Answer<T> {
    answers: Arc<Answers<T>>,
    index: usize,
}

impl<T> Answer<T> {
    fn give(self, value: Option<T>) {
        let mut state = self.answers.state.lock().unwrap_or_else(|e| e.into_inner());
        state.got[self.index] = value;
        // `Drop` below counts the answer and wakes the asker.
    }
}

impl<T> Drop for Answer<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.answers.state.lock().unwrap_or_else(|e| e.into_inner());
            state.left -= 1;
            if state.left > 0 {
                return;
            }
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Resolves to the answers once every shard asked has answered.
struct Gathering<T> {
    answers: Arc<Answers<T>>,
}

impl<T> Future for Gathering<T> {
    type Output = Vec<Option<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.answers.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.left == 0 {
            return Poll::Ready(std::mem::take(&mut state.got));
        }
        if !state.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            state.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}
