//! Supervisors (Erlang/OTP): an actor that starts children from specs,
//! restarts them in place when they fail, by a strategy and within a
//! restart intensity, and fails itself when that is exceeded, so the failure
//! goes up the tree.
//!
//! A supervisor's children keep their slots for the life of the tree: every
//! restart, also one a strategy or a restart of the supervisor itself
//! decides, builds a new incarnation behind the same refs and names. Only a
//! child stopped for good (a temporary child, a transient one that ended
//! normally, one stopped with [`ActorRef::stop`]) leaves; a restart of its
//! supervisor starts it again from its spec, under a new ref (its name, if
//! it has one, moves with it).
//!
//! The runtime is the root: a top-level supervisor that gives up is logged
//! and stopped for good with its whole subtree; the rest of the runtime
//! keeps running.

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::actor::cell::fns_of;
use crate::actor::spawn::spawn_set_up;
use crate::base::actor_fns::ActorFns;
use crate::base::entry::{self, EntryFn, How};
use crate::shard::ops::lifecycle::Setup;
use crate::shard::parts::link::{Address, Link, Notice};
use crate::shard::parts::restarts::Restarts;
use crate::shard::Shard;
use crate::{
    registry, Actor, ActorRef, AskError, Context, MailboxOnRestart, Mesh, Reply, Restart,
    RestartPolicy, Schedule, SpawnError, StopReason,
};

/// Which children a supervisor restarts when one fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Only the child that failed.
    OneForOne,
    /// Every child: the others are taken down (last started first), then
    /// all are started again in start order.
    OneForAll,
    /// The child that failed and those started after it.
    RestForOne,
}

/// Starts one child: spawns it on a shard, set up (linked, with its restart
/// type, mailbox rule and arena budget), and names it if asked.
type StartChild =
    dyn Fn(&Arc<Mesh>, usize, Setup, Option<&str>) -> Result<AnyRef, SpawnError> + Send + Sync;

/// How to start one child of a supervisor, and when to restart it.
#[derive(Clone)]
pub struct ChildSpec {
    id: String,
    shard: Option<usize>,
    restart: Restart,
    mailbox: MailboxOnRestart,
    name: Option<String>,
    arena_budget: Option<usize>,
    schedule: Schedule,
    start: Arc<StartChild>,
    /// The spec of a child that is a supervisor, for validation.
    nested: Option<Arc<Supervisor>>,
}

impl ChildSpec {
    /// A child built by `factory` (again on every restart), identified by
    /// `id` among its supervisor's children. Permanent, on its supervisor's
    /// shard, keeping its waiting messages across restarts.
    pub fn new<A: Actor>(
        id: impl Into<String>,
        factory: impl Fn() -> A + Send + Sync + 'static,
    ) -> Self {
        let factory = Arc::new(factory);
        let start = move |mesh: &Arc<Mesh>, shard, setup, name: Option<&str>| {
            let factory = factory.clone();
            let actor = spawn_set_up(mesh, shard, setup, move || factory())?;
            Ok(AnyRef::named(mesh, actor, name))
        };
        Self {
            id: id.into(),
            shard: None,
            restart: Restart::Permanent,
            mailbox: MailboxOnRestart::Keep,
            name: None,
            arena_budget: None,
            schedule: Schedule::new(),
            start: Arc::new(start),
            nested: None,
        }
    }

    /// A supervisor as a child: its subtree restarts, and escalates, as one.
    pub fn supervisor(id: impl Into<String>, supervisor: Supervisor) -> Self {
        let spec = Arc::new(supervisor);
        let nested = spec.clone();
        Self { nested: Some(nested), ..Self::new(id, move || SupervisorActor::new(&spec)) }
    }

    /// When the child is restarted: [`Restart::Permanent`] (the default)
    /// after any ending but a stop for good, [`Restart::Transient`] only
    /// after a failure, [`Restart::Temporary`] never.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// What happens to the child's waiting messages when it restarts
    /// (ignored for a supervisor child, which always keeps its children's
    /// notices).
    pub fn mailbox(mut self, mailbox: MailboxOnRestart) -> Self {
        self.mailbox = mailbox;
        self
    }

    /// Runs the child on shard `shard` instead of its supervisor's.
    pub fn on_shard(mut self, shard: usize) -> Self {
        self.shard = Some(shard);
        self
    }

