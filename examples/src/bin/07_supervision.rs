//! 7. A supervision tree: workers on both shards under one supervisor,
//!    restarted behind the same refs when they fail, with a scratch arena
//!    each, and an auditor that watches them.
//!
//! Run: `cargo run --release -p whirl-examples --bin 07_supervision`

use std::time::Duration;

use whirl::{
    Actor, ActorRef, ChildSpec, Context, Placement, Reply, Runtime, StopReason, Strategy,
    Supervisor,
};

/// Sums the lengths of the words it is sent; an empty word is a failure.
struct Worker {
    total: usize,
}

enum Work {
    Line(&'static str),
    Total(Reply<(usize, u32)>),
}

impl Actor for Worker {
    type Msg = Work;

    fn handle(&mut self, msg: Work, ctx: &mut Context<Self>) {
        match msg {
            Work::Line(line) => {
                // 1. Scratch space from the actor's arena: a pointer bump,
                //    reset (not freed) when the worker restarts.
                //    (The arena borrows `ctx`: finish with it before `fail`.)
                let letters = {
                    let arena = ctx.arena();
                    let words =
                        whirl::bumpalo::collections::Vec::from_iter_in(line.split(' '), arena);
                    let empty = words.iter().any(|w| w.is_empty());
                    (!empty).then(|| words.iter().map(|w| w.len()).sum::<usize>())
                };
                match letters {
                    Some(letters) => self.total += letters,
                    // 2. A failure of this worker alone.
                    None => ctx.fail(format!("an empty word in {line:?}")),
                }
            }
            Work::Total(reply) => reply.send((self.total, ctx.incarnation())),
        }
    }

    fn stopped(&mut self, reason: &StopReason, _ctx: &mut Context<Self>) {
        println!("worker ended: {reason}");
    }
}

/// Hears when a watched worker stops for good.
struct Auditor;

enum Audit {
    Watch(ActorRef<Work>),
    Gone(StopReason),
}

impl Actor for Auditor {
    type Msg = Audit;

    fn handle(&mut self, msg: Audit, ctx: &mut Context<Self>) {
        match msg {
            // 3. A watch: one message of our own when the target stops for
            //    good (restarts do not count).
            Audit::Watch(worker) => ctx.watch(&worker, Audit::Gone),
            Audit::Gone(reason) => println!("auditor: a worker is gone ({reason})"),
        }
    }
}

fn main() -> Result<(), whirl::Error> {
    let rt = Runtime::builder().shards(2).build()?;
    rt.block_on(|sys| async move {
        // 4. The tree: one-for-one, at most 3 restarts in 10 s, a short
        //    backoff; one worker per shard.
        let tree = Supervisor::new(Strategy::OneForOne)
            .intensity(3, Duration::from_secs(10))
            .backoff(Duration::from_millis(1), Duration::from_millis(10))
            .child(ChildSpec::new("left", || Worker { total: 0 }).on_shard(0))
            .child(ChildSpec::new("right", || Worker { total: 0 }).on_shard(1));
        let sup = sys.spawn_supervisor(Placement::Shard(0), tree).expect("a valid tree");
        let left = sup.child::<Work>("left").await.expect("a worker");
        let right = sup.child::<Work>("right").await.expect("a worker");
        let auditor = sys.spawn_on(0, || Auditor).expect("spawned");
        auditor.send(Audit::Watch(right)).expect("room");

        left.send_async(Work::Line("one two")).await.expect("running");
        // 5. This line fails the right worker; the lines sent after it wait
        //    for its new incarnation, behind the same ref.
        right.send_async(Work::Line("bad  line")).await.expect("running");
        right.send_async(Work::Line("three")).await.expect("running");
        let (total, incarnation) = right.ask(Work::Total).await.expect("answers");
        println!("right: {total} letters in incarnation {incarnation}");
        let (total, incarnation) = left.ask(Work::Total).await.expect("answers");
        println!("left: {total} letters in incarnation {incarnation}");

        // 6. Stopping the supervisor stops its tree; the auditor hears it.
        sup.stop();
        for _ in 0..1000 {
            if right.ask(Work::Total).await.is_err() {
                break;
            }
        }
        println!("restarts: {}", sys.stats().restarts);
        sys.shutdown().await;
    })?;
    Ok(())
}
