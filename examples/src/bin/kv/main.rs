//! 10. A sharded key-value server speaking the Redis protocol (RESP2).
//!
//! ```text
//! cargo run --release -p whirl-examples --bin kv -- --port 6380 --shards 2
//! redis-cli -p 6380 set greeting hello
//! redis-benchmark -p 6380 -t set,get -P 16 -c 50
//! ```
//!
//! How it is built (one file per part):
//! 1. `resp.rs`: the protocol, commands in and replies out.
//! 2. `command.rs`: what a command needs, and Redis's errors.
//! 3. `store.rs`: the keys of one shard, kept by one actor there.
//! 4. `connection.rs`: a client connection, pipelining, reply order.
//! 5. `server.rs`: a store per shard, and the keeper the program waits on;
//!    connections are `whirl::net` actors spread over the shards.
//!
//! Each key is owned by one shard (a hash of the key). A connection sends
//! the commands of one read for each shard to that shard's store as one
//! message and writes the replies in request order with one write. `MSET`
//! and `DEL` over keys of several shards are not atomic across shards (each
//! shard's part is). `SHUTDOWN` stops the server; so does Ctrl-C.

mod command;
mod connection;
mod resp;
mod server;
mod store;

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use whirl::net::{self, NetOptions};
use whirl::{Placement, Runtime};

use crate::connection::{Client, ConnMsg};
use crate::resp::Limits;
use crate::server::{Keeper, KeeperMsg, Server};
use crate::store::Store;

/// A sharded key-value server speaking the Redis protocol, on whirl.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Port to listen on (every shard accepts on it).
    #[arg(long, default_value_t = 6380)]
    port: u16,
    /// Shards, one per core (default: the cores this process may use).
    #[arg(long)]
    shards: Option<usize>,
    /// The most clients connected at once; more are refused with an error.
    #[arg(long, default_value_t = 10_000)]
    max_clients: usize,
    /// Close a connection idle for this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    timeout: u64,
    /// The longest bulk string a client may send, in bytes.
    #[arg(long, default_value_t = 512 * 1024 * 1024)]
    max_bulk_len: usize,
    /// The most arguments in one command.
    #[arg(long, default_value_t = 1024 * 1024)]
    max_args: usize,
    /// The most bytes a connection may have sent and not yet had parsed.
    #[arg(long, default_value_t = 1024 * 1024 * 1024)]
    max_query_buffer: usize,
    /// How long an idle shard polls before it sleeps, in microseconds: lower
    /// latency for a busy server, CPU burnt when idle (0 on a machine whose
    /// cores the clients share).
    #[arg(long, default_value_t = 0)]
    spin_us: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Warnings and errors on stderr: a failed accept, and whirl's own (a
    // store that panicked and was restarted, dead letters).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .init();
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("whirl-kv: {error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: Args) -> Result<(), String> {
    let addr: SocketAddr = (args.bind.as_str(), args.port)
        .to_socket_addrs()
        .map_err(|e| format!("bad --bind {}: {e}", args.bind))?
        .next()
        .ok_or_else(|| format!("--bind {} names no address", args.bind))?;
    let shards =
        args.shards.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let rt = Runtime::builder()
        .shards(shards)
        .spin_before_park(Duration::from_micros(args.spin_us))
        .build()
        .map_err(|e| e.to_string())?;
    let end = rt
        .block_on(move |sys| async move {
            let keeper = Keeper { waiting: None, end: None };
            let keeper = sys.spawn_once(Placement::Shard(0), move || keeper).expect("shard 0");
            let stores = (0..shards)
                .map(|shard| sys.spawn_on(shard, Store::default).expect("the shard exists"))
                .collect();
            let server = Arc::new(Server {
                addr,
                stores,
                keeper,
                limits: Limits { max_bulk: args.max_bulk_len, max_args: args.max_args },
                max_query_buffer: args.max_query_buffer,
                max_clients: args.max_clients,
                clients: AtomicUsize::new(0),
            });
            // A client idle that long is closed, and so is one that stops
            // reading its replies.
            let mut options = NetOptions::new();
            if args.timeout > 0 {
                let timeout = Duration::from_secs(args.timeout);
                options = options.idle_timeout(timeout).write_timeout(timeout);
            }
            let listening = match net::serve_with(&sys, addr, options, ConnMsg::Net, {
                let server = server.clone();
                move |conn| Client::new(conn, server.clone())
            }) {
                Ok(listening) => listening,
                Err(e) => {
                    sys.shutdown().await;
                    return Err(format!("cannot listen on {addr}: {e}"));
                }
            };
            // Tests and scripts wait for this line.
            println!("whirl-kv listening on {} with {} shards", listening.local_addr(), shards);
            let end = keeper.ask(KeeperMsg::WaitForEnd).await;
            sys.shutdown().await;
            end.map_err(|_| "the keeper stopped".to_string())?
        })
        .map_err(|e| e.to_string())?;
    end
}
