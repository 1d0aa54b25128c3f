//! The chat room example (14) driven by real TCP clients: many that talk
//! and read, one that never reads, one that leaves in the middle of a line.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// The server, and the lines it prints (joined, left, kicked).
struct Server {
    child: Child,
    addr: SocketAddr,
    events: Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_14_chat_room"))
            .args(["--port", "0", "--shards", "2"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the chat room starts");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let first = events.recv_timeout(Duration::from_secs(60)).expect("it listens");
        let addr = first
            .strip_prefix("chat room listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .parse()
            .unwrap();
        Self { child, addr, events, seen: Vec::new() }
    }

    /// Waits for the server to print `line` (a hang detector bounds it).
    fn expect(&mut self, line: &str) {
        self.expect_any(&[line]);
    }

    /// Waits for the server to print one of `lines`.
    fn expect_any(&mut self, lines: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.seen.iter().any(|l| lines.contains(&l.as_str())) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("the server never printed {lines:?}; it printed {:?}", self.seen),
            }
        }
    }

    fn connect(&self, name: &str) -> TcpStream {
        let mut s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        writeln!(s, "{name}").unwrap();
        s
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of line `k` of client `i`, padded to about 100 bytes.
fn text(i: usize, k: usize) -> String {
    format!("line {k} of c{i} {}", "x".repeat(80))
}

#[test]
fn many_clients_talk_past_one_that_never_reads_and_one_that_leaves_mid_line() {
    const CLIENTS: usize = 12;
    const LINES: usize = 100;
    let mut server = Server::start(&[]);
    // Never reads: whatever comes for it waits in its buffers.
    let silent = server.connect("silent");
    server.expect("joined silent");
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let name = format!("c{i}");
        clients.push(server.connect(&name));
        server.expect(&format!("joined {name}"));
    }
    // Leaves in the middle of a line: nobody gets the half line.
    let mut leaving = server.connect("leaving");
    server.expect("joined leaving");
    leaving.write_all(b"half a line, never end").unwrap();
    drop(leaving);
    server.expect("left leaving");

    let mut threads = Vec::new();
    for (i, client) in clients.into_iter().enumerate() {
        threads.push(std::thread::spawn(move || {
            let mut writer = client.try_clone().unwrap();
            let sender = std::thread::spawn(move || {
                for k in 0..LINES {
                    writeln!(writer, "{}", text(i, k)).unwrap();
                }
            });
            let mut next = vec![0; CLIENTS];
            let mut reader = BufReader::new(client);
            let mut line = String::new();
            for _ in 0..(CLIENTS - 1) * LINES {
                line.clear();
                reader.read_line(&mut line).expect("a line from the room");
                let (from, said) = line.trim_end().split_once(": ").expect("name: text");
                assert!(!said.contains("half a line"), "a half line was delivered");
                let j: usize =
                    from.strip_prefix('c').and_then(|n| n.parse().ok()).expect("a client");
                assert_ne!(j, i, "its own line came back");
                assert_eq!(said, text(j, next[j]), "c{i} got c{j}'s lines out of order");
                next[j] += 1;
            }
            sender.join().unwrap();
            next
        }));
    }
    for (i, thread) in threads.into_iter().enumerate() {
        let next = thread.join().expect("a client saw everything, in order");
        for (j, &n) in next.iter().enumerate() {
            assert_eq!(n, if i == j { 0 } else { LINES }, "c{i} from c{j}");
        }
    }
    // Kernel buffers held what came for it (or it was too slow, and the
    // room let it go).
    drop(silent);
    server.expect("left silent");
}

#[test]
fn a_client_that_never_reads_is_disconnected_not_waited_for() {
    // Small buffers, so that the silent client fills them soon.
    let mut server = Server::start(&["--send-buffer", "4096", "--max-queued", "8192"]);
    let mut silent = server.connect("silent");
    server.expect("joined silent");
    let mut talker = server.connect("talker");
    server.expect("joined talker");
    let mut k = 0;
    talker.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    while !server.seen.iter().any(|l| l == "kicked silent: not reading") {
        for _ in 0..100 {
            writeln!(talker, "{}", text(0, k)).unwrap();
            k += 1;
        }
        if let Ok(line) = server.events.recv_timeout(Duration::from_millis(10)) {
            server.seen.push(line);
        }
        assert!(k < 1_000_000, "the silent client was never disconnected");
    }
    // Its connection is closed: reading ends after what was buffered, with
    // the end of the stream or a reset, not the read timeout.
    let mut rest = Vec::new();
    match silent.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    assert!(!server.seen.iter().any(|l| l.starts_with("kicked talker")));
}
