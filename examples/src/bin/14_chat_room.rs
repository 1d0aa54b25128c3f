//! 14. A chat room over TCP: an actor per connection (`whirl::net`), one
//!     room actor. A client's first line is its name; every later line goes
//!     to everyone else as `name: line`.
//!
//! ```text
//! cargo run --release -p whirl-examples --bin 14_chat_room -- --port 7000
//! nc 127.0.0.1 7000
//! ```
//!
//! What it shows:
//! * reading: each `Data` event moves what came into the connection's
//!   line buffer; complete lines go to the room, a partial one waits for
//!   the rest (and is dropped if the client goes away mid-line);
//! * writing without a `Wrote` dance: `Connection::write` queues, in order;
//! * a client that stops reading: its queue grows past `--max-queued` and
//!   its actor disconnects it (as Redis's output buffer limit does), so
//!   the room, which sends with `Context::send` and never drops a line,
//!   never waits for it long;
//! * idle and write timeouts from the shard's sweep.
//!
//! The room prints one line per event (`joined`, `left`), and a client's
//! actor one when it disconnects its client (`kicked NAME: WHY`), which
//! the test of this example reads.
//!
//! A known limit: the room and the clients send to each other with
//! `Context::send`; were the room's mailbox and a client's both full (a
//! thousand clients talking at once to one room), the two would wait for
//! each other, as bounded queues in a cycle do. A larger room would shard
//! itself over several actors.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use whirl::net::{self, Connection, NetEvent, NetOptions};
use whirl::{Actor, ActorRef, Context, Placement, Runtime};

/// A chat room server.
#[derive(Debug, Parser)]
struct Args {
    /// Port to listen on (0: any free port; the address is printed).
    #[arg(long, default_value_t = 7000)]
    port: u16,
    /// Shards (connections are spread over them round robin).
    #[arg(long, default_value_t = 2)]
    shards: usize,
    /// The longest line a client may send, in bytes; a longer one closes it.
    #[arg(long, default_value_t = 4096)]
    max_line: usize,
    /// Bytes queued for a client that does not read before it is
    /// disconnected.
    #[arg(long, default_value_t = 256 * 1024)]
    max_queued: usize,
    /// The kernel's send buffer per connection, in bytes (0: the kernel's).
    #[arg(long, default_value_t = 0)]
    send_buffer: usize,
    /// Close a client silent for this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    idle_secs: u64,
    /// Close a client whose writes make no progress for this many seconds.
    #[arg(long, default_value_t = 10)]
    write_secs: u64,
}

/// What the room hears.
enum RoomMsg {
    Join(u64, String, ActorRef<ClientMsg>),
    Say(u64, String),
    Leave(u64),
}

/// The room: who is in it, and where their lines go.
#[derive(Default)]
struct Room {
    members: HashMap<u64, (String, ActorRef<ClientMsg>)>,
}

impl Actor for Room {
    type Msg = RoomMsg;
    fn handle(&mut self, msg: RoomMsg, ctx: &mut Context<Self>) {
        match msg {
            RoomMsg::Join(id, name, member) => {
                println!("joined {name}");
                // However it goes (a stop, a panic), it leaves the room.
                ctx.watch(&member, move |_| RoomMsg::Leave(id));
                self.members.insert(id, (name, member));
            }
            RoomMsg::Say(from, text) => {
                let Some((name, _)) = self.members.get(&from) else { return };
                let line: Arc<str> = format!("{name}: {text}\n").into();
                for (&id, (_, member)) in &self.members {
                    if id != from {
                        // Never dropped: if a member's mailbox is full, the
                        // line waits in the room's outbox (a member that
                        // does not keep up disconnects itself).
                        let _ = ctx.send(member, ClientMsg::Line(line.clone()));
                    }
                }
            }
            RoomMsg::Leave(id) => {
                if let Some((name, _)) = self.members.remove(&id) {
                    println!("left {name}");
                }
            }
        }
    }
}

/// What a client's actor hears.
enum ClientMsg {
    Net(NetEvent),
    /// A line from the room, to write.
    Line(Arc<str>),
}

