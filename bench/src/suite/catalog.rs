//! Every scenario of the suite, with its peers.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use super::scenario::{Entry, Measure, Sample, Scenario};
use super::whirl_runtime::{self, RestartedBy, Target};
use super::{backpressure, observability, peers, scheduling, Scale};
use crate::actors::Peer;
use crate::floors::{self, Sleep};
use crate::ring::{glommio_channel, Cores};
use crate::savina::{self, Params};
use crate::{fan_in, for_each_peer, open_loop};

/// What to run, and how much.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// The scaled-down sizes.
    pub quick: bool,
    /// Cores of the spread-out variants (whirl shards, actix arbiters,
    /// tokio workers).
    pub cores: usize,
    /// Open-loop rate, messages per second.
    pub rate: u64,
    /// Heartbeats of an open-loop run.
    pub beats: u32,
    /// One heartbeat.
    pub beat: Duration,
    /// Micro-scenario sizes, per run.
    pub scale: Scale,
    /// Savina sizes.
    pub params: Params,
}

/// The core counts of the actor scenarios: one, and `config.cores`.
fn core_counts(config: &Config) -> Vec<usize> {
    if config.cores > 1 {
        vec![1, config.cores]
    } else {
        vec![1]
    }
}

/// "one core" / "N cores" in titles, "1c" / "Nc" in ids.
fn cores_label(cores: usize) -> (String, String) {
    if cores == 1 {
        ("one core".into(), "1c".into())
    } else {
        (format!("{cores} cores"), format!("{cores}c"))
    }
}

/// glommio's place in the actor scenarios.
fn glommio_absent() -> Entry {
    Entry::absent(
        "glommio channels",
        "no actors: glommio's tasks and channels are measured in the micro scenarios",
    )
}

/// One scenario per core count of `$config`, `$id/1c` and `$id/Nc`, with an
/// entry per actor peer whose run returns `$sample` (with `$peer` the peer
/// and `$cores` the core count), and glommio marked absent.
macro_rules! on_every_peer {
    ($config:expr, $id:expr, $title:expr, $measure:expr, |$peer:ident, $cores:ident| $sample:expr) => {{
        let mut all = Vec::new();
        for $cores in core_counts($config) {
            let (words, short) = cores_label($cores);
            let mut s =
                Scenario::new(format!("{}/{short}", $id), format!("{}; {words}", $title), $measure);
            for_each_peer!($cores, |$peer| {
                let name = $peer.name();
                s.entries.push(Entry::run(name, move || -> Sample { $sample }));
            });
            s.entries.push(glommio_absent());
            all.push(s);
        }
        all
    }};
}

/// A throughput measure of `unit`s.
fn per_second(unit: &'static str) -> Measure {
    Measure::Throughput { unit }
}

/// The Savina benchmarks.
fn savina(config: &Config) -> Vec<Scenario> {
    let p = config.params;
    let mut all = Vec::new();
    all.extend(on_every_peer!(
        config,
        "savina/ping-pong",
        format!("Savina ping-pong: {} pings, each answered", p.pings),
        per_second("messages"),
        |peer, _n| savina::ping_pong::run(&peer, p.pings).into()
    ));
    all.extend(on_every_peer!(
        config,
        "savina/counting",
        format!("Savina counting: {} messages to one counter", p.counts),
        per_second("messages"),
        |peer, _n| savina::counting::run(&peer, p.counts).into()
    ));
    all.extend(on_every_peer!(
        config,
        "savina/fork-join-throughput",
        format!(
            "Savina fork-join throughput: {} workers, {} messages each, a sine per message",
            p.fj_workers, p.fj_messages
        ),
        per_second("messages"),
        |peer, _n| savina::fork_join::throughput(&peer, p.fj_workers, p.fj_messages).into()
    ));
    all.extend(on_every_peer!(
        config,
        "savina/fork-join-creation",
        format!("Savina fork-join creation: {} actors created, one message each", p.fj_actors),
        per_second("actors"),
        |peer, _n| savina::fork_join::creation(&peer, p.fj_actors).into()
    ));
    all.extend(on_every_peer!(
        config,
        "savina/thread-ring",
        format!("Savina thread ring: {} actors, {} hops", p.ring_actors, p.ring_hops),
        per_second("hops"),
        |peer, _n| savina::thread_ring::run(&peer, p.ring_actors, p.ring_hops).into()
    ));
    all.extend(on_every_peer!(
        config,
        "savina/chameneos",
        format!("Savina chameneos: {} creatures, {} meetings", p.chameneos, p.meetings),
        per_second("meetings"),
        |peer, _n| savina::chameneos::run(&peer, p.chameneos, p.meetings).into()
    ));
    all.extend(on_every_peer!(
        config,
        "savina/big",
        format!("Savina big: {} actors, {} pings each", p.big_actors, p.big_pings),
        per_second("messages"),
        |peer, _n| savina::big::run(&peer, p.big_actors, p.big_pings).into()
    ));
    all.extend(on_every_peer!(
        config,
        "savina/banking",
        format!("Savina banking: {} accounts, {} transfers", p.accounts, p.transactions),
        per_second("transfers"),
        |peer, _n| savina::banking::run(&peer, p.accounts, p.transactions).into()
    ));
    all
}

