//! 5. A program that already runs its own glommio executors attaches a whirl
//!    shard to each; whirl starts no threads of its own.

use std::time::Duration;

use glommio::{LocalExecutorBuilder, Placement};
use whirl::{Actor, Context, Reply, Runtime};

/// Answers with the shard it runs on.
struct Where;

impl Actor for Where {
    type Msg = Reply<usize>;
    fn handle(&mut self, reply: Reply<usize>, ctx: &mut Context<Self>) {
        reply.send(ctx.shard_id());
    }
}

fn main() -> Result<(), whirl::Error> {
    let whirl = Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build_embedded()?;
    let executors: Vec<_> = (0..2)
        .map(|i| {
            let shard = whirl.shard(i).expect("shard exists");
            let system = whirl.system();
            LocalExecutorBuilder::new(Placement::Fixed(i))
                .name(&format!("program-{i}"))
                .spawn(move || async move {
                    if i == 0 {
                        // The program's own task, next to the shard.
                        glommio::spawn_local(async move {
                            let actor = system.spawn_on(1, || Where).expect("spawn");
                            let on = actor.ask(|r| r).await.expect("answer");
                            println!("the actor answered from shard {on}");
                            system.shutdown().await;
                        })
                        .detach();
                    }
                    // Runs the shard until whirl shuts down.
                    shard.run().await;
                })
                .expect("executor")
        })
        .collect();
    for executor in executors {
        executor.join().expect("executor thread");
    }
    println!("all executors finished");
    Ok(())
}
