//! whirl's side of the dispatch benchmarks, written as a user would with
//! whirl's public API: actors that hold each other's `ActorRef`s and send
//! from their handlers, and a program (`block_on`) that spawns, sends and
//! asks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use whirl::{Actor, ActorRef, Context, Reply, Runtime};

use super::{Rng, Size};
use crate::alloc::live_bytes;
use crate::suite::whirl_runtime::{Sink, SinkMsg};

/// A whirl runtime of `shards` pinned shards, built once for all runs.
#[derive(Debug)]
pub struct Whirl {
    rt: Runtime,
    shards: usize,
}

/// Sends from a handler; these benchmarks never fill a mailbox. Inlined, as
/// a send written in the handler itself is: a helper called with the message
/// by value would spill it to the stack first.
#[inline(always)]
fn send<M: Send + 'static>(to: &ActorRef<M>, msg: M) {
    if to.send(msg).is_err() {
        panic!("a benchmark actor's mailbox was full or closed");
    }
}

// ----- thread ring --------------------------------------------------------

/// One actor of the thread ring.
#[derive(Default)]
struct RingNode {
    next: Option<ActorRef<RingMsg>>,
    first: Option<ActorRef<RingMsg>>,
    done: Option<Reply<()>>,
}

enum RingMsg {
    Link(ActorRef<RingMsg>, ActorRef<RingMsg>),
    Start(u64, Reply<()>),
    Token(u64),
    Finished,
}

impl Actor for RingNode {
    type Msg = RingMsg;
    fn handle(&mut self, msg: RingMsg, _ctx: &mut Context<Self>) {
        match msg {
            RingMsg::Token(0) => send(self.first.as_ref().expect("linked"), RingMsg::Finished),
            RingMsg::Token(left) => {
                send(self.next.as_ref().expect("linked"), RingMsg::Token(left - 1))
            }
            RingMsg::Link(next, first) => (self.next, self.first) = (Some(next), Some(first)),
            RingMsg::Start(hops, done) => {
                self.done = Some(done);
                send(self.next.as_ref().expect("linked"), RingMsg::Token(hops));
            }
            RingMsg::Finished => self.done.take().expect("started").send(()),
        }
    }
}

// ----- Savina big -----------------------------------------------------------

/// One actor of Savina *big*: pings a random peer, waits for its pong.
struct BigNode {
    me: u32,
    peers: Arc<Vec<ActorRef<BigMsg>>>,
    rng: Rng,
    left: u64,
    done: Option<Reply<()>>,
}

enum BigMsg {
    Peers(Arc<Vec<ActorRef<BigMsg>>>),
    Start(u64, Reply<()>),
    Ping(u32),
    Pong,
}

impl BigNode {
    fn ping(&mut self) {
        let to = self.rng.below(self.peers.len());
        send(&self.peers[to], BigMsg::Ping(self.me));
    }
}

impl Actor for BigNode {
    type Msg = BigMsg;
    fn handle(&mut self, msg: BigMsg, _ctx: &mut Context<Self>) {
        match msg {
            BigMsg::Ping(from) => send(&self.peers[from as usize], BigMsg::Pong),
            BigMsg::Pong => {
                self.left -= 1;
                if self.left == 0 {
                    self.done.take().expect("started").send(());
                } else {
                    self.ping();
                }
            }
            BigMsg::Peers(peers) => self.peers = peers,
            BigMsg::Start(pings, done) => {
                (self.left, self.done) = (pings, Some(done));
                self.ping();
            }
        }
    }
}

// ----- count, asks, spawns ----------------------------------------------------

/// Answers pings: to a program's ask, or to an actor with a message.
struct Ponger;

enum PongMsg {
    Ask(Reply<()>),
    Ping(ActorRef<PingerMsg>),
}

impl Actor for Ponger {
    type Msg = PongMsg;
    fn handle(&mut self, msg: PongMsg, _ctx: &mut Context<Self>) {
        match msg {
            PongMsg::Ask(reply) => reply.send(()),
            PongMsg::Ping(from) => send(&from, PingerMsg::Pong),
        }
    }
}

/// Asks a [`Ponger`] `n` times in a row, actor to actor: each answer comes
/// back as a message, and the next question goes out from its handler.
struct Pinger {
    ponger: ActorRef<PongMsg>,
    left: u64,
    done: Option<Reply<()>>,
}

enum PingerMsg {
    Run(u64, Reply<()>),
    Pong,
}

impl Actor for Pinger {
    type Msg = PingerMsg;
    fn handle(&mut self, msg: PingerMsg, ctx: &mut Context<Self>) {
        match msg {
            PingerMsg::Pong if self.left > 1 => {
                self.left -= 1;
                send(&self.ponger, PongMsg::Ping(ctx.myself()));
            }
            PingerMsg::Pong => self.done.take().expect("running").send(()),
            PingerMsg::Run(n, done) => {
                (self.left, self.done) = (n, Some(done));
                send(&self.ponger, PongMsg::Ping(ctx.myself()));
            }
        }
    }
}

/// An actor that does nothing: for spawn rate and memory.
struct Idle {
    _n: u64,
}

impl Actor for Idle {
    type Msg = ();
    fn handle(&mut self, _msg: (), _ctx: &mut Context<Self>) {}
}

impl Whirl {
    /// `shards` pinned shards with the default configuration.
    pub fn new(shards: usize) -> Self {
        let rt = Runtime::builder().shards(shards).build().expect("whirl runtime");
        Self { rt, shards }
    }

