//! Request/response: `ActorRef::ask` hands the actor a [`Reply`] and returns
//! an [`Ask`] future that resolves with the answer.
//!
//! # Allocation behavior
//!
//! An ask from a shard waits in that shard's reply table (a slab reused from
//! ask to ask), and the reply travels back inline in a ring envelope, so the
//! steady state of ask and reply allocates nothing for replies of up to 16
//! bytes. Asks from threads outside the runtime allocate one shared cell.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use whirl_mailbox::Payload;

use crate::base::drop_caught;
use crate::base::entry;
use crate::base::injected::Injected;
use crate::base::timer_thread::{self, TimerKey};
use crate::base::tunables::{ASK_BACKOFF, ASK_RETRIES_BEFORE_BACKOFF};
use crate::mesh::{phase, Mesh, ShardShared};
use crate::shard::ops::commands::{deliver_reply, run_reply, run_reply_dropped, NoAnswer};
use crate::shard::with_current;
use crate::types::stats::DeadLetterCause;
use crate::{ActorRef, AskError, SendError};

/// The answer, once there is one, and whom to wake for it.
type ForeignState = (Option<Result<Payload, AskError>>, Option<Waker>);

/// Where an answer for a thread outside the runtime waits.
struct ForeignReply {
    /// The runtime of the actor asked.
    mesh: u32,
    state: Mutex<ForeignState>,
    /// The ask is over (answered, timed out or dropped). Release/Acquire:
    /// a `Reply` that sees it set sees the ask over.
    given_up: AtomicBool,
    /// The ask's deadline in [`ticks`] (0: none).
    deadline: AtomicU64,
}

impl ForeignReply {
    fn new(mesh: u32) -> Self {
        Self {
            mesh,
            state: Mutex::default(),
            given_up: AtomicBool::new(false),
            deadline: AtomicU64::new(0),
        }
    }

    fn complete(&self, result: Result<Payload, AskError>) {
        let waker = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            // Under the lock, as `Ask::finish` sets it: an answer is either
            // left for the ask to take (or for `finish` to count), or
            // counted here.
            if self.given_up.load(Ordering::Relaxed) {
                drop(state);
                if result.is_ok() {
                    late_answer(self.mesh, result);
                }
                return;
            }
            if state.0.is_some() {
                return;
            }
            state.0 = Some(result);
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Counts an answer for an asker that gave up as a dead letter, on the
/// current shard (or the runtime's first, from a thread outside it).
fn late_answer(mesh: u32, answer: Result<Payload, AskError>) {
    with_current(|current| match current {
        Some(current) if current.mesh.id == mesh => {
            current.dead_letter(DeadLetterCause::LateAnswer, answer);
        }
        _ => {
            if let Some(shard) = Mesh::find(mesh).as_ref().and_then(|m| m.shards.first()) {
                shard.count_dead_letters(DeadLetterCause::LateAnswer, 1);
            }
            drop_caught(answer);
        }
    });
}

/// Deadlines as they are shared between threads: nanoseconds since a
/// process-wide epoch, plus one (0 stands for none).
fn ticks(at: Instant) -> u64 {
    let nanos = at.saturating_duration_since(epoch()).as_nanos();
    u64::try_from(nanos).unwrap_or(u64::MAX - 1) + 1
}

/// The instant of `ticks` (not 0).
fn instant(ticks: u64) -> Instant {
    epoch() + Duration::from_nanos(ticks - 1)
}

fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

enum Target {
    Shard { mesh: u32, shard: u16, index: u32, generation: u32 },
    Foreign(Arc<ForeignReply>),
    Sent,
}

/// The right to answer one ask, once. Send it with the message; the actor
/// calls [`send`](Reply::send). Dropping it unanswered fails the ask with
/// [`AskError::Closed`].
pub struct Reply<T> {
    target: Target,
    _value: PhantomData<fn(T)>,
}

impl<T: Send + 'static> Reply<T> {
    /// Answers the ask. If the asker gave up already, the answer is counted
    /// as a dead letter ([`DeadLetterCause::LateAnswer`]).
    pub fn send(mut self, value: T) {
        let target = std::mem::replace(&mut self.target, Target::Sent);
        deliver(target, Ok(value));
    }
}

impl<T> Reply<T> {
    /// Whether the asker gave up: its [`Ask`] was dropped, its
    /// [`timeout`](Ask::timeout) has passed, or the runtime is shutting
    /// down. Long work for it can then be skipped or cut short: an answer
    /// would only be a dead letter.
    ///
    /// From any shard or thread: one or two atomic loads (off the runtime,
    /// also a look-up of the runtime by id), and a clock read if the ask
    /// has a deadline. A `false` may be stale by the time it is used.
    pub fn is_cancelled(&self) -> bool {
        match &self.target {
            Target::Sent => true,
            Target::Foreign(cell) => {
                cell.given_up.load(Ordering::Acquire)
                    || is_past(cell.deadline.load(Ordering::Acquire))
                    || crate::shard::with_mesh(cell.mesh, |mesh| mesh.phase() != phase::RUNNING)
                        .unwrap_or(true)
            }
            &Target::Shard { mesh, shard, index, generation } => {
                with_shared(mesh, shard, |mesh, shared| {
                    let deadline = shared.reply_deadlines.get(index);
                    shared.reply_generations.get(index) != generation
                        || is_past(deadline)
                        || mesh.phase() != phase::RUNNING
                        || shared.has_exited()
                })
                .unwrap_or(true)
            }
        }
    }

