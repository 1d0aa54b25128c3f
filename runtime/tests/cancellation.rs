//! Cancellable, deadline-bound asks: a handler sees that its asker gave up
//! (the ask was dropped, its timeout passed, the runtime shuts down) and
//! the ask's deadline; a late answer is a counted dead letter. From the
//! same shard, another shard, and a plain thread.

mod common;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use whirl::{Actor, ActorRef, Context, DeadLetterCause, Reply, StopReason};

/// Keeps the replies it is handed, and says what it sees of them.
struct Keeper {
    kept: Vec<Reply<u32>>,
    /// What `is_cancelled` said of the kept replies when it stopped:
    /// 1 none were cancelled, 2 all were.
    at_stop: Arc<AtomicU8>,
}

enum KeeperMsg {
    Keep(Reply<u32>),
    /// `is_cancelled` and whether a deadline is set, for each kept reply.
    Look(Reply<Vec<(bool, Option<Instant>)>>),
    /// Answers the kept replies.
    AnswerAll,
}

impl Actor for Keeper {
    type Msg = KeeperMsg;
    fn handle(&mut self, msg: KeeperMsg, _ctx: &mut Context<Self>) {
        match msg {
            KeeperMsg::Keep(reply) => self.kept.push(reply),
            KeeperMsg::Look(reply) => {
                reply.send(self.kept.iter().map(|r| (r.is_cancelled(), r.deadline())).collect())
            }
            KeeperMsg::AnswerAll => {
                for reply in self.kept.drain(..) {
                    reply.send(7);
                }
            }
        }
    }
    fn stopped(&mut self, _reason: &StopReason, _ctx: &mut Context<Self>) {
        let all = self.kept.iter().all(Reply::is_cancelled);
        let none = !self.kept.iter().any(Reply::is_cancelled);
        self.at_stop.store(
            if all {
                2
            } else if none {
                1
            } else {
                3
            },
            Ordering::SeqCst,
        );
        // Answering now is answering too late.
        for reply in self.kept.drain(..) {
            reply.send(0);
        }
    }
}

fn keeper(sys: &whirl::System, shard: usize) -> (ActorRef<KeeperMsg>, Arc<AtomicU8>) {
    let at_stop = Arc::new(AtomicU8::new(0));
    let flag = at_stop.clone();
    let to =
        sys.spawn_on(shard, move || Keeper { kept: Vec::new(), at_stop: flag.clone() }).unwrap();
    (to, at_stop)
}

async fn look(to: ActorRef<KeeperMsg>) -> Vec<(bool, Option<Instant>)> {
    to.ask(KeeperMsg::Look).await.unwrap()
}

#[test]
fn a_handler_sees_an_ask_dropped_or_timed_out_and_a_late_answer_is_a_dead_letter() {
    common::within(120, || {
        let rt = common::runtime(2);
        rt.block_on(|sys| async move {
            let here = sys.current_shard().unwrap();
            for shard in [here, 1 - here] {
                let (to, _) = keeper(&sys, shard);
                // 1. Waiting, no deadline: not cancelled.
                let waiting = to.ask(KeeperMsg::Keep);
                assert_eq!(look(to).await, [(false, None)]);
                // 2. Dropped: cancelled.
                drop(waiting);
                assert_eq!(look(to).await, [(true, None)]);
                // 3. A deadline: seen, and within the limit from now.
                let before = Instant::now();
                let timed = to.ask(KeeperMsg::Keep).timeout(Duration::from_millis(50));
                let seen = look(to).await;
                let deadline = seen[1].1.expect("the deadline is seen");
                assert!(!seen[1].0, "not cancelled before its deadline");
                assert!(deadline >= before + Duration::from_millis(50));
                assert!(deadline <= Instant::now() + Duration::from_millis(50));
                // 4. Timed out: cancelled.
                assert_eq!(timed.await, Err(whirl::AskError::Timeout));
                assert!(look(to).await.iter().all(|(cancelled, _)| *cancelled));
                // 5. Answers to asks that gave up are dead letters.
                let late = sys.stats().dead_letters_of(DeadLetterCause::LateAnswer);
                to.send(KeeperMsg::AnswerAll).unwrap();
                common::eventually("both late answers counted", || async {
                    let now = sys.stats().dead_letters_of(DeadLetterCause::LateAnswer);
                    (now == late + 2).then_some(())
                })
                .await;
            }
            sys.shutdown().await;
        })
        .unwrap();
    });
}

