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
///
/// The task is scheduled, never run inside this call: glommio's
/// `spawn_local` polls a new task at once, in its spawner's context, and a
/// program started by `run_on` (from a pass) or a job piped from a handler
/// would then run its first poll inside the pass — with the pass's state
/// (its sends staged for the pass's end, which a program that blocks its
/// thread would never reach) and under the pass's panic handling.
pub(crate) fn spawn_task<T: 'static>(
    task: impl std::future::Future<Output = T> + 'static,
) -> glommio::Task<T> {
    let executor = glommio::executor();
    let queue = executor.current_task_queue();
    let scheduled = executor.spawn_local_into(
        async move {
            let mut task = std::pin::pin!(task);
            std::future::poll_fn(|cx| {
                let poll = task.as_mut().poll(cx);
                with_current(|shard| {
                    if let Some(shard) = shard {
                        shard.task_polled();
                    }
                });
                poll
            })
            .await
        },
        queue,
    );
    // The queue is the one running this code: it exists.
    scheduled.expect("the running task queue takes new tasks")
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
