//! A program that runs its own glommio executors attaches whirl shards to
//! them and uses the same refs.

mod common;

use std::time::Duration;

use common::{Counter, CounterMsg};
use glommio::{LocalExecutorBuilder, Placement};
use whirl::Runtime;

#[test]
fn shards_run_inside_the_programs_executors() {
    let whirl =
        Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build_embedded().unwrap();
    let system = whirl.system();
    let executors: Vec<_> = (0..2)
        .map(|i| {
            let shard = whirl.shard(i).unwrap();
            let system = system.clone();
            LocalExecutorBuilder::new(Placement::Fixed(i))
                .spawn(move || async move {
                    // The program's own task on this executor, beside whirl.
                    let own = glommio::spawn_local(async { 40 + 2 });
                    assert_eq!(own.await, 42);
                    if i == 0 {
                        // Shard 0's executor also drives the program: spawn,
                        // talk across shards, then shut whirl down.
                        let program = glommio::spawn_local(async move {
                            let c = system.spawn_on(1, || Counter { n: 1 }).unwrap();
                            c.send(CounterMsg::Add(2)).unwrap();
                            let n = c.ask(CounterMsg::Get).await.unwrap();
                            system.shutdown().await;
                            n
                        });
                        let ran = shard.run().await;
                        assert!(ran);
                        program.await
                    } else {
                        assert!(shard.run().await);
                        0
                    }
                })
                .unwrap()
        })
        .collect();
    let results: Vec<u64> = executors.into_iter().map(|e| e.join().unwrap()).collect();
    assert_eq!(results, [3, 0]);
    assert!(whirl.shard(2).is_err(), "no third shard");
}

/// Review of the fault-tolerance issue, finding 1: a spawn whose shard
/// exited before the spawn reached it returned a ref that said it was alive
/// for as long as the runtime existed.
#[test]
fn a_spawn_that_never_reaches_its_shard_is_not_alive() {
    let whirl =
        Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build_embedded().unwrap();
    let system = whirl.system();
    let other = whirl.shard(1).unwrap();
    let shard = whirl.shard(0).unwrap();
    let alive = LocalExecutorBuilder::new(Placement::Unbound)
        .spawn(move || async move {
            let program = glommio::spawn_local(async move {
                // Shard 1 is not running yet: the spawn waits in the ring...
                let lost = system.spawn_on(1, || Counter { n: 0 }).unwrap();
                // ...and its loop ends before it ever runs.
                drop(other);
                let alive = lost.is_alive();
                system.shutdown().await;
                alive
            });
            shard.run().await;
            program.await
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(!alive, "a spawn that cannot arrive is not alive");
}
