//! The server's actors: a store and a listener on every shard, and a keeper
//! on shard 0 that the program waits on.
//!
//! Every shard binds the same port with `SO_REUSEPORT`, so the kernel
//! spreads connections over the shards, and each connection is a task on
//! the shard that accepted it.

use std::net::SocketAddr;
use std::os::unix::io::{FromRawFd, IntoRawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use whirl::glommio::net::TcpListener;
use whirl::{Actor, ActorRef, Context, Reply};

use crate::connection;
use crate::resp::Limits;
use crate::store::{Bytes, StoreMsg};

/// What every connection of every shard shares.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    /// The store of shard `i`.
    pub(crate) stores: Vec<ActorRef<StoreMsg>>,
    pub(crate) keeper: ActorRef<KeeperMsg>,
    pub(crate) limits: Limits,
    /// The most bytes a connection may have read and not yet parsed.
    pub(crate) max_query_buffer: usize,
    pub(crate) max_clients: usize,
    /// Connections open now, over all shards.
    pub(crate) clients: AtomicUsize,
    /// A connection idle this long is closed (`None`: never).
    pub(crate) idle_timeout: Option<Duration>,
}

impl Server {
    /// The shard that owns `key`: FNV-1a, so every connection on every shard
    /// agrees without sharing anything.
    pub(crate) fn shard_of(&self, key: &Bytes) -> usize {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &byte in key {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        (hash % self.stores.len() as u64) as usize
    }
}

/// What the keeper is told.
#[derive(Debug)]
pub(crate) enum KeeperMsg {
    /// A shard listens.
    Listening,
    /// A shard cannot serve: the server stops with this error.
    Failed(String),
    /// `SHUTDOWN` from a client.
    Shutdown,
    /// The program waits for the end: `Ok` on `SHUTDOWN`, the error if a
    /// shard failed.
    WaitForEnd(Reply<Result<(), String>>),
}

/// Prints when every shard listens; ends the program's wait.
#[derive(Debug)]
pub(crate) struct Keeper {
    pub(crate) shards: usize,
    pub(crate) addr: SocketAddr,
    pub(crate) listening: usize,
    pub(crate) waiting: Option<Reply<Result<(), String>>>,
    pub(crate) end: Option<Result<(), String>>,
}

impl Actor for Keeper {
    type Msg = KeeperMsg;

    fn handle(&mut self, msg: KeeperMsg, _ctx: &mut Context<Self>) {
        match msg {
            KeeperMsg::Listening => {
                self.listening += 1;
                if self.listening == self.shards {
                    // Tests and scripts wait for this line.
                    println!("whirl-kv listening on {} with {} shards", self.addr, self.shards);
                }
            }
            KeeperMsg::Failed(error) => self.end_with(Err(error)),
            KeeperMsg::Shutdown => self.end_with(Ok(())),
            KeeperMsg::WaitForEnd(reply) => match self.end.take() {
                Some(end) => reply.send(end),
                None => self.waiting = Some(reply),
            },
        }
    }
}

impl Keeper {
    fn end_with(&mut self, end: Result<(), String>) {
        match self.waiting.take() {
            Some(reply) => reply.send(end),
            None => self.end = self.end.take().or(Some(end)),
        }
    }
}

/// Accepts the connections of one shard.
#[derive(Debug)]
pub(crate) struct Listener {
    pub(crate) server: Arc<Server>,
}

/// The accept loop ended (only on an error).
#[derive(Debug)]
pub(crate) struct Ended(String);

impl Actor for Listener {
    type Msg = Ended;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let _ = ctx.pipe(accept(self.server.clone()), Ended);
    }

    fn handle(&mut self, Ended(error): Ended, _ctx: &mut Context<Self>) {
        let _ = self.server.keeper.send(KeeperMsg::Failed(error));
    }
}

/// A listener on `addr` for this shard: `SO_REUSEPORT` so every shard binds
/// the port, and `SO_REUSEADDR` so a restarted server binds it while the
/// connections the last one closed are in TIME_WAIT (glommio's own `bind`
/// sets only the first).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    // SAFETY: a listening TCP socket this function owns, handed over whole
    // (`into_raw_fd` gives up ownership), as glommio's `bind` makes one.
    Ok(unsafe { TcpListener::from_raw_fd(socket.into_raw_fd()) })
}

/// Binds the port on this shard and hands each connection to a task of its
/// own; returns only if it cannot listen.
async fn accept(server: Arc<Server>) -> String {
    let listener = match listen(server.addr) {
        Ok(listener) => listener,
        Err(e) => return format!("cannot listen on {}: {e}", server.addr),
    };
    let _ = server.keeper.send_async(KeeperMsg::Listening).await;
    loop {
        let stream = match listener.accept().await {
            Ok(stream) => stream,
            Err(e) => {
                // Out of file descriptors, say: wait a little, go on.
                tracing::warn!("accept failed: {e}");
                whirl::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let open = server.clients.fetch_add(1, Ordering::Relaxed);
        let server = server.clone();
        whirl::glommio::spawn_local(async move {
            if open >= server.max_clients {
                connection::refuse(stream, "ERR max number of clients reached").await;
            } else {
                connection::serve(stream, &server).await;
            }
            server.clients.fetch_sub(1, Ordering::Relaxed);
        })
        .detach();
    }
}
