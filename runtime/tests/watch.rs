//! Watching: an actor is told, with a message of its own, when another
//! stops for good, on its shard or another; restarts do not count.

mod common;

use common::{eventually, runtime, Counter, CounterMsg};
use whirl::{Actor, ActorRef, Context, Placement, Reply, Restart, RestartPolicy, StopReason};

/// Watches what it is told to and records the reasons it hears.
struct Watcher {
    heard: Vec<StopReason>,
}

enum WatcherMsg {
    Watch(ActorRef<CounterMsg>),
    Down(StopReason),
    Heard(Reply<Vec<StopReason>>),
}

impl Actor for Watcher {
    type Msg = WatcherMsg;
    fn handle(&mut self, msg: WatcherMsg, ctx: &mut Context<Self>) {
        match msg {
            WatcherMsg::Watch(target) => ctx.watch(&target, WatcherMsg::Down),
            WatcherMsg::Down(reason) => self.heard.push(reason),
            WatcherMsg::Heard(reply) => reply.send(self.heard.clone()),
        }
    }
}

/// Fails when told to.
struct Fragile;

impl Actor for Fragile {
    type Msg = CounterMsg;
    fn handle(&mut self, msg: CounterMsg, ctx: &mut Context<Self>) {
        match msg {
            CounterMsg::Add(_) => panic!("fragile"),
            CounterMsg::Get(reply) => reply.send(ctx.incarnation() as u64),
            CounterMsg::Stop => ctx.stop(),
        }
    }
}

async fn heard(watcher: &ActorRef<WatcherMsg>, count: usize) -> Vec<StopReason> {
    eventually("the watcher hears the stops", || async {
        let heard = watcher.ask(WatcherMsg::Heard).await.unwrap();
        (heard.len() >= count).then_some(heard)
    })
    .await
}

#[test]
fn a_watcher_hears_each_stop_for_good_on_any_shard_but_not_restarts() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let watcher = sys.spawn_on(0, || Watcher { heard: Vec::new() }).unwrap();
        let here = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
        let there = sys.spawn_on(1, || Counter { n: 0 }).unwrap();
        let policy = RestartPolicy::new(Restart::Transient);
        let restarts = sys.spawn_restarting(Placement::Shard(1), policy, || Fragile).unwrap();
        for target in [here, there, restarts] {
            watcher.send(WatcherMsg::Watch(target)).unwrap();
        }
        // Once the watcher has handled them, its watches are on their way
        // ahead of anything this task sends next.
        let _ = watcher.ask(WatcherMsg::Heard).await.unwrap();
        here.send(CounterMsg::Stop).unwrap();
        there.stop();
        // A failure that restarts it is not a stop for good.
        restarts.send(CounterMsg::Add(1)).unwrap();
        assert_eq!(restarts.ask(CounterMsg::Get).await, Ok(1));
        assert_eq!(heard(&watcher, 2).await, [StopReason::Normal, StopReason::Normal]);
        // Its stop for good is.
        restarts.send(CounterMsg::Stop).unwrap();
        let all = heard(&watcher, 3).await;
        assert_eq!(all.len(), 3);
        // Watching an actor that is gone answers at once.
        watcher.send(WatcherMsg::Watch(here)).unwrap();
        assert_eq!(heard(&watcher, 4).await[3], StopReason::AlreadyStopped);
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn a_watcher_hears_the_failure_that_stopped_its_target() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let watcher = sys.spawn_on(1, || Watcher { heard: Vec::new() }).unwrap();
        let target = sys.spawn_on(0, || Fragile).unwrap();
        watcher.send(WatcherMsg::Watch(target)).unwrap();
        // The watch is set before the failure: ask through the watcher.
        let _ = watcher.ask(WatcherMsg::Heard).await.unwrap();
        target.send(CounterMsg::Add(1)).unwrap();
        assert_eq!(heard(&watcher, 1).await, [StopReason::Panicked("fragile".into())]);
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn is_alive_holds_across_restarts_and_ends_with_the_stop_for_good_everywhere() {
    let rt = runtime(2);
    let system = rt.system();
    let (fragile, plain) = rt
        .block_on(|sys| async move {
            let policy = RestartPolicy::new(Restart::Transient);
            let fragile = sys.spawn_restarting(Placement::Shard(1), policy, || Fragile).unwrap();
            let plain = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
            // From its own shard, another shard and (below) a plain thread.
            assert!(plain.is_alive() && fragile.is_alive());
            fragile.send(CounterMsg::Add(1)).unwrap();
            assert_eq!(fragile.ask(CounterMsg::Get).await, Ok(1), "restarted once");
            assert!(fragile.is_alive(), "a restart keeps the ref alive");
            plain.send(CounterMsg::Stop).unwrap();
            // On its own shard the answer is exact once the stop has run.
            let _ = plain.ask(CounterMsg::Get).await;
            assert!(!plain.is_alive());
            fragile.stop();
            eventually("the stop reaches shard 1", || async {
                (!fragile.is_alive()).then_some(())
            })
            .await;
            (fragile, plain)
        })
        .unwrap();
    let from_a_thread = std::thread::spawn(move || (fragile.is_alive(), plain.is_alive()));
    assert_eq!(from_a_thread.join().unwrap(), (false, false));
    let another = rt.block_on(|sys| async move { sys.spawn_on(1, || Counter { n: 0 }).unwrap() });
    let another = another.unwrap();
    assert!(std::thread::spawn(move || another.is_alive()).join().unwrap());
    drop(system);
    rt.shutdown();
    assert!(!another.is_alive(), "nothing is alive once its runtime is gone");
}