/// Open loop: one way, and the pipeline.
fn open_loop(config: &Config) -> Vec<Scenario> {
    let c = *config;
    let offered = format!(
        "{} msg/s offered for {} beats of {:?}; latency from when each message was due \
         (coordinated omission corrected)",
        c.rate, c.beats, c.beat
    );
    let mut all = on_every_peer!(
        config,
        "open-loop/one-way",
        format!("one way, program on core 0 → actor on the last core, {offered}"),
        Measure::Latency,
        |peer, n| {
            let run = open_loop::run(&peer, open_loop::Shape::OneWay, n, c.rate, c.beats, c.beat);
            Sample::Latencies(run)
        }
    );
    all.extend(on_every_peer!(
        config,
        "pipeline/open-loop",
        format!(
            "steady_state pipeline, generator (core 0) → worker (FizzBuzz, last core) → \
             logger (core 0), {offered}"
        ),
        Measure::Latency,
        |peer, n| {
            let run = open_loop::run(&peer, open_loop::Shape::Pipeline, n, c.rate, c.beats, c.beat);
            Sample::Latencies(run)
        }
    ));
    all
}

/// Entries that share one function doing a run of each: the first entry
/// of a round runs it, the others take their sample from it.
fn shared(names: &[&str], run: impl FnMut() -> Vec<u64> + 'static) -> Vec<Entry> {
    let pending: Rc<RefCell<VecDeque<u64>>> = Rc::default();
    let run = Rc::new(RefCell::new(run));
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let pending = pending.clone();
            let run = run.clone();
            Entry::run(*name, move || {
                if i == 0 {
                    let rates = (run.borrow_mut())();
                    pending.borrow_mut().extend(rates);
                }
                Sample::Rate(pending.borrow_mut().pop_front().expect("a rate per entry") as f64)
            })
        })
        .collect()
}

/// A throughput entry from a function returning messages per second.
fn rate(peer: &str, mut run: impl FnMut() -> u64 + 'static) -> Entry {
    Entry::run(peer, move || Sample::Rate(run() as f64))
}

/// A latency entry.
fn latencies(peer: &str, mut run: impl FnMut() -> hdrhistogram::Histogram<u64> + 'static) -> Entry {
    Entry::run(peer, move || Sample::Latencies(run()))
}

