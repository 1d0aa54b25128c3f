//! stakker's side: the same scenarios on stakker 0.2, written as its docs
//! show (actors as structs with methods, `call!` to queue a call, `Ret` to
//! answer, one `Stakker` driven by `run`). Single-threaded by design.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use stakker::{actor, call, ret, ret_nop, ret_some_to, Actor, ActorOwn, Ret, Stakker, CX};

use super::{Rng, Size};
use crate::alloc::live_bytes;
use crate::dispatch::whirl_side::per;

/// Runs the queue until nothing is left.
fn run(stakker: &mut Stakker) {
    stakker.run(Instant::now(), false);
}

struct RingNode {
    next: Option<Actor<RingNode>>,
    finished: Rc<Cell<bool>>,
}

impl RingNode {
    fn init(_: CX![], finished: Rc<Cell<bool>>) -> Option<Self> {
        Some(Self { next: None, finished })
    }
    fn link(&mut self, _: CX![], next: Actor<RingNode>) {
        self.next = Some(next);
    }
    fn token(&mut self, _: CX![], left: u64) {
        if left == 0 {
            self.finished.set(true);
        } else {
            call!([self.next.as_ref().expect("linked")], token(left - 1));
        }
    }
}

struct BigNode {
    me: u32,
    peers: Rc<Vec<Actor<BigNode>>>,
    rng: Rng,
    left: u64,
    finished: Rc<Cell<usize>>,
}

impl BigNode {
    fn init(_: CX![], me: u32, finished: Rc<Cell<usize>>) -> Option<Self> {
        let peers = Rc::new(Vec::new());
        Some(Self { me, peers, rng: Rng::new(me as u64), left: 0, finished })
    }
    fn peers(&mut self, _: CX![], peers: Rc<Vec<Actor<BigNode>>>) {
        self.peers = peers;
    }
    fn send_ping(&mut self) {
        let to = self.rng.below(self.peers.len());
        call!([self.peers[to]], ping(self.me));
    }
    fn start(&mut self, _: CX![], pings: u64) {
        self.left = pings;
        self.send_ping();
    }
    fn ping(&mut self, _: CX![], from: u32) {
        call!([self.peers[from as usize]], pong());
    }
    fn pong(&mut self, _: CX![]) {
        self.left -= 1;
        if self.left == 0 {
            self.finished.set(self.finished.get() + 1);
        } else {
            self.send_ping();
        }
    }
}

struct Counter {
    n: u64,
}

impl Counter {
    fn init(_: CX![]) -> Option<Self> {
        Some(Self { n: 0 })
    }
    fn inc(&mut self, _: CX![]) {
        self.n += 1;
    }
    fn get(&self, _: CX![], ret: Ret<u64>) {
        ret!([ret], self.n);
    }
}

struct Ponger;

impl Ponger {
    fn init(_: CX![]) -> Option<Self> {
        Some(Self)
    }
    fn ping(&self, _: CX![], ret: Ret<u64>) {
        ret!([ret], 1);
    }
}

struct Pinger {
    ponger: Actor<Ponger>,
    left: u64,
}

impl Pinger {
    fn init(_: CX![], ponger: Actor<Ponger>) -> Option<Self> {
        Some(Self { ponger, left: 0 })
    }
    fn run(&mut self, cx: CX![], n: u64) {
        self.left = n;
        let ret = ret_some_to!([cx], pong() as (u64));
        call!([self.ponger], ping(ret));
    }
    fn pong(&mut self, cx: CX![], _answer: u64) {
        self.left -= 1;
        if self.left > 0 {
            let ret = ret_some_to!([cx], pong() as (u64));
            call!([self.ponger], ping(ret));
        }
    }
}

struct Idle;

impl Idle {
    fn init(_: CX![]) -> Option<Self> {
        Some(Self)
    }
}

