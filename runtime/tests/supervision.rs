//! Supervision trees: strategies, restart types, intensity and escalation,
//! children on other shards, refs and names that survive every restart.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{eventually, runtime, within};
use whirl::{
    Actor, ActorRef, AskError, ChildError, ChildSpec, ChildState, Context, DeadLetterCause,
    MailboxOnRestart, Placement, Reply, Restart, SpawnError, StopReason, Strategy, Supervisor,
    SupervisorRef, System,
};

type Log = Arc<Mutex<Vec<String>>>;

/// Counts `Add`s, fails on request, logs its lifecycle under its name.
struct Worker {
    name: &'static str,
    n: u64,
    log: Log,
}

enum Msg {
    Add(u64),
    Get(Reply<(u64, u32)>),
    Panic,
    Stop,
}

impl Actor for Worker {
    type Msg = Msg;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.log.lock().unwrap().push(format!("{} started {}", self.name, ctx.incarnation()));
    }

    fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) {
        match msg {
            Msg::Add(k) => self.n += k,
            Msg::Get(reply) => reply.send((self.n, ctx.incarnation())),
            Msg::Panic => panic!("{} failed", self.name),
            Msg::Stop => ctx.stop(),
        }
    }

    fn stopped(&mut self, reason: &StopReason, _: &mut Context<Self>) {
        self.log.lock().unwrap().push(format!("{} stopped: {reason}", self.name));
    }
}

