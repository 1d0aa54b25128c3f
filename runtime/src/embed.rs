//! Running whirl shards inside executors the program owns.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use whirl_executor::Mesh;

use crate::{Error, System};

/// whirl shards for a program that runs its own glommio executors: whirl
/// does not start threads; the program awaits [`ShardRunner::run`] for
/// each shard on the executor that should host it (one shard per executor),
/// and uses the same [`ActorRef`](crate::ActorRef)s and [`System`].
///
/// Every shard must run for shutdown to complete, or be given up: a
/// [`ShardRunner`] dropped without running, and a `run` future dropped before
/// it finishes, mark their shard exited, and the runtime carries on without
/// it (messages for it become dead letters).
///
/// A parked shard is woken from other shards through glommio's waker from
/// another thread, which glommio notices only when its task queue runs dry
/// or its preempt timer fires (100 ms by default). A task of the program
/// that keeps its executor busy (yielding in a loop, say) delays messages
/// from other shards by up to that long; whirl's own tasks (`block_on`
/// programs, `Context::pipe`) look at the shard's rings on its behalf, the
/// program's own tasks do not. Give such executors a shorter
/// `preempt_timer`.
///
/// ```
/// use glommio::{LocalExecutorBuilder, Placement};
///
/// let whirl = whirl::Runtime::builder().shards(2).build_embedded()?;
/// let handles: Vec<_> = (0..2)
///     .map(|i| {
///         let shard = whirl.shard(i).unwrap();
///         LocalExecutorBuilder::new(Placement::Fixed(i))
///             .spawn(move || async move {
///                 // ... the program's own tasks on this executor ...
///                 shard.run().await; // until whirl shuts down
///             })
///             .unwrap()
///     })
///     .collect();
/// let system = whirl.system();
/// // ... spawn actors with `system`, and eventually:
/// futures_lite::future::block_on(system.shutdown());
/// for h in handles {
///     h.join().unwrap();
/// }
/// # Ok::<(), whirl::Error>(())
/// ```
#[derive(Debug)]
pub struct Embedded {
    system: System,
    /// Which shards' runners have been handed out.
    taken: Vec<AtomicBool>,
}

impl Embedded {
    pub(crate) fn new(mesh: Arc<Mesh>) -> Self {
        let taken = (0..mesh.shard_count()).map(|_| AtomicBool::new(false)).collect();
        Self { system: System::new(mesh), taken }
    }

    /// The handle to spawn, name and shut down.
    pub fn system(&self) -> System {
        self.system.clone()
    }

    /// The runner of shard `index`. Only the first runner of a shard does
    /// anything; later ones resolve to `false` at once when run.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchShard`] if `index` is out of range.
    pub fn shard(&self, index: usize) -> Result<ShardRunner, Error> {
        let shards = self.system.shards();
        if index >= shards {
            return Err(Error::NoSuchShard { index, shards });
        }
        let first = !self.taken[index].swap(true, Ordering::Relaxed);
        Ok(ShardRunner { mesh: first.then(|| self.system.mesh().clone()), index })
    }
}

/// One shard, to be run on an executor of the program's.
#[derive(Debug)]
pub struct ShardRunner {
    /// `None` once `run` has taken it, or for a shard's second runner.
    mesh: Option<Arc<Mesh>>,
    index: usize,
}

impl ShardRunner {
    /// Runs the shard on the current glommio executor until the runtime
    /// shuts down. Resolves to `false` at once if this shard already runs or
    /// ran. Dropping the future before it finishes gives the shard up (see
    /// [`Embedded`]).
    pub fn run(mut self) -> impl std::future::Future<Output = bool> {
        let run = self.mesh.take().map(|mesh| whirl_executor::run_shard(mesh, self.index));
        async move {
            match run {
                Some(run) => run.await,
                None => false,
            }
        }
    }
}

impl Drop for ShardRunner {
    fn drop(&mut self) {
        // Never run: the shard will not start, so shutdown must not wait.
        if let Some(mesh) = self.mesh.take() {
            mesh.abandon_shard(self.index);
        }
    }
}