    /// Registers the child as `name` in the runtime's registry; the name
    /// stays with it across its restarts.
    pub fn register(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Bounds the child's arena ([`Context::arena`]) to `bytes`: an
    /// allocation past it fails the child (reason
    /// [`StopReason::ArenaBudget`]), which its supervisor then restarts
    /// with an empty arena. The default is the runtime's
    /// (`Builder::arena_budget`).
    pub fn arena_budget(mut self, bytes: usize) -> Self {
        self.arena_budget = Some(bytes);
        self
    }

    /// Schedules the child as `schedule` says (its priority class and turn
    /// budget; see [`Schedule`]), in every incarnation.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// The child's id among its supervisor's children.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("shard", &self.shard)
            .field("restart", &self.restart)
            .field("mailbox", &self.mailbox)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A supervisor's specification: its strategy, restart intensity, backoff
/// and children, in start order. Spawn it with `System::spawn_supervisor`,
/// or nest it with [`ChildSpec::supervisor`].
///
/// ```
/// use std::time::Duration;
/// use whirl_executor::{Actor, ChildSpec, Context, Restart, Strategy, Supervisor};
///
/// struct Worker;
/// impl Actor for Worker {
///     type Msg = u32;
///     fn handle(&mut self, _: u32, _: &mut Context<Self>) {}
/// }
///
/// let tree = Supervisor::new(Strategy::OneForOne)
///     .intensity(5, Duration::from_secs(10))
///     .backoff(Duration::from_millis(1), Duration::from_millis(50))
///     .child(ChildSpec::new("a", || Worker))
///     .child(ChildSpec::new("b", || Worker).restart(Restart::Transient));
/// assert_eq!(tree.children().len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Supervisor {
    strategy: Strategy,
    /// Its intensity and backoff (the restart type is unused).
    policy: RestartPolicy,
    children: Vec<ChildSpec>,
}

impl Supervisor {
    /// A supervisor with no children yet; at most 3 restarts within 5 s
    /// (OTP's default intensity), no backoff.
    pub fn new(strategy: Strategy) -> Self {
        Self { strategy, policy: RestartPolicy::new(Restart::Permanent), children: Vec::new() }
    }

    /// At most `max_restarts` restarts of its children within any window of
    /// `within`; one more failure and the supervisor takes its children
    /// down and fails itself, escalating to its own supervisor.
    pub fn intensity(mut self, max_restarts: u32, within: Duration) -> Self {
        self.policy = self.policy.intensity(max_restarts, within);
        self
    }

    /// Waits before restarting: `min` before the first restart of a burst,
    /// doubling with each restart still inside the intensity window, up to
    /// `max`, with jitter (see [`RestartPolicy::backoff`]). Messages sent to
    /// a child meanwhile wait for it.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.policy = self.policy.backoff(min, max);
        self
    }

    /// Adds a child, started after those added before it.
    pub fn child(mut self, child: ChildSpec) -> Self {
        self.children.push(child);
        self
    }

    /// The children, in start order.
    pub fn children(&self) -> &[ChildSpec] {
        &self.children
    }

    /// The strategy.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Checks what can be checked before anything starts, in the whole
    /// tree: every child's shard exists, and child ids are unique.
    ///
    /// # Errors
    ///
    /// A message that says which child is wrong and what to do.
    pub fn validate(&self, shards: usize) -> Result<(), String> {
        for (i, child) in self.children.iter().enumerate() {
            if let Some(shard) = child.shard {
                if shard >= shards {
                    return Err(format!(
                        "child {:?} is placed on shard {shard}, but the runtime has {shards} \
                         shards: use a shard index below {shards}",
                        child.id
                    ));
                }
            }
            if self.children[..i].iter().any(|c| c.id == child.id) {
                return Err(format!("two children have the id {:?}: give each its own", child.id));
            }
            if let Some(nested) = &child.nested {
                nested.validate(shards)?;
            }
        }
        Ok(())
    }
}

/// A child's address with the type of message it handles, checked when a
/// typed ref is asked for.
#[derive(Debug, Clone, Copy)]
struct AnyRef {
    mesh: u32,
    shard: u16,
    slot: u32,
    generation: u32,
    fns: &'static ActorFns,
    type_id: TypeId,
    type_name: &'static str,
}

