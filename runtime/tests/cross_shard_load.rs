//! Both shards busy sending to each other: the rings between them never fill
//! while only a few hundred messages are in flight.
//!
//! The receiving pass once ran a ring's entries for up to a whole ring's
//! worth of words before handing any of them back; with both shards busy it
//! kept reading what the other published, so the sender found the ring full
//! with only 256 messages in flight, and a handler's send failed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::within;
use whirl::{Actor, ActorRef, Context, Reply, Runtime, SendError};

/// Savina *big*: pings a random peer and waits for its pong.
struct Node {
    me: u32,
    peers: Arc<Vec<ActorRef<Msg>>>,
    rng: u64,
    left: u64,
    done: Option<Reply<()>>,
}

enum Msg {
    Peers(Arc<Vec<ActorRef<Msg>>>),
    Start(u64, Reply<()>),
    Ping(u32),
    Pong,
}

fn must_send(to: &ActorRef<Msg>, msg: Msg) {
    match to.send(msg) {
        Ok(()) => {}
        Err(SendError::Full(_)) => panic!("a ring or mailbox filled with 256 messages in flight"),
        Err(SendError::Closed(_)) => panic!("a peer stopped"),
    }
}

impl Node {
    fn ping(&mut self) {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let to = (self.rng % self.peers.len() as u64) as usize;
        must_send(&self.peers[to], Msg::Ping(self.me));
    }
}

impl Actor for Node {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, _ctx: &mut Context<Self>) {
        match msg {
            Msg::Ping(from) => must_send(&self.peers[from as usize], Msg::Pong),
            Msg::Pong => {
                self.left -= 1;
                if self.left == 0 {
                    self.done.take().expect("started").send(());
                } else {
                    self.ping();
                }
            }
            Msg::Peers(peers) => self.peers = peers,
            Msg::Start(pings, done) => {
                (self.left, self.done) = (pings, Some(done));
                self.ping();
            }
        }
    }
}

#[test]
fn busy_shards_pinging_each_other_never_find_a_ring_full() {
    within(240, || {
        let rt =
            Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build().expect("runtime");
        let pings = if cfg!(debug_assertions) { 2_000 } else { 4_000 };
        for _ in 0..4 {
            rt.block_on(move |sys| async move {
                let nodes: Vec<_> = (0..256u32)
                    .map(|i| {
                        let node = move || Node {
                            me: i,
                            peers: Arc::new(Vec::new()),
                            rng: u64::from(i) * 7919 + 1,
                            left: 0,
                            done: None,
                        };
                        sys.spawn_on(i as usize % 2, node).expect("spawn")
                    })
                    .collect();
                let peers = Arc::new(nodes.clone());
                for node in &nodes {
                    node.send_async(Msg::Peers(peers.clone())).await.expect("peers");
                }
                let asks: Vec<_> = nodes.iter().map(|n| n.ask(|r| Msg::Start(pings, r))).collect();
                for ask in asks {
                    ask.await.expect("every node finishes its pings");
                }
                nodes.iter().for_each(ActorRef::stop);
            })
            .expect("block_on");
        }
    });
}
