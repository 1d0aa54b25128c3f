//! 11. A work pool: `pool.push_work(f, data)` runs `f` on one of N workers
//!     spread over the shards and returns its result. Each worker has a
//!     fixed memory budget (its arena); a worker that panics is restarted
//!     and the item is reported failed, or tried again if asked: never lost.
//!
//! Run: `cargo run --release -p whirl-examples --bin 11_work_pool`

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use whirl::bumpalo::Bump;
use whirl::glommio::spawn_local;
use whirl::{
    Actor, ActorRef, Context, Placement, Reply, Restart, RestartPolicy, Runtime, SpawnOptions,
    System,
};

/// A function the pool runs: the item, and the worker's arena for scratch
/// space (reset after each item, and when the worker restarts).
type WorkFn<D, R> = fn(D, &Bump) -> R;

/// One item for a worker, and where its result goes.
struct Job<D, R> {
    work: WorkFn<D, R>,
    data: D,
    result: Reply<R>,
}

/// Runs jobs. It has no state: a panic in `work` fails the worker, its
/// restart policy builds a new one behind the same ref, and the dropped
/// `Reply` tells the caller the item failed.
struct Worker<D, R>(std::marker::PhantomData<fn(D) -> R>);

impl<D: Send + 'static, R: Send + 'static> Actor for Worker<D, R> {
    type Msg = Job<D, R>;

    fn handle(&mut self, job: Job<D, R>, ctx: &mut Context<Self>) {
        let result = (job.work)(job.data, ctx.arena());
        // Scratch is per item: the budget bounds one item, not the sum.
        ctx.reset_arena();
        job.result.send(result);
    }
}

/// How the pool picks a worker.
#[derive(Debug, Clone, Copy)]
enum Pick {
    RoundRobin,
    /// The worker with the fewest items in flight.
    LeastLoaded,
}

/// Why an item has no result.
#[derive(Debug, PartialEq, Eq)]
enum WorkError {
    /// The worker failed on it (it panicked, or went over its memory
    /// budget) on every attempt.
    Failed { attempts: u32 },
}

/// Workers spread round robin over the shards.
struct Pool<D, R> {
    workers: Vec<ActorRef<Job<D, R>>>,
    /// Items in flight at each worker (the pool lives on one shard).
    in_flight: Vec<Cell<usize>>,
    next: Cell<usize>,
    pick: Pick,
}

impl<D: Send + 'static, R: Send + 'static> Pool<D, R> {
    /// `size` workers, each with an arena of at most `arena_bytes`.
    fn new(sys: &System, size: usize, arena_bytes: usize, pick: Pick) -> Self {
        // 1. A worker is restarted after each failure, without limit or
        //    backoff: a bad item must not take the pool down with it.
        let policy =
            RestartPolicy::new(Restart::Permanent).intensity(u32::MAX, Duration::from_secs(1));
        let workers = (0..size)
            .map(|i| {
                let options = SpawnOptions::new(Placement::Shard(i % sys.shards()))
                    .restart(policy)
                    .arena_budget(arena_bytes);
                sys.spawn_with_options(options, || Worker(std::marker::PhantomData))
                    .expect("the shard exists")
            })
            .collect();
        let in_flight = (0..size).map(|_| Cell::new(0)).collect();
        Self { workers, in_flight, next: Cell::new(0), pick }
    }

    /// Runs `work(data)` on a worker and returns its result.
    async fn push_work(&self, work: WorkFn<D, R>, data: D) -> Result<R, WorkError> {
        let i = self.choose();
        // Counted in flight until this future ends, however it ends (also
        // if the caller drops it half way).
        let _in_flight = InFlight::count(&self.in_flight[i]);
        // 2. An ask: the answer is the result; a worker that fails drops the
        //    reply unanswered, and the ask says so.
        let answer = self.workers[i].ask(|result| Job { work, data, result }).await;
        answer.map_err(|_| WorkError::Failed { attempts: 1 })
    }

    /// As [`push_work`](Self::push_work), trying up to `attempts` times
    /// (each on the next worker the pool picks).
    async fn push_work_retrying(
        &self,
        work: WorkFn<D, R>,
        data: D,
        attempts: u32,
    ) -> Result<R, WorkError>
    where
        D: Clone,
    {
        assert!(attempts >= 1, "at least one attempt");
        for _ in 1..attempts {
            if let Ok(result) = self.push_work(work, data.clone()).await {
                return Ok(result);
            }
        }
        self.push_work(work, data).await.map_err(|_| WorkError::Failed { attempts })
    }

    fn choose(&self) -> usize {
        match self.pick {
            Pick::RoundRobin => {
                let next = self.next.replace(self.next.get() + 1);
                next % self.workers.len()
            }
            Pick::LeastLoaded => (0..self.workers.len())
                .min_by_key(|&i| self.in_flight[i].get())
                .expect("a pool has workers"),
        }
    }
}

/// One item in flight at a worker, for as long as it lives.
struct InFlight<'a>(&'a Cell<usize>);

impl<'a> InFlight<'a> {
    fn count(counter: &'a Cell<usize>) -> Self {
        counter.set(counter.get() + 1);
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// Set once the flaky item has failed once.
static FLAKED: AtomicBool = AtomicBool::new(false);

/// The work: the sum of the squares up to `n`, with its scratch in the
/// arena. 13 always panics; 42 panics the first time only.
fn sum_of_squares(n: u64, arena: &Bump) -> u64 {
    assert!(n != 13, "unlucky 13");
    if n == 42 && !FLAKED.swap(true, Ordering::Relaxed) {
        panic!("flaky 42");
    }
    let squares = arena.alloc_slice_fill_with(n as usize, |i| (i as u64 + 1).pow(2));
    squares.iter().sum()
}

fn main() -> Result<(), whirl::Error> {
    // 3. The panics are expected here: keep their messages off the output.
    std::panic::set_hook(Box::new(|_| {}));
    let rt = Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build()?;
    let report = rt.block_on(|sys| async move {
        let mut lines = Vec::new();
        for pick in [Pick::RoundRobin, Pick::LeastLoaded] {
            FLAKED.store(false, Ordering::Relaxed);
            let pool: Rc<Pool<u64, u64>> = Rc::new(Pool::new(&sys, 4, 64 * 1024, pick));
            // 4. Items one at a time, then 100 callers at once (tasks on
            //    this shard), which least-loaded spreads by items in flight.
            let (mut done, mut failed) = (0, Vec::new());
            for n in 1..=50 {
                match pool.push_work_retrying(sum_of_squares, n, 2).await {
                    Ok(sum) => {
                        assert_eq!(sum, n * (n + 1) * (2 * n + 1) / 6);
                        done += 1;
                    }
                    Err(e) => failed.push((n, e)),
                }
            }
            let callers: Vec<_> = (100..200)
                .map(|n| {
                    let pool = pool.clone();
                    spawn_local(async move { pool.push_work(sum_of_squares, n).await })
                })
                .collect();
            for caller in callers {
                if caller.await.is_ok() {
                    done += 1;
                }
            }
            // 5. More than the budget: the worker stops with ArenaBudget, is
            //    restarted, and the item is reported failed.
            let too_big = pool.push_work(sum_of_squares, 100_000).await;
            lines
                .push(format!("{pick:?}: {done} done, failed {failed:?}, over budget {too_big:?}"));
        }
        sys.shutdown().await;
        lines
    })?;
    for line in report {
        println!("{line}");
    }
    Ok(())
}
