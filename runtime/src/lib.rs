//! whirl: a shard-per-core actor runtime for Linux on io_uring (glommio).
//!
//! Each core runs one pinned glommio executor that owns a shard of actors.
//! Actors on a shard talk without atomics; actors on different shards talk
//! through lock-free SPSC rings polled in user space, one per ordered pair of
//! shards, published once per dispatch pass. A shard with nothing to do
//! parks in io_uring and is woken by the first sender that finds it parked.
//!
//! # Guarantees
//!
//! * Messages from one sender to one actor arrive in send order, same shard
//!   or not.
//! * A message is handled, refused with the message handed back
//!   ([`SendError`]), or counted as a dead letter ([`System::dead_letters`]).
//! * Mailboxes are bounded ([`DEFAULT_MAILBOX_CAPACITY`] by default):
//!   [`ActorRef::send`] returns `Full(msg)` and [`ActorRef::send_async`]
//!   waits for room. Same-shard senders see the actor's bound; cross-shard
//!   senders see the bound of the ring to its shard.
//! * Steady-state sends, handling, and ask/reply allocate nothing on whirl's
//!   own paths (messages up to 256 bytes, no more aligned than 8, travel
//!   inline in queues and rings; larger ones are boxed once); glommio's
//!   reactor still allocates when an executor parks. `tests/allocations.rs`
//!   checks both apart.
//!
//! # Where a message waits
//!
//! Until it is handled or counted, a message is in exactly one place, and
//! each word below means one of them (the details are in
//! `docs/architecture.md`):
//!
//! | word | where |
//! |---|---|
//! | run queue | in line for its actor on its shard |
//! | ring | between two shards (one ring per ordered pair) |
//! | injector | sent from a plain thread, not yet taken by the shard |
//! | held | from a plain thread to a full mailbox: later senders see `Full` |
//! | pending | for an actor whose spawn or restart is still on its way |
//! | outbox | sent from a handler to a full receiver: the sender is *held back* |
//! | inbox | for a held-back actor, handled once its outbox drains and it awaits nothing |
//! | results | what a finished [`Context::wait`] made, handed to the actor before its inbox |
//! | orphans | the outbox of an actor that stopped for good, still delivered |
//! | overflow | a command (stop, spawn, answer) waiting for room in a ring |
//! | paused ring | a ring waiting for an actor restarting with a full mailbox |
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use whirl::{Actor, ActorRef, Context, Reply, Runtime};
//!
//! struct Counter { n: u64 }
//! enum Msg { Add(u64), Get(Reply<u64>) }
//!
//! impl Actor for Counter {
//!     type Msg = Msg;
//!     fn handle(&mut self, msg: Msg, _ctx: &mut Context<Self>) {
//!         match msg {
//!             Msg::Add(k) => self.n += k,
//!             Msg::Get(reply) => reply.send(self.n),
//!         }
//!     }
//! }
//!
//! let rt = Runtime::builder().shards(2).build()?;
//! let n = rt.block_on(|sys| async move {
//!     let c: ActorRef<Msg> = sys.spawn_on(1, || Counter { n: 0 }).unwrap();
//!     c.send(Msg::Add(5)).unwrap();
//!     c.send_async(Msg::Add(1)).await.unwrap();
//!     let n = c.ask(Msg::Get).timeout(Duration::from_secs(5)).await.unwrap();
//!     sys.shutdown().await;
//!     n
//! })?;
//! assert_eq!(n, 6);
//! # Ok::<(), whirl::Error>(())
//! ```

