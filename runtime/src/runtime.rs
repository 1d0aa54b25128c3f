//! The runtime: one glommio executor thread per shard.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_lite::FutureExt;
use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement};
use whirl_executor::{run_shard, Mesh};

use crate::{Builder, Error, System};

/// The CPUs this process may run on, in order.
pub(crate) fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; all-zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is this
    // thread.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    if rc != 0 {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        return (0..n).collect();
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: CPU_ISSET reads one bit of `set`, bounds-checked by the
        // range above.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// A running whirl runtime: one pinned glommio executor per shard, each
/// running that shard's dispatch loop.
///
/// # Shutdown
///
/// [`shutdown`](Self::shutdown) (or dropping the runtime) stops accepting
/// work from outside, cancels timers and piped jobs, lets every actor drain
/// its mailbox until no message is in flight anywhere, calls every actor's
/// `stopped`, and joins every shard's thread. Messages accepted before
/// shutdown began are handled; messages that arrive for a stopped actor are
/// counted as dead letters.
#[derive(Debug)]
pub struct Runtime {
    system: System,
    threads: Vec<ExecutorJoinHandle<bool>>,
}

impl Runtime {
    /// A builder with the defaults.
    pub fn builder() -> Builder {
        Builder::default()
    }

    pub(crate) fn start(mesh: Arc<Mesh>, cpus: Option<Vec<usize>>) -> Result<Self, Error> {
        let mut threads = Vec::with_capacity(mesh.shard_count());
        // glommio's own spin matches ours: once a shard's dispatch loop
        // parks, glommio keeps polling for wake-ups as long before it sleeps.
        let spin = mesh.config().spin_before_park;
        for shard in 0..mesh.shard_count() {
            let placement = match &cpus {
                Some(cpus) => Placement::Fixed(cpus[shard]),
                None => Placement::Unbound,
            };
            let shard_mesh = mesh.clone();
            let started = LocalExecutorBuilder::new(placement)
                .name(&format!("whirl-{shard}"))
                .spin_before_park(spin)
                .spawn(move || run_shard(shard_mesh, shard));
            match started {
                Ok(handle) => threads.push(handle),
                Err(error) => {
                    // Stop the shards already started before reporting.
                    let runtime = Self { system: System::new(mesh.clone()), threads };
                    drop(runtime);
                    return Err(Error::Executor(error.to_string()));
                }
            }
        }
        Ok(Self { system: System::new(mesh), threads })
    }

    /// A handle to spawn actors, look up names and shut down, usable from
    /// any thread.
    pub fn system(&self) -> System {
        self.system.clone()
    }

    /// Runs the future `program` builds on shard 0 and waits for its
    /// output. `program` runs on shard 0 (its future need not be `Send`) and
    /// gets a [`System`].
    ///
    /// # Errors
    ///
    /// [`Error::BlockOnShard`] when called from one of this runtime's shards,
    /// [`Error::ShutDown`] when the runtime is shut down before the future
    /// completes. A panic in the future is resumed on the caller.
    pub fn block_on<F, Fut, T>(&self, program: F) -> Result<T, Error>
    where
        F: FnOnce(System) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        let mesh = self.system.mesh().clone();
        if whirl_executor::current_shard(&mesh).is_some() {
            return Err(Error::BlockOnShard);
        }
        if mesh.is_shut_down() {
            return Err(Error::ShutDown);
        }
        let (done, result) = std::sync::mpsc::sync_channel(1);
        let system = self.system();
        mesh.task_started();
        let task_mesh = mesh.clone();
        let start: Box<dyn FnOnce() + Send> = Box::new(move || {
            let finished = TaskGuard(task_mesh);
            let future = AssertUnwindSafe(async move { program(system).await }).catch_unwind();
            glommio::spawn_local(async move {
                let output = future.await;
                let _ = done.send(output);
                drop(finished);
            })
            .detach();
        });
        if mesh.run_on(0, start).is_err() {
            mesh.task_finished();
            return Err(Error::Busy);
        }
        match result.recv() {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => Err(Error::ShutDown),
        }
    }

    /// Shuts down (see [`Runtime`]'s `# Shutdown`) and joins every shard.
    pub fn shutdown(mut self) {
        self.shutdown_and_join();
    }

    fn shutdown_and_join(&mut self) {
        let mesh = self.system.mesh();
        mesh.begin_shutdown();
        for thread in self.threads.drain(..) {
            if let Err(error) = thread.join() {
                tracing::error!(%error, "a whirl shard thread failed");
            }
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown_and_join();
    }
}

/// Marks a `block_on` task finished even if it panics or is dropped.
struct TaskGuard(Arc<Mesh>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.task_finished();
    }
}