    /// The deadline of the ask, if it was made with
    /// [`timeout`](Ask::timeout) and is still waiting: work past it is
    /// wasted. The question is sent when the ask is made and the deadline
    /// set by `timeout` just after, so a question handled at once on
    /// another shard may not see it yet (`None`).
    pub fn deadline(&self) -> Option<Instant> {
        let ticks = match &self.target {
            Target::Sent => 0,
            Target::Foreign(cell) => cell.deadline.load(Ordering::Acquire),
            &Target::Shard { mesh, shard, index, generation } => {
                with_shared(mesh, shard, |_, shared| {
                    // Deadline first, then the generation (see `close`).
                    let deadline = shared.reply_deadlines.get(index);
                    let ours = shared.reply_generations.get(index) == generation;
                    if ours {
                        deadline
                    } else {
                        0
                    }
                })
                .unwrap_or(0)
            }
        };
        (ticks != 0).then(|| instant(ticks))
    }
}

/// Whether the deadline `ticks` (0: none) has passed.
fn is_past(ticks: u64) -> bool {
    ticks != 0 && Instant::now() >= instant(ticks)
}

/// Runs `f` with shard `shard` of runtime `mesh`, if both exist.
fn with_shared<R>(mesh: u32, shard: u16, f: impl FnOnce(&Mesh, &ShardShared) -> R) -> Option<R> {
    crate::shard::with_mesh(mesh, |found| found.shards.get(shard as usize).map(|s| f(found, s)))
        .flatten()
}

/// Completes the ask `target` names with `answer` (an error: no answer will
/// come, and why), from wherever the reply is sent: inline on the asker's shard, as a
/// command through the ring from another shard, or through the injection
/// queue from outside the runtime.
fn deliver<T: Send + 'static>(target: Target, answer: Result<T, AskError>) {
    match target {
        Target::Sent => {}
        Target::Foreign(cell) => {
            cell.complete(answer.map(Payload::new));
        }
        Target::Shard { mesh, shard, index, generation } => {
            let word = entry::target_word(index, generation);
            let unsent = with_current(|current| match current {
                Some(current) if current.mesh.id == mesh && current.id == shard => {
                    current.complete_reply(index, generation, answer.map(Payload::new));
                    None
                }
                Some(current) if current.mesh.id == mesh => {
                    match answer {
                        Ok(value) => current.send_command(
                            shard,
                            entry::EntryFn::reply(run_reply::<T>),
                            word,
                            value,
                        ),
                        Err(why) => current.send_command(
                            shard,
                            entry::EntryFn::command(run_reply_dropped),
                            word,
                            why,
                        ),
                    }
                    None
                }
                _ => Some(answer),
            });
            if let Some(answer) = unsent {
                // From a thread outside the runtime: through the injector.
                let (payload, kind) = match answer {
                    Ok(value) => (Payload::new(value), entry::Kind::Reply),
                    Err(why) => (Payload::new(NoAnswer(why)), entry::Kind::Command),
                };
                if let Some(target) = Mesh::find(mesh) {
                    if let Some(target) = target.shards.get(shard as usize) {
                        target.inject_waiting(Injected {
                            deliver: deliver_reply,
                            target: word,
                            payload,
                            kind,
                        });
                    }
                }
            }
        }
    }
}