//!
//! # From plain threads
//!
//! Threads outside the runtime send through each shard's injection queue.
//! [`ActorRef::send_blocking`] waits for room and
//! [`ActorRef::ask_blocking`] for the answer or its timeout, without a
//! thread per call; after shutdown both return `Closed` at once. On a shard
//! of the actor's own runtime they panic instead of stalling it: use `send`,
//! `send_async` or `ask` there. From another executor, await
//! [`ActorRef::ask`] with [`Ask::timeout`]: an [`Ask`] is a plain future.
//!
//! ```
//! use std::time::Duration;
//! use whirl::{Actor, AskError, Context, Reply, Runtime, SendError};
//!
//! struct Total(u64);
//! enum Msg { Add(u64), Get(Reply<u64>) }
//!
//! impl Actor for Total {
//!     type Msg = Msg;
//!     fn handle(&mut self, msg: Msg, _ctx: &mut Context<Self>) {
//!         match msg {
//!             Msg::Add(k) => self.0 += k,
//!             Msg::Get(reply) => reply.send(self.0),
//!         }
//!     }
//! }
//!
//! let rt = Runtime::builder().shards(2).build()?;
//! let total = rt.system().spawn_on(1, || Total(0)).unwrap();
//! let thread = std::thread::spawn(move || {
//!     for k in 1..=100 {
//!         total.send_blocking(Msg::Add(k)).unwrap(); // waits while the queue is full
//!     }
//!     total.ask_blocking(Msg::Get, Duration::from_secs(5))
//! });
//! assert_eq!(thread.join().unwrap(), Ok(5050));
//! rt.shutdown();
//! assert!(matches!(total.send_blocking(Msg::Add(1)), Err(SendError::Closed(_))));
//! assert_eq!(total.ask_blocking(Msg::Get, Duration::from_secs(5)), Err(AskError::Closed));
//! # Ok::<(), whirl::Error>(())
//! ```
//!
//! # Actors that are not `Send`
//!
//! An actor's state never leaves its shard, so it may hold what cannot
//! cross threads: an `Rc`, a glommio socket. [`System::spawn_local`] (from a
//! task on a shard) and [`Context::spawn_local`] (from a handler) spawn such
//! a value on the shard they run on; `spawn_once`'s closure must be `Send`.
//!
//! ```
//! use std::rc::Rc;
//! use whirl::{Actor, Context, Reply, Runtime};
//!
//! /// Holds an `Rc`: not `Send`.
//! struct Local(Rc<str>);
//! impl Actor for Local {
//!     type Msg = Reply<usize>;
//!     fn handle(&mut self, reply: Reply<usize>, _: &mut Context<Self>) {
//!         reply.send(self.0.len());
//!     }
//! }
//!
//! let rt = Runtime::builder().shards(1).build()?;
//! let len = rt.block_on(|sys| async move {
//!     let local = sys.spawn_local(Local(Rc::from("whirl"))).unwrap();
//!     local.ask(|r| r).await.unwrap()
//! })?;
//! assert_eq!(len, 5);
//! # Ok::<(), whirl::Error>(())
//! ```
//!
//! # Backpressure from handlers
//!
//! A handler cannot await. [`Context::send`] never drops a message for want
//! of room and never blocks the shard: if the receiver is full, the message
//! waits in the sender's outbox and the sender is handed nothing new until
//! it has drained, so a slow stage slows down everything upstream of it.
//!
//! ```
//! use std::time::Duration;
//! use whirl::{Actor, ActorRef, Context, Reply, Runtime};
//!
//! /// Doubles each number and passes it on.
//! struct Double { next: ActorRef<SumMsg> }
//!
//! impl Actor for Double {
//!     type Msg = u64;
//!     fn handle(&mut self, n: u64, ctx: &mut Context<Self>) {
//!         // Waits in this actor's outbox if `next` is full; never lost.
//!         ctx.send(&self.next, SumMsg::Add(2 * n)).expect("next is running");
//!     }
//! }
//!
//! struct Sum(u64);
//! enum SumMsg { Add(u64), Get(Reply<u64>) }
//!
//! impl Actor for Sum {
//!     type Msg = SumMsg;
//!     fn handle(&mut self, msg: SumMsg, _ctx: &mut Context<Self>) {
//!         match msg {
//!             SumMsg::Add(n) => self.0 += n,
//!             SumMsg::Get(reply) => reply.send(self.0),
//!         }
//!     }
//! }
//!
//! let rt = Runtime::builder().shards(2).mailbox_capacity(16).build()?;
//! let sum = rt.block_on(|sys| async move {
//!     let sum = sys.spawn_on(1, || Sum(0)).unwrap();
//!     let double = sys.spawn_on(0, move || Double { next: sum }).unwrap();
//!     for n in 0..10_000 {
//!         double.send_async(n).await.unwrap(); // waits while `double` is full
//!     }
//!     // The question may overtake what `double` still holds: ask again
//!     // until everything is in (a lost message fails the assert below).
//!     let mut total = 0;
//!     for _ in 0..100_000 {
//!         total = sum.ask(SumMsg::Get).timeout(Duration::from_secs(5)).await.unwrap();
//!         if total == 99_990_000 {
//!             break;
//!         }
//!     }
//!     total
//! })?;
//! assert_eq!(sum, 99_990_000);
//! # Ok::<(), whirl::Error>(())
//! ```
//!
//! # Actors that await
//!
//! [`Context::wait`] runs a future with the actor's mailbox held: the
//! actor is handed nothing else until it completes, then gets the result
//! as its next message, before what arrived meanwhile. Its mailbox keeps
//! filling up to its bound, so its senders slow down (actix's
//! `ctx.wait`). [`Context::add_stream`] attaches a stream whose items
//! arrive as messages, taken only while the mailbox has room (actix's
//! `add_stream`). Neither allocates in steady state; a restart or a stop
//! cancels both.
//!
//! ```
//! use std::time::Duration;
//! use whirl::{Actor, Context, Reply, Runtime};
//!
//! /// Takes its numbers from a stream; "stores" each with an I/O-like
//! /// future, one at a time, in order.
//! struct Store { stored: Vec<u64> }
//! enum Msg { Item(u64), Stored(u64), End, Get(Reply<Vec<u64>>) }
//!
//! impl Actor for Store {
//!     type Msg = Msg;
//!     fn started(&mut self, ctx: &mut Context<Self>) {
//!         ctx.add_stream(futures_lite::stream::iter(1..=5), Msg::Item, || Msg::End);
//!     }
//!     fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) {
//!         match msg {
//!             Msg::Item(n) => {
//!                 // Nothing else reaches this actor until `Stored(n)`.
//!                 let write = glommio::timer::sleep(Duration::from_micros(50));
//!                 ctx.wait(write, move |_| Msg::Stored(n));
//!             }
//!             Msg::Stored(n) => self.stored.push(n),
//!             Msg::End => {}
//!             Msg::Get(reply) => reply.send(self.stored.clone()),
//!         }
//!     }
//! }
//!
//! let rt = Runtime::builder().shards(1).mailbox_capacity(2).build()?;
//! let stored = rt.block_on(|sys| async move {
//!     let store = sys.spawn(|| Store { stored: Vec::new() }).unwrap();
//!     let mut stored = Vec::new();
//!     while stored.len() < 5 {
//!         glommio::timer::sleep(Duration::from_millis(1)).await;
//!         stored = store.ask(Msg::Get).await.unwrap();
//!     }
//!     sys.shutdown().await;
//!     stored
//! })?;
//! assert_eq!(stored, [1, 2, 3, 4, 5]);
//! # Ok::<(), whirl::Error>(())
//! ```
//!
//! # Batches, priorities and cancellable work
//!
//! An actor that does something once per batch rather than once per
//! message (one write for many log lines, one sum over a block) overrides
//! [`Actor::handle_batch`]: each turn it gets the first message and a
//! [`Batch`] of those next in line for it, read in place, at most its turn
//! budget. Senders move many messages at once with
//! [`ActorRef::try_send_many`] and [`ActorRef::send_many`].
//!
//! ```
//! use std::collections::VecDeque;
//! use whirl::{Actor, Batch, Context, Placement, Reply, Runtime, Schedule, SpawnOptions};
//!
//! struct Total(u64);
//! enum Msg { Sample(u64), Get(Reply<u64>) }
//!
//! impl Actor for Total {
//!     type Msg = Msg;
//!     fn handle(&mut self, msg: Msg, _ctx: &mut Context<Self>) {
//!         match msg {
//!             Msg::Sample(n) => self.0 += n,
//!             Msg::Get(reply) => reply.send(self.0),
//!         }
//!     }
//!     fn handle_batch(&mut self, first: Msg, rest: &mut Batch<'_, Msg>, ctx: &mut Context<Self>) {
//!         // Up to 256 messages a turn, taken in order.
//!         for msg in std::iter::once(first).chain(rest) {
//!             self.handle(msg, ctx);
//!         }
//!     }
//! }
//!
//! let rt = Runtime::builder().shards(2).build()?;
//! let total = rt.block_on(|sys| async move {
//!     let options = SpawnOptions::new(Placement::Shard(1))
//!         .schedule(Schedule::new().turn_budget(256));
//!     let total = sys.spawn_with_options(options, || Total(0)).unwrap();
//!     let mut samples: VecDeque<Msg> = (1..=1000).map(Msg::Sample).collect();
//!     total.send_many(&mut samples).await.unwrap(); // one publication per ring-full
//!     total.ask(Msg::Get).await.unwrap()
//! })?;
//! assert_eq!(total, 500_500);
//! # Ok::<(), whirl::Error>(())
//! ```
//!
//! Each actor has a [`Priority`] on its shard ([`Schedule::priority`]):
//! `High` actors are served first in each pass and every
//! [`HIGH_CHECK_EVERY`] messages of a lower class, so a control actor keeps
//! answering while its shard is flooded; `Normal` and `Low` keep a share of
//! every pass, so no class starves.
//!
//! A handler sees that its asker gave up (the [`Ask`] was dropped, its
//! timeout passed, the runtime is shutting down) with
//! [`Reply::is_cancelled`], and the ask's deadline with [`Reply::deadline`]:
//!
//! ```
//! use std::time::Duration;
//! use whirl::{Actor, AskError, Context, Reply, Runtime};
//!
//! /// Long work in steps; gives up when its asker has.
//! struct Worker;
//!
//! impl Actor for Worker {
//!     type Msg = (u64, Reply<u64>);
//!     fn handle(&mut self, (steps, reply): (u64, Reply<u64>), _ctx: &mut Context<Self>) {
//!         let mut done = 0;
//!         while done < steps {
//!             if reply.is_cancelled() {
//!                 return; // nobody waits for the answer any more
//!             }
//!             std::thread::sleep(Duration::from_millis(1)); // a step of work
//!             done += 1;
//!         }
//!         reply.send(done);
//!     }
//! }
//!
//! let rt = Runtime::builder().shards(2).build()?;
//! rt.block_on(|sys| async move {
//!     let worker = sys.spawn_on(1, || Worker).unwrap();
//!     let late = worker.ask(|reply| (10_000, reply)).timeout(Duration::from_millis(20));
//!     assert_eq!(late.await, Err(AskError::Timeout)); // and the worker stops soon after
//!     assert_eq!(worker.ask(|reply| (2, reply)).await, Ok(2));
//! })?;
//! # Ok::<(), whirl::Error>(())
//! ```
//!
//! # Seeing what whirl does
//!
//! **tracing.** whirl reports, as `tracing` events: actor failures with
//! their reason (ERROR; WARN when the actor resumes), restarts with the new
//! incarnation (INFO), spawns and stops (DEBUG), starts (TRACE), a
//! supervisor's restart intensity running out (ERROR, escalation), dead
//! letters (WARN, at most once a second per shard), shard park and wake
//! (TRACE) and shutdown (INFO). Nothing is on the message path unless the
//! `message-spans` cargo feature adds a TRACE span around each handler
//! call. Nothing is printed until the program installs a subscriber; with
//! `tracing-subscriber` it is one line at the start of `main`:
//!
//! ```ignore
//! tracing_subscriber::fmt::init(); // or .with_writer(std::io::stderr).init()
//! ```
//!
//! **Metrics.** Each shard counts on its own thread, with no atomic on the
//! message path; [`ActorRef::stats`], [`System::stats_of`] and
//! [`System::snapshot`] read the counters on the shards while they run, and
//! [`Builder::metrics_endpoint`] serves them to Prometheus:
//!
//! ```
//! use std::time::Duration;
//! use whirl::{Actor, Context, Runtime};
//!
//! struct Echo;
//! impl Actor for Echo {
//!     type Msg = u64;
//!     fn handle(&mut self, _n: u64, _ctx: &mut Context<Self>) {}
//! }
//!
//! let rt = Runtime::builder()
//!     .shards(2)
//!     .spin_before_park(Duration::ZERO)
//!     .metrics_endpoint(([127, 0, 0, 1], 0)) // GET /metrics and /health
//!     .build()?;
//! let echo = rt.system().spawn_on(1, || Echo).unwrap();
//! for n in 0..100 {
//!     echo.send_blocking(n).unwrap();
//! }
//! let stats = rt.block_on(move |_| async move {
//!     // Read on shard 1; the 100 messages may still be on their way.
//!     echo.stats().await
//! })?;
//! assert!(stats.unwrap().handled <= 100);
//! let snapshot = rt.snapshot(); // every shard, from this thread
//! assert_eq!(snapshot.shards.len(), 2);
//! let text = whirl::prometheus::render(snapshot); // what /metrics serves
//! assert!(text.contains("whirl_actor_handled_total{shard=\"1\",actor=\"Echo\"}"));
//! println!("scrape http://{}/metrics", rt.metrics_addr().unwrap());
//! # Ok::<(), whirl::Error>(())
//! ```
//!
//! `examples/src/bin/08_calling_from_a_program.rs` installs a subscriber;
//! `examples/src/bin/09_watching.rs` serves the endpoint.