impl AnyRef {
    /// Erases `actor`'s message type, after registering it as `name`.
    fn named<M: Send + 'static>(mesh: &Mesh, actor: ActorRef<M>, name: Option<&str>) -> Self {
        if let Some(name) = name {
            if let Err(error) = registry::register(mesh, name, actor) {
                tracing::error!(%error, "a supervised child could not be registered");
            }
        }
        let (slot, generation) = actor.slot();
        Self {
            mesh: actor.mesh_id(),
            shard: actor.shard() as u16,
            slot,
            generation,
            fns: actor.fns(),
            type_id: TypeId::of::<M>(),
            type_name: std::any::type_name::<M>(),
        }
    }

    fn address(&self) -> Address {
        Address {
            shard: self.shard,
            target: crate::base::entry::target_word(self.slot, self.generation),
        }
    }

    fn typed<M: Send + 'static>(&self, id: &str) -> Result<ActorRef<M>, ChildError> {
        if self.type_id != TypeId::of::<M>() {
            return Err(ChildError::WrongType {
                id: id.to_owned(),
                expected: std::any::type_name::<M>(),
                found: self.type_name,
            });
        }
        Ok(ActorRef::new(self.mesh, self.shard, self.slot, self.generation, self.fns))
    }
}

/// Where a child is in its life, as its supervisor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildState {
    /// Running (or being built after a restart).
    Running,
    /// Down, waiting to be restarted.
    Restarting,
    /// Stopped for good (a restart of the supervisor starts it again, unless
    /// it is temporary).
    Stopped,
}

/// One child, as [`SupervisorRef::children`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInfo {
    /// Its id in the spec.
    pub id: String,
    /// The shard it runs on.
    pub shard: usize,
    /// Where it is in its life.
    pub state: ChildState,
    /// How many times this supervisor has restarted it.
    pub restarts: u32,
}

/// Why a supervisor could not hand out a child's ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildError {
    /// The supervisor has no child with this id.
    NotFound(String),
    /// The child handles another message type.
    WrongType {
        /// The id asked for.
        id: String,
        /// The message type asked for.
        expected: &'static str,
        /// The message type the child handles.
        found: &'static str,
    },
    /// The child is stopped for good.
    Stopped(String),
    /// The supervisor did not answer (it is stopped, or the ask timed out).
    Supervisor(AskError),
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound(id) => write!(f, "the supervisor has no child {id:?}"),
            Self::WrongType { id, expected, found } => {
                write!(f, "child {id:?} handles {found}, not {expected}")
            }
            Self::Stopped(id) => write!(f, "child {id:?} is stopped for good"),
            Self::Supervisor(error) => write!(f, "the supervisor did not answer: {error}"),
        }
    }
}

impl std::error::Error for ChildError {}

/// The messages a supervisor handles. Opaque: use [`SupervisorRef`].
#[derive(Debug)]
pub struct SupervisorMsg(Request);

#[derive(Debug)]
enum Request {
    Notice(Notice),
    Children(Reply<Vec<ChildInfo>>),
    Child(String, Reply<Result<AnyRef, ChildError>>),
}

impl SupervisorMsg {
    pub(crate) fn notice(notice: Notice) -> Self {
        Self(Request::Notice(notice))
    }
}

/// The address of a running supervisor: ask it for its children, or stop
/// its whole tree. `Copy`, `Send + Sync`, like an [`ActorRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SupervisorRef {
    actor: ActorRef<SupervisorMsg>,
}

impl SupervisorRef {
    /// The child with id `id`, as a typed ref (the same across its
    /// restarts).
    ///
    /// # Errors
    ///
    /// [`ChildError`]: no such child, another message type, stopped for
    /// good, or no answer from the supervisor.
    pub async fn child<M: Send + 'static>(&self, id: &str) -> Result<ActorRef<M>, ChildError> {
        let asked = self.actor.ask(|reply| SupervisorMsg(Request::Child(id.to_owned(), reply)));
        asked.await.map_err(ChildError::Supervisor)??.typed(id)
    }

    /// Every child, in start order, with its state and restart count.
    ///
    /// # Errors
    ///
    /// The ask's error if the supervisor is stopped.
    pub async fn children(&self) -> Result<Vec<ChildInfo>, AskError> {
        self.actor.ask(|reply| SupervisorMsg(Request::Children(reply))).await
    }

    /// Stops the supervisor and its whole subtree for good.
    pub fn stop(&self) {
        self.actor.stop();
    }

    /// The supervisor's own actor ref.
    pub fn actor_ref(&self) -> ActorRef<SupervisorMsg> {
        self.actor
    }
}

/// A supervisor that is a child of another: the ref its parent hands out
/// with `child::<SupervisorMsg>(id)`.
impl From<ActorRef<SupervisorMsg>> for SupervisorRef {
    fn from(actor: ActorRef<SupervisorMsg>) -> Self {
        Self { actor }
    }
}

