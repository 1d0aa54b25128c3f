//! 0. Hello: one actor on one shard, one message, one answer.

use std::time::Duration;

use whirl::{Actor, Context, Reply, Runtime};

/// The actor: it greets whoever it is told about.
struct Greeter;

/// Its one message: a name, and where to send the greeting.
struct Greet(String, Reply<String>);

impl Actor for Greeter {
    type Msg = Greet;

    fn handle(&mut self, Greet(name, reply): Greet, _ctx: &mut Context<Self>) {
        reply.send(format!("hello, {name}"));
    }
}

fn main() -> Result<(), whirl::Error> {
    // One shard; no spinning while idle (gentle on a laptop).
    let rt = Runtime::builder().shards(1).spin_before_park(Duration::ZERO).build()?;
    let greeting = rt.block_on(|sys| async move {
        let greeter = sys.spawn_on(0, || Greeter).expect("shard 0 exists");
        let greeting = greeter.ask(|reply| Greet("whirl".into(), reply)).await.expect("answered");
        sys.shutdown().await;
        greeting
    })?;
    println!("{greeting}");
    Ok(())
}