mod builder;
mod embed;
pub mod endpoint;
mod error;
pub mod net;
pub mod prometheus;
mod runtime;

#[allow(deprecated)]
pub use builder::{
    Builder, DEFAULT_FAIRNESS_BUDGET, DEFAULT_HANDLING_TIME_SAMPLE_EVERY,
    DEFAULT_INJECTOR_CAPACITY, DEFAULT_MAILBOX_CAPACITY, DEFAULT_RING_CAPACITY,
    DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_SPIN_BEFORE_PARK, DEFAULT_TURN_BUDGET,
};
pub use embed::{Embedded, ShardRunner};
pub use endpoint::serve_metrics;
pub use error::{ConfigError, Error};
/// glommio, the io_uring executor each shard runs, re-exported for I/O in
/// piped jobs and tasks (`whirl::glommio::net::TcpListener`, files), in the
/// version whirl runs.
pub use glommio;
pub use runtime::Runtime;
pub use whirl_executor::bumpalo;
pub use whirl_executor::registry::RegistryError;
pub use whirl_executor::time;
pub use whirl_executor::MAX_SPIN_BEFORE_PARK;
pub use whirl_executor::{
    Actor, ActorRef, AfterPanic, Ask, AskError, Batch, ChildError, ChildInfo, ChildSpec,
    ChildState, Context, DeadLetterCause, DeadLetters, MailboxOnRestart, Reply, Restart,
    RestartPolicy, SendError, ShutdownReport, SpawnError, Stats, StopReason, Strategy, Supervisor,
    SupervisorMsg, SupervisorRef, TimerHandle,
};
pub use whirl_executor::{
    ActorState, ActorStats, HandlingTime, PeerStats, ShardStats, Snapshot, MAX_TIMED_ACTORS,
};
pub use whirl_executor::{
    Placement, Priority, Schedule, Shutdown, SpawnOptions, System, HIGH_CHECK_EVERY, LOW_SHARE,
    NORMAL_SHARE, PASS_BUDGET,
};
