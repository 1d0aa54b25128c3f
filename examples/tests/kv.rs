//! The key-value server (`--bin kv`) against a real Redis client, the
//! `redis` crate, and against raw sockets for what clients should never
//! send. `.ci/run` also drives it with `redis-cli` and `redis-benchmark`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis::cmd;

/// A running server, shut down (or killed) when dropped.
struct Server {
    child: Child,
    port: u16,
}

/// The kv binary, on `port` with two shards.
fn kv(port: u16) -> Command {
    let mut kv = Command::new(env!("CARGO_BIN_EXE_kv"));
    kv.args(["--port", &port.to_string(), "--shards", "2"]);
    kv
}

impl Server {
    fn start(extra: &[&str]) -> Self {
        Self::start_on(free_port(), extra)
    }

    fn start_on(port: u16, extra: &[&str]) -> Self {
        let mut child = kv(port).args(extra).stdout(Stdio::piped()).spawn().expect("kv starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("a line");
        assert!(line.starts_with("whirl-kv listening on"), "{line}");
        Self { child, port }
    }

    fn client(&self) -> redis::Connection {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).unwrap();
        client.get_connection().expect("connects")
    }

    fn raw(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Reads until the peer closes; what it sent.
fn read_to_close(mut stream: TcpStream) -> String {
    let mut all = Vec::new();
    stream.read_to_end(&mut all).expect("closed, not timed out");
    String::from_utf8_lossy(&all).into_owned()
}

/// The server answers a PING on `c`.
fn assert_pongs(c: &mut redis::Connection, why: &str) {
    let pong: String = cmd("PING").query(c).unwrap();
    assert_eq!(pong, "PONG", "{why}");
}

#[test]
fn commands_across_shards_as_a_redis_client_sees_them() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let ok: String = cmd("SET").arg("a").arg("1").query(&mut c).unwrap();
    assert_eq!(ok, "OK");
    let n: i64 = cmd("INCRBY").arg("a").arg(41).query(&mut c).unwrap();
    assert_eq!(n, 42);
    let n: i64 = cmd("DECR").arg("a").query(&mut c).unwrap();
    assert_eq!(n, 41);
    // Twenty keys land on both shards.
    let keys: Vec<String> = (0..20).map(|i| format!("key:{i}")).collect();
    let mut mset = cmd("MSET");
    for (i, k) in keys.iter().enumerate() {
        mset.arg(k).arg(i);
    }
    let _: () = mset.query(&mut c).unwrap();
    let values: Vec<Option<i64>> = cmd("MGET").arg(&keys).arg("missing").query(&mut c).unwrap();
    let mut expected: Vec<Option<i64>> = (0..20).map(Some).collect();
    expected.push(None);
    assert_eq!(values, expected, "in key order, across shards");
    let size: i64 = cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(size, 21);
    let exists: i64 = cmd("EXISTS").arg(&keys[..5]).arg("missing").query(&mut c).unwrap();
    assert_eq!(exists, 5);
    let deleted: i64 = cmd("DEL").arg(&keys).query(&mut c).unwrap();
    assert_eq!(deleted, 20);
    // SET's options.
    let set: Option<String> = cmd("SET").arg("k").arg("v").arg("NX").query(&mut c).unwrap();
    assert_eq!(set.as_deref(), Some("OK"));
    let set: Option<String> = cmd("SET").arg("k").arg("w").arg("NX").query(&mut c).unwrap();
    assert_eq!(set, None, "NX on a key that exists");
    let old: Option<String> =
        cmd("SET").arg("k").arg("w").arg("XX").arg("GET").query(&mut c).unwrap();
    assert_eq!(old.as_deref(), Some("v"));
    let _: () = cmd("SET").arg("t").arg("v").arg("EX").arg(100).query(&mut c).unwrap();
    let ttl: i64 = cmd("TTL").arg("t").query(&mut c).unwrap();
    assert!((99..=100).contains(&ttl), "{ttl}");
    let gone: i64 = cmd("EXPIRE").arg("t").arg(0).query(&mut c).unwrap();
    assert_eq!(gone, 1);
    let ttl: i64 = cmd("TTL").arg("t").query(&mut c).unwrap();
    assert_eq!(ttl, -2, "expired at once");
    // Lists, and the errors a client expects.
    let len: i64 = cmd("RPUSH").arg("l").arg("x").arg("y").query(&mut c).unwrap();
    assert_eq!(len, 2);
    let err = cmd("GET").arg("l").query::<String>(&mut c).unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"), "{err}");
    let _: () = cmd("SET").arg("s").arg("abc").query(&mut c).unwrap();
    let err = cmd("INCR").arg("s").query::<i64>(&mut c).unwrap_err();
    assert!(err.to_string().contains("not an integer or out of range"), "{err}");
    let err = cmd("NOSUCH").arg("x").query::<String>(&mut c).unwrap_err();
    assert!(err.to_string().contains("unknown command 'NOSUCH'"), "{err}");
    let err = cmd("GET").query::<String>(&mut c).unwrap_err();
    assert!(err.to_string().contains("wrong number of arguments for 'get'"), "{err}");
    assert_pongs(&mut c, "after the errors");
}

#[test]
fn a_pipeline_of_thousands_is_answered_in_order() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut pipe = redis::pipe();
    for i in 0..5_000 {
        pipe.cmd("SET").arg(format!("p:{i}")).arg(i).ignore();
        pipe.cmd("INCR").arg(format!("p:{i}"));
    }
    let replies: Vec<i64> = pipe.query(&mut c).unwrap();
    assert_eq!(replies, (1..=5_000).collect::<Vec<i64>>());
}

