//! Every scenario of the suite, with its peers.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;

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

/// A throughput sample from a histogram holding one run's rate.
fn one_rate(h: &Histogram<u64>) -> Sample {
    Sample::Rate(h.mean())
}

/// "1 core" / "N cores" in titles, "1c" / "Nc" in ids.
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

/// A scenario on every actor peer, at one core and at `config.cores`.
fn on_every_peer(
    config: &Config,
    id: &str,
    title: &str,
    unit: &'static str,
    mut add: impl FnMut(&mut Scenario, usize),
) -> Vec<Scenario> {
    let mut cores = vec![1];
    if config.cores > 1 {
        cores.push(config.cores);
    }
    cores
        .into_iter()
        .map(|n| {
            let (words, short) = cores_label(n);
            let mut s = Scenario::new(
                format!("{id}/{short}"),
                format!("{title}; {words}"),
                Measure::Throughput { unit },
            );
            add(&mut s, n);
            s.entries.push(glommio_absent());
            s
        })
        .collect()
}

/// Adds a throughput entry per actor peer: `$run(&peer)` returns a
/// `savina::Run`.
macro_rules! every_peer_rate {
    ($scenario:expr, $cores:expr, |$peer:ident| $run:expr) => {
        for_each_peer!($cores, |$peer| {
            let name = $peer.name();
            $scenario.entries.push(Entry::run(name, move || {
                let run: savina::Run = $run;
                Sample::rate(run.ops, run.elapsed)
            }));
        })
    };
}

/// The Savina benchmarks.
fn savina(config: &Config) -> Vec<Scenario> {
    let p = config.params;
    let mut all = Vec::new();
    all.extend(on_every_peer(
        config,
        "savina/ping-pong",
        &format!("Savina ping-pong: {} pings, each answered", p.pings),
        "messages",
        |s, n| every_peer_rate!(s, n, |peer| savina::ping_pong::run(&peer, p.pings)),
    ));
    all.extend(on_every_peer(
        config,
        "savina/counting",
        &format!("Savina counting: {} messages to one counter", p.counts),
        "messages",
        |s, n| every_peer_rate!(s, n, |peer| savina::counting::run(&peer, p.counts)),
    ));
    all.extend(on_every_peer(
        config,
        "savina/fork-join-throughput",
        &format!(
            "Savina fork-join throughput: {} workers, {} messages each, a sine per message",
            p.fj_workers, p.fj_messages
        ),
        "messages",
        |s, n| {
            every_peer_rate!(s, n, |peer| savina::fork_join::throughput(
                &peer,
                p.fj_workers,
                p.fj_messages
            ))
        },
    ));
    all.extend(on_every_peer(
        config,
        "savina/fork-join-creation",
        &format!("Savina fork-join creation: {} actors created, one message each", p.fj_actors),
        "actors",
        |s, n| every_peer_rate!(s, n, |peer| savina::fork_join::creation(&peer, p.fj_actors)),
    ));
    all.extend(on_every_peer(
        config,
        "savina/thread-ring",
        &format!("Savina thread ring: {} actors, {} hops", p.ring_actors, p.ring_hops),
        "hops",
        |s, n| {
            every_peer_rate!(s, n, |peer| savina::thread_ring::run(
                &peer,
                p.ring_actors,
                p.ring_hops
            ))
        },
    ));
    all.extend(on_every_peer(
        config,
        "savina/chameneos",
        &format!("Savina chameneos: {} creatures, {} meetings", p.chameneos, p.meetings),
        "meetings",
        |s, n| {
            every_peer_rate!(s, n, |peer| savina::chameneos::run(&peer, p.chameneos, p.meetings))
        },
    ));
    all.extend(on_every_peer(
        config,
        "savina/big",
        &format!("Savina big: {} actors, {} pings each", p.big_actors, p.big_pings),
        "messages",
        |s, n| every_peer_rate!(s, n, |peer| savina::big::run(&peer, p.big_actors, p.big_pings)),
    ));
    all.extend(on_every_peer(
        config,
        "savina/banking",
        &format!("Savina banking: {} accounts, {} transfers", p.accounts, p.transactions),
        "transfers",
        |s, n| {
            every_peer_rate!(s, n, |peer| savina::banking::run(&peer, p.accounts, p.transactions))
        },
    ));
    all
}

