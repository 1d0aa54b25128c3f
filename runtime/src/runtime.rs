//! The runtime: one glommio executor thread per shard.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{FromRawFd, IntoRawFd};
use std::panic::AssertUnwindSafe;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use futures_lite::FutureExt;
use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement};
use whirl_executor::{run_shard, Mesh, ShutdownReport};

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

/// What to do when an executor cannot start.
const EXECUTOR_ADVICE: &str = "glommio needs io_uring (Linux >= 5.8) and a locked-memory \
     limit (RLIMIT_MEMLOCK) of at least 512 KiB, which it checks for every user, root included: \
     see `ulimit -l` (KiB) and raise it with `ulimit -l 512`, memlock in \
     /etc/security/limits.conf, or LimitMEMLOCK=512K for systemd";

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
/// counted as dead letters. Actors that keep messaging each other (on one
/// shard or across shards alike) never drain by themselves: at the shutdown
/// deadline ([`Builder::shutdown_timeout`], or
/// [`shutdown_timeout`](Self::shutdown_timeout)) they are stopped anyway, and
/// what they held is counted as dead letters of cause `ShutdownTimeout`.
///
/// Programs started with [`block_on`](Self::block_on) that still wait on
/// something other than the shutdown itself when it completes are dropped;
/// their `block_on` returns [`Error::ShutDown`].
#[derive(Debug)]
pub struct Runtime {
    system: System,
    threads: Vec<ExecutorJoinHandle<bool>>,
    metrics_addr: Option<SocketAddr>,
}

impl Runtime {
    /// A builder with the defaults.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Starts one executor thread per shard and waits until each has checked
    /// in; if any cannot start, the others are shut down and the error says
    /// what to do.
    pub(crate) fn start(
        mesh: Arc<Mesh>,
        cpus: Option<Vec<usize>>,
        endpoint: Option<TcpListener>,
    ) -> Result<Self, Error> {
        let metrics_addr = match &endpoint {
            Some(listener) => {
                Some(listener.local_addr().map_err(|e| Error::Endpoint(e.to_string()))?)
            }
            None => None,
        };
        let mut endpoint = endpoint;
        let shards = mesh.shard_count();
        let mut threads = Vec::with_capacity(shards);
        let (check_in, checked_in) = mpsc::channel::<usize>();
        // The dispatch loop's poll (learned, at most `spin_before_park`) is
        // the shard's only one: glommio sleeps as soon as the loop parks and
        // nothing else runs. Its own spin would poll the whole limit after
        // every park, whatever the loop learned.
        let mut failure = None;
        for shard in 0..shards {
            let placement = match &cpus {
                Some(cpus) => Placement::Fixed(cpus[shard]),
                None => Placement::Unbound,
            };
            let shard_mesh = mesh.clone();
            let check_in = check_in.clone();
            let endpoint = if shard == 0 { endpoint.take() } else { None };
            let started = LocalExecutorBuilder::new(placement)
                .name(&format!("whirl-{shard}"))
                .spin_before_park(Duration::ZERO)
                .spawn(move || {
                    // Called once the executor exists: check in. A thread
                    // whose executor fails drops this closure unrun.
                    let _ = check_in.send(shard);
                    let system = System::new(shard_mesh.clone());
                    let run = run_shard(shard_mesh, shard);
                    async move {
                        if let Some(listener) = endpoint {
                            // SAFETY: the descriptor of a bound, listening
                            // socket, whose ownership moves to glommio's
                            // listener (nothing else closes it).
                            let listener = unsafe {
                                glommio::net::TcpListener::from_raw_fd(listener.into_raw_fd())
                            };
                            // Raced with the shard: dropped (its listener
                            // closed) when the shard's loop ends.
                            let serve = async move {
                                crate::serve_metrics(system, listener).await;
                                true
                            };
                            return futures_lite::future::or(run, serve).await;
                        }
                        run.await
                    }
                });
            match started {
                Ok(handle) => threads.push(Some(handle)),
                Err(error) => {
                    failure = Some(format!("shard {shard}: {error}"));
                    break;
                }
            }
        }
        drop(check_in);
        let mut running = vec![false; shards];
        // Every thread that was spawned checks in or drops its sender, even
        // when a later shard's thread could not be spawned: those that run
        // must be shut down, not joined as if they had ended.
        for shard in checked_in.iter().take(threads.len()) {
            running[shard] = true;
        }
        if running.iter().all(|&r| r) {
            let threads = threads.into_iter().flatten().collect();
            return Ok(Self { system: System::new(mesh), threads, metrics_addr });
        }
        // Some shard will never run: give it up, stop the others.
        for (shard, thread) in threads.iter_mut().enumerate() {
            if !running[shard] {
                if let Some(Err(error)) = thread.take().map(ExecutorJoinHandle::join) {
                    failure.get_or_insert_with(|| format!("shard {shard}: {error}"));
                }
            }
        }
        for shard in (0..shards).filter(|&s| !running[s]) {
            mesh.abandon_shard(shard);
        }
        let threads = threads.into_iter().flatten().collect();
        drop(Self { system: System::new(mesh), threads, metrics_addr });
        let why = failure.unwrap_or_else(|| "an executor thread ended before it started".into());
        Err(Error::Executor(format!("{why}; {EXECUTOR_ADVICE}")))
    }

