//! The shard's tasks: programs (`block_on`, `spawn_program`) and the
//! futures it spawns for them; each poll of one stands in for a parked
//! dispatch loop.

use crate::shard::{with_current, Shard};

impl Shard {
    /// Program tasks: see [`spawn_program`].
    fn start_program(&self, program: impl std::future::Future<Output = ()> + 'static) {
        let id = self.jobs.next_id();
        let mesh = self.mesh.id;
        let task = spawn_task(async move {
            program.await;
            with_current(|shard| match shard {
                Some(shard) if shard.mesh.id == mesh => {
                    shard.jobs.remove_program(id);
                }
                _ => {}
            });
        });
        self.jobs.add_program(id, task.detach());
    }

    /// Cancels every program task; glommio drops their futures the next
    /// time it runs its queue.
    pub(crate) fn cancel_programs(&self) {
        let programs = self.jobs.take_programs();
        for (_, program) in programs {
            program.cancel();
        }
    }
}

/// Spawns `task` on this thread's executor as a task of its shard
/// (programs, piped futures): each poll of it also stands in for the
/// shard's dispatch loop when that is parked, looking at the rings and
/// waking the loop (a local wake: immediate) when work came.
///
/// A parked loop is woken from another shard through glommio's foreign
/// waker, which glommio notices only when its task queue runs dry or its
/// preempt timer fires (100 ms). A task that keeps yielding (pacing sends
/// with `yield_now`, say) keeps the queue from running dry, and messages
/// from other shards would wait up to that long. Tasks spawned with
/// glommio directly, beside the shard, do not stand in.
pub(crate) fn spawn_task<T: 'static>(
    task: impl std::future::Future<Output = T> + 'static,
) -> glommio::Task<T> {
    glommio::spawn_local(async move {
        let mut task = std::pin::pin!(task);
        std::future::poll_fn(|cx| {
            with_current(|shard| {
                let Some(shard) = shard else { return task.as_mut().poll(cx) };
                let batch = TaskBatch::begin(shard);
                let poll = task.as_mut().poll(cx);
                drop(batch);
                shard.task_polled();
                poll
            })
        })
        .await
    })
}

/// One poll of a shard's task: its cross-shard sends stage their entries,
/// published together when the poll ends (also by unwinding), so a task
/// that streams pays one release store and at most one wake-up per ring
/// per poll instead of per message. A send that finds its ring full
/// publishes at once, so a task that retries in the same poll progresses.
struct TaskBatch<'a> {
    shard: &'a Shard,
    /// The state before this poll (a task's poll may run a pass, never
    /// another task's poll; restored all the same).
    was: bool,
}

impl<'a> TaskBatch<'a> {
    fn begin(shard: &'a Shard) -> Self {
        Self { shard, was: shard.rings.set_task_batch(true) }
    }
}

impl Drop for TaskBatch<'_> {
    fn drop(&mut self) {
        self.shard.rings.set_task_batch(self.was);
        self.shard.publish_task_batch();
    }
}

/// Runs `program` as a task of the shard running on this thread, for as long
/// as the shard runs: when the shard exits, a program still pending is
/// dropped. Hands `program` back on a thread that runs no shard.
///
/// # Errors
///
/// `program` itself, when called off the runtime.
pub fn spawn_program<F: std::future::Future<Output = ()> + 'static>(program: F) -> Result<(), F> {
    with_current(|shard| match shard {
        Some(shard) => {
            shard.start_program(program);
            Ok(())
        }
        None => Err(program),
    })
}
