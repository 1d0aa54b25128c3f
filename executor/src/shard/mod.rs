//! One shard: the actors of one core, their run queue, and this shard's ends
//! of the ring mesh.
//!
//! Everything here runs on the shard's own thread, with no atomic on the
//! local paths. The hot state (slots, run queue, outbound rings) sits in
//! [`LocalCell`]s whose accesses never call user code; no borrow is ever held
//! while a handler, hook, factory or `Drop` runs, so user code may send,
//! spawn and stop freely.

pub(crate) mod current;
pub(crate) mod ops;
pub(crate) mod parts;

pub(crate) use current::{current_of, with_current, with_mesh, CurrentShard};
pub(crate) use ops::tasks::spawn_task;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::base::local_cell::LocalCell;
use crate::mesh::{Mesh, ShardEnds};
use crate::shard::parts::arenas::Arenas;
use crate::shard::parts::backpressure::Backpressure;
use crate::shard::parts::idle_poll::IdlePoll;
use crate::shard::parts::injection::Injection;
use crate::shard::parts::jobs::Jobs;
use crate::shard::parts::metrics::{self, ShardMetrics};
use crate::shard::parts::parking::Parking;
use crate::shard::parts::queues::Queues;
use crate::shard::parts::rebuilds::Rebuilds;
use crate::shard::parts::replies::ReplySlab;
use crate::shard::parts::reported::Reported;
use crate::shard::parts::rings::Rings;
use crate::shard::parts::slots::Slots;
use crate::shard::parts::turn::Turn;
use crate::shard::parts::watches::Watches;

/// One shard's state, owned by its dispatch loop: its identity and its
/// parts (see [`parts`]), each with private fields and its own methods.
/// What the shard does with them is in [`ops`], one feature a file.
pub(crate) struct Shard {
    pub(crate) id: u16,
    /// `mesh.id`, kept here so a send compares it without a pointer chase.
    pub(crate) mesh_id: u32,
    /// The mailbox bound (`mesh.config.mailbox_capacity`).
    pub(crate) mailbox_capacity: u32,
    pub(crate) mesh: Arc<Mesh>,
    /// Every actor's slot.
    pub(crate) slots: LocalCell<Slots>,
    /// The handler call running now and its turn.
    pub(crate) turn: Turn,
    /// The run queues, one per priority class.
    pub(crate) queues: Queues,
    /// The rings to and from other shards and what waits around them.
    pub(crate) rings: Rings,
    /// Whether the dispatch loop runs a pass or is parked, and its waker.
    pub(crate) parking: Parking,
    /// How long the loop polls before it parks, as learned so far.
    pub(crate) idle_poll: IdlePoll,
    /// Senders that wait for room: outboxes, held-back actors, room waiters.
    pub(crate) backpressure: Backpressure,
    /// An injected message held for a full mailbox.
    pub(crate) injection: Injection,
    /// Program tasks and job ids.
    pub(crate) jobs: Jobs,
    /// Restarts in flight.
    pub(crate) rebuilds: Rebuilds,
    /// The asks pending on this shard.
    pub(crate) replies: RefCell<ReplySlab>,
    /// The arenas of this shard's actors.
    pub(crate) arenas: LocalCell<Arenas>,
    /// The watches this shard's actors have set on others.
    pub(crate) watches: LocalCell<Watches<Shard>>,
    /// What the shard counts about itself and its actors.
    pub(crate) metrics: ShardMetrics,
    /// Dead letters reported to the program so far.
    pub(crate) reported: Reported,
}

impl Shard {
    pub(crate) fn new(mesh: Arc<Mesh>, id: usize, ends: ShardEnds) -> Rc<Self> {
        let shards = mesh.shard_count();
        let slots = Slots {
            metrics: mesh.config.metrics,
            timed_every: metrics::timed_every(mesh.config.handling_time_sample_every),
            ..Slots::default()
        };
        let idle_poll = IdlePoll::new(mesh.config.spin_before_park);
        Rc::new(Self {
            id: id as u16,
            mesh_id: mesh.id,
            mailbox_capacity: u32::try_from(mesh.config.mailbox_capacity).unwrap_or(u32::MAX),
            mesh,
            slots: LocalCell::new(slots),
            turn: Turn::new(),
            queues: Queues::new(),
            rings: Rings::new(ends.inbound, ends.outbound),
            parking: Parking::default(),
            idle_poll,
            backpressure: Backpressure::new(),
            injection: Injection::default(),
            jobs: Jobs::default(),
            rebuilds: Rebuilds::default(),
            replies: RefCell::new(ReplySlab::default()),
            arenas: LocalCell::new(Arenas::default()),
            watches: LocalCell::new(Watches::default()),
            metrics: ShardMetrics::new(shards),
            reported: Reported::new(),
        })
    }

    pub(crate) fn shared(&self) -> &crate::mesh::ShardShared {
        &self.mesh.shards[self.id as usize]
    }
}
