//! Echo over loopback TCP: 64-byte requests, each answered with the same
//! bytes, by whirl's connection actors (`whirl::net`, one shard on CPU 0)
//! and by a plain epoll server (one thread on CPU 0, level-triggered,
//! nonblocking, the loop every C server has). The client is the same for
//! both: one thread on CPU 1 with blocking sockets, which sends a request
//! on each of its connections, then reads each answer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

use hdrhistogram::Histogram;
use whirl::net::{self, Connection, NetEvent, NetOptions};
use whirl::{Actor, Context, Runtime};

use crate::affinity::pin_current_thread;

/// Bytes in a request and in its answer.
pub const MESSAGE: usize = 64;

/// A server under test: where it listens, and how to stop it.
struct Server {
    addr: SocketAddr,
    stop: Box<dyn FnOnce()>,
}

/// The client: `connections` connections, `rounds` rounds of one request
/// on each; returns the latency of each round (one request on each
/// connection, answered) and the requests answered a second.
fn client(addr: SocketAddr, connections: usize, rounds: usize) -> (Histogram<u64>, f64) {
    let mut hist = Histogram::new(3).expect("histogram");
    let handle = std::thread::spawn(move || {
        let _ = pin_current_thread(1);
        let mut conns: Vec<TcpStream> = (0..connections)
            .map(|_| {
                let s = TcpStream::connect(addr).expect("connect");
                s.set_nodelay(true).expect("nodelay");
                s
            })
            .collect();
        let request = [7u8; MESSAGE];
        let mut answer = [0u8; MESSAGE];
        let mut times = Vec::with_capacity(rounds);
        // A warm-up round.
        for round in 0..rounds + 1 {
            let start = Instant::now();
            for c in &mut conns {
                c.write_all(&request).expect("write");
            }
            for c in &mut conns {
                c.read_exact(&mut answer).expect("an answer");
                assert_eq!(answer, request, "echoed whole");
            }
            if round > 0 {
                times.push(start.elapsed());
            }
        }
        times
    });
    let times = handle.join().expect("the client");
    let total: f64 = times.iter().map(|t| t.as_secs_f64()).sum();
    for t in &times {
        let _ = hist.record(t.as_nanos() as u64);
    }
    (hist, (rounds * connections) as f64 / total)
}

/// Runs the client against `start()`'s server and stops it.
fn measure(
    start: impl FnOnce() -> Server,
    connections: usize,
    rounds: usize,
) -> (Histogram<u64>, f64) {
    let server = start();
    let result = client(server.addr, connections, rounds);
    (server.stop)();
    result
}

/// Echoes what it reads.
struct Echo {
    conn: Connection<NetEvent>,
    buf: Vec<u8>,
}

impl Actor for Echo {
    type Msg = NetEvent;
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.conn.start(ctx);
    }
    fn handle(&mut self, event: NetEvent, ctx: &mut Context<Self>) {
        match event {
            NetEvent::Data => {
                self.conn.read(&mut self.buf);
                let _ = self.conn.write(ctx, &self.buf);
                self.buf.clear();
            }
            NetEvent::ReadClosed => self.conn.close(),
            NetEvent::Drained => {}
            NetEvent::Closed(_) => ctx.stop(),
        }
    }
}

/// whirl: one shard (pinned to CPU 0), an actor per connection.
fn whirl_server() -> Server {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = Runtime::builder().shards(1).build().expect("runtime");
        rt.block_on(move |sys| async move {
            let addr = "127.0.0.1:0".parse().expect("address");
            let listening =
                net::serve(&sys, addr, NetOptions::new(), |conn| Echo { conn, buf: Vec::new() })
                    .expect("listen");
            tx.send(listening.local_addr()).expect("the bench waits");
            while stop_rx.try_recv().is_err() {
                whirl::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            listening.stop();
            sys.shutdown().await;
        })
        .expect("the runtime ran");
    });
    let addr = rx.recv().expect("the server listens");
    Server {
        addr,
        stop: Box::new(move || {
            let _ = stop_tx.send(());
            thread.join().expect("the server thread");
        }),
    }
}

