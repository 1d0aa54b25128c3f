//! One TCP connection owned by an actor: a reading task fills its input
//! buffer and tells the actor (`NetEvent::Data`), a writing task empties
//! its output queue, and the actor reads and writes synchronously in its
//! handler.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Instant;

use futures_lite::{AsyncRead, AsyncWrite};
use glommio::net::TcpStream;
use whirl_executor::{Actor, ActorRef, Context};

use crate::net::sweep;
use crate::net::NetOptions;

/// What a connection tells the actor that owns it, as a message (the
/// actor's message type has a variant for it: see [`Connection::start`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// Bytes came: take them with [`Connection::read`]. One `Data` waits in
    /// the mailbox at a time: it stands for everything that came until the
    /// next `read`.
    Data,
    /// The peer closed its side (end of input); writing may go on. Input
    /// that came before it is there to read.
    ReadClosed,
    /// A write past [`NetOptions::max_output`] held the actor; the queue has
    /// drained to half of it, and the actor is handed messages again.
    Drained,
    /// The connection is closed, for this reason; nothing more comes. Sent
    /// once.
    Closed(CloseReason),
}

/// Why a connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// [`Connection::close`]: everything queued was written.
    Local,
    /// [`Connection::abort`]: closed at once, what was queued dropped.
    Aborted,
    /// Nothing came for [`NetOptions::idle_timeout`].
    Idle,
    /// A write made no progress for [`NetOptions::write_timeout`] (a peer
    /// that does not read).
    WriteTimeout,
    /// A socket error (a reset, a broken pipe), by kind.
    Error(io::ErrorKind),
}

/// A refused write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// The connection is closed or closing: nothing was queued.
    Closed,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the connection is closed")
    }
}

impl std::error::Error for WriteError {}

/// What the actor, the reading and writing tasks and the shard's timeout
/// sweep share. Single-threaded: borrows last one call, never an await.
pub(crate) struct Shared {
    stream: RefCell<TcpStream>,
    /// Bytes read and not yet taken by the actor.
    input: RefCell<Vec<u8>>,
    /// Bytes the actor queued, not yet handed to the writing task.
    output: RefCell<Vec<u8>>,
    /// Bytes being written now (swapped with `output`).
    writing: RefCell<Vec<u8>>,
    /// `start` ran.
    started: Cell<bool>,
    /// A `Data` is in the actor's mailbox and no `read` has come since.
    data_sent: Cell<bool>,
    /// The actor is held until the queue drains (`NetEvent::Drained`).
    holding: Cell<bool>,
    /// `close` was called: the writer shuts down once the queue is out.
    closing: Cell<bool>,
    /// Why it closed, once it did (the first reason wins).
    closed: Cell<Option<CloseReason>>,
    /// `Closed` was sent to the actor.
    reported: Cell<bool>,
    /// When the last bytes came (for the idle timeout).
    pub(crate) last_read: Cell<Instant>,
    /// When the write in progress started, while one is (for the write
    /// timeout).
    pub(crate) write_started: Cell<Option<Instant>>,
    reader: RefCell<Option<Waker>>,
    writer: RefCell<Option<Waker>>,
    drained: RefCell<Option<Waker>>,
    pub(crate) options: NetOptions,
}

impl Shared {
    /// Closes the connection now for `reason` (a timeout): both directions
    /// are shut down, so the tasks' pending reads and writes end.
    pub(crate) fn abort(&self, reason: CloseReason) {
        if self.closed.get().is_none() {
            self.closed.set(Some(reason));
        }
        // SAFETY: a plain syscall on the socket's fd, which `stream` keeps
        // open; its result is ignored (an already closed peer).
        unsafe { libc::shutdown(self.stream.borrow().as_raw_fd(), libc::SHUT_RDWR) };
        self.wake_all();
    }

    fn queued(&self) -> usize {
        self.output.borrow().len() + self.writing.borrow().len()
    }

    /// The `Closed` event, the first time a task ends for `reason` (the
    /// reason recorded first wins). Wakes every task and wait of the
    /// connection, so none waits for what will not come (the other task,
    /// a wait for the queue to drain that holds the actor).
    fn closed_event(&self, reason: CloseReason) -> Option<NetEvent> {
        if self.closed.get().is_none() {
            self.closed.set(Some(reason));
        }
        self.wake_all();
        if self.reported.replace(true) {
            return None;
        }
        self.closed.get().map(NetEvent::Closed)
    }