/// Thread ring: hops per second.
pub fn thread_ring(size: Size) -> f64 {
    let mut stakker = Stakker::new(Instant::now());
    let s = &mut stakker;
    let finished = Rc::new(Cell::new(false));
    let nodes: Vec<ActorOwn<RingNode>> = (0..size.ring_actors)
        .map(|_| actor!(s, RingNode::init(finished.clone()), ret_nop!()))
        .collect();
    for (i, node) in nodes.iter().enumerate() {
        let next: Actor<RingNode> = nodes[(i + 1) % nodes.len()].clone();
        call!([node], link(next));
    }
    run(s);
    let start = Instant::now();
    call!([nodes[0]], token(size.ring_hops));
    run(s);
    let rate = size.ring_hops as f64 / start.elapsed().as_secs_f64();
    assert!(finished.get());
    rate
}

/// Savina *big*: messages per second.
pub fn big(size: Size) -> f64 {
    let mut stakker = Stakker::new(Instant::now());
    let s = &mut stakker;
    let finished = Rc::new(Cell::new(0));
    let nodes: Vec<ActorOwn<BigNode>> = (0..size.big_actors)
        .map(|i| actor!(s, BigNode::init(i as u32, finished.clone()), ret_nop!()))
        .collect();
    let peers: Rc<Vec<Actor<BigNode>>> = Rc::new(nodes.iter().map(|n| (**n).clone()).collect());
    for node in &nodes {
        call!([node], peers(peers.clone()));
    }
    run(s);
    let start = Instant::now();
    for node in &nodes {
        call!([node], start(size.big_pings));
    }
    run(s);
    let rate = (2 * size.big_pings * size.big_actors as u64) as f64 / start.elapsed().as_secs_f64();
    assert_eq!(finished.get(), size.big_actors);
    rate
}

/// Savina count: calls per second into one actor, then one query.
pub fn count(size: Size) -> f64 {
    let mut stakker = Stakker::new(Instant::now());
    let s = &mut stakker;
    let counter = actor!(s, Counter::init(), ret_nop!());
    run(s);
    let start = Instant::now();
    for _ in 0..size.count_messages {
        call!([counter], inc());
    }
    let answer = Rc::new(Cell::new(0));
    let a = answer.clone();
    call!([counter], get(Ret::new(move |n: Option<u64>| a.set(n.unwrap_or(0)))));
    run(s);
    let rate = size.count_messages as f64 / start.elapsed().as_secs_f64();
    assert_eq!(answer.get(), size.count_messages);
    rate
}

/// One actor asks another with a `Ret`: nanoseconds per round trip.
pub fn actor_ask(size: Size) -> Vec<u64> {
    let mut stakker = Stakker::new(Instant::now());
    let s = &mut stakker;
    let ponger = actor!(s, Ponger::init(), ret_nop!());
    let pinger = actor!(s, Pinger::init(ponger.clone()), ret_nop!());
    run(s);
    let mut samples = Vec::with_capacity(size.ask_samples as usize);
    for _ in 0..size.ask_samples {
        let start = Instant::now();
        call!([pinger], run(size.asks_per_sample));
        run(s);
        samples.push(per(start.elapsed(), size.asks_per_sample));
    }
    samples
}

/// Actors created (and initialised) per second.
pub fn spawn_rate(size: Size) -> f64 {
    let mut stakker = Stakker::new(Instant::now());
    let s = &mut stakker;
    let mut actors: Vec<ActorOwn<Idle>> = Vec::with_capacity(size.spawns);
    let start = Instant::now();
    for _ in 0..size.spawns {
        actors.push(actor!(s, Idle::init(), ret_nop!()));
    }
    run(s);
    size.spawns as f64 / start.elapsed().as_secs_f64()
}

/// Bytes allocated per idle actor.
pub fn bytes_per_actor(size: Size) -> f64 {
    let mut stakker = Stakker::new(Instant::now());
    let s = &mut stakker;
    let mut actors: Vec<ActorOwn<Idle>> = Vec::with_capacity(size.spawns);
    run(s);
    let before = live_bytes();
    for _ in 0..size.spawns {
        actors.push(actor!(s, Idle::init(), ret_nop!()));
    }
    run(s);
    (live_bytes() - before) as f64 / size.spawns as f64
}
