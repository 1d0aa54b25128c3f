//! Priority classes on one shard: `High` actors are served first and between
//! the turns of a lower class's flood; no class starves another. Everything
//! here is counted in messages, not timed.

mod common;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use whirl::{
    Actor, ActorRef, Context, Placement, Priority, Reply, Schedule, SpawnOptions, HIGH_CHECK_EVERY,
    NORMAL_SHARE,
};

/// Handles a message by sending it to itself again: a flood that never
/// ends, as deep as the messages it was given. Counts what it handles; every
/// `stamp_every`-th message it tells `stamps` how many floods had been
/// handled when it sent.
struct Flooder {
    handled: Arc<AtomicU64>,
    stamps: Option<(ActorRef<ControlMsg>, u64)>,
}

impl Actor for Flooder {
    type Msg = u64;
    fn handle(&mut self, n: u64, ctx: &mut Context<Self>) {
        let handled = self.handled.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some((control, every)) = &self.stamps {
            if handled % every == 0 {
                control.send(ControlMsg::Stamp(handled)).expect("room");
            }
        }
        // Refused once a stop was asked for: the flood then drains.
        let _ = ctx.myself().send(n);
    }
}

/// Answers with the flood's count; records how far the flood got between a
/// stamp's send and its handling.
struct Control {
    handled: Arc<AtomicU64>,
    stamps: u64,
    worst_lag: u64,
}

enum ControlMsg {
    Count(Reply<u64>),
    Stamp(u64),
    Lags(Reply<(u64, u64)>),
}

impl Actor for Control {
    type Msg = ControlMsg;
    fn handle(&mut self, msg: ControlMsg, _ctx: &mut Context<Self>) {
        let now = self.handled.load(Ordering::Relaxed);
        match msg {
            ControlMsg::Count(reply) => reply.send(now),
            ControlMsg::Stamp(at) => {
                self.stamps += 1;
                self.worst_lag = self.worst_lag.max(now - at);
            }
            ControlMsg::Lags(reply) => reply.send((self.stamps, self.worst_lag)),
        }
    }
}

fn on(shard: usize, priority: Priority) -> SpawnOptions {
    SpawnOptions::new(Placement::Shard(shard)).schedule(Schedule::new().priority(priority))
}

/// Starts `count` flooders of class `priority` on `shard`, each 1000 deep.
async fn flood(
    sys: &whirl::System,
    shard: usize,
    priority: Priority,
    count: usize,
    handled: &Arc<AtomicU64>,
    stamps: Option<(ActorRef<ControlMsg>, u64)>,
) -> Vec<ActorRef<u64>> {
    let mut flooders = Vec::new();
    for _ in 0..count {
        let handled = handled.clone();
        let flooder = sys
            .spawn_with_options(on(shard, priority), move || Flooder {
                handled: handled.clone(),
                stamps,
            })
            .unwrap();
        let mut msgs: VecDeque<u64> = (0..1000).collect();
        flooder.send_many(&mut msgs).await.unwrap();
        flooders.push(flooder);
    }
    flooders
}

fn control(
    sys: &whirl::System,
    shard: usize,
    priority: Priority,
    handled: &Arc<AtomicU64>,
) -> ActorRef<ControlMsg> {
    let handled = handled.clone();
    sys.spawn_with_options(on(shard, priority), move || Control {
        handled: handled.clone(),
        stamps: 0,
        worst_lag: 0,
    })
    .unwrap()
}

/// Runs `test` on one shard of a 2-shard runtime (it gets the system and
/// that shard); then stops the flooders it returns and shuts down.
fn on_a_shard<F, Fut>(test: F)
where
    F: FnOnce(whirl::System, usize) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Vec<ActorRef<u64>>> + 'static,
{
    common::within(120, || {
        let rt = common::runtime(2);
        rt.block_on(|sys| async move {
            let here = sys.current_shard().unwrap();
            let flooders = test(sys.clone(), here).await;
            flooders.iter().for_each(ActorRef::stop);
            sys.shutdown().await;
        })
        .unwrap();
    });
}

#[test]
fn a_high_actor_answers_ahead_of_a_normal_flood_and_the_flood_goes_on() {
    on_a_shard(|sys, here| async move {
        let handled = Arc::new(AtomicU64::new(0));
        let high = control(&sys, here, Priority::High, &handled);
        let normal = control(&sys, here, Priority::Normal, &handled);
        let flooders = flood(&sys, here, Priority::Normal, 4, &handled, None).await;
        let start = handled.load(Ordering::Relaxed);
        for _ in 0..100 {
            let before = handled.load(Ordering::Relaxed);
            let answered_at = high.ask(ControlMsg::Count).await.unwrap();
            assert!(
                answered_at - before <= HIGH_CHECK_EVERY as u64,
                "the High actor waited for {} flood messages",
                answered_at - before
            );
        }
        let progress = handled.load(Ordering::Relaxed) - start;
        assert!(progress >= 100 * NORMAL_SHARE as u64, "the flood went on: {progress}");
        // The same ask to a Normal actor waits behind the flood's 4000.
        let before = handled.load(Ordering::Relaxed);
        let answered_at = normal.ask(ControlMsg::Count).await.unwrap();
        assert!(answered_at - before >= 3000, "waited for {}", answered_at - before);
        flooders
    });
}

