//! Metrics are exact under a known workload: messages handled, mailbox
//! depth and high-water mark, ring traffic between shards, restarts and
//! dead letters; the live query works from shards and threads; keeping
//! them allocates nothing.

mod common;
#[path = "support/counting.rs"]
mod counting;

use std::time::Duration;

use common::{Counter, CounterMsg};
use whirl::{
    Actor, ActorState, AskError, Context, DeadLetterCause, Placement, RegistryError, Restart,
    RestartPolicy, Runtime,
};

/// Panics on `Boom`; counts `Add`s.
struct Fragile {
    n: u64,
}

enum FragileMsg {
    Add(u64),
    Boom,
    Get(whirl::Reply<u64>),
}

impl Actor for Fragile {
    type Msg = FragileMsg;
    fn handle(&mut self, msg: FragileMsg, _ctx: &mut Context<Self>) {
        match msg {
            FragileMsg::Add(k) => self.n += k,
            FragileMsg::Boom => panic!("metrics test: boom"),
            FragileMsg::Get(reply) => reply.send(self.n),
        }
    }
}

#[test]
fn counts_are_exact_on_one_shard_and_across_shards() {
    common::within(120, || {
        let rt = common::runtime(2);
        let sys = rt.system();
        // Spawned from this thread: no spawn command travels a ring.
        let near = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
        let far = sys.spawn_on(1, || Counter { n: 0 }).unwrap();
        sys.register("far", far).unwrap();
        let (near_stats, far_stats) = rt
            .block_on(move |_| async move {
                // From a task of shard 0: 1000 sends to each, then one ask.
                for _ in 0..1000 {
                    near.send(CounterMsg::Add(1)).unwrap();
                    far.send_async(CounterMsg::Add(1)).await.unwrap();
                }
                assert_eq!(near.ask(CounterMsg::Get).await.unwrap(), 1000);
                assert_eq!(far.ask(CounterMsg::Get).await.unwrap(), 1000);
                (near.stats().await.unwrap(), far.stats().await.unwrap())
            })
            .unwrap();
        for stats in [&near_stats, &far_stats] {
            assert_eq!(stats.handled, 1001, "1000 adds and one question");
            assert_eq!(stats.mailbox_depth, 0);
            assert_eq!((stats.restarts, stats.incarnation()), (0, 0));
            assert_eq!(stats.state, ActorState::Running);
            assert!(stats.actor_type.ends_with("Counter"), "{}", stats.actor_type);
        }
        // The 1000 sends to `near` and its question were queued by the task
        // before the shard ran any of them: its mailbox held all 1001.
        assert_eq!(near_stats.mailbox_high_water, 1001);
        assert_eq!((near_stats.shard, far_stats.shard), (0, 1));
        assert_eq!(far_stats.names, ["far"]);

        // The same actor by name, from a thread outside the runtime.
        let by_name = futures_lite::future::block_on(sys.stats_of("far")).unwrap();
        assert_eq!(by_name.handled, 1001);
        assert!(matches!(
            futures_lite::future::block_on(sys.stats_of("nobody")),
            Err(RegistryError::NotFound(_))
        ));

        // Ring traffic: shard 0 wrote 1001 entries into the ring to shard
        // 1 (1000 messages and the question), shard 1 ran them, and wrote
        // one back (the answer), which shard 0 ran.
        let snapshot = rt.snapshot();
        assert!(snapshot.unanswered.is_empty());
        let [s0, s1] = [&snapshot.shards[0], &snapshot.shards[1]];
        assert_eq!((s0.peers[0].peer, s1.peers[0].peer), (1, 0));
        assert_eq!((s0.peers[0].sent, s1.peers[0].received), (1001, 1001));
        assert_eq!((s1.peers[0].sent, s0.peers[0].received), (1, 1));
        assert_eq!(s0.peers[0].inbound_words, 0);
        assert!(s0.peers[0].ring_words > 0);
        assert_eq!(snapshot.runtime.actors, 2);
        assert_eq!((s0.actors.len(), s1.actors.len()), (1, 1));
        assert_eq!(s1.actors[0].names, ["far"]);
        assert_eq!(s0.ready, [0, 0, 0]);
        assert!(s0.busy() + s0.idle <= s0.uptime + Duration::from_millis(1));
        rt.shutdown();
    });
}

#[test]
fn restarts_and_dead_letters_are_counted_per_actor_and_runtime_wide() {
    common::quiet_panics("metrics test: boom");
    common::within(120, || {
        let rt = common::runtime(2);
        let sys = rt.system();
        let policy = RestartPolicy::new(Restart::Permanent).intensity(10, Duration::from_secs(60));
        let fragile =
            sys.spawn_restarting(Placement::Shard(1), policy, || Fragile { n: 0 }).unwrap();
        let stats = rt
            .block_on(move |_| async move {
                for _ in 0..3 {
                    fragile.send_async(FragileMsg::Add(1)).await.unwrap();
                    fragile.send_async(FragileMsg::Boom).await.unwrap();
                }
                // Restarts lose the count: the new incarnation has none.
                assert_eq!(fragile.ask(FragileMsg::Get).await.unwrap(), 0);
                fragile.stats().await.unwrap()
            })
            .unwrap();
        assert_eq!((stats.restarts, stats.incarnation()), (3, 3));
        assert_eq!(stats.handled, 7, "over every incarnation, the failed ones included");
        let snapshot = rt.snapshot();
        assert_eq!(snapshot.runtime.restarts, 3);
        assert_eq!(snapshot.shards[1].restarts, 3);
        assert_eq!(snapshot.runtime.dead_letters_of(DeadLetterCause::FailedHandling), 3);
        assert_eq!(snapshot.shards[1].dead_letters[DeadLetterCause::FailedHandling as usize], 3);
        rt.shutdown();
    });
}

