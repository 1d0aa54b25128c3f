//! Connections as actors: [`serve`] accepts TCP connections and hands each
//! to an actor of its own, placed on a shard by a [`Placement`]; the
//! actor owns a [`Connection`].
//!
//! * **Reads** arrive as [`NetEvent::Data`] messages, one at a time for
//!   everything that came since the last: the actor takes the bytes with
//!   [`Connection::read`], which swaps buffers, so both are reused. While
//!   [`NetOptions::max_input`] bytes wait for it, the connection stops
//!   reading, and TCP slows the peer down.
//! * **Writes** are queued with [`Connection::write`] and written in order
//!   by a task of the actor, everything queued at once. A write that takes
//!   the queue past [`NetOptions::max_output`] holds the actor until the
//!   queue is back to half ([`Context::wait`]): its mailbox fills, and its
//!   senders slow down in turn. No `Wrote` message to handle, no queue of
//!   one's own.
//! * **The end of input** (the peer's half-close) is [`NetEvent::ReadClosed`];
//!   the actor may still write, then [`Connection::close`]. A socket error,
//!   a timeout or a finished close is [`NetEvent::Closed`], once.
//! * **Timeouts** ([`NetOptions::idle_timeout`],
//!   [`NetOptions::write_timeout`]) come from one sweep per shard every
//!   [`NetOptions::sweep_every`], not a timer per read or write.
//! * When the actor stops, its reading and writing tasks are cancelled and
//!   the socket is closed.
//!
//! ```
//! use whirl::net::{self, Connection, NetEvent, NetOptions};
//! use whirl::{Actor, Context, Runtime};
//!
//! /// Echoes what it reads, then closes when the peer does.
//! struct Echo { conn: Connection<NetEvent>, buf: Vec<u8> }
//!
//! impl Actor for Echo {
//!     type Msg = NetEvent;
//!     fn started(&mut self, ctx: &mut Context<Self>) {
//!         self.conn.start(ctx);
//!     }
//!     fn handle(&mut self, event: NetEvent, ctx: &mut Context<Self>) {
//!         match event {
//!             NetEvent::Data => {
//!                 self.conn.read(&mut self.buf);
//!                 let _ = self.conn.write(ctx, &self.buf);
//!                 self.buf.clear();
//!             }
//!             NetEvent::ReadClosed => self.conn.close(),
//!             NetEvent::Drained => {}
//!             NetEvent::Closed(_) => ctx.stop(),
//!         }
//!     }
//! }
//!
//! let rt = Runtime::builder().shards(1).build()?;
//! let echoed = rt.block_on(|sys| async move {
//!     let addr = "127.0.0.1:0".parse().unwrap();
//!     let listening = net::serve(&sys, addr, NetOptions::new(), |conn| Echo {
//!         conn,
//!         buf: Vec::new(),
//!     })
//!     .unwrap();
//!     let addr = listening.local_addr();
//!     // A client on a plain thread.
//!     let client = std::thread::spawn(move || {
//!         use std::io::{Read, Write};
//!         let mut s = std::net::TcpStream::connect(addr).unwrap();
//!         s.write_all(b"hello").unwrap();
//!         s.shutdown(std::net::Shutdown::Write).unwrap();
//!         let mut back = String::new();
//!         s.read_to_string(&mut back).unwrap();
//!         back
//!     });
//!     while !client.is_finished() {
//!         whirl::time::sleep(std::time::Duration::from_millis(1)).await;
//!     }
//!     listening.stop();
//!     sys.shutdown().await;
//!     client.join().unwrap()
//! })?;
//! assert_eq!(echoed, "hello");
//! # Ok::<(), whirl::Error>(())
//! ```

mod connection;
mod sweep;

use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use glommio::net::{TcpListener, TcpStream};
use whirl_executor::{Actor, ActorRef, Context, Placement, System};

pub use connection::{CloseReason, Connection, NetEvent, WriteError};

/// Limits and timeouts of the connections [`serve`] makes (also for
/// [`Connection::new`]).
#[derive(Clone)]
pub struct NetOptions {
    pub(crate) max_input: usize,
    pub(crate) max_output: usize,
    pub(crate) read_chunk: usize,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) sweep_every: Duration,
    pub(crate) nodelay: bool,
    pub(crate) send_buffer: Option<usize>,
    place: Arc<dyn Fn(SocketAddr) -> Placement + Send + Sync>,
}