/// The epoll server: one thread on CPU 0; a level-triggered loop over a
/// listener, its connections and an eventfd that stops it.
fn epoll_server() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("address");
    // SAFETY: plain syscalls; each result is checked.
    let (epoll, stop) = unsafe { (libc::epoll_create1(libc::EPOLL_CLOEXEC), libc::eventfd(0, 0)) };
    assert!(epoll >= 0 && stop >= 0, "epoll and eventfd");
    // SAFETY: just made, owned here.
    let (epoll, stop) = unsafe { (OwnedFd::from_raw_fd(epoll), OwnedFd::from_raw_fd(stop)) };
    add(epoll.as_raw_fd(), listener.as_raw_fd());
    add(epoll.as_raw_fd(), stop.as_raw_fd());
    let stop_fd = stop.as_raw_fd();
    let thread = std::thread::spawn(move || {
        let _ = pin_current_thread(0);
        let mut conns: std::collections::HashMap<i32, TcpStream> = Default::default();
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 64];
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: a live epoll descriptor and a buffer of `events.len()`.
            let n = unsafe {
                libc::epoll_wait(epoll.as_raw_fd(), events.as_mut_ptr(), events.len() as i32, -1)
            };
            for event in events.iter().take(n.max(0) as usize) {
                let fd = event.u64 as i32;
                if fd == stop.as_raw_fd() {
                    return;
                }
                if fd == listener.as_raw_fd() {
                    while let Ok((s, _)) = listener.accept() {
                        s.set_nodelay(true).expect("nodelay");
                        s.set_nonblocking(true).expect("nonblocking");
                        let fd = s.as_raw_fd();
                        add(epoll.as_raw_fd(), fd);
                        conns.insert(fd, s);
                    }
                    continue;
                }
                let Some(s) = conns.get_mut(&fd) else { continue };
                match s.read(&mut buf) {
                    Ok(0) => drop(conns.remove(&fd)),
                    // Small answers to a client that reads each: the write
                    // takes it whole.
                    Ok(n) => s.write_all(&buf[..n]).expect("write"),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => drop(conns.remove(&fd)),
                }
            }
        }
    });
    Server {
        addr,
        stop: Box::new(move || {
            let one = 1u64.to_ne_bytes();
            // SAFETY: an eventfd the server thread keeps open until it
            // reads this; 8 bytes from a live buffer.
            let wrote = unsafe { libc::write(stop_fd, one.as_ptr().cast(), one.len()) };
            assert_eq!(wrote, 8, "stop the server");
            thread.join().expect("the server thread");
        }),
    }
}

/// Adds `fd` to `epoll`, for reading.
fn add(epoll: i32, fd: i32) {
    let mut event = libc::epoll_event { events: libc::EPOLLIN as u32, u64: fd as u64 };
    // SAFETY: a live epoll descriptor, a live fd, a valid event.
    let done = unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut event) };
    assert_eq!(done, 0, "epoll_ctl");
}

/// Round-trip latencies (one connection, one request at a time) with
/// whirl's server.
pub fn whirl_latency(rounds: usize) -> Histogram<u64> {
    measure(whirl_server, 1, rounds).0
}

/// As [`whirl_latency`], with the epoll server.
pub fn epoll_latency(rounds: usize) -> Histogram<u64> {
    measure(epoll_server, 1, rounds).0
}

/// Requests answered a second over `connections` connections, with
/// whirl's server.
pub fn whirl_rate(connections: usize, rounds: usize) -> f64 {
    measure(whirl_server, connections, rounds).1
}

/// As [`whirl_rate`], with the epoll server.
pub fn epoll_rate(connections: usize, rounds: usize) -> f64 {
    measure(epoll_server, connections, rounds).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_servers_echo() {
        assert!(whirl_rate(3, 20) > 0.0);
        assert!(epoll_rate(3, 20) > 0.0);
        assert_eq!(whirl_latency(10).len(), 10);
        assert_eq!(epoll_latency(10).len(), 10);
    }
}
