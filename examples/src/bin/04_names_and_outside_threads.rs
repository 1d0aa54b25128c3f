//! 4. Finding actors by name, sending from a plain thread outside the
//!    runtime, and what shutdown promises: every accepted message handled,
//!    every `stopped` run, every thread joined.

use std::time::Duration;

use whirl::{Actor, Context, RegistryError, Runtime, SendError};

/// Sums what it is sent and reports when it stops.
struct Accumulator {
    sum: u64,
}

impl Actor for Accumulator {
    type Msg = u64;

    fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) {
        self.sum += n;
    }

    fn stopped(&mut self, _reason: &whirl::StopReason, _ctx: &mut Context<Self>) {
        println!("accumulator stopped with sum {}", self.sum);
    }
}

fn main() -> Result<(), whirl::Error> {
    let rt = Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build()?;
    let sys = rt.system();

    // Spawn from this (non-runtime) thread and give the actor a name.
    let acc = sys.spawn_on(1, || Accumulator { sum: 0 }).expect("spawn");
    sys.register("accumulator", acc).expect("name is free");

    // Anyone can look it up, from any thread; the type is checked.
    let wrong = sys.lookup::<String>("accumulator");
    assert!(matches!(wrong, Err(RegistryError::WrongType { .. })));

    // A plain thread sends through the shard's injection queue.
    let lookup = sys.clone();
    std::thread::spawn(move || {
        let acc = lookup.lookup::<u64>("accumulator").expect("registered");
        for n in 1..=100 {
            let mut msg = n;
            // A full queue hands the message back; nothing is lost.
            while let Err(SendError::Full(back)) = acc.send(msg) {
                msg = back;
                std::thread::yield_now();
            }
        }
    })
    .join()
    .expect("sender thread");

    // Shutdown handles all 100 messages, runs `stopped`, joins the shards.
    rt.shutdown();
    println!("dead letters: {}", sys.dead_letters());
    Ok(())
}