impl<T> Drop for Reply<T> {
    fn drop(&mut self) {
        let target = std::mem::replace(&mut self.target, Target::Sent);
        if !matches!(target, Target::Sent) {
            // Dropped unanswered: by a handler that is failing (a panic
            // unwinding through it, or `Context::fail` in this call of the
            // running actor), or on purpose.
            let failing = std::thread::panicking()
                || with_current(|shard| shard.is_some_and(|s| s.turn.is_failing()));
            deliver::<()>(target, Err(if failing { AskError::Failed } else { AskError::Closed }));
        }
    }
}

impl<T> std::fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reply(..)")
    }
}

enum Waiting {
    Shard { shard: u16, mesh: u32, index: u32, generation: u32 },
    Foreign(Arc<ForeignReply>),
    Finished,
}

/// A pending ask: resolves with the actor's answer, [`AskError::Failed`] if
/// its handler failed (panicked or called `Context::fail`) before
/// answering, [`AskError::Closed`] if the actor stops or drops the
/// [`Reply`], or [`AskError::Timeout`] after [`timeout`](Self::timeout).
///
/// The question is sent when the ask is made. If the mailbox (or the queue
/// to its shard) is full, it is sent once there is room, while the ask is
/// awaited; an ask dropped before that never sends it, and the question is
/// counted as a dead letter ([`DeadLetterCause::Unsent`]). An ask made on a
/// shard must be awaited on that shard.
///
/// To await an ask on another executor (a tokio task, a plain thread), make
/// it there: off the runtime, its answer arrives through a shared cell and
/// its timeout through whirl's timer thread, so any executor can poll it.
#[must_use = "an ask whose question did not fit yet is only sent while it is awaited"]
pub struct Ask<M, R> {
    to: ActorRef<M>,
    /// The question, until it has been sent.
    question: Option<M>,
    waiting: Waiting,
    /// When it times out, if it does.
    deadline_at: Option<Instant>,
    deadline: Option<Deadline>,
    /// Polls spent waiting for room for the question.
    retries: u32,
    /// Wakes us to retry sending the question.
    retry: Option<Deadline>,
    _answer: PhantomData<fn() -> R>,
}

/// A wake-up at a point in time, on a shard or off it.
enum Deadline {
    Timer(glommio::timer::Timer),
    /// Off the runtime there is no glommio timer: the timer thread wakes us.
    Foreign(Instant, Option<TimerKey>),
}

impl Deadline {
    fn after(limit: Duration, on_shard: bool) -> Self {
        if on_shard {
            Self::Timer(glommio::timer::Timer::new(limit))
        } else {
            Self::Foreign(Instant::now() + limit, None)
        }
    }