/// A child as its supervisor tracks it.
#[derive(Debug, Clone)]
struct Child {
    /// `None` until started, and when its spawn was refused (shutdown).
    at: Option<AnyRef>,
    state: Tracked,
    restarts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tracked {
    Running,
    /// Told to go down; its notice has not come yet.
    GoingDown,
    /// Down, waiting to be resumed.
    Down,
    Stopped,
}

/// The supervisor actor.
pub(crate) struct SupervisorActor {
    spec: Arc<Supervisor>,
    children: Vec<Child>,
    /// Its restart intensity, kept per incarnation (as OTP does).
    intensity: Restarts,
    /// Children to resume, in start order, once none is still going down.
    group: Vec<usize>,
    /// The backoff before the group is resumed.
    group_wait: Duration,
}

impl SupervisorActor {
    pub(crate) fn new(spec: &Arc<Supervisor>) -> Self {
        Self {
            spec: spec.clone(),
            children: Vec::new(),
            intensity: Restarts::new(spec.policy, None),
            group: Vec::new(),
            group_wait: Duration::ZERO,
        }
    }

    /// Starts child `i` from its spec.
    fn start_child(&mut self, i: usize, ctx: &mut Context<Self>) {
        let spec = &self.spec.children[i];
        let (mesh, shard) = (ctx.mesh(), ctx.shard_id());
        let (slot, generation) = ctx.myself().slot();
        let link = Link {
            shard: shard as u16,
            target: crate::base::entry::target_word(slot, generation),
            child: i as u32,
            notice: NOTICE,
        };
        // A supervisor keeps the notices waiting for it across its restarts,
        // whatever its spec says: they are its children's state.
        let mailbox = if spec.nested.is_some() { MailboxOnRestart::Keep } else { spec.mailbox };
        let setup = Setup {
            policy: RestartPolicy::new(spec.restart).mailbox(mailbox),
            link: Some(link),
            arena_budget: spec.arena_budget,
            schedule: spec.schedule,
        };
        let on = spec.shard.unwrap_or(shard);
        let child = &mut self.children[i];
        match (spec.start)(&mesh, on, setup, spec.name.as_deref()) {
            Ok(at) => {
                ctx.adopt(i, at.address());
                child.at = Some(at);
                child.state = Tracked::Running;
            }
            Err(error) => {
                tracing::error!(child = %spec.id, %error, "a supervised child could not be started");
                child.state = Tracked::Stopped;
            }
        }
    }

    fn on_notice(&mut self, notice: Notice, ctx: &mut Context<Self>) {
        let i = notice.child as usize;
        let Some(child) = self.children.get_mut(i) else { return };
        if !notice.restarting {
            child.state = Tracked::Stopped;
            self.group.retain(|&j| j != i);
            self.resume_group_if_down(ctx);
            return;
        }
        match child.state {
            Tracked::GoingDown => child.state = Tracked::Down,
            Tracked::Running => {
                child.state = Tracked::Down;
                let id = &self.spec.children[i].id;
                tracing::warn!(child = %id, reason = %notice.reason, "supervised child failed");
                let Some(wait) = self.intensity.admit_now() else {
                    tracing::error!(
                        child = %id,
                        "restart intensity exceeded: the supervisor takes its children down and \
                         fails (escalation)"
                    );
                    ctx.fail_with(StopReason::TooManyRestarts);
                    return;
                };
                self.group_wait = self.group_wait.max(wait);
                let n = self.children.len();
                let set = match self.spec.strategy {
                    Strategy::OneForOne => i..i + 1,
                    Strategy::OneForAll => 0..n,
                    Strategy::RestForOne => i..n,
                };
                for j in set.clone().rev() {
                    self.take_down(j, ctx);
                }
                for j in set {
                    if self.children[j].state != Tracked::Stopped && !self.group.contains(&j) {
                        self.group.push(j);
                    }
                }
            }
            Tracked::Down | Tracked::Stopped => {}
        }
        self.resume_group_if_down(ctx);
    }

    /// Tells a running child to go down.
    fn take_down(&mut self, j: usize, ctx: &mut Context<Self>) {
        let child = &mut self.children[j];
        if let (Tracked::Running, Some(at)) = (child.state, child.at) {
            child.state = Tracked::GoingDown;
            ctx.suspend_child(at.address());
        }
    }

    /// Once no child of the group is still going down, resumes those that
    /// are down, in start order, after the group's backoff.
    fn resume_group_if_down(&mut self, ctx: &mut Context<Self>) {
        if self.group.is_empty()
            || self.group.iter().any(|&j| self.children[j].state == Tracked::GoingDown)
        {
            return;
        }
        let mut group = std::mem::take(&mut self.group);
        group.sort_unstable();
        let wait = std::mem::take(&mut self.group_wait);
        for j in group {
            let child = &mut self.children[j];
            if let (Tracked::Down, Some(at)) = (child.state, child.at) {
                child.state = Tracked::Running;
                child.restarts += 1;
                ctx.resume_child(at.address(), wait);
            }
        }
    }