#[test]
fn a_malformed_frame_closes_only_its_own_connection() {
    let server = Server::start(&[]);
    let mut bad = server.raw();
    bad.write_all(b"PING\r\n*1\r\n$x\r\n").unwrap();
    assert_eq!(
        read_to_close(bad),
        "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n",
        "what came before is answered, then the error, then the close"
    );
    assert_pongs(&mut server.client(), "other connections go on");
}

#[test]
fn shutdown_in_a_pipeline_comes_after_the_commands_before_it() {
    let server = Server::start(&[]);
    let mut raw = server.raw();
    raw.write_all(b"SET a 1\r\nINCR a\r\nSHUTDOWN\r\nPING\r\n").unwrap();
    assert_eq!(read_to_close(raw), "+OK\r\n:2\r\n", "answered, then closed; PING never runs");
}

#[test]
fn silent_and_slow_clients_stall_nobody() {
    let server = Server::start(&[]);
    let _silent = server.raw();
    let mut slow = server.raw();
    slow.write_all(b"*2\r\n$4\r\nECHO\r\n$5\r\nhel").unwrap();
    let mut c = server.client();
    let _: () = cmd("SET").arg("x").arg("1").query(&mut c).unwrap();
    slow.write_all(b"lo\r\n").unwrap();
    let mut reply = [0u8; 11];
    slow.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"$5\r\nhello\r\n");
}

#[test]
fn an_idle_client_is_closed_after_the_timeout() {
    let server = Server::start(&["--timeout", "1"]);
    let idle = server.raw();
    // The server closes it after 1 s; the read below waits up to 10 s.
    assert_eq!(read_to_close(idle), "");
    assert_pongs(&mut server.client(), "the server itself goes on");
}

#[test]
fn a_client_that_stops_reading_its_replies_is_closed_after_the_timeout() {
    let server = Server::start(&["--timeout", "1"]);
    let mut c = server.client();
    let megabyte = vec![b'x'; 1 << 20];
    let _: () = cmd("SET").arg("big").arg(&megabyte[..]).query(&mut c).unwrap();
    // 100 MB of replies asked for, far more than the sockets buffer.
    let mut reader = server.raw();
    reader.write_all(&b"GET big\r\n".repeat(100)).unwrap();
    // The server's write times out after 1 s and it closes the connection;
    // reading starts well after that.
    std::thread::sleep(Duration::from_secs(4));
    let mut got = 0;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => got += n,
            // Closed with requests still unread on its side: a reset.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("closed, not timed out: {e}"),
        }
    }
    assert!(got < 100 << 20, "cut short: {got} bytes of 100 MB");
    // (The first client was idle meanwhile, and closed too.)
    assert_pongs(&mut server.client(), "the server itself goes on");
}

#[test]
fn limits_refuse_with_an_error() {
    let server = Server::start(&["--max-clients", "1", "--max-bulk-len", "8"]);
    let mut first = server.raw();
    first.write_all(b"*2\r\n$4\r\nECHO\r\n$9\r\n").unwrap();
    assert_eq!(read_to_close(first), "-ERR Protocol error: invalid bulk length\r\n");
    // The first connection's slot is free once its task has ended.
    let began = Instant::now();
    loop {
        let mut only = server.raw();
        only.write_all(b"PING\r\n").unwrap();
        let mut reply = [0u8; 7];
        only.read_exact(&mut reply).unwrap();
        if &reply == b"+PONG\r\n" {
            let second = server.raw();
            assert_eq!(read_to_close(second), "-ERR max number of clients reached\r\n");
            return;
        }
        assert!(began.elapsed() < Duration::from_secs(10), "{:?}", String::from_utf8_lossy(&reply));
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn shutdown_stops_the_server_and_a_taken_port_is_an_error() {
    let mut server = Server::start(&[]);
    // QUIT: the server closes first, so that connection's port pair waits
    // in TIME_WAIT on the server's port.
    let mut quitting = server.raw();
    quitting.write_all(b"QUIT\r\n").unwrap();
    assert_eq!(read_to_close(quitting), "+OK\r\n");
    let mut c = server.client();
    let _ = cmd("SHUTDOWN").query::<()>(&mut c);
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");
    // A new server binds the port at once, TIME_WAIT or not (`start_on`
    // checks that it listens).
    drop(Server::start_on(server.port, &[]));

    // A port another kv serves is taken too, though both would bind it
    // with SO_REUSEPORT.
    let first = Server::start(&[]);
    let out = kv(first.port).output().unwrap();
    assert!(!out.status.success(), "a second server on the same port");

    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let out = kv(taken.local_addr().unwrap().port()).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot listen on"), "{stderr}");
}