#[test]
fn high_messages_sent_during_a_normal_flood_wait_at_most_the_check_interval() {
    on_a_shard(|sys, here| async move {
        let handled = Arc::new(AtomicU64::new(0));
        let high = control(&sys, here, Priority::High, &handled);
        let flooders = flood(&sys, here, Priority::Normal, 3, &handled, Some((high, 97))).await;
        let (stamps, worst) = common::eventually("stamps came", || async {
            let (stamps, worst) = high.ask(ControlMsg::Lags).await.unwrap();
            (stamps >= 200).then_some((stamps, worst))
        })
        .await;
        // Sent from inside the flood, it waits for the next check, which
        // comes every HIGH_CHECK_EVERY messages (one message a turn).
        assert!(worst <= HIGH_CHECK_EVERY as u64, "{stamps} stamps, worst lag {worst}");
        flooders
    });
}

#[test]
fn a_flood_in_a_higher_class_starves_no_lower_class() {
    on_a_shard(|sys, here| async move {
        let high_handled = Arc::new(AtomicU64::new(0));
        let mut flooders = flood(&sys, here, Priority::High, 2, &high_handled, None).await;
        for lower in [Priority::Normal, Priority::Low] {
            let handled = Arc::new(AtomicU64::new(0));
            let start = high_handled.load(Ordering::Relaxed);
            // A Normal (then Low) flood starts under the High one; a
            // Control of the same class sees it progress.
            flooders.extend(flood(&sys, here, lower, 1, &handled, None).await);
            let watch = control(&sys, here, lower, &handled);
            let seen = common::eventually("the lower class progressed", || async {
                let seen = watch.ask(ControlMsg::Count).await.unwrap();
                (seen >= 50_000).then_some(seen)
            })
            .await;
            let high = high_handled.load(Ordering::Relaxed) - start;
            assert!(high > seen, "the High flood ran all along ({high} vs {seen})");
        }
        flooders
    });
}

/// Watches an actor; records how far the flood got between the watched
/// actor's `stopped` and the watch's notice.
struct Watcher {
    handled: Arc<AtomicU64>,
    stopped_at: Arc<AtomicU64>,
    lag: Option<u64>,
}

enum WatcherMsg {
    Watch(ActorRef<u64>),
    Down,
    Lag(Reply<Option<u64>>),
}

impl Actor for Watcher {
    type Msg = WatcherMsg;
    fn handle(&mut self, msg: WatcherMsg, ctx: &mut Context<Self>) {
        match msg {
            WatcherMsg::Watch(target) => ctx.watch(&target, |_| WatcherMsg::Down),
            WatcherMsg::Down => {
                let now = self.handled.load(Ordering::Relaxed);
                self.lag = Some(now - self.stopped_at.load(Ordering::Relaxed));
            }
            WatcherMsg::Lag(reply) => reply.send(self.lag),
        }
    }
}

/// Notes the flood's count when it stops.
struct Watched {
    handled: Arc<AtomicU64>,
    stopped_at: Arc<AtomicU64>,
}

impl Actor for Watched {
    type Msg = u64;
    fn handle(&mut self, _: u64, _ctx: &mut Context<Self>) {}
    fn stopped(&mut self, _: &whirl::StopReason, _ctx: &mut Context<Self>) {
        self.stopped_at.store(self.handled.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// A watch's notice to a `High` watcher on the watched actor's shard is as
/// prompt as any `High` message, whatever actor has the slot whose index
/// happens to be the watch's id (here a `Low` one, spawned first).
#[test]
fn a_high_watcher_hears_of_a_stop_during_a_normal_flood_within_the_check_interval() {
    on_a_shard(|sys, here| async move {
        let handled = Arc::new(AtomicU64::new(0));
        let stopped_at = Arc::new(AtomicU64::new(0));
        let _low = control(&sys, here, Priority::Low, &handled);
        let (counter, at) = (handled.clone(), stopped_at.clone());
        let watcher = sys
            .spawn_with_options(on(here, Priority::High), move || Watcher {
                handled: counter.clone(),
                stopped_at: at.clone(),
                lag: None,
            })
            .unwrap();
        let (counter, at) = (handled.clone(), stopped_at.clone());
        let watched = sys
            .spawn_on(here, move || Watched { handled: counter.clone(), stopped_at: at.clone() })
            .unwrap();
        watcher.send(WatcherMsg::Watch(watched)).unwrap();
        // 1000 flood messages ahead of the stop; the pass runs on past it.
        let mut flooders = Vec::new();
        for _ in 0..2 {
            let counter = handled.clone();
            let flooder = sys
                .spawn_on(here, move || Flooder { handled: counter.clone(), stamps: None })
                .unwrap();
            let mut msgs: VecDeque<u64> = (0..500).collect();
            flooder.send_many(&mut msgs).await.unwrap();
            flooders.push(flooder);
        }
        watched.stop();
        let lag = common::eventually("the notice came", || async {
            watcher.ask(WatcherMsg::Lag).await.unwrap()
        })
        .await;
        assert!(lag <= HIGH_CHECK_EVERY as u64, "the notice waited for {lag} flood messages");
        flooders
    });
}