    /// Whether the time has come; otherwise arranges a wake-up for `cx`.
    fn poll(&mut self, cx: &mut Context<'_>) -> bool {
        match self {
            Self::Timer(timer) => Pin::new(timer).poll(cx).is_ready(),
            Self::Foreign(at, key) => {
                if Instant::now() >= *at {
                    return true;
                }
                match key {
                    Some(key) => timer_thread::update(*key, cx.waker()),
                    None => *key = Some(timer_thread::register(*at, cx.waker())),
                }
                false
            }
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let Self::Foreign(_, Some(key)) = self {
            timer_thread::cancel(*key);
        }
    }
}

impl<M: Send + 'static, R: Send + 'static> Ask<M, R> {
    pub(crate) fn new(to: ActorRef<M>, make: impl FnOnce(Reply<R>) -> M) -> Self {
        let (reply_target, waiting) = with_current(|shard| match shard {
            Some(shard) if shard.mesh.id == to.mesh_id() => {
                let (index, generation) = shard.replies.borrow_mut().open();
                let mesh = shard.mesh.id;
                (
                    Target::Shard { mesh, shard: shard.id, index, generation },
                    Waiting::Shard { shard: shard.id, mesh, index, generation },
                )
            }
            _ => {
                let cell = Arc::new(ForeignReply::new(to.mesh_id()));
                (Target::Foreign(cell.clone()), Waiting::Foreign(cell))
            }
        });
        let question = make(Reply { target: reply_target, _value: PhantomData });
        let mut ask = Self {
            to,
            question: None,
            waiting,
            deadline_at: None,
            deadline: None,
            retries: 0,
            retry: None,
            _answer: PhantomData,
        };
        // The question goes out now; only if the mailbox is full does it
        // wait for the first poll (and then for room).
        match to.send(question) {
            Ok(()) => {}
            Err(SendError::Full(question)) => ask.question = Some(question),
            Err(SendError::Closed(question)) => {
                // Dropping it drops the Reply inside, which completes our
                // own entry with Closed.
                drop(question);
            }
        }
        ask
    }

    /// Fails the ask with [`AskError::Timeout`] if no answer came within
    /// `limit` from now. The actor sees the deadline
    /// ([`Reply::deadline`]), and sees the ask cancelled once it has passed
    /// ([`Reply::is_cancelled`]).
    pub fn timeout(mut self, limit: Duration) -> Self {
        let at = Instant::now() + limit;
        self.deadline_at = Some(at);
        self.deadline = None;
        match &self.waiting {
            Waiting::Shard { mesh, shard, index, .. } => {
                let index = *index;
                with_shared(*mesh, *shard, |_, shared| {
                    shared.reply_deadlines.set(index, ticks(at))
                });
            }
            Waiting::Foreign(cell) => cell.deadline.store(ticks(at), Ordering::Release),
            Waiting::Finished => {}
        }
        self
    }

    fn on_shard(&self) -> bool {
        matches!(self.waiting, Waiting::Shard { .. })
    }

    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.deadline_at else { return false };
        let on_shard = self.on_shard();
        let limit = at.saturating_duration_since(Instant::now());
        self.deadline.get_or_insert_with(|| Deadline::after(limit, on_shard)).poll(cx)
    }

    /// Arranges to be polled again to retry a question that found no room:
    /// at the executor's next turn at first, then after a short sleep.
    fn retry_later(&mut self, cx: &mut Context<'_>) {
        self.retries += 1;
        if self.retries < ASK_RETRIES_BEFORE_BACKOFF {
            cx.waker().wake_by_ref();
            return;
        }
        let on_shard = self.on_shard();
        let retry = self.retry.get_or_insert_with(|| Deadline::after(ASK_BACKOFF, on_shard));
        if retry.poll(cx) {
            self.retry = None;
            cx.waker().wake_by_ref();
        }
    }
}

// No field is structurally pinned: the question is moved out before it is
// ever sent, and the timer is polled through `Pin::new` on its own.
impl<M, R> Unpin for Ask<M, R> {}