fn worker(name: &'static str, log: &Log) -> ChildSpec {
    let log = log.clone();
    ChildSpec::new(name, move || Worker { name, n: 0, log: log.clone() })
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

async fn children(sup: &SupervisorRef, ids: &[&str]) -> Vec<ActorRef<Msg>> {
    let mut refs = Vec::new();
    for id in ids {
        refs.push(sup.child::<Msg>(id).await.expect("child"));
    }
    refs
}

/// The incarnation of each worker (and the ask that tells it waits for a
/// restart to finish, so this is no race).
async fn incarnations(workers: &[ActorRef<Msg>]) -> Vec<u32> {
    let mut seen = Vec::new();
    for w in workers {
        seen.push(w.ask(Msg::Get).await.expect("answers").1);
    }
    seen
}

/// Waits until the supervisor has restarted its
/// children `restarts` times in all: a sibling's restart is asynchronous.
async fn settle(sup: &SupervisorRef, restarts: u32) {
    eventually("the supervisor reaches its restarts", || async {
        let info = sup.children().await.expect("the supervisor answers");
        (info.iter().map(|c| c.restarts).sum::<u32>() >= restarts).then_some(())
    })
    .await;
}

/// Waits until `actor` reports `Closed`: a stop that cascades
/// down a tree reaches each actor after what was queued for it.
async fn until_closed(actor: &ActorRef<Msg>) {
    eventually("the actor stops", || async {
        (actor.ask(Msg::Get).await == Err(AskError::Closed)).then_some(())
    })
    .await;
}

fn here(sys: &System) -> Placement {
    Placement::Shard(sys.current_shard().expect("on a shard"))
}

#[test]
fn one_for_one_restarts_only_the_failed_child_behind_its_ref_even_on_another_shard() {
    let log = Log::default();
    let rt = runtime(2);
    rt.block_on(move |sys| async move {
        let tree = Supervisor::new(Strategy::OneForOne)
            .child(worker("a", &log).on_shard(1))
            .child(worker("b", &log).on_shard(0));
        let sup = sys.spawn_supervisor(Placement::Shard(0), tree).unwrap();
        let ws = children(&sup, &["a", "b"]).await;
        assert_eq!(ws[0].shard(), 1);
        ws[0].send_async(Msg::Add(5)).await.unwrap();
        ws[1].send_async(Msg::Add(7)).await.unwrap();
        ws[0].send_async(Msg::Panic).await.unwrap();
        ws[0].send_async(Msg::Add(1)).await.unwrap();
        // The new incarnation starts from the factory and gets what was
        // sent behind the failure; the sibling keeps its state.
        assert_eq!(ws[0].ask(Msg::Get).await, Ok((1, 1)));
        assert_eq!(ws[1].ask(Msg::Get).await, Ok((7, 0)));
        let info = sup.children().await.unwrap();
        assert_eq!(info.iter().map(|c| c.restarts).collect::<Vec<_>>(), [1, 0]);
        assert!(info.iter().all(|c| c.state == ChildState::Running));
        assert_eq!(sys.stats().dead_letters_of(DeadLetterCause::FailedHandling), 1);
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn one_for_all_takes_the_others_down_last_first_and_starts_all_in_order() {
    let log = Log::default();
    let rt = runtime(2);
    let seen = log.clone();
    rt.block_on(move |sys| async move {
        let tree = Supervisor::new(Strategy::OneForAll)
            .child(worker("a", &seen))
            .child(worker("b", &seen))
            .child(worker("c", &seen));
        let sup = sys.spawn_supervisor(here(&sys), tree).unwrap();
        let ws = children(&sup, &["a", "b", "c"]).await;
        ws[1].send(Msg::Panic).unwrap();
        settle(&sup, 3).await;
        assert_eq!(incarnations(&ws).await, [1, 1, 1]);
        sys.shutdown().await;
    })
    .unwrap();
    let log = lines(&log);
    let restart = log.iter().skip_while(|l| !l.starts_with("b stopped")).take(6);
    assert_eq!(
        restart.cloned().collect::<Vec<_>>(),
        [
            "b stopped: panicked: b failed",
            "c stopped: taken down by its supervisor",
            "a stopped: taken down by its supervisor",
            "a started 1",
            "b started 1",
            "c started 1",
        ]
    );
}

#[test]
fn rest_for_one_restarts_the_failed_child_and_those_started_after_it() {
    let log = Log::default();
    let rt = runtime(2);
    rt.block_on(move |sys| async move {
        let tree = Supervisor::new(Strategy::RestForOne)
            .child(worker("a", &log))
            .child(worker("b", &log).on_shard(1))
            .child(worker("c", &log));
        let sup = sys.spawn_supervisor(Placement::Shard(0), tree).unwrap();
        let ws = children(&sup, &["a", "b", "c"]).await;
        ws[1].send(Msg::Panic).unwrap();
        settle(&sup, 2).await;
        assert_eq!(incarnations(&ws).await, [0, 1, 1]);
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn restart_types_decide_which_endings_are_restarted() {
    let log = Log::default();
    let rt = runtime(2);
    rt.block_on(move |sys| async move {
        let tree = Supervisor::new(Strategy::OneForOne)
            .child(worker("permanent", &log))
            .child(worker("transient", &log).restart(Restart::Transient))
            .child(worker("temporary", &log).restart(Restart::Temporary));
        let sup = sys.spawn_supervisor(here(&sys), tree).unwrap();
        let ws = children(&sup, &["permanent", "transient", "temporary"]).await;
        // A permanent child is restarted after stopping itself.
        ws[0].send(Msg::Stop).unwrap();
        assert_eq!(ws[0].ask(Msg::Get).await, Ok((0, 1)));
        // A transient one after a failure, not after a stop.
        ws[1].send(Msg::Panic).unwrap();
        assert_eq!(ws[1].ask(Msg::Get).await, Ok((0, 1)));
        ws[1].send(Msg::Stop).unwrap();
        assert_eq!(ws[1].ask(Msg::Get).await, Err(AskError::Closed));
        // A temporary one never.
        ws[2].send(Msg::Panic).unwrap();
        assert_eq!(ws[2].ask(Msg::Get).await, Err(AskError::Closed));
        let states: Vec<_> = sup.children().await.unwrap().into_iter().map(|c| c.state).collect();
        assert_eq!(states, [ChildState::Running, ChildState::Stopped, ChildState::Stopped]);
        assert_eq!(
            sup.child::<Msg>("temporary").await,
            Err(ChildError::Stopped("temporary".into()))
        );
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn a_top_level_supervisor_that_exceeds_its_intensity_stops_its_subtree_not_the_runtime() {
    let log = Log::default();
    let rt = runtime(2);
    rt.block_on(move |sys| async move {
        let tree = Supervisor::new(Strategy::OneForOne)
            .intensity(2, Duration::from_secs(3600))
            .child(worker("a", &log))
            .child(worker("b", &log).on_shard(1));
        let sup = sys.spawn_supervisor(Placement::Shard(0), tree).unwrap();
        let ws = children(&sup, &["a", "b"]).await;
        let bystander = sys.spawn_on(1, || common::Counter { n: 0 }).unwrap();
        for restart in 1..=2 {
            ws[0].send(Msg::Panic).unwrap();
            assert_eq!(ws[0].ask(Msg::Get).await, Ok((0, restart)));
        }
        // The third failure within the window exceeds the intensity.
        ws[0].send(Msg::Panic).unwrap();
        assert_eq!(ws[0].ask(Msg::Get).await, Err(AskError::Closed));
        assert_eq!(ws[1].ask(Msg::Get).await, Err(AskError::Closed));
        assert!(sup.children().await.is_err(), "the supervisor is stopped too");
        // The runtime and its other actors carry on.
        bystander.send(common::CounterMsg::Add(3)).unwrap();
        assert_eq!(bystander.ask(common::CounterMsg::Get).await, Ok(3));
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn escalation_restarts_the_failed_subtree_in_place_under_its_parent() {
    let log = Log::default();
    let rt = runtime(2);
    rt.block_on(move |sys| async move {
        let inner = Supervisor::new(Strategy::OneForOne)
            .intensity(1, Duration::from_secs(3600))
            .child(worker("w", &log).on_shard(1).register("escalated-w"));
        let tree = Supervisor::new(Strategy::OneForOne)
            .child(ChildSpec::supervisor("inner", inner))
            .child(worker("sibling", &log));
        let root = sys.spawn_supervisor(Placement::Shard(0), tree).unwrap();
        let sibling = root.child::<Msg>("sibling").await.unwrap();
        let inner: SupervisorRef =
            SupervisorRef::from(root.child::<whirl::SupervisorMsg>("inner").await.unwrap());
        let w = inner.child::<Msg>("w").await.unwrap();
        w.send(Msg::Panic).unwrap();
        assert_eq!(w.ask(Msg::Get).await, Ok((0, 1)));
        // The second failure exceeds the inner supervisor's intensity: it
        // fails, its parent restarts it, and it resumes `w` in place.
        w.send(Msg::Panic).unwrap();
        w.send(Msg::Add(4)).unwrap();
        assert_eq!(w.ask(Msg::Get).await, Ok((4, 2)));
        assert_eq!(sys.lookup::<Msg>("escalated-w").unwrap(), w, "the name stays");
        let top = root.children().await.unwrap();
        assert_eq!(top.iter().map(|c| c.restarts).collect::<Vec<_>>(), [1, 0]);
        assert_eq!(sibling.ask(Msg::Get).await, Ok((0, 0)), "one-for-one: untouched");
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn messages_sent_while_a_child_waits_for_its_backoff_are_all_handled() {
    let log = Log::default();
    let rt = runtime(2);
    rt.block_on(move |sys| async move {
        let tree = Supervisor::new(Strategy::OneForOne)
            .backoff(Duration::from_millis(5), Duration::from_millis(20))
            .child(worker("a", &log).on_shard(1));
        let sup = sys.spawn_supervisor(Placement::Shard(0), tree).unwrap();
        let a = sup.child::<Msg>("a").await.unwrap();
        a.send_async(Msg::Panic).await.unwrap();
        for _ in 0..100 {
            a.send_async(Msg::Add(1)).await.unwrap();
        }
        assert_eq!(a.ask(Msg::Get).await, Ok((100, 1)));
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn under_the_drop_rule_messages_queued_at_the_failure_are_dead_letters() {
    let log = Log::default();
    let rt = runtime(2);
    rt.block_on(move |sys| async move {
        let tree = Supervisor::new(Strategy::OneForOne)
            .child(worker("a", &log).mailbox(MailboxOnRestart::Drop));
        let sup = sys.spawn_supervisor(here(&sys), tree).unwrap();
        let a = sup.child::<Msg>("a").await.unwrap();
        a.send(Msg::Panic).unwrap();
        for _ in 0..10 {
            a.send(Msg::Add(1)).unwrap();
        }
        settle(&sup, 1).await;
        assert_eq!(a.ask(Msg::Get).await, Ok((0, 1)));
        assert_eq!(sys.stats().dead_letters_of(DeadLetterCause::DroppedOnRestart), 10);
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn stopping_a_supervisor_stops_its_tree_for_good() {
    let log = Log::default();
    let rt = runtime(2);
    rt.block_on(move |sys| async move {
        let inner = Supervisor::new(Strategy::OneForAll).child(worker("leaf", &log).on_shard(1));
        let tree = Supervisor::new(Strategy::OneForOne)
            .child(worker("a", &log))
            .child(ChildSpec::supervisor("inner", inner));
        let sup = sys.spawn_supervisor(Placement::Shard(0), tree).unwrap();
        let a = sup.child::<Msg>("a").await.unwrap();
        let inner = SupervisorRef::from(sup.child::<whirl::SupervisorMsg>("inner").await.unwrap());
        let leaf = inner.child::<Msg>("leaf").await.unwrap();
        sup.stop();
        until_closed(&a).await;
        until_closed(&leaf).await;
        assert_eq!(sys.stats().actors, 0);
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn a_bad_spec_is_refused_before_anything_starts() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let log = Log::default();
        let off = Supervisor::new(Strategy::OneForOne).child(worker("a", &log).on_shard(5));
        let Err(SpawnError::InvalidSupervisor(why)) = sys.spawn_supervisor(here(&sys), off) else {
            panic!("accepted a child on shard 5 of 2");
        };
        assert!(why.contains("shard 5") && why.contains("below 2"), "{why}");
        let twice =
            Supervisor::new(Strategy::OneForOne).child(worker("a", &log)).child(worker("a", &log));
        assert!(matches!(
            sys.spawn_supervisor(here(&sys), twice),
            Err(SpawnError::InvalidSupervisor(_))
        ));
        assert_eq!(sys.stats().actors, 0);
        let ok = Supervisor::new(Strategy::OneForOne).child(worker("a", &log));
        let sup = sys.spawn_supervisor(here(&sys), ok).unwrap();
        assert_eq!(sup.child::<Msg>("nope").await, Err(ChildError::NotFound("nope".into())));
        assert!(matches!(sup.child::<u32>("a").await, Err(ChildError::WrongType { .. })));
        sys.shutdown().await;
    })
    .unwrap();
}

/// Counts every `Add` it handles, across incarnations, in `handled`.
struct Storm {
    handled: Arc<AtomicU64>,
}

impl Actor for Storm {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) {
        match msg {
            Msg::Add(k) => {
                self.handled.fetch_add(k, Ordering::Relaxed);
            }
            Msg::Get(reply) => reply.send((0, ctx.incarnation())),
            Msg::Panic => panic!("storm"),
            Msg::Stop => ctx.stop(),
        }
    }
}

#[test]
fn a_restart_storm_across_shards_loses_no_message() {
    within(120, || {
        let rt = runtime(2);
        let handled = Arc::new(AtomicU64::new(0));
        let counted = handled.clone();
        rt.block_on(move |sys| async move {
            let (h0, h1) = (counted.clone(), counted.clone());
            let tree = Supervisor::new(Strategy::OneForAll)
                .intensity(u32::MAX, Duration::from_secs(3600))
                .child(ChildSpec::new("a", move || Storm { handled: h0.clone() }).on_shard(0))
                .child(ChildSpec::new("b", move || Storm { handled: h1.clone() }).on_shard(1));
            let sup = sys.spawn_supervisor(Placement::Shard(0), tree).unwrap();
            let ws = children(&sup, &["a", "b"]).await;
            let (mut adds, mut panics) = (0, 0);
            for round in 0..20_000usize {
                let w = &ws[round % 2];
                if round % 97 == 0 {
                    w.send_async(Msg::Panic).await.unwrap();
                    panics += 1;
                } else {
                    w.send_async(Msg::Add(1)).await.unwrap();
                    adds += 1;
                }
            }
            let _ = incarnations(&ws).await;
            let stats = sys.stats();
            // Every Add reached some incarnation (the Keep rule) before the
            // last ask, sent after it (order holds across restarts); only the
            // Panics, each the message in hand at a failure, are dead letters.
            assert_eq!(counted.load(Ordering::Relaxed), adds);
            assert_eq!(stats.dead_letters_of(DeadLetterCause::FailedHandling), panics);
            assert_eq!(stats.dead_letters, panics);
            // Each failure restarts its child at least (one-for-all restarts
            // both, but failures during a group restart join it).
            assert!(stats.restarts >= panics, "{} restarts", stats.restarts);
            sys.shutdown().await;
        })
        .unwrap();
        assert!(handled.load(Ordering::Relaxed) > 0);
    });
}

/// Waits until the supervisor reports child `i` in `state`.
async fn child_state(sup: &SupervisorRef, i: usize, state: ChildState) {
    eventually("the child reaches the state", || async {
        (sup.children().await.expect("answers")[i].state == state).then_some(())
    })
    .await;
}

#[test]
fn a_child_whose_factory_panics_on_restart_is_reported_stopped() {
    use std::sync::atomic::AtomicU32;
    let log = Log::default();
    let rt = runtime(2);
    rt.block_on(move |sys| async move {
        let builds = Arc::new(AtomicU32::new(0));
        let counted = builds.clone();
        let flaky = ChildSpec::new("flaky", move || {
            assert_eq!(counted.fetch_add(1, Ordering::Relaxed), 0, "built once only");
            Worker { name: "flaky", n: 0, log: Log::default() }
        });
        let tree = Supervisor::new(Strategy::OneForAll)
            .child(flaky.on_shard(1))
            .child(worker("steady", &log));
        let sup = sys.spawn_supervisor(Placement::Shard(0), tree).unwrap();
        let ws = children(&sup, &["flaky", "steady"]).await;
        ws[0].send(Msg::Panic).unwrap();
        // Its restart fails in the factory: it is gone, and its supervisor
        // knows, so the next group restart does not wait for it.
        child_state(&sup, 0, ChildState::Stopped).await;
        ws[1].send(Msg::Panic).unwrap();
        assert_eq!(ws[1].ask(Msg::Get).await.map(|(_, i)| i), Ok(2));
        sys.shutdown().await;
    })
    .unwrap();
}
