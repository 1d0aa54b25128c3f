//! 9. Watching a running service: every shard keeps its own counters (no
//!    atomics on the message path); ask one actor for its stats, take a
//!    snapshot of every shard, or let Prometheus scrape `/metrics`.
//!
//! `09_watching [--port P] [--serve SECONDS]`: serves the endpoint on
//! 127.0.0.1:P (default: any free port); with `--serve` it keeps serving
//! that long, for `curl http://127.0.0.1:P/metrics`.

use std::io::{Read, Write};
use std::time::Duration;

use whirl::{Actor, Context, Reply, Runtime};

/// Greets; counts how many it greeted.
struct Greeter {
    greeted: u64,
}

enum Msg {
    Greet(&'static str),
    Greeted(Reply<u64>),
}

impl Actor for Greeter {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, _ctx: &mut Context<Self>) {
        match msg {
            Msg::Greet(_name) => self.greeted += 1,
            Msg::Greeted(reply) => reply.send(self.greeted),
        }
    }
}

fn flag(name: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).and_then(|v| v.parse().ok())
}

fn main() {
    let port = flag("--port").unwrap_or(0) as u16;
    // 1. One builder call serves `/metrics` and `/health` from shard 0.
    let rt = Runtime::builder()
        .shards(2)
        .spin_before_park(Duration::ZERO)
        .metrics_endpoint(([127, 0, 0, 1], port))
        // Time one message in 16 of each actor (default 1024), so this short
        // demo has handling times to show.
        .handling_time_sample_every(16)
        .build()
        .expect("runtime");
    let addr = rt.metrics_addr().expect("an endpoint");
    let sys = rt.system();

    // 2. Some work: a named actor on shard 0 greets 999 people.
    let greeter = sys.spawn_on(0, || Greeter { greeted: 0 }).unwrap();
    sys.register("greeter", greeter).unwrap();
    for _ in 0..999 {
        greeter.send_blocking(Msg::Greet("you")).unwrap();
    }
    let greeted = greeter.ask_blocking(Msg::Greeted, Duration::from_secs(10)).unwrap();
    println!("greeted {greeted}");

    // 3. One actor's counters, read on its shard: 999 greetings and the
    //    question.
    let stats = futures_lite::future::block_on(greeter.stats()).unwrap();
    println!("greeter handled {} messages, mailbox now {}", stats.handled, stats.mailbox_depth);

    // 4. Every shard at once.
    let snapshot = rt.snapshot();
    println!("{} shards, {} actors", snapshot.shards.len(), snapshot.runtime.actors);

    // 5. What Prometheus sees: one line of the scrape.
    let body = get(addr, "/metrics");
    let line = body.lines().find(|l| l.starts_with("whirl_actor_handled_total{")).unwrap();
    println!("{line}");

    if let Some(seconds) = flag("--serve") {
        println!("serving http://{addr}/metrics for {seconds} s");
        std::thread::sleep(Duration::from_secs(seconds));
    }
    rt.shutdown();
}

/// A bare HTTP GET, to show the endpoint is plain HTTP.
fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}