    /// The address the metrics endpoint listens on, if
    /// [`Builder::metrics_endpoint`](crate::Builder::metrics_endpoint) set
    /// one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Every shard's and actor's counters (see [`Snapshot`]), waited for on
    /// this thread.
    ///
    /// [`Snapshot`]: crate::Snapshot
    ///
    /// # Panics
    ///
    /// On one of this runtime's own shards, where it would wait for
    /// itself: `.await` [`System::snapshot`] there.
    pub fn snapshot(&self) -> crate::Snapshot {
        assert!(
            whirl_executor::current_shard(self.system.mesh()).is_none(),
            "Runtime::snapshot on a shard of the same runtime would wait for itself: \
             await System::snapshot instead"
        );
        futures_lite::future::block_on(self.system.snapshot())
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
    /// [`Error::ShutDown`] when the runtime shuts down before the future
    /// completes (a future awaiting [`System::shutdown`] completes first),
    /// [`Error::Busy`] when shard 0's injection queue is full. A panic in
    /// the future is resumed on the caller.
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
        let (done, result) = mpsc::sync_channel(1);
        let system = self.system();
        // If the shard exits before it runs this (or before the program
        // finishes), the closure or the task is dropped with `done`, and
        // `recv` below reports the shutdown.
        let start: Box<dyn FnOnce() + Send> = Box::new(move || {
            let future = AssertUnwindSafe(async move { program(system).await }).catch_unwind();
            let spawned = whirl_executor::spawn_program(async move {
                let _ = done.send(future.await);
            });
            // `run_on` runs this on shard 0's thread, which runs a shard.
            assert!(spawned.is_ok(), "block_on's program runs on a shard");
        });
        if mesh.run_on(0, start).is_err() {
            return Err(if mesh.is_shutting_down() { Error::ShutDown } else { Error::Busy });
        }
        match result.recv() {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => Err(Error::ShutDown),
        }
    }

    /// Shuts down (see [`Runtime`]'s `# Shutdown`) with the deadline from
    /// [`Builder::shutdown_timeout`], joins every shard, and reports what was
    /// cut short.
    pub fn shutdown(mut self) -> ShutdownReport {
        let timeout = self.system.mesh().config().shutdown_timeout;
        self.shutdown_and_join(timeout)
    }

    /// As [`shutdown`](Self::shutdown), with a deadline of `timeout`.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> ShutdownReport {
        self.shutdown_and_join(timeout)
    }

    fn shutdown_and_join(&mut self, timeout: Duration) -> ShutdownReport {
        let mesh = self.system.mesh();
        mesh.begin_shutdown_within(timeout);
        for thread in self.threads.drain(..) {
            if let Err(error) = thread.join() {
                tracing::error!(%error, "a whirl shard thread failed");
            }
        }
        let report = mesh.shutdown_report();
        tracing::info!(?report, "runtime shut down");
        report
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            let timeout = self.system.mesh().config().shutdown_timeout;
            self.shutdown_and_join(timeout);
        }
    }
}
