//! An ask says why no answer came: `Failed` when the handler failed holding
//! the reply (a panic or `Context::fail`), `Closed` when the actor dropped it
//! on purpose or is stopped, from the same shard, another shard and a plain
//! thread.

mod common;

/// How the tests' own panics begin: not printed.
const QUIET: &str = "quiet test panic";

use std::time::Duration;

use whirl::{Actor, ActorRef, AskError, Context, Reply, Runtime};

enum Msg {
    Panic(Reply<u64>),
    Fail(Reply<u64>),
    Drop(Reply<u64>),
    Answer(Reply<u64>),
}

/// Answers as its message says. A bare actor that fails stops, so each
/// failing case gets a fresh one. `odd` makes the failures harder to
/// account: its `panicked` hook fails again (with `ctx.fail`, where no
/// call's end clears the mark), and a failing call spawns a local child
/// (which starts, and ends its own call, in between).
struct Answerer {
    odd: bool,
}

const PLAIN: fn() -> Answerer = || Answerer { odd: false };

impl Actor for Answerer {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) {
        match msg {
            Msg::Panic(_reply) => panic!("{QUIET}"),
            Msg::Fail(reply) => {
                ctx.fail("cannot answer");
                if self.odd {
                    ctx.spawn_local(PLAIN()).unwrap();
                }
                drop(reply);
            }
            Msg::Drop(reply) => drop(reply),
            Msg::Answer(reply) => reply.send(7),
        }
    }
    fn panicked(&mut self, _: &str, ctx: &mut Context<Self>) -> whirl::AfterPanic {
        if self.odd {
            ctx.fail("from the hook");
        }
        whirl::AfterPanic::Fail
    }
}

const LIMIT: Duration = Duration::from_secs(30);

/// Each kind of ask, to a fresh actor on `shard`, from the program on
/// shard 0.
#[test]
fn from_a_shard_the_same_and_the_other() {
    common::quiet_panics(QUIET);
    let rt = Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build().unwrap();
    rt.block_on(|sys| async move {
        for shard in [0, 1] {
            let spawn = || -> ActorRef<Msg> { sys.spawn_on(shard, PLAIN).unwrap() };
            let ask = |a: &ActorRef<Msg>, m: fn(Reply<u64>) -> Msg| a.ask(m).timeout(LIMIT);
            assert_eq!(ask(&spawn(), Msg::Panic).await, Err(AskError::Failed), "shard {shard}");
            assert_eq!(ask(&spawn(), Msg::Fail).await, Err(AskError::Failed), "shard {shard}");
            let a = spawn();
            assert_eq!(ask(&a, Msg::Drop).await, Err(AskError::Closed), "shard {shard}");
            // The actor that dropped a reply on purpose goes on answering.
            assert_eq!(ask(&a, Msg::Answer).await, Ok(7), "shard {shard}");
            a.stop();
            assert_eq!(ask(&a, Msg::Answer).await, Err(AskError::Closed), "shard {shard}");
        }
    })
    .unwrap();
    rt.shutdown();
}

#[test]
fn from_a_plain_thread() {
    common::quiet_panics(QUIET);
    let rt = Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build().unwrap();
    let sys = rt.system();
    for shard in [0, 1] {
        let spawn = || sys.spawn_on(shard, PLAIN).unwrap();
        assert_eq!(spawn().ask_blocking(Msg::Panic, LIMIT), Err(AskError::Failed));
        assert_eq!(spawn().ask_blocking(Msg::Fail, LIMIT), Err(AskError::Failed));
        let a = spawn();
        assert_eq!(a.ask_blocking(Msg::Drop, LIMIT), Err(AskError::Closed));
        assert_eq!(a.ask_blocking(Msg::Answer, LIMIT), Ok(7));
    }
    rt.shutdown();
}

/// A failure marks only its own call: after a `fail` in a `panicked` hook,
/// the failed actor's queued asks and another actor's reply dropped on
/// purpose say `Closed`; a child started mid-call does not unmark its
/// failing parent.
#[test]
fn a_failure_marks_only_its_own_call() {
    common::quiet_panics(QUIET);
    let rt = Runtime::builder().shards(1).spin_before_park(Duration::ZERO).build().unwrap();
    rt.block_on(|sys| async move {
        let failing = sys.spawn_on(0, || Answerer { odd: true }).unwrap();
        let other = sys.spawn_on(0, PLAIN).unwrap();
        let (panic, queued) = (failing.ask(Msg::Panic), failing.ask(Msg::Answer));
        let on_purpose = other.ask(Msg::Drop);
        assert_eq!(panic.timeout(LIMIT).await, Err(AskError::Failed));
        assert_eq!(queued.timeout(LIMIT).await, Err(AskError::Closed), "queued, then stopped");
        assert_eq!(on_purpose.timeout(LIMIT).await, Err(AskError::Closed), "another actor");
        let nested = sys.spawn_on(0, || Answerer { odd: true }).unwrap();
        assert_eq!(nested.ask(Msg::Fail).timeout(LIMIT).await, Err(AskError::Failed));
    })
    .unwrap();
    rt.shutdown();
}
