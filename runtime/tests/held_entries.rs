//! Messages held for a restarting actor are moved once, however often it
//! fails while running them: each failure used to hold every entry still
//! waiting all over again (one allocation each), quadratic in the backlog.
//! A counting allocator proves it (on the shard's thread, where it all runs).

mod common;
#[path = "support/counting.rs"]
mod counting;

use std::time::Duration;

use whirl::{Actor, Context, Placement, Reply, Restart, RestartPolicy};

/// Fails on every multiple of 10; counts the rest.
struct Brittle {
    handled: u64,
}

enum BrittleMsg {
    Item(u64),
    Handled(Reply<u64>),
}

impl Actor for Brittle {
    type Msg = BrittleMsg;
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.handled = ctx.take_kept().unwrap_or(0);
    }
    fn handle(&mut self, msg: BrittleMsg, _ctx: &mut Context<Self>) {
        match msg {
            BrittleMsg::Item(n) if n % 10 == 0 => panic!("brittle {n}"),
            BrittleMsg::Item(_) => self.handled += 1,
            BrittleMsg::Handled(reply) => reply.send(self.handled),
        }
    }
    fn stopped(&mut self, _reason: &whirl::StopReason, ctx: &mut Context<Self>) {
        ctx.keep(self.handled);
    }
}

#[test]
fn held_entries_are_moved_once_however_often_the_actor_fails() {
    common::quiet_panics("brittle");
    const ITEMS: u64 = 2_000;
    let rt = common::builder(1).mailbox_capacity(4 * ITEMS as usize).build().unwrap();
    let (handled, allocations) = rt
        .block_on(|sys| async move {
            // A backoff, so that everything sent behind the first failure
            // is held until the restart; each later failure comes while the
            // held entries run.
            let policy = RestartPolicy::new(Restart::Transient)
                .intensity(u32::MAX, Duration::from_secs(3600))
                .backoff(Duration::from_millis(1), Duration::from_millis(1));
            let brittle = sys
                .spawn_restarting(Placement::Shard(0), policy, || Brittle { handled: 0 })
                .unwrap();
            // The program runs on the shard's thread, as every handler here.
            counting::start();
            for n in 0..ITEMS {
                brittle.send(BrittleMsg::Item(n)).unwrap();
            }
            let handled = brittle.ask(BrittleMsg::Handled).await.unwrap();
            let allocations = counting::stop();
            sys.shutdown().await;
            (handled, allocations)
        })
        .unwrap();
    assert_eq!(handled, ITEMS - ITEMS / 10);
    // One box per held entry, a timer per restart: linear. Holding every
    // waiting entry again at each of the 200 failures made it ~200 000.
    assert!(allocations < 10 * ITEMS, "{allocations} allocations for {ITEMS} items");
    eprintln!("{allocations} allocations for {ITEMS} items");
}