impl NetOptions {
    /// 64 KiB of input, 256 KiB of output, 16 KiB reads, no idle timeout,
    /// a 30 s write timeout (a peer that never reads is not kept
    /// forever), sweeps every 100 ms, `TCP_NODELAY`, connections round
    /// robin.
    pub fn new() -> Self {
        Self {
            max_input: 64 * 1024,
            max_output: 256 * 1024,
            read_chunk: 16 * 1024,
            idle_timeout: None,
            write_timeout: Some(Duration::from_secs(30)),
            sweep_every: Duration::from_millis(100),
            nodelay: true,
            send_buffer: None,
            place: Arc::new(|_| Placement::RoundRobin),
        }
    }

    /// Reading stops while this many bytes wait for the actor.
    pub fn max_input(mut self, bytes: usize) -> Self {
        self.max_input = bytes;
        self
    }

    /// A write that queues more than this holds the actor until half of it
    /// is left.
    pub fn max_output(mut self, bytes: usize) -> Self {
        self.max_output = bytes;
        self
    }

    /// Bytes asked of the socket per read.
    pub fn read_chunk(mut self, bytes: usize) -> Self {
        self.read_chunk = bytes;
        self
    }

    /// Closes a connection nothing came from for this long
    /// ([`CloseReason::Idle`]).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Closes a connection whose write made no progress for this long (a
    /// peer that does not read: [`CloseReason::WriteTimeout`]); `None`:
    /// never (default 30 s).
    pub fn write_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.write_timeout = timeout.into();
        self
    }

    /// How often the shard looks for timeouts: a timeout fires up to this
    /// late. A shard's sweep runs at the period of the first connection
    /// that needed one.
    pub fn sweep_every(mut self, period: Duration) -> Self {
        self.sweep_every = period;
        self
    }

    /// Whether to set `TCP_NODELAY` (default: yes).
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }

    /// The kernel's send buffer of each connection (`SO_SNDBUF`; default:
    /// the kernel's own, which grows to megabytes). A smaller one makes a
    /// peer that does not read hold its actor back sooner.
    pub fn send_buffer(mut self, bytes: usize) -> Self {
        self.send_buffer = Some(bytes);
        self
    }

    /// Where each connection's actor goes, from the peer's address
    /// (default: round robin). `Placement::LeastLoaded` balances by load;
    /// a hash of the address keeps a client on one shard.
    pub fn place(
        mut self,
        place: impl Fn(SocketAddr) -> Placement + Send + Sync + 'static,
    ) -> Self {
        self.place = Arc::new(place);
        self
    }

    fn check(&self) -> std::io::Result<()> {
        let bad = |what: &str| {
            Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_owned()))
        };
        if self.max_input == 0 {
            return bad("NetOptions::max_input must be at least 1 byte");
        }
        if self.max_output == 0 {
            return bad("NetOptions::max_output must be at least 1 byte");
        }
        if self.read_chunk == 0 {
            return bad("NetOptions::read_chunk must be at least 1 byte");
        }
        if self.sweep_every.is_zero() {
            return bad("NetOptions::sweep_every must be longer than zero");
        }
        Ok(())
    }
}

impl Default for NetOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for NetOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetOptions")
            .field("max_input", &self.max_input)
            .field("max_output", &self.max_output)
            .field("read_chunk", &self.read_chunk)
            .field("idle_timeout", &self.idle_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("sweep_every", &self.sweep_every)
            .field("nodelay", &self.nodelay)
            .field("send_buffer", &self.send_buffer)
            .finish_non_exhaustive()
    }
}

/// A listening socket served by [`serve`].
#[derive(Debug)]
pub struct Listening {
    addr: SocketAddr,
    acceptor: ActorRef<Accepted>,
}

impl Listening {
    /// The address it listens on (the port the kernel chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and closes the listening socket; connections
    /// already handed to actors go on.
    pub fn stop(&self) {
        self.acceptor.stop();
    }
}

/// Listens on `addr` and hands every accepted connection to a new actor
/// that `factory` builds from it, on the shard `options` place it. The
/// accepting actor runs on the calling shard (shard 0 from outside the
/// runtime). A connection whose actor cannot be spawned (shutdown) is
/// closed.
///
/// `factory` runs on the connection's shard; the actor it returns need
/// not be `Send`. Its message type needs a variant for [`NetEvent`]: see
/// [`serve_with`].
///
/// # Errors
///
/// The socket's (the address in use, say), or `InvalidInput` for options
/// out of range.
pub fn serve<A: Actor<Msg = NetEvent>>(
    sys: &System,
    addr: SocketAddr,
    options: NetOptions,
    factory: impl Fn(Connection<NetEvent>) -> A + Send + Sync + 'static,
) -> std::io::Result<Listening> {
    serve_with(sys, addr, options, |e| e, factory)
}