/// One client connection.
struct Client {
    id: u64,
    conn: Connection<ClientMsg>,
    room: ActorRef<RoomMsg>,
    name: Option<String>,
    /// Bytes read that do not end a line yet.
    partial: Vec<u8>,
    max_line: usize,
    max_queued: usize,
}

impl Actor for Client {
    type Msg = ClientMsg;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.conn.start(ctx);
    }

    fn handle(&mut self, msg: ClientMsg, ctx: &mut Context<Self>) {
        match msg {
            ClientMsg::Net(NetEvent::Data) => {
                if !self.conn.is_closed() {
                    self.conn.read(&mut self.partial);
                    self.take_lines(ctx);
                }
            }
            // The client is done sending: a partial line is dropped.
            ClientMsg::Net(NetEvent::ReadClosed) => self.conn.close(),
            ClientMsg::Net(NetEvent::Drained) => {}
            ClientMsg::Net(NetEvent::Closed(_)) => ctx.stop(),
            ClientMsg::Line(line) => {
                if self.conn.queued() + line.len() > self.max_queued {
                    // It does not read: it goes, rather than hold the room.
                    return self.kick("not reading");
                }
                // Refused only once closing: nothing to do then.
                let _ = self.conn.write(ctx, line.as_bytes());
            }
        }
    }
}

impl Client {
    /// Sends each complete line to the room; keeps the rest. A line over
    /// `--max-line`, or more lines at once than the room's mailbox holds,
    /// disconnects the client.
    fn take_lines(&mut self, ctx: &mut Context<Self>) {
        let mut start = 0;
        while let Some(end) = self.partial[start..].iter().position(|&b| b == b'\n') {
            if end > self.max_line {
                return self.kick("line too long");
            }
            let line = &self.partial[start..start + end];
            let line = String::from_utf8_lossy(line).trim_end_matches('\r').to_owned();
            start += end + 1;
            if line.is_empty() {
                continue;
            }
            let msg = match &self.name {
                None => {
                    self.name = Some(line.clone());
                    RoomMsg::Join(self.id, line, ctx.myself())
                }
                Some(_) => RoomMsg::Say(self.id, line),
            };
            // The room is one actor for everyone: a line waits for room in
            // its mailbox rather than being dropped (`Context::send`); only
            // a flood of more than a mailbox's worth in one read is refused.
            if ctx.send(&self.room, msg).is_err() {
                return self.kick("flooding");
            }
        }
        self.partial.drain(..start);
        if self.partial.len() > self.max_line {
            self.kick("line too long");
        }
    }

    /// Disconnects the client at once, dropping what it sent.
    fn kick(&mut self, why: &str) {
        println!("kicked {}: {why}", self.name.as_deref().unwrap_or("?"));
        self.partial.clear();
        self.conn.abort();
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let rt = Runtime::builder().shards(args.shards).build()?;
    rt.block_on(move |sys| async move {
        let room = sys.spawn_with(Placement::Shard(0), Room::default).expect("the room");
        // The hold on a writer is a safety net here: a client is
        // disconnected before its queue reaches it.
        let mut options = NetOptions::new()
            .max_output(2 * args.max_queued)
            .write_timeout(Duration::from_secs(args.write_secs));
        if args.idle_secs > 0 {
            options = options.idle_timeout(Duration::from_secs(args.idle_secs));
        }
        if args.send_buffer > 0 {
            options = options.send_buffer(args.send_buffer);
        }
        let next_id = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
        let (max_line, max_queued) = (args.max_line, args.max_queued);
        let listening = net::serve_with(&sys, addr, options, ClientMsg::Net, move |conn| Client {
            id: next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            conn,
            room,
            name: None,
            partial: Vec::new(),
            max_line,
            max_queued,
        })
        .expect("listen");
        // Tests and scripts wait for this line.
        println!("chat room listening on {}", listening.local_addr());
        // Serves until the process is killed.
        std::future::pending::<()>().await;
    })?;
    Ok(())
}
