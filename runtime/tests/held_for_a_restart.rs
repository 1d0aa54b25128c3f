//! A message from outside the runtime for an actor that is restarting with
//! a full mailbox waits, like a ring's entry does, until the restart ends:
//! the shard must keep running its tasks and timers meanwhile, or the
//! restart's backoff timer never fires. (The held message used to count as
//! work: the dispatch loop went round without ever yielding, the backoff
//! never ended, and the shard spun at 100 % for good.)

mod common;

use std::time::Duration;

use whirl::{Actor, Context, Placement, Reply, Restart, RestartPolicy};

/// Fails on request; answers how many numbers it has seen.
struct Fragile {
    seen: u64,
}

enum FragileMsg {
    Fail(Reply<()>),
    Number,
    Seen(Reply<u64>),
}

impl Actor for Fragile {
    type Msg = FragileMsg;
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.seen = ctx.take_kept().unwrap_or(0);
    }
    fn handle(&mut self, msg: FragileMsg, ctx: &mut Context<Self>) {
        match msg {
            FragileMsg::Fail(done) => {
                done.send(());
                ctx.fail("asked to");
            }
            FragileMsg::Number => self.seen += 1,
            FragileMsg::Seen(reply) => reply.send(self.seen),
        }
    }
    fn stopped(&mut self, _reason: &whirl::StopReason, ctx: &mut Context<Self>) {
        ctx.keep(self.seen);
    }
}

#[test]
fn a_message_from_outside_for_a_restarting_actor_at_its_bound_waits_for_the_restart() {
    const CAPACITY: usize = 4;
    common::within(60, || {
        let rt = common::builder(2).mailbox_capacity(CAPACITY).build().unwrap();
        let seen = rt
            .block_on(|sys| async move {
                let policy = RestartPolicy::new(Restart::Permanent)
                    .backoff(Duration::from_millis(50), Duration::from_millis(50));
                let fragile = sys
                    .spawn_restarting(Placement::Shard(1), policy, || Fragile { seen: 0 })
                    .unwrap();
                fragile.ask(FragileMsg::Fail).await.unwrap();
                // Now restarting for 50 ms. A thread outside the runtime
                // fills the mailbox for the new incarnation, and one more:
                // that one is held.
                std::thread::spawn(move || {
                    for _ in 0..=CAPACITY {
                        fragile.send_blocking(FragileMsg::Number).unwrap();
                    }
                })
                .join()
                .unwrap();
                // The ask may come before the held number (they come by
                // different ways); ask until all are seen.
                loop {
                    let seen = fragile.ask(FragileMsg::Seen).await.unwrap();
                    if seen == CAPACITY as u64 + 1 {
                        break seen;
                    }
                    futures_lite::future::yield_now().await;
                }
            })
            .unwrap();
        assert_eq!(seen, CAPACITY as u64 + 1);
        rt.shutdown();
    });
}
