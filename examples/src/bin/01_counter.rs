//! 1. The smallest whirl program: one actor, a few messages, one question.

use std::time::Duration;

use whirl::{Actor, ActorRef, Context, Reply, Runtime};

/// The actor's state: plain data, owned by its shard.
struct Counter {
    n: u64,
}

/// What the actor understands. `Reply<u64>` is the answer channel of an ask.
enum Msg {
    Add(u64),
    Get(Reply<u64>),
}

impl Actor for Counter {
    type Msg = Msg;

    // Handlers are synchronous and run one message at a time.
    fn handle(&mut self, msg: Msg, _ctx: &mut Context<Self>) {
        match msg {
            Msg::Add(k) => self.n += k,
            Msg::Get(reply) => reply.send(self.n),
        }
    }
}

fn main() -> Result<(), whirl::Error> {
    // One shard per core (two here). Zero spin keeps this example gentle on
    // small machines; services keep the default.
    let rt = Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build()?;

    let total = rt.block_on(|sys| async move {
        // The factory runs on shard 1 and builds the actor there.
        let counter: ActorRef<Msg> = sys.spawn_on(1, || Counter { n: 0 }).expect("shard 1 exists");

        // `send` never waits: it hands the message back if the mailbox is full.
        counter.send(Msg::Add(40)).expect("mailbox has room");
        // `send_async` waits for room instead.
        counter.send_async(Msg::Add(2)).await.expect("actor alive");

        // Ask a question; give up after five seconds (ample on a loaded
        // machine: the answer comes in microseconds).
        let n = counter.ask(Msg::Get).timeout(Duration::from_secs(5)).await.expect("an answer");

        // Drain every mailbox, stop every actor.
        sys.shutdown().await;
        n
    })?;

    println!("counter = {total}");
    Ok(())
}
