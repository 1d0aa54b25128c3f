//! 6. Failure is normal: an actor that fails is built again behind the same
//!    ref, as its restart policy says, and nothing it was sent is lost
//!    without being counted.

use std::time::Duration;

use whirl::{
    Actor, Context, DeadLetterCause, Placement, Reply, Restart, RestartPolicy, Runtime, StopReason,
};

/// Parses numbers; a bad one is a failure of this actor alone.
struct Parser {
    sum: i64,
}

enum Msg {
    Parse(&'static str),
    Sum(Reply<(i64, u32)>),
}

impl Actor for Parser {
    type Msg = Msg;

    fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) {
        match msg {
            // A panic and `ctx.fail` are both failures; `fail` says why
            // without unwinding.
            Msg::Parse(text) => match text.parse::<i64>() {
                Ok(n) => self.sum += n,
                Err(_) => ctx.fail(format!("not a number: {text:?}")),
            },
            Msg::Sum(reply) => reply.send((self.sum, ctx.incarnation())),
        }
    }

    // Each incarnation is told why it ends.
    fn stopped(&mut self, reason: &StopReason, _ctx: &mut Context<Self>) {
        println!("incarnation ended: {reason}");
    }
}

fn main() -> Result<(), whirl::Error> {
    let rt = Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build()?;
    rt.block_on(|sys| async move {
        // 1. Restart after failures (not after a normal stop), at most 5
        //    times in 10 s; waiting messages go to the new incarnation.
        let policy = RestartPolicy::new(Restart::Transient).intensity(5, Duration::from_secs(10));
        let parser = sys
            .spawn_restarting(Placement::Shard(1), policy, || Parser { sum: 0 })
            .expect("shard 1 exists");

        // 2. The second message fails the actor; the third reaches the new
        //    incarnation through the same ref.
        for text in ["40", "forty", "2"] {
            parser.send(Msg::Parse(text)).expect("mailbox has room");
        }
        let (sum, incarnation) = parser.ask(Msg::Sum).await.expect("an answer");
        println!("sum {sum} in incarnation {incarnation}");

        // 3. The failed message is counted, not lost.
        let stats = sys.stats();
        println!(
            "restarts: {}, failed messages: {}",
            stats.restarts,
            stats.dead_letters_of(DeadLetterCause::FailedHandling)
        );
        sys.shutdown().await;
    })?;
    Ok(())
}