/// Latency entries for each actor peer from an open-loop run.
macro_rules! every_peer_open_loop {
    ($scenario:expr, $cores:expr, $worker:expr, $config:expr) => {{
        let c: Config = $config;
        for_each_peer!($cores, |peer| {
            let name = peer.name();
            let cores = $cores;
            $scenario.entries.push(Entry::run(name, move || {
                let seen = open_loop::run(&peer, $worker, cores, c.rate, c.beats, c.beat);
                Sample::Latencies(seen.latencies)
            }));
        })
    }};
}

/// Open loop: one way, and the pipeline.
fn open_loop(config: &Config) -> Vec<Scenario> {
    let mut all = Vec::new();
    let c = *config;
    let mut cores = vec![1];
    if c.cores > 1 {
        cores.push(c.cores);
    }
    let offered = format!(
        "{} msg/s offered for {} beats of {:?}; latency from when each message was due (coordinated omission corrected)",
        c.rate, c.beats, c.beat
    );
    for n in cores {
        let (words, short) = cores_label(n);
        let mut one_way = Scenario::new(
            format!("open-loop/one-way/{short}"),
            format!(
                "one way, program → actor{}, {offered}; {words}",
                if n > 1 { " on the last core" } else { "" }
            ),
            Measure::Latency,
        );
        every_peer_open_loop!(one_way, n, false, c);
        one_way.entries.push(glommio_absent());
        all.push(one_way);
        let mut pipeline = Scenario::new(
            format!("pipeline/open-loop/{short}"),
            format!(
                "steady_state pipeline, generator → worker (FizzBuzz){} → logger, heartbeat per beat, {offered}; {words}",
                if n > 1 { " on the last core" } else { "" }
            ),
            Measure::Latency,
        );
        every_peer_open_loop!(pipeline, n, true, c);
        pipeline.entries.push(glommio_absent());
        all.push(pipeline);
    }
    all
}

/// Entries that share one function doing a run of each (interleaved
/// inside): the first entry of a round runs it, the others take their
/// sample from it.
fn shared(names: &[&str], run: impl FnMut() -> Vec<Sample> + 'static) -> Vec<Entry> {
    let pending: Rc<RefCell<VecDeque<Sample>>> = Rc::default();
    let run = Rc::new(RefCell::new(run));
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let pending = pending.clone();
            let run = run.clone();
            Entry::run(*name, move || {
                if i == 0 {
                    let samples = (run.borrow_mut())();
                    pending.borrow_mut().extend(samples);
                }
                pending.borrow_mut().pop_front().expect("a sample per entry")
            })
        })
        .collect()
}