/// As [`serve`], for an actor whose messages are more than connection
/// events: `event` makes its message from a [`NetEvent`] (an enum
/// variant's constructor, `Msg::Net`).
///
/// # Errors
///
/// As [`serve`].
pub fn serve_with<A: Actor>(
    sys: &System,
    addr: SocketAddr,
    options: NetOptions,
    event: fn(NetEvent) -> A::Msg,
    factory: impl Fn(Connection<A::Msg>) -> A + Send + Sync + 'static,
) -> std::io::Result<Listening> {
    options.check()?;
    let listener = std::net::TcpListener::bind(addr)?;
    let addr = listener.local_addr()?;
    let acceptor = Acceptor {
        listener: Some(listener),
        sys: sys.clone(),
        options,
        event,
        factory: Arc::new(factory),
    };
    let here = sys.current_shard().unwrap_or(0);
    let acceptor = sys
        .spawn_once(Placement::Shard(here), move || acceptor)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(Listening { addr, acceptor })
}

/// The accepting actor's only message: its accept loop ended.
#[derive(Debug)]
pub struct Accepted(String);

/// Accepts connections and spawns their actors.
struct Acceptor<A: Actor> {
    listener: Option<std::net::TcpListener>,
    sys: System,
    options: NetOptions,
    event: fn(NetEvent) -> A::Msg,
    factory: Arc<dyn Fn(Connection<A::Msg>) -> A + Send + Sync>,
}

impl<A: Actor> Actor for Acceptor<A> {
    type Msg = Accepted;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let Some(listener) = self.listener.take() else { return };
        // SAFETY: a listening TCP socket this actor owns, handed over
        // whole (`into_raw_fd` gives up ownership).
        let listener = unsafe { TcpListener::from_raw_fd(listener.into_raw_fd()) };
        let (sys, options, event, factory) =
            (self.sys.clone(), self.options.clone(), self.event, self.factory.clone());
        ctx.pipe(accept_loop(listener, sys, options, event, factory), Accepted);
    }

    fn handle(&mut self, Accepted(error): Accepted, ctx: &mut Context<Self>) {
        tracing::error!(%error, "whirl::net stopped accepting");
        ctx.stop();
    }
}

/// Accepts until the listener fails; each connection's actor is spawned
/// where `options` place it.
async fn accept_loop<A: Actor>(
    listener: TcpListener,
    sys: System,
    options: NetOptions,
    event: fn(NetEvent) -> A::Msg,
    factory: Arc<dyn Fn(Connection<A::Msg>) -> A + Send + Sync>,
) -> String {
    let mut failures = 0u32;
    loop {
        let stream = match listener.accept().await {
            Ok(stream) => {
                failures = 0;
                stream
            }
            Err(e) => {
                let e = std::io::Error::from(e);
                let transient = matches!(
                    e.raw_os_error(),
                    Some(
                        libc::EMFILE
                            | libc::ENFILE
                            | libc::ENOBUFS
                            | libc::ENOMEM
                            | libc::ECONNABORTED
                    )
                );
                if !transient {
                    return format!("accept failed: {e}");
                }
                // Out of file descriptors, say: wait, longer each time (up
                // to a second), and go on.
                failures = (failures + 1).min(7);
                tracing::warn!("whirl::net accept failed: {e}");
                glommio::timer::sleep(Duration::from_millis(10 << failures)).await;
                continue;
            }
        };
        let peer = match stream.peer_addr() {
            Ok(peer) => peer,
            // Gone already.
            Err(_) => continue,
        };
        // A descriptor of its own, which any shard can adopt (the one
        // glommio accepted with is closed with `stream`).
        // SAFETY: a duplicate (close-on-exec) of an open descriptor; the
        // result, if valid, is a new descriptor owned by nobody else.
        let fd = unsafe {
            libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&stream), libc::F_DUPFD_CLOEXEC, 0)
        };
        drop(stream);
        if fd < 0 {
            tracing::warn!(
                "whirl::net could not keep a connection: {}",
                std::io::Error::last_os_error()
            );
            continue;
        }
        // SAFETY: just made by `fcntl`, owned here alone.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let (options_here, factory) = (options.clone(), factory.clone());
        let placement = (options.place)(peer);
        let spawned = sys.spawn_once(placement, move || {
            // SAFETY: a connected TCP socket owned by `fd`, handed over
            // whole.
            let stream = unsafe { TcpStream::from_raw_fd(fd.into_raw_fd()) };
            factory(Connection::new(stream, options_here, event))
        });
        match spawned {
            Ok(_) => {}
            // The descriptor was closed with the refused closure.
            Err(whirl_executor::SpawnError::ShuttingDown) => return "shutting down".to_owned(),
            Err(e) => tracing::warn!("whirl::net could not spawn a connection's actor: {e}"),
        }
    }
}