/// The micro scenarios and their floors.
fn micro(config: &Config) -> Vec<Scenario> {
    let scale = config.scale;
    let cores = Cores { producer: 0, consumer: 1 };
    let glommio_spin = Duration::from_millis(1);
    let mut all = vec![
        Scenario::new(
            "micro/same-shard-ping-pong",
            format!(
                "same-shard ping-pong, ns per hop (each sample the mean of {} hops)",
                scale.hops_per_sample
            ),
            Measure::Latency,
        )
        .with(latencies("whirl", move || whirl_runtime::same_shard_hops(scale)))
        .with(latencies("glommio local_channel", move || peers::glommio_local_hops(scale)))
        .with(latencies("tokio mpsc, current_thread", move || peers::tokio_local_hops(scale)))
        .with(Entry::absent(
            "actix, ractor, kameo",
            "see savina/ping-pong/1c: the same exchange, as throughput",
        )),
        Scenario::new(
            "micro/cross-shard-round-trip",
            "cross-shard round trip between two actors, both cores busy",
            Measure::Latency,
        )
        .with(latencies("whirl", move || whirl_runtime::cross_shard_round_trip(scale)))
        .with(latencies("glommio shared_channel", move || {
            glommio_channel::round_trip(
                cores,
                scale.samples / 100,
                scale.samples / 10,
                glommio_spin,
            )
        }))
        .with(latencies("tokio mpsc, multi_thread, 2 workers", move || {
            peers::tokio_multi_round_trip(scale)
        }))
        .with(Entry::absent(
            "actix, ractor, kameo",
            "see savina/ping-pong/2c: the same exchange, as throughput",
        )),
        Scenario::new(
            "micro/same-shard-send",
            format!(
                "same-shard send + handle, a task streaming {} messages to an actor",
                scale.messages
            ),
            per_second("messages"),
        )
        .with(rate("whirl", move || whirl_runtime::sink_throughput(scale, Target::SameShard)))
        .with(rate("glommio local_channel", move || peers::glommio_local_throughput(scale)))
        .with(rate("tokio mpsc, current_thread", move || peers::tokio_local_throughput(scale)))
        .with(Entry::absent(
            "actix, ractor, kameo",
            "see savina/counting/1c: the same stream, into an actor",
        )),
        Scenario::new(
            "micro/cross-shard-one-way",
            format!("cross-shard one way, {} messages", scale.messages),
            per_second("messages"),
        )
        .with(rate("whirl, a send per message from a task", move || {
            whirl_runtime::sink_throughput(scale, Target::OtherShard)
        }))
        .with(rate("whirl, from a handler, published per pass", move || {
            whirl_runtime::sink_throughput(scale, Target::OtherShardBatched)
        }))
        .with(rate("whirl, send_many (256 a batch)", move || {
            whirl_runtime::sink_throughput(scale, Target::OtherShardSendMany)
        }))
        .with(rate("glommio shared_channel", move || {
            glommio_channel::throughput(cores, 1024, scale.messages.min(1_000_000), glommio_spin)
        }))
        .with(rate("tokio mpsc, multi_thread, 2 workers", move || {
            peers::tokio_multi_throughput(scale)
        }))
        .with(rate("floor: the bare whirl_mailbox SPSC ring, 256 a batch", move || {
            // On a thread of its own: the ring pins the threads it runs on.
            std::thread::spawn(move || {
                crate::ring::throughput::<crate::ring::Whirl>(cores, 1024, 256, scale.messages)
            })
            .join()
            .expect("ring run")
        }))
        .with(Entry::absent(
            "actix, ractor, kameo",
            "see savina/counting/2c: the same stream, across cores",
        )),
    ];
    let mut asks = on_every_peer!(
        config,
        "micro/ask",
        "ask round trip from the program to an actor, answered through a tokio oneshot (on \
         two cores, whirl and actix place the actor on the other core; the tokio-based peers' \
         scheduler decides)",
        Measure::Latency,
        |peer, _n| Sample::Latencies(crate::ask::round_trips(&peer, scale.samples))
    );
    for (scenario, cross_shard) in asks.iter_mut().zip([false, true]) {
        let name =
            if cross_shard { "whirl, ActorRef::ask, cross shard" } else { "whirl, ActorRef::ask" };
        scenario
            .entries
            .insert(0, latencies(name, move || whirl_runtime::ask_round_trip(scale, cross_shard)));
    }
    all.extend(asks);
    let parks = [
        (Duration::from_micros(5), "5us"),
        (Duration::from_micros(50), "50us"),
        (Duration::from_millis(1), "1ms"),
        (Duration::from_millis(100), "100ms"),
    ];
    for (gap, label) in parks {
        // Fewer samples of the longer parks: 40 of 100 ms (10 with
        // --quick) take 4 s a peer and run. A peer's waker waits out the
        // park with `thread::sleep`, which oversleeps short parks by the
        // timer slack (50 µs by default): its 5 µs parks are longer than
        // whirl's.
        let samples = match gap.as_micros() {
            0..=100 => scale.wake_samples,
            101..=10_000 => scale.wake_samples / 4,
            _ => (scale.wake_samples / 50).max(10),
        };
        let wake_scale = Scale { wake_samples: samples, ..scale };
        all.push(
            Scenario::new(
                format!("micro/wake-parked/{label}"),
                format!(
                    "one way to a shard parked {gap:?}: sent on one core, handled on the other"
                ),
                Measure::Latency,
            )
            .with(latencies("whirl", move || whirl_runtime::wake_parked(wake_scale, gap)))
            .with(latencies("glommio task woken from another core", move || {
                peers::glommio_foreign_wake(samples, gap)
            }))
            .with(latencies("floor: futex (thread::unpark)", move || {
                floors::wake(Sleep::Futex, samples, gap)
            }))
            .with(latencies("floor: eventfd", move || floors::wake(Sleep::Eventfd, samples, gap))),
        );
    }
    let rounds = scale.wake_samples as usize;
    all.push(
        Scenario::new(
            "net/echo/1-connection",
            format!(
                "{}-byte request and answer over loopback TCP, one connection, one at a time: \
                 the server on CPU 0, the client on CPU 1",
                crate::echo::MESSAGE
            ),
            Measure::Latency,
        )
        .with(latencies("whirl, whirl::net connection actors", move || {
            crate::echo::whirl_latency(rounds)
        }))
        .with(latencies("epoll server, one thread", move || crate::echo::epoll_latency(rounds))),
    );
    let many = 50;
    all.push(
        Scenario::new(
            "net/echo/50-connections",
            format!(
                "{}-byte requests over loopback TCP, {many} connections, one request on each \
                 then each answer read: the server on CPU 0, the client on CPU 1",
                crate::echo::MESSAGE
            ),
            per_second("requests"),
        )
        .with(Entry::run("whirl, whirl::net connection actors", move || {
            Sample::Rate(crate::echo::whirl_rate(many, (rounds / 10).max(20)))
        }))
        .with(Entry::run("epoll server, one thread", move || {
            Sample::Rate(crate::echo::epoll_rate(many, (rounds / 10).max(20)))
        })),
    );
    all.push(
        Scenario::new(
            "floors/cache-line-round-trip",
            "a cache line passed between CPUs 0 and 1 and back",
            Measure::Latency,
        )
        .with(latencies("floor: cache line", move || floors::cache_line_round_trip(scale.samples))),
    );
    let each = scale.messages / 16;
    all.extend(on_every_peer!(
        config,
        "micro/fan-in",
        "fan-in: 16 sender actors, one receiver",
        per_second("messages"),
        |peer, _n| fan_in::run(&peer, 16, each).into()
    ));
    all.push(
        Scenario::new(
            "micro/spawn",
            format!(
                "spawn rate on one shard, {} actors a sample, stopped between samples",
                scale.spawns_per_sample
            ),
            per_second("actors"),
        )
        .with(rate("whirl", move || whirl_runtime::spawn_rate(scale)))
        .with(Entry::absent(
            "actix, ractor, kameo, tokio",
            "see savina/fork-join-creation: actors created and sent a message",
        )),
    );
    let mut memory = Scenario::new(
        "micro/memory-per-actor",
        format!(
            "heap bytes per actor, {} actors alive on one core, each sent one message and done \
             with it (the runtime's record, task and mailbox; a one-field state)",
            scale.idle_actors
        ),
        Measure::Size { unit: "bytes per actor" },
    );
    for_each_peer!(1, |peer| {
        let name = peer.name();
        memory.entries.push(Entry::run(name, move || {
            Sample::Value(crate::memory::per_actor(&peer, scale.idle_actors))
        }));
    });
    memory.entries.push(glommio_absent());
    all.push(memory);
    let mut restart = Scenario::new(
        "micro/restart",
        "restart latency, zero backoff: from the failure to the next message handled, the \
         actor on the program's core (whirl on a 2-shard runtime, the peers on one thread; \
         ractor's and kameo's new child has a new address, which the program gets from the \
         supervisor)",
        Measure::Latency,
    );
    for (name, panic, by) in [
        ("whirl, ctx.fail, own policy", false, RestartedBy::Policy),
        ("whirl, panic, own policy", true, RestartedBy::Policy),
        ("whirl, ctx.fail, supervisor on the same shard", false, RestartedBy::SupervisorHere),
        ("whirl, ctx.fail, supervisor on the other shard", false, RestartedBy::SupervisorThere),
    ] {
        restart
            .entries
            .push(latencies(name, move || whirl_runtime::restart_latency(scale, panic, by)));
    }
    let samples = scale.samples / 10;
    restart.entries.extend([
        latencies("actix, ctx.stop(), Supervisor", move || crate::restart::actix(samples)),
        latencies("ractor, Err, supervisor", move || crate::restart::ractor(samples, false)),
        latencies("ractor, panic, supervisor", move || crate::restart::ractor(samples, true)),
        latencies("kameo, Err, linked supervisor", move || crate::restart::kameo(samples, false)),
        latencies("kameo, panic, linked supervisor", move || crate::restart::kameo(samples, true)),
        Entry::absent("tokio", "no supervision: a task that panics is gone"),
        glommio_absent(),
    ]);
    all.push(restart);
    all
}

