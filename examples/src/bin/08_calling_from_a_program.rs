//! 8. Calling whirl from a program: a plain thread feeds a request router
//!    with blocking calls (`ask_blocking`, `send_blocking`), the router finds
//!    its workers through `ctx.system()`, a `block_on` program sleeps on
//!    `whirl::time`, and one line of `tracing-subscriber` shows whirl's own
//!    log events on stderr.

use std::time::Duration;

use whirl::{Actor, ActorRef, AskError, Context, Reply, Runtime, SendError};

/// Handles the requests for one shard's share of the keys.
struct Worker {
    handled: u64,
}

enum WorkerMsg {
    Request(u64),
    Handled(Reply<u64>),
}

impl Actor for Worker {
    type Msg = WorkerMsg;

    fn handle(&mut self, msg: WorkerMsg, _ctx: &mut Context<Self>) {
        match msg {
            WorkerMsg::Request(_key) => self.handled += 1,
            WorkerMsg::Handled(reply) => reply.send(self.handled),
        }
    }
}

/// Says which worker owns a key.
struct Router {
    workers: Vec<ActorRef<WorkerMsg>>,
}

enum RouterMsg {
    Route(u64, Reply<ActorRef<WorkerMsg>>),
}

impl Actor for Router {
    type Msg = RouterMsg;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // The runtime, from inside an actor: no `System` captured in the
        // factory. The workers were registered before the router started.
        let sys = ctx.system();
        for shard in 0..sys.shards() {
            let worker = sys.lookup::<WorkerMsg>(&format!("worker-{shard}"));
            self.workers.push(worker.expect("registered before the router"));
        }
    }

    fn handle(&mut self, RouterMsg::Route(key, reply): RouterMsg, _ctx: &mut Context<Self>) {
        reply.send(self.workers[(key % self.workers.len() as u64) as usize]);
    }
}

fn main() -> Result<(), whirl::Error> {
    // 1. whirl reports spawns, failures, restarts, dead letters and shutdown
    //    through `tracing`; this line prints them (to stderr, here).
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();

    let rt = Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build()?;
    let sys = rt.system();

    // 2. From this plain thread: one worker per shard, by name, then the router.
    for shard in 0..sys.shards() {
        let worker = sys.spawn_on(shard, || Worker { handled: 0 }).expect("spawn");
        sys.register(&format!("worker-{shard}"), worker).expect("name is free");
    }
    let router = sys.spawn_on(0, || Router { workers: Vec::new() }).expect("spawn");

    // 3. A plain thread: blocking calls wait for the answer or for room (no
    //    thread per call); on a shard they would panic rather than stall it.
    let feeder = std::thread::spawn(move || {
        let wait = Duration::from_secs(10);
        for key in 0..1_000 {
            let worker = router.ask_blocking(|r| RouterMsg::Route(key, r), wait);
            let worker = worker.expect("the router answers");
            worker.send_blocking(WorkerMsg::Request(key)).expect("the worker runs");
        }
    });
    feeder.join().expect("feeder thread");

    // 4. Ask from this thread too: each worker got its share.
    for shard in 0..sys.shards() {
        let worker = sys.lookup::<WorkerMsg>(&format!("worker-{shard}")).expect("registered");
        let handled = worker.ask_blocking(WorkerMsg::Handled, Duration::from_secs(10));
        println!("worker-{shard} handled {}", handled.expect("it answers"));
    }

    // 5. Time on a shard without depending on glommio: `whirl::time`.
    rt.block_on(|_| async {
        whirl::time::sleep(Duration::from_millis(1)).await;
        println!("slept on a shard");
    })?;

    // 6. After shutdown every call says `Closed` at once: nothing hangs.
    let worker = sys.lookup::<WorkerMsg>("worker-0").expect("registered");
    rt.shutdown();
    let sent = worker.send_blocking(WorkerMsg::Request(0));
    let asked = worker.ask_blocking(WorkerMsg::Handled, Duration::from_secs(10));
    assert!(matches!(sent, Err(SendError::Closed(_))));
    assert_eq!(asked, Err(AskError::Closed));
    println!("after shutdown: closed");
    Ok(())
}