/// The micro scenarios and their floors.
fn micro(config: &Config) -> Vec<Scenario> {
    let scale = config.scale;
    let one = Scale { runs: 1, ..scale };
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
        .with(Entry::run("whirl", move || Sample::Latencies(whirl_runtime::same_shard_hops(scale))))
        .with(Entry::run("glommio local_channel", move || {
            Sample::Latencies(peers::glommio_local_hops(scale))
        }))
        .with(Entry::run("tokio mpsc, current_thread", move || {
            Sample::Latencies(peers::tokio_local_hops(scale))
        }))
        .with(Entry::absent(
            "actix, ractor, kameo",
            "see savina/ping-pong/1c: the same exchange, as throughput",
        )),
        Scenario::new(
            "micro/cross-shard-round-trip",
            "cross-shard round trip between two actors, both cores busy",
            Measure::Latency,
        )
        .with(Entry::run("whirl", move || {
            Sample::Latencies(whirl_runtime::cross_shard_round_trip(scale))
        }))
        .with(Entry::run("glommio shared_channel", move || {
            Sample::Latencies(glommio_channel::round_trip(
                cores,
                scale.samples / 100,
                scale.samples / 10,
                glommio_spin,
            ))
        }))
        .with(Entry::run("tokio mpsc, multi_thread, 2 workers", move || {
            Sample::Latencies(peers::tokio_multi_round_trip(scale))
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
            Measure::Throughput { unit: "messages" },
        )
        .with(Entry::run("whirl", move || {
            one_rate(&whirl_runtime::sink_throughput(one, Target::SameShard))
        }))
        .with(Entry::run("glommio local_channel", move || {
            one_rate(&peers::glommio_local_throughput(one))
        }))
        .with(Entry::run("tokio mpsc, current_thread", move || {
            one_rate(&peers::tokio_local_throughput(one))
        }))
        .with(Entry::absent(
            "actix, ractor, kameo",
            "see savina/counting/1c: the same stream, into an actor",
        )),
        Scenario::new(
            "micro/cross-shard-one-way",
            format!("cross-shard one way, {} messages", scale.messages),
            Measure::Throughput { unit: "messages" },
        )
        .with(Entry::run("whirl, a send per message from a task", move || {
            one_rate(&whirl_runtime::sink_throughput(one, Target::OtherShard))
        }))
        .with(Entry::run("whirl, from a handler, published per pass", move || {
            one_rate(&whirl_runtime::sink_throughput(one, Target::OtherShardBatched))
        }))
        .with(Entry::run("whirl, send_many (256 a batch)", move || {
            one_rate(&whirl_runtime::sink_throughput(one, Target::OtherShardSendMany))
        }))
        .with(Entry::run("glommio shared_channel", move || {
            Sample::Rate(glommio_channel::throughput(
                cores,
                1024,
                scale.messages.min(1_000_000),
                glommio_spin,
            ) as f64)
        }))
        .with(Entry::run("tokio mpsc, multi_thread, 2 workers", move || {
            one_rate(&peers::tokio_multi_throughput(one))
        }))
        .with(Entry::run("floor: the bare whirl_mailbox SPSC ring, 256 a batch", move || {
            let run = std::thread::spawn(move || {
                crate::ring::throughput::<crate::ring::Whirl>(cores, 1024, 256, scale.messages)
            });
            Sample::Rate(run.join().expect("ring run") as f64)
        }))
        .with(Entry::absent(
            "actix, ractor, kameo",
            "see savina/counting/2c: the same stream, across cores",
        )),
        Scenario::new(
            "micro/ask",
            "ask round trip from a task, same shard and cross shard",
            Measure::Latency,
        )
        .with(Entry::run("whirl, same shard", move || {
            Sample::Latencies(whirl_runtime::ask_round_trip(scale, false))
        }))
        .with(Entry::run("whirl, cross shard", move || {
            Sample::Latencies(whirl_runtime::ask_round_trip(scale, true))
        })),
    ];
    for (gap, label) in [(Duration::from_micros(50), "50us"), (Duration::from_millis(1), "1ms")] {
        let samples = if gap > Duration::from_micros(100) {
            scale.wake_samples / 4
        } else {
            scale.wake_samples
        };
        all.push(
            Scenario::new(
                format!("micro/wake-parked/{label}"),
                format!(
                    "one way to a shard parked {gap:?}: sent on one core, handled on the other"
                ),
                Measure::Latency,
            )
            .with(Entry::run("whirl", move || {
                Sample::Latencies(whirl_runtime::wake_parked(
                    Scale { wake_samples: samples, ..scale },
                    gap,
                ))
            }))
            .with(Entry::run("glommio task woken from another core", move || {
                Sample::Latencies(peers::glommio_foreign_wake(samples, gap))
            }))
            .with(Entry::run("floor: futex (thread::unpark)", move || {
                Sample::Latencies(floors::wake(Sleep::Futex, samples, gap))
            }))
            .with(Entry::run("floor: eventfd", move || {
                Sample::Latencies(floors::wake(Sleep::Eventfd, samples, gap))
            })),
        );
    }
    all.push(
        Scenario::new(
            "floors/cache-line-round-trip",
            "a cache line passed between CPUs 0 and 1 and back",
            Measure::Latency,
        )
        .with(Entry::run("floor: cache line", move || {
            Sample::Latencies(floors::cache_line_round_trip(scale.samples))
        })),
    );
    let mut fan_in = on_every_peer(
        config,
        "micro/fan-in",
        "fan-in: 16 sender actors, one receiver",
        "messages",
        |s, n| {
            let each = scale.messages / 16;
            every_peer_rate!(s, n, |peer| fan_in::run(&peer, 16, each))
        },
    );
    all.append(&mut fan_in);
    all.push(
        Scenario::new(
            "micro/spawn",
            format!(
                "spawn rate on one shard, {} actors a sample (peers: savina/fork-join-creation)",
                scale.spawns_per_sample
            ),
            Measure::Throughput { unit: "actors" },
        )
        .with(Entry::run("whirl", move || {
            let (rates, _) =
                whirl_runtime::spawn_rate_and_memory(Scale { idle_actors: 1, ..scale });
            Sample::Rate(rates.value_at_quantile(0.5) as f64)
        })),
    );
    all.push(
        Scenario::new(
            "micro/memory-per-actor",
            format!(
                "runtime memory per idle actor, {} actors (state and mailbox buffer excluded)",
                scale.idle_actors
            ),
            Measure::Size { unit: "bytes per actor" },
        )
        .with(Entry::run("whirl", move || {
            Sample::Value(whirl_runtime::spawn_rate_and_memory(scale).1)
        })),
    );
    let mut restart = Scenario::new(
        "micro/restart",
        "restart latency, zero backoff: from the failure to the next message handled",
        Measure::Latency,
    );
    for (name, panic, by) in [
        ("whirl, ctx.fail, own policy", false, RestartedBy::Policy),
        ("whirl, panic, own policy", true, RestartedBy::Policy),
        ("whirl, ctx.fail, supervisor on the same shard", false, RestartedBy::SupervisorHere),
        ("whirl, ctx.fail, supervisor on the other shard", false, RestartedBy::SupervisorThere),
    ] {
        restart.entries.push(Entry::run(name, move || {
            Sample::Latencies(whirl_runtime::restart_latency(scale, panic, by))
        }));
    }
    all.push(restart);
    all
}

/// whirl's own comparisons: what its features cost against itself.
fn whirl_only(config: &Config) -> Vec<Scenario> {
    let scale = Scale { runs: 1, ..config.scale };
    let quick = config.quick;
    let rates = |hs: Vec<Histogram<u64>>| hs.iter().map(one_rate).collect::<Vec<_>>();
    use scheduling::{AskedOn, Handling};
    let mut send = Scenario::new(
        "whirl/send-and-handle",
        format!(
            "same-shard send + handle, {} messages: what restarts and supervision cost",
            scale.messages
        ),
        Measure::Throughput { unit: "messages" },
    );
    send.entries.extend(shared(
        &["whirl", "whirl, restart policy", "whirl, a supervisor's child"],
        move || rates(whirl_runtime::same_shard_send(scale).into()),
    ));
    let mut handler = Scenario::new(
        "whirl/handler-sends",
        "a handler sending to an actor on its shard, nothing full: ActorRef::send vs Context::send",
        Measure::Throughput { unit: "messages" },
    );
    handler.entries.extend(shared(&["whirl, ActorRef::send", "whirl, Context::send"], move || {
        rates(backpressure::handler_sends(scale).into())
    }));
    let mut slow = Scenario::new(
        "whirl/backpressure",
        "a slow last stage: fed by a task, and last in a pipeline it holds back (fan-out 4 → 1 → slow; middle stage on the other shard)",
        Measure::Throughput { unit: "messages" },
    );
    slow.entries.extend(shared(&["whirl, fed by a task", "whirl, in the pipeline"], move || {
        rates(backpressure::slow_pipeline(scale, true).into())
    }));
    let mut batches = Scenario::new(
        "pipeline/batches",
        "closed-loop pipeline, send_many → worker → logger (a line per turn to /dev/null): per message vs handle_batch",
        Measure::Throughput { unit: "messages" },
    );
    batches.entries.extend(shared(
        &["whirl, per message", "whirl, handle_batch 256", "whirl, handle_batch 1024"],
        move || {
            rates(scheduling::pipeline(
                scale,
                &[Handling::PerMessage, Handling::Batches(256), Handling::Batches(1024)],
            ))
        },
    ));
    let mut priority = Scenario::new(
        "whirl/priority-ask",
        "ask round trip from the other shard to a High actor: idle shard vs flooded by 4 Normal actors",
        Measure::Latency,
    );
    for (name, on) in [
        ("whirl, idle shard", AskedOn::Idle),
        ("whirl, flooded shard", AskedOn::FloodedHigh),
        ("whirl, flooded shard, Normal actor", AskedOn::FloodedNormal),
    ] {
        priority.entries.push(Entry::run(name, move || {
            Sample::Latencies(scheduling::priority_ask(scale, on).0)
        }));
    }
    let mut metrics = Scenario::new(
        "whirl/metrics",
        "same-shard send + handle with metrics off, on, and on with a tracing subscriber (child process)",
        Measure::Throughput { unit: "messages" },
    );
    metrics.entries.extend(shared(
        &["whirl, metrics off", "whirl, metrics on", "whirl, metrics on + subscriber"],
        move || rates(observability::metrics_cost(scale, quick).into()),
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