    fn wake_all(&self) {
        for waker in [&self.reader, &self.writer, &self.drained] {
            let waker = waker.borrow_mut().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// A TCP connection owned by an actor whose messages are `M`. Made by
/// [`serve`](crate::net::serve) (or [`Connection::new`] for a stream of
/// one's own); [`start`](Self::start) it in the actor's `started`.
///
/// Reading: the connection reads while fewer than
/// [`NetOptions::max_input`] bytes wait for the actor, and tells it with
/// [`NetEvent::Data`]; the actor takes them with [`read`](Self::read).
/// Writing: [`write`](Self::write) queues bytes, which a task writes in
/// order, many writes at a time; a write that takes the queue past
/// [`NetOptions::max_output`] holds the actor (its mailbox fills, its
/// senders slow down) until the queue is back to half of it.
pub struct Connection<M> {
    shared: Rc<Shared>,
    event: fn(NetEvent) -> M,
    peer: Option<SocketAddr>,
}

impl<M: Send + 'static> Connection<M> {
    /// Wraps `stream`; `event` makes the actor's message from a
    /// [`NetEvent`] (an enum variant's constructor).
    pub fn new(stream: TcpStream, options: NetOptions, event: fn(NetEvent) -> M) -> Self {
        let _ = stream.set_nodelay(options.nodelay);
        if let Some(bytes) = options.send_buffer {
            let bytes = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
            // SAFETY: `setsockopt` on the stream's open descriptor with a
            // pointer to a live `c_int` and its size; a failure is ignored
            // (the kernel's own size stays).
            unsafe {
                libc::setsockopt(
                    stream.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_SNDBUF,
                    (&bytes as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
        }
        let peer = stream.peer_addr().ok();
        let shared = Rc::new(Shared {
            stream: RefCell::new(stream),
            input: RefCell::new(Vec::new()),
            output: RefCell::new(Vec::new()),
            writing: RefCell::new(Vec::new()),
            started: Cell::new(false),
            data_sent: Cell::new(false),
            holding: Cell::new(false),
            closing: Cell::new(false),
            closed: Cell::new(None),
            reported: Cell::new(false),
            last_read: Cell::new(Instant::now()),
            write_started: Cell::new(None),
            reader: RefCell::new(None),
            writer: RefCell::new(None),
            drained: RefCell::new(None),
            options,
        });
        Self { shared, event, peer }
    }

    /// The peer's address, if the socket knew it.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// Starts reading and writing, as tasks of the actor (cancelled when it
    /// stops): call it in `started`. The connection's timeouts join the
    /// shard's sweep.
    pub fn start<A: Actor<Msg = M>>(&self, ctx: &mut Context<A>) {
        if self.shared.started.replace(true) {
            // Once: two writing tasks would interleave the queue.
            return;
        }
        let me = ctx.myself();
        ctx.run_task(read_loop(self.shared.clone(), me, self.event));
        ctx.run_task(write_loop(self.shared.clone(), me, self.event));
        sweep::watch(&self.shared);
    }

    /// Moves every byte read so far to the end of `into` (without a copy
    /// when `into` is empty: the buffers are swapped, so both are reused)
    /// and returns how many. Reading resumes if it had stopped at
    /// [`NetOptions::max_input`].
    pub fn read(&mut self, into: &mut Vec<u8>) -> usize {
        let shared = &self.shared;
        shared.data_sent.set(false);
        // Reading may have paused for the actor: its idle time starts now.
        shared.last_read.set(Instant::now());
        let mut input = shared.input.borrow_mut();
        let moved = input.len();
        if into.is_empty() {
            std::mem::swap(into, &mut *input);
        } else {
            into.extend_from_slice(&input);
            input.clear();
        }
        drop(input);
        if let Some(waker) = shared.reader.borrow_mut().take() {
            waker.wake();
        }
        moved
    }

    /// Queues `bytes` to be written, after what is queued already. If the
    /// queue is now past [`NetOptions::max_output`], the actor is held (see
    /// [`Context::wait`]) until it drains to half, and then gets
    /// [`NetEvent::Drained`].
    ///
    /// # Errors
    ///
    /// [`WriteError::Closed`] once the connection is closed or
    /// [`close`](Self::close) was called; nothing is queued.
    pub fn write<A: Actor<Msg = M>>(
        &mut self,
        ctx: &mut Context<A>,
        bytes: &[u8],
    ) -> Result<(), WriteError> {
        let shared = &self.shared;
        if shared.closed.get().is_some() || shared.closing.get() {
            return Err(WriteError::Closed);
        }
        shared.output.borrow_mut().extend_from_slice(bytes);
        if let Some(waker) = shared.writer.borrow_mut().take() {
            waker.wake();
        }
        if !shared.holding.get() && shared.queued() > shared.options.max_output {
            shared.holding.set(true);
            let event = self.event;
            if !ctx.wait(drained(shared.clone()), move |()| event(NetEvent::Drained)) {
                // Shutting down: nothing to hold.
                shared.holding.set(false);
            }
        }
        Ok(())
    }

    /// Bytes queued and not yet written.
    pub fn queued(&self) -> usize {
        self.shared.queued()
    }

    /// Closes the connection once everything queued is written; then the
    /// actor gets [`NetEvent::Closed`] with [`CloseReason::Local`]. Later
    /// writes are refused.
    pub fn close(&mut self) {
        self.shared.closing.set(true);
        if let Some(waker) = self.shared.writer.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Closes the connection now, dropping what is queued (a peer that
    /// does not keep up, say); the actor gets [`NetEvent::Closed`] with
    /// [`CloseReason::Aborted`].
    pub fn abort(&mut self) {
        self.shared.abort(CloseReason::Aborted);
    }

    /// Whether the connection is closed (or closing).
    pub fn is_closed(&self) -> bool {
        self.shared.closed.get().is_some() || self.shared.closing.get()
    }
}

impl<M> std::fmt::Debug for Connection<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .field("queued", &self.shared.queued())
            .field("closed", &self.shared.closed.get())
            .finish_non_exhaustive()
    }
}

/// Waits until the queue is back to half of `max_output` (or the
/// connection closed), then lets the actor go.
async fn drained(shared: Rc<Shared>) {
    until(&shared.drained, || {
        shared.closed.get().is_some() || shared.queued() <= shared.options.max_output / 2
    })
    .await;
    shared.holding.set(false);
}

/// Waits until `ready()`, keeping the task's waker in `waker` meanwhile
/// (whoever makes it ready wakes it).
async fn until(waker: &RefCell<Option<Waker>>, ready: impl Fn() -> bool) {
    std::future::poll_fn(|cx| {
        if ready() {
            return Poll::Ready(());
        }
        *waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    })
    .await;
}

/// Tells the actor the connection closed for `reason`, unless it was told.
async fn report_closed<M: Send + 'static>(
    shared: &Shared,
    me: &ActorRef<M>,
    event: fn(NetEvent) -> M,
    reason: CloseReason,
) {
    if let Some(e) = shared.closed_event(reason) {
        tell(me, event, e).await;
    }
}

/// Sends `event` to the actor; false if it is gone.
async fn tell<M: Send + 'static>(me: &ActorRef<M>, event: fn(NetEvent) -> M, e: NetEvent) -> bool {
    me.send_async(event(e)).await.is_ok()
}

/// Reads while the actor has room for more input; ends at the end of
/// input, an error, or a close.
async fn read_loop<M: Send + 'static>(
    shared: Rc<Shared>,
    me: ActorRef<M>,
    event: fn(NetEvent) -> M,
) {
    let mut chunk = vec![0u8; shared.options.read_chunk];
    loop {
        // Room for more input, or closed.
        until(&shared.reader, || {
            shared.closed.get().is_some() || shared.input.borrow().len() < shared.options.max_input
        })
        .await;
        if let Some(reason) = shared.closed.get() {
            return report_closed(&shared, &me, event, reason).await;
        }
        let read = std::future::poll_fn(|cx| {
            let mut stream = shared.stream.borrow_mut();
            Pin::new(&mut *stream).poll_read(cx, &mut chunk)
        })
        .await;
        match read {
            Ok(0) => {
                match shared.closed.get() {
                    // Shut down by a timeout or a close: that is why.
                    Some(reason) => report_closed(&shared, &me, event, reason).await,
                    None => {
                        tell(&me, event, NetEvent::ReadClosed).await;
                    }
                }
                return;
            }
            Ok(n) => {
                shared.input.borrow_mut().extend_from_slice(&chunk[..n]);
                shared.last_read.set(Instant::now());
                if !shared.data_sent.replace(true) && !tell(&me, event, NetEvent::Data).await {
                    return;
                }
            }
            Err(error) => {
                return report_closed(&shared, &me, event, CloseReason::Error(error.kind())).await;
            }
        }
    }
}

/// Writes what the actor queues, in order, many writes at a time; on
/// `close`, shuts the socket down once the queue is out.
async fn write_loop<M: Send + 'static>(
    shared: Rc<Shared>,
    me: ActorRef<M>,
    event: fn(NetEvent) -> M,
) {
    loop {
        until(&shared.writer, || {
            !shared.output.borrow().is_empty()
                || shared.closing.get()
                || shared.closed.get().is_some()
        })
        .await;
        if let Some(reason) = shared.closed.get() {
            return report_closed(&shared, &me, event, reason).await;
        }
        if shared.output.borrow().is_empty() {
            // Closing, and everything is out: the reading task's pending
            // read ends too.
            shared.abort(CloseReason::Local);
            return report_closed(&shared, &me, event, CloseReason::Local).await;
        }
        std::mem::swap(&mut *shared.output.borrow_mut(), &mut *shared.writing.borrow_mut());
        shared.write_started.set(Some(Instant::now()));
        let mut at = 0;
        let written = loop {
            let len = shared.writing.borrow().len();
            if at == len {
                break Ok(());
            }
            let wrote = std::future::poll_fn(|cx| {
                let writing = shared.writing.borrow();
                let mut stream = shared.stream.borrow_mut();
                Pin::new(&mut *stream).poll_write(cx, &writing[at..])
            })
            .await;
            match wrote {
                Ok(0) => break Err(io::ErrorKind::WriteZero),
                Ok(n) => {
                    at += n;
                    // Progress: the write timeout counts from here.
                    shared.write_started.set(Some(Instant::now()));
                }
                Err(e) => break Err(e.kind()),
            }
        };
        shared.writing.borrow_mut().clear();
        shared.write_started.set(None);
        if let Err(kind) = written {
            let reason = shared.closed.get().unwrap_or(CloseReason::Error(kind));
            return report_closed(&shared, &me, event, reason).await;
        }
        if shared.holding.get() && shared.queued() <= shared.options.max_output / 2 {
            if let Some(waker) = shared.drained.borrow_mut().take() {
                waker.wake();
            }
        }
    }
}