impl<M: Send + 'static, R: Send + 'static> Future for Ask<M, R> {
    type Output = Result<R, AskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(question) = this.question.take() {
            match this.to.send(question) {
                Ok(()) => {}
                Err(SendError::Full(question)) => {
                    this.question = Some(question);
                    if this.poll_deadline(cx) {
                        this.finish();
                        return Poll::Ready(Err(AskError::Timeout));
                    }
                    this.retry_later(cx);
                    return Poll::Pending;
                }
                Err(SendError::Closed(question)) => {
                    // Dropping the question drops the Reply inside, which
                    // completes our own entry with Closed; just finish.
                    drop(question);
                    this.finish();
                    return Poll::Ready(Err(AskError::Closed));
                }
            }
        }
        let result = match &this.waiting {
            Waiting::Finished => return Poll::Ready(Err(AskError::Closed)),
            Waiting::Shard { shard, mesh, index, generation } => {
                let (shard, mesh, index, generation) = (*shard, *mesh, *index, *generation);
                let local = this.to.shard() == shard as usize;
                with_current(|current| {
                    let current = current
                        .filter(|c| c.mesh.id == mesh && c.id == shard)
                        .expect("an ask made on a shard must be awaited on that shard");
                    if let Some(result) = current.take_answer(index, generation, None) {
                        return Some(result);
                    }
                    if local && !current.parking.in_pass() {
                        // The actor is on this shard: run its queue here and
                        // now, instead of waking the dispatch loop and
                        // switching tasks twice; the answer lands in our
                        // entry as it runs.
                        current.pass_from_task();
                    }
                    current.take_answer(index, generation, Some(cx.waker()))
                })
            }
            Waiting::Foreign(cell) => {
                let mut state = cell.state.lock().unwrap_or_else(|e| e.into_inner());
                match state.0.take() {
                    Some(result) => Some(result),
                    None => {
                        // The waker it replaces is dropped after the lock.
                        let _replaced = state.1.replace(cx.waker().clone());
                        drop(state);
                        None
                    }
                }
            }
        };
        match result {
            Some(result) => {
                this.finish();
                Poll::Ready(
                    result.map(|payload| {
                        payload.downcast::<R>().expect("a Reply<R> answers with an R")
                    }),
                )
            }
            None => {
                if this.poll_deadline(cx) {
                    this.finish();
                    return Poll::Ready(Err(AskError::Timeout));
                }
                Poll::Pending
            }
        }
    }
}

impl<M, R> Ask<M, R> {
    /// Gives the reply entry back (a late answer then counts as a dead
    /// letter); the ask is over. A question never sent is a dead letter.
    fn finish(&mut self) {
        let mesh = self.to.mesh_id();
        let unanswered = match &self.waiting {
            &Waiting::Shard { shard, mesh, index, .. } => with_current(|current| {
                let current = current.filter(|c| c.mesh.id == mesh && c.id == shard)?;
                current.replies.borrow_mut().close(index, current.shared())
            }),
            Waiting::Foreign(cell) => {
                let mut state = cell.state.lock().unwrap_or_else(|e| e.into_inner());
                // Release: see `ForeignReply::given_up`; set under the lock
                // (see `ForeignReply::complete`).
                cell.given_up.store(true, Ordering::Release);
                state.0.take()
            }
            Waiting::Finished => None,
        };
        self.waiting = Waiting::Finished;
        // An answer that came but was never taken: the asker gave up on
        // it. Counted outside the borrow: an answer's `Drop` is user code.
        if let Some(answer @ Ok(_)) = unanswered {
            late_answer(mesh, answer);
        }
        if let Some(question) = self.question.take() {
            if let Some(mesh) = Mesh::find(self.to.mesh_id()) {
                if let Some(shard) = mesh.shards.get(self.to.shard()) {
                    shard.count_dead_letters(DeadLetterCause::Unsent, 1);
                }
            }
            drop_caught(question);
        }
    }
}

impl<M, R> Drop for Ask<M, R> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<M, R> std::fmt::Debug for Ask<M, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ask").field("to", &self.to).finish_non_exhaustive()
    }
}