    /// Thread ring: hops per second, actors placed round-robin over the
    /// shards.
    pub fn thread_ring(&self, size: Size) -> f64 {
        let shards = self.shards;
        self.rt
            .block_on(move |sys| async move {
                let nodes: Vec<_> = (0..size.ring_actors)
                    .map(|i| sys.spawn_on(i % shards, RingNode::default).expect("spawn"))
                    .collect();
                for (i, node) in nodes.iter().enumerate() {
                    let next = nodes[(i + 1) % nodes.len()];
                    node.send_async(RingMsg::Link(next, nodes[0])).await.expect("link");
                }
                let start = Instant::now();
                nodes[0].ask(|r| RingMsg::Start(size.ring_hops, r)).await.expect("ring");
                let rate = size.ring_hops as f64 / start.elapsed().as_secs_f64();
                nodes.iter().for_each(ActorRef::stop);
                rate
            })
            .expect("block_on")
    }

    /// Savina *big*: messages (pings and pongs) per second, actors placed
    /// round-robin over the shards.
    pub fn big(&self, size: Size) -> f64 {
        let shards = self.shards;
        self.rt
            .block_on(move |sys| async move {
                let nodes: Vec<_> = (0..size.big_actors)
                    .map(|i| {
                        sys.spawn_on(i % shards, move || BigNode {
                            me: i as u32,
                            peers: Arc::new(Vec::new()),
                            rng: Rng::new(i as u64),
                            left: 0,
                            done: None,
                        })
                        .expect("spawn")
                    })
                    .collect();
                let peers = Arc::new(nodes.clone());
                for node in &nodes {
                    node.send_async(BigMsg::Peers(peers.clone())).await.expect("peers");
                }
                let start = Instant::now();
                let asks: Vec<_> =
                    nodes.iter().map(|n| n.ask(|r| BigMsg::Start(size.big_pings, r))).collect();
                for ask in asks {
                    ask.await.expect("big");
                }
                let messages = 2 * size.big_pings * size.big_actors as u64;
                let rate = messages as f64 / start.elapsed().as_secs_f64();
                nodes.iter().for_each(ActorRef::stop);
                rate
            })
            .expect("block_on")
    }

    /// Savina count: messages per second from the program to one actor on
    /// the last shard (the program's own on one shard), then one ask.
    pub fn count(&self, size: Size) -> f64 {
        let shard = self.shards - 1;
        self.rt
            .block_on(move |sys| async move {
                let counter = sys.spawn_on(shard, || Sink { count: 0 }).expect("spawn");
                let start = Instant::now();
                for _ in 0..size.count_messages {
                    counter.send_async(SinkMsg::One).await.expect("send");
                }
                let n = counter.ask(SinkMsg::Count).await.expect("count");
                assert_eq!(n, size.count_messages);
                let rate = n as f64 / start.elapsed().as_secs_f64();
                counter.stop();
                rate
            })
            .expect("block_on")
    }

    /// A program task asks an actor on its own shard: nanoseconds per round
    /// trip, one sample per `asks_per_sample` asks.
    pub fn program_ask(&self, size: Size) -> Vec<u64> {
        self.rt
            .block_on(move |sys| async move {
                let ponger = sys.spawn_on(0, || Ponger).expect("spawn");
                let mut samples = Vec::with_capacity(size.ask_samples as usize);
                for _ in 0..size.ask_samples {
                    let start = Instant::now();
                    for _ in 0..size.asks_per_sample {
                        ponger.ask(PongMsg::Ask).await.expect("ask");
                    }
                    samples.push(per(start.elapsed(), size.asks_per_sample));
                }
                ponger.stop();
                samples
            })
            .expect("block_on")
    }

    /// An actor asks another on the same shard (the answer comes back as a
    /// message): nanoseconds per round trip.
    pub fn actor_ask(&self, size: Size) -> Vec<u64> {
        self.rt
            .block_on(move |sys| async move {
                let ponger = sys.spawn_on(0, || Ponger).expect("spawn");
                let pinger =
                    sys.spawn_on(0, move || Pinger { ponger, left: 0, done: None }).expect("spawn");
                let mut samples = Vec::with_capacity(size.ask_samples as usize);
                for _ in 0..size.ask_samples {
                    let start = Instant::now();
                    pinger.ask(|r| PingerMsg::Run(size.asks_per_sample, r)).await.expect("run");
                    samples.push(per(start.elapsed(), size.asks_per_sample));
                }
                ponger.stop();
                pinger.stop();
                samples
            })
            .expect("block_on")
    }

    /// Actors spawned per second by a program on its own shard.
    pub fn spawn_rate(&self, size: Size) -> f64 {
        self.rt
            .block_on(move |sys| async move {
                let mut refs = Vec::with_capacity(size.spawns);
                let start = Instant::now();
                for _ in 0..size.spawns {
                    refs.push(sys.spawn_on(0, || Idle { _n: 0 }).expect("spawn"));
                }
                let rate = size.spawns as f64 / start.elapsed().as_secs_f64();
                refs.iter().for_each(ActorRef::stop);
                rate
            })
            .expect("block_on")
    }

    /// Bytes allocated per idle actor (its slot, its cell, its share of the
    /// shard's tables), over `spawns` actors on a fresh one-shard runtime.
    pub fn bytes_per_actor(size: Size) -> f64 {
        let rt = Runtime::builder().shards(1).build().expect("whirl runtime");
        rt.block_on(move |sys| async move {
            let mut refs = Vec::with_capacity(size.spawns);
            let before = live_bytes();
            for _ in 0..size.spawns {
                refs.push(sys.spawn_on(0, || Idle { _n: 0 }).expect("spawn"));
            }
            let bytes = (live_bytes() - before) as f64 / size.spawns as f64;
            refs.iter().for_each(ActorRef::stop);
            bytes
        })
        .expect("block_on")
    }
}

/// Nanoseconds per operation.
pub(crate) fn per(elapsed: Duration, ops: u64) -> u64 {
    (elapsed.as_nanos() / ops as u128) as u64
}
