//! Shutdown drains mailboxes, runs every `stopped`, leaks no thread, and
//! handles every message accepted before it began.

mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use whirl::{Actor, ActorRef, Context};

/// Shard threads that have exited: each shard thread gets a guard in a
/// thread-local (set up by its first actor), whose destructor runs when the
/// thread exits, before it can be joined.
static THREADS_EXITED: AtomicUsize = AtomicUsize::new(0);

struct ExitGuard;

impl Drop for ExitGuard {
    fn drop(&mut self) {
        THREADS_EXITED.fetch_add(1, Ordering::SeqCst);
    }
}

thread_local! {
    static EXIT_GUARD: ExitGuard = const { ExitGuard };
}

/// Adds what it gets to a shared total and forwards a share to a peer.
struct Relay {
    peer: Option<ActorRef<u64>>,
    total: Arc<AtomicU64>,
    stopped: Arc<AtomicUsize>,
}

impl Actor for Relay {
    type Msg = u64;
    fn started(&mut self, _ctx: &mut Context<Self>) {
        EXIT_GUARD.with(|_| {});
    }
    fn handle(&mut self, msg: u64, _ctx: &mut Context<Self>) {
        self.total.fetch_add(msg, Ordering::SeqCst);
        if msg > 1 {
            if let Some(peer) = self.peer {
                // Work created during draining is handled too.
                peer.send(msg / 2).unwrap();
            }
        }
    }
    fn stopped(&mut self, _reason: &whirl::StopReason, _ctx: &mut Context<Self>) {
        self.stopped.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn shutdown_drains_stops_and_joins() {
    let rt = common::runtime(2);
    let sys = rt.system();
    let total = Arc::new(AtomicU64::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let spawned = 200;
    let mut actors = Vec::new();
    for i in 0..spawned {
        let (total, stopped) = (total.clone(), stopped.clone());
        let peer = actors.last().copied();
        let a = sys
            .spawn_on(i % 2, move || Relay { peer, total: total.clone(), stopped: stopped.clone() })
            .unwrap();
        actors.push(a);
    }
    // Accepted before shutdown: every one must be handled, with its echoes.
    let mut expected = 0;
    for (index, a) in actors.iter().enumerate() {
        // 64 here, 32 at the previous actor, 16 before it, ... down to 1
        // or to actor 0, which has no peer.
        let (mut m, mut at) = (64u64, index);
        loop {
            expected += m;
            if m <= 1 || at == 0 {
                break;
            }
            m /= 2;
            at -= 1;
        }
        a.send(64).unwrap();
    }
    rt.shutdown();
    assert_eq!(stopped.load(Ordering::SeqCst), spawned, "every actor's stopped ran");
    assert_eq!(total.load(Ordering::SeqCst), expected, "every accepted message was handled");
    assert_eq!(sys.dead_letters(), 0);
    let late = sys.spawn_on(0, move || Relay {
        peer: None,
        total: total.clone(),
        stopped: stopped.clone(),
    });
    assert_eq!(late.unwrap_err(), whirl::SpawnError::ShuttingDown);
    assert!(matches!(actors[0].send(1), Err(whirl::SendError::Closed(1))));
    assert_eq!(
        THREADS_EXITED.load(Ordering::SeqCst),
        2,
        "both shard threads exited and were joined"
    );
}