#[test]
fn a_stopped_actor_reports_closed() {
    common::within(120, || {
        let rt = common::runtime(1);
        let sys = rt.system();
        let counter = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
        sys.register("counter", counter).unwrap();
        let probe = counter;
        rt.block_on(move |_| async move {
            counter.send(CounterMsg::Stop).unwrap();
            common::eventually("the counter stopped", || async {
                (!counter.is_alive()).then_some(())
            })
            .await;
        })
        .unwrap();
        assert_eq!(futures_lite::future::block_on(probe.stats()).unwrap_err(), AskError::Closed);
        assert!(matches!(
            futures_lite::future::block_on(sys.stats_of("counter")),
            Err(RegistryError::NotFound(_))
        ));
        rt.shutdown();
    });
}

#[test]
fn without_metrics_the_per_actor_counters_read_zero() {
    common::within(120, || {
        let rt = common::builder(1).metrics(false).build().unwrap();
        let sys = rt.system();
        let counter = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
        let stats = rt
            .block_on(move |_| async move {
                for _ in 0..100 {
                    counter.send(CounterMsg::Add(1)).unwrap();
                }
                assert_eq!(counter.ask(CounterMsg::Get).await.unwrap(), 100);
                counter.stats().await.unwrap()
            })
            .unwrap();
        assert_eq!((stats.handled, stats.mailbox_high_water), (0, 0));
        assert!(stats.handling_time.is_none());
        rt.shutdown();
    });
}

#[test]
fn handling_times_are_sampled_at_the_configured_rate() {
    common::within(120, || {
        // Every turn timed: the histogram has every message.
        let rt = common::builder(1).handling_time_sample_every(1).build().unwrap();
        let sys = rt.system();
        let counter = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
        let stats = rt
            .block_on(move |_| async move {
                for _ in 0..500 {
                    counter.send(CounterMsg::Add(1)).unwrap();
                }
                counter.ask(CounterMsg::Get).await.unwrap();
                counter.stats().await.unwrap()
            })
            .unwrap();
        let time = stats.handling_time.expect("timed");
        assert_eq!(time.count(), 501);
        assert!(time.quantile(0.5) <= time.max());
        assert!(time.sum() >= time.max());
        let shard = &rt.snapshot().shards[0];
        assert!(shard.handling_time.count() >= 501, "the shard's histogram has every timed turn");
        rt.shutdown();
    });
}

/// Keeping the metrics on the message path allocates nothing, with every
/// turn timed (the actor's histogram is made at its first timed turn, in
/// the warm-up).
#[test]
fn keeping_metrics_allocates_nothing() {
    common::within(120, || {
        let rt = common::builder(2).handling_time_sample_every(1).build().unwrap();
        let allocations = rt
            .block_on(|sys| async move {
                let here = sys.current_shard().unwrap();
                let local = sys.spawn_on(here, || Counter { n: 0 }).unwrap();
                let remote = sys.spawn_on(1 - here, || Counter { n: 0 }).unwrap();
                let round = || async {
                    for _ in 0..200 {
                        local.send(CounterMsg::Add(1)).unwrap();
                        remote.send_async(CounterMsg::Add(1)).await.unwrap();
                    }
                    local.ask(CounterMsg::Get).await.unwrap();
                    remote.ask(CounterMsg::Get).await.unwrap();
                };
                for _ in 0..5 {
                    round().await; // warm up
                }
                counting::start();
                for _ in 0..50 {
                    round().await;
                }
                let allocations = counting::stop();
                sys.shutdown().await;
                allocations
            })
            .unwrap();
        assert_eq!(allocations, 0, "allocations on the shard's thread");
    });
}

#[test]
fn a_snapshot_from_a_shard_sees_every_shard() {
    common::within(120, || {
        let rt: Runtime = common::runtime(2);
        let shards = rt
            .block_on(|sys| async move {
                let snapshot = sys.snapshot().await;
                snapshot.shards.iter().map(|s| s.shard).collect::<Vec<_>>()
            })
            .unwrap();
        assert_eq!(shards, [0, 1]);
        rt.shutdown();
    });
}

/// Review finding: timing was decided by `handled` being a multiple of the
/// rate at a turn's first message, which for turns of 64 (starting at
/// 64k + 1) never happened: a batching actor was never timed.
#[test]
fn a_batching_actor_is_timed_at_its_rate() {
    struct Batcher;
    impl Actor for Batcher {
        type Msg = u64;
        fn handle(&mut self, _n: u64, _ctx: &mut Context<Self>) {}
        fn handle_batch(
            &mut self,
            _first: u64,
            rest: &mut whirl::Batch<'_, u64>,
            _ctx: &mut Context<Self>,
        ) {
            for _ in rest.by_ref() {}
        }
    }
    common::within(120, || {
        let rt = common::builder(1).mailbox_capacity(8192).build().unwrap();
        let sys = rt.system();
        let batcher = sys.spawn_on(0, || Batcher).unwrap();
        let stats = rt
            .block_on(move |_| async move {
                for round in 0..8 {
                    for n in 0..1024 {
                        batcher.send(round * 1024 + n).unwrap();
                    }
                    futures_lite::future::yield_now().await;
                }
                common::eventually("all handled", || async {
                    let stats = batcher.stats().await.unwrap();
                    (stats.handled == 8192).then_some(stats)
                })
                .await
            })
            .unwrap();
        let timed = stats.handling_time.map_or(0, |t| t.count());
        assert!(timed > 64, "more than the first turn timed: {timed}");
        rt.shutdown();
    });
}