/// whirl's own comparisons: what its features cost against itself.
fn whirl_only(config: &Config) -> Vec<Scenario> {
    let scale = config.scale;
    let quick = config.quick;
    use scheduling::{AskedOn, Handling};
    let mut send = Scenario::new(
        "whirl/send-and-handle",
        format!(
            "same-shard send + handle, {} messages: what restarts and supervision cost",
            scale.messages
        ),
        per_second("messages"),
    );
    send.entries.extend(shared(
        &["whirl", "whirl, restart policy", "whirl, a supervisor's child"],
        move || whirl_runtime::same_shard_send(scale).into(),
    ));
    let mut handler = Scenario::new(
        "whirl/handler-sends",
        "a handler sending to an actor on its shard, nothing full: ActorRef::send vs Context::send",
        per_second("messages"),
    );
    handler.entries.extend(shared(&["whirl, ActorRef::send", "whirl, Context::send"], move || {
        backpressure::handler_sends(scale).into()
    }));
    let mut slow = Scenario::new(
        "whirl/backpressure",
        "a slow last stage: fed by a task, and last in a pipeline it holds back (fan-out 4 → 1 \
         → slow; middle stage on the other shard)",
        per_second("messages"),
    );
    slow.entries.extend(shared(&["whirl, fed by a task", "whirl, in the pipeline"], move || {
        backpressure::slow_pipeline(scale, true).into()
    }));
    let mut batches = Scenario::new(
        "pipeline/batches",
        "closed-loop pipeline, program → worker → logger (a line per turn to /dev/null): per \
         message vs handle_batch (whirl's program sends with send_many, tokio's one send per \
         message: it has no batch send)",
        per_second("messages"),
    );
    batches.entries.extend(shared(
        &["whirl, per message", "whirl, handle_batch 256", "whirl, handle_batch 1024"],
        move || {
            let handlings = [Handling::PerMessage, Handling::Batches(256), Handling::Batches(1024)];
            scheduling::pipeline(scale, &handlings)
        },
    ));
    let messages = scale.messages / 4;
    for (name, batch) in [
        ("tokio mpsc, multi_thread, 2 workers, recv", 0),
        ("tokio mpsc, multi_thread, 2 workers, recv_many 256", 256),
        ("tokio mpsc, multi_thread, 2 workers, recv_many 1024", 1024),
    ] {
        batches.entries.push(rate(name, move || peers::tokio_pipeline(messages, batch)));
    }
    batches.entries.push(Entry::absent(
        "actix, ractor, kameo",
        "no batch receive: a handler is called once per message",
    ));
    let mut priority = Scenario::new(
        "whirl/priority-ask",
        "ask round trip from the other shard to a High actor: idle shard vs flooded by 4 Normal \
         actors",
        Measure::Latency,
    );
    for (name, on) in [
        ("whirl, idle shard", AskedOn::Idle),
        ("whirl, flooded shard", AskedOn::FloodedHigh),
        ("whirl, flooded shard, Normal actor", AskedOn::FloodedNormal),
    ] {
        priority.entries.push(latencies(name, move || scheduling::priority_ask(scale, on).0));
    }
    let mut metrics = Scenario::new(
        "whirl/metrics",
        "same-shard send + handle with metrics off, on, and on with a tracing subscriber (child \
         process)",
        per_second("messages"),
    );
    metrics.entries.extend(shared(
        &["whirl, metrics off", "whirl, metrics on", "whirl, metrics on + subscriber"],
        move || observability::metrics_cost(scale, quick).into(),
    ));
    vec![send, handler, slow, batches, priority, metrics]
}

/// Every scenario, in the order they run.
pub fn all(config: &Config) -> Vec<Scenario> {
    let mut all = savina(config);
    all.extend(micro(config));
    all.extend(open_loop(config));
    all.extend(whirl_only(config));
    all
}
