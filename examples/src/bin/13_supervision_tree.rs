//! 13. A supervision tree that fails on purpose: restarts, backoff and
//!     escalation, in whirl's log (stderr) and in what the program sees
//!     (stdout).
//!
//! ```text
//! root (one-for-one)
//! ├── cache            (shard 0)
//! └── jobs (one-for-all, at most 2 restarts in 10 s, backoff 20-80 ms)
//!     ├── a            (shard 0)
//!     └── b            (shard 1)
//! ```
//!
//! Run: `cargo run -p whirl-examples --bin 13_supervision_tree`

use std::time::Duration;

use whirl::{
    Actor, ChildSpec, Context, Placement, Reply, Runtime, Strategy, Supervisor, SupervisorMsg,
    SupervisorRef,
};

/// A worker: counts its jobs; a poisoned job panics (an incarnation's count
/// starts again at 0).
struct Worker {
    handled: u64,
}

enum Job {
    Work,
    Poison,
    /// Jobs handled by this incarnation, and which incarnation it is.
    Status(Reply<(u64, u32)>),
}

impl Actor for Worker {
    type Msg = Job;

    fn handle(&mut self, job: Job, ctx: &mut Context<Self>) {
        match job {
            Job::Work => self.handled += 1,
            // A panic is a failure: the supervisor decides what happens.
            Job::Poison => panic!("swallowed poison"),
            Job::Status(reply) => reply.send((self.handled, ctx.incarnation())),
        }
    }
}

fn worker(id: &str, shard: usize) -> ChildSpec {
    ChildSpec::new(id, || Worker { handled: 0 }).on_shard(shard)
}

fn main() -> Result<(), whirl::Error> {
    // 1. whirl's log: each failure with its reason, each restart, each
    //    escalation (stderr, without timestamps).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .without_time()
        .with_target(false)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
    std::panic::set_hook(Box::new(|_| {})); // the log says it already

    let rt = Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build()?;
    rt.block_on(|sys| async move {
        // 2. The tree. `jobs` restarts both workers when either fails, waits
        //    a growing backoff before each restart, and gives up after two
        //    restarts in ten seconds: it then fails itself, and `root`
        //    (one-for-one) restarts the `jobs` subtree alone.
        let jobs = Supervisor::new(Strategy::OneForAll)
            .intensity(2, Duration::from_secs(10))
            .backoff(Duration::from_millis(20), Duration::from_millis(80))
            .child(worker("a", 0))
            .child(worker("b", 1));
        let tree = Supervisor::new(Strategy::OneForOne)
            .child(worker("cache", 0))
            .child(ChildSpec::supervisor("jobs", jobs));
        let root = sys.spawn_supervisor(Placement::Shard(0), tree).expect("a valid tree");
        let cache = root.child::<Job>("cache").await.expect("cache");
        let jobs = SupervisorRef::from(root.child::<SupervisorMsg>("jobs").await.expect("jobs"));
        let (a, b) = (jobs.child::<Job>("a").await.unwrap(), jobs.child::<Job>("b").await.unwrap());

        for round in 1..=3 {
            a.send_async(Job::Work).await.unwrap();
            a.send_async(Job::Poison).await.unwrap();
            // 3. The refs stay valid: asks wait for the new incarnations
            //    (after the backoff, in rounds 1 and 2).
            let (a_now, b_now) =
                (a.ask(Job::Status).await.unwrap(), b.ask(Job::Status).await.unwrap());
            println!(
                "poison {round}: a and b restarted together; a is in incarnation {}, b in {}",
                a_now.1, b_now.1
            );
        }
        // 4. The third failure was over `jobs`' intensity: it escalated.
        let top = root.children().await.expect("root answers");
        for child in top {
            println!("root: {} restarted {} time(s)", child.id, child.restarts);
        }
        println!("cache: incarnation {}", cache.ask(Job::Status).await.unwrap().1);
        sys.shutdown().await;
    })?;
    Ok(())
}