#[test]
fn a_handler_sees_a_plain_threads_ask_given_up() {
    common::within(120, || {
        let rt = common::runtime(2);
        let (to, _) = rt.block_on(|sys| async move { keeper(&sys, 1) }).unwrap();
        let look_now = || to.ask_blocking(KeeperMsg::Look, Duration::from_secs(30)).unwrap();
        let waiting = to.ask(KeeperMsg::Keep);
        assert_eq!(look_now(), [(false, None)]);
        drop(waiting);
        assert_eq!(look_now(), [(true, None)]);
        let timed = to.ask(KeeperMsg::Keep).timeout(Duration::from_millis(20));
        assert!(look_now()[1].1.is_some(), "the deadline is seen");
        assert_eq!(futures_lite::future::block_on(timed), Err(whirl::AskError::Timeout));
        assert!(look_now().iter().all(|(cancelled, _)| *cancelled));
        let late = || rt.system().stats().dead_letters_of(DeadLetterCause::LateAnswer);
        let before = late();
        to.send(KeeperMsg::AnswerAll).unwrap();
        let counted = (0..10_000).any(|_| {
            std::thread::sleep(Duration::from_millis(1));
            late() == before + 2
        });
        assert!(counted, "both late answers counted");
        rt.shutdown();
    });
}

#[test]
fn asks_are_cancelled_once_the_runtime_shuts_down() {
    common::within(120, || {
        let rt = common::runtime(2);
        let flags = rt
            .block_on(|sys| async move {
                let here = sys.current_shard().unwrap();
                let mut flags = Vec::new();
                let mut asks = Vec::new();
                for shard in [here, 1 - here] {
                    let (to, at_stop) = keeper(&sys, shard);
                    asks.push(to.ask(KeeperMsg::Keep));
                    // Kept and not cancelled while the runtime runs.
                    assert_eq!(look(to).await, [(false, None)]);
                    flags.push(at_stop);
                }
                // The asks still wait when `stopped` runs at shutdown.
                sys.shutdown().await;
                drop(asks);
                flags
            })
            .unwrap();
        for flag in flags {
            assert_eq!(flag.load(Ordering::SeqCst), 2, "cancelled when `stopped` ran");
        }
    });
}

/// An answer that came but that its asker dropped without taking is a late
/// answer too: counted, not lost.
#[test]
fn an_answer_never_taken_is_a_dead_letter() {
    common::within(120, || {
        let rt = common::runtime(2);
        let to = rt
            .block_on(|sys| async move {
                let here = sys.current_shard().unwrap();
                for shard in [here, 1 - here] {
                    let (to, _) = keeper(&sys, shard);
                    let before = sys.stats().dead_letters_of(DeadLetterCause::LateAnswer);
                    let untaken = to.ask(KeeperMsg::Keep);
                    to.send(KeeperMsg::AnswerAll).unwrap();
                    // Answered after the answer, on the same path: it is in.
                    look(to).await;
                    drop(untaken);
                    let after = sys.stats().dead_letters_of(DeadLetterCause::LateAnswer);
                    assert_eq!(after, before + 1, "shard {shard}");
                }
                keeper(&sys, 1).0
            })
            .unwrap();
        let late = || rt.system().stats().dead_letters_of(DeadLetterCause::LateAnswer);
        let before = late();
        let untaken = to.ask(KeeperMsg::Keep);
        to.send(KeeperMsg::AnswerAll).unwrap();
        to.ask_blocking(KeeperMsg::Look, Duration::from_secs(30)).unwrap();
        drop(untaken);
        assert_eq!(late(), before + 1, "from a plain thread");
        rt.shutdown();
    });
}
