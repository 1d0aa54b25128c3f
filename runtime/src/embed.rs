//! Running whirl shards inside executors the program owns.

use std::sync::Arc;

use whirl_executor::Mesh;

use crate::{Error, System};

/// whirl shards for a program that runs its own glommio executors: whirl
/// does not start threads; the program awaits [`ShardRunner::run`] for
/// each shard on the executor that should host it (one shard per executor),
/// and uses the same [`ActorRef`](crate::ActorRef)s and [`System`].
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
}

impl Embedded {
    pub(crate) fn new(mesh: Arc<Mesh>) -> Self {
        Self { system: System::new(mesh) }
    }

    /// The handle to spawn, name and shut down.
    pub fn system(&self) -> System {
        self.system.clone()
    }

    /// The runner of shard `index`; each can be taken once.
    ///
    /// # Errors
    ///
    /// [`Error::NoShards`] if `index` is out of range.
    pub fn shard(&self, index: usize) -> Result<ShardRunner, Error> {
        if index >= self.system.shards() {
            return Err(Error::NoShards);
        }
        Ok(ShardRunner { mesh: self.system.mesh().clone(), index })
    }
}

/// One shard, to be run on an executor of the program's.
#[derive(Debug)]
pub struct ShardRunner {
    mesh: Arc<Mesh>,
    index: usize,
}

impl ShardRunner {
    /// Runs the shard on the current glommio executor until the runtime
    /// shuts down. Returns `false` at once if this shard already runs.
    pub async fn run(self) -> bool {
        whirl_executor::run_shard(self.mesh, self.index).await
    }
}