    fn info(&self) -> Vec<ChildInfo> {
        let spec = &self.spec.children;
        self.children
            .iter()
            .zip(spec)
            .map(|(child, spec)| ChildInfo {
                id: spec.id.clone(),
                shard: child.at.map_or(spec.shard.unwrap_or(0), |at| at.shard as usize),
                state: match child.state {
                    Tracked::Running => ChildState::Running,
                    Tracked::GoingDown | Tracked::Down => ChildState::Restarting,
                    Tracked::Stopped => ChildState::Stopped,
                },
                restarts: child.restarts,
            })
            .collect()
    }
}

impl Actor for SupervisorActor {
    type Msg = SupervisorMsg;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let n = self.spec.children.len();
        match ctx.take_kept::<Vec<Child>>() {
            // A restart of the supervisor: its children went down with its
            // last incarnation. Resume them once they all are, and start
            // again those that stopped for good (but temporary ones).
            Some(children) => {
                self.children = children;
                for i in 0..n {
                    let temporary = self.spec.children[i].restart == Restart::Temporary;
                    match self.children[i].state {
                        Tracked::Stopped if !temporary => self.start_child(i, ctx),
                        Tracked::GoingDown | Tracked::Down => self.group.push(i),
                        Tracked::Stopped | Tracked::Running => {}
                    }
                }
                self.resume_group_if_down(ctx);
            }
            None => {
                self.children = vec![Child { at: None, state: Tracked::Stopped, restarts: 0 }; n];
                for i in 0..n {
                    self.start_child(i, ctx);
                }
            }
        }
    }

    fn handle(&mut self, msg: SupervisorMsg, ctx: &mut Context<Self>) {
        match msg.0 {
            Request::Notice(notice) => self.on_notice(notice, ctx),
            Request::Children(reply) => reply.send(self.info()),
            Request::Child(id, reply) => {
                let found = self.spec.children.iter().position(|c| c.id == id);
                let answer = match found.map(|i| &self.children[i]) {
                    None => Err(ChildError::NotFound(id)),
                    Some(Child { at: Some(at), state, .. }) if *state != Tracked::Stopped => {
                        Ok(*at)
                    }
                    Some(_) => Err(ChildError::Stopped(id)),
                };
                reply.send(answer);
            }
        }
    }

    /// Its children go down with it, last started first; they come back up
    /// with its next incarnation, or are stopped for good with it.
    fn stopped(&mut self, _: &StopReason, ctx: &mut Context<Self>) {
        for j in (0..self.children.len()).rev() {
            self.take_down(j, ctx);
        }
        ctx.keep(std::mem::take(&mut self.children));
    }
}

/// Spawns the supervisor `spec` on shard `shard` of `mesh`; it starts its
/// children, in order, in its first turn.
///
/// # Errors
///
/// [`SpawnError::InvalidSupervisor`] for a spec that places a child on a
/// shard the runtime does not have or repeats a child id; otherwise as
/// [`crate::spawn_on`].
pub fn spawn_supervisor(
    mesh: &Arc<Mesh>,
    shard: usize,
    spec: Supervisor,
) -> Result<SupervisorRef, SpawnError> {
    spec.validate(mesh.shard_count()).map_err(SpawnError::InvalidSupervisor)?;
    let spec = Arc::new(spec);
    let actor = crate::spawn_on(mesh, shard, move || SupervisorActor::new(&spec))?;
    Ok(SupervisorRef { actor })
}

/// How a child's [`Notice`] reaches its supervisor (`Link::notice`).
const NOTICE: EntryFn = EntryFn::command(run_notice);

/// Entry: a child's notice for the supervisor at the target, delivered as a
/// message past its mailbox bound (notices are few: at most a couple per
/// child and restart).
///
/// # Safety
///
/// As [`entry::RunFn`], for an entry written with a [`Notice`].
unsafe fn run_notice(shard: *const (), at: *mut u64, how: How) -> usize {
    // SAFETY: forwarded from the caller; the entry holds a `Notice`.
    if let Some((shard, (slot, generation), notice)) = unsafe { Shard::open_entry(shard, at, how) }
    {
        let notice = SupervisorMsg::notice(notice);
        shard.queue_unbounded(slot, generation, fns_of::<SupervisorActor>().run, notice);
    }
    entry::entry_words::<Notice>()
}
