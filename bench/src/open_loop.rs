//! Open-loop load, corrected for coordinated omission: the program offers
//! messages at a fixed rate, each stamped with the time it was *due*, and
//! the receiver records the time from then (as wrk2 does). A runtime that
//! falls behind cannot hide it by making the sender wait: the wait counts.
//!
//! Two shapes, on every [`Peer`]: one way (program → logger) and the
//! steady_state pipeline (generator → worker → logger), with a heartbeat
//! that ends each beat and closes the run after `beats` of them.

use std::time::{Duration, Instant};

use futures_lite::future::yield_now;
use hdrhistogram::Histogram;

use crate::actors::{finish_line, Ctx, Done, Logic, Peer};
use crate::report::histogram;

/// What a run of [`run`] saw.
#[derive(Debug)]
pub struct Seen {
    /// Latency of each message from the time it was due, nanoseconds.
    pub latencies: Histogram<u64>,
    /// Messages logged in each heartbeat.
    pub per_beat: Vec<u64>,
}

/// Records how late each message is.
struct Logger {
    seen: Seen,
    this_beat: u64,
}

/// Messages of [`Logger`].
enum LoggerMsg {
    /// A value due at this time.
    Value(Instant),
    /// A heartbeat: close the current beat.
    Beat,
    /// The run is over.
    Finish(Done<Seen>),
}

impl<P: Peer> Logic<P> for Logger {
    type Msg = LoggerMsg;

    #[inline]
    fn handle(&mut self, msg: LoggerMsg, _ctx: &mut Ctx<'_, P, Self>) {
        match msg {
            LoggerMsg::Value(due) => {
                let late = due.elapsed().as_nanos() as u64;
                self.seen.latencies.saturating_record(late.max(1));
                self.this_beat += 1;
            }
            LoggerMsg::Beat => self.seen.per_beat.push(std::mem::take(&mut self.this_beat)),
            LoggerMsg::Finish(mut done) => {
                let seen = Seen { latencies: histogram(2), per_beat: Vec::new() };
                done.finish(std::mem::replace(&mut self.seen, seen));
            }
        }
    }
}

/// The pipeline's middle stage: works on each value, passes it on.
struct Worker<P: Peer> {
    logger: P::Addr<Logger>,
}

impl<P: Peer> Logic<P> for Worker<P> {
    type Msg = LoggerMsg;

    #[inline]
    fn handle(&mut self, msg: LoggerMsg, ctx: &mut Ctx<'_, P, Self>) {
        if let LoggerMsg::Value(due) = &msg {
            // The work: a FizzBuzz of the value's nanoseconds, as
            // steady_state's example worker does.
            let n = due.elapsed().subsec_nanos();
            std::hint::black_box(match (n % 3, n % 5) {
                (0, 0) => 15,
                (0, _) => 3,
                (_, 0) => 5,
                _ => n,
            });
        }
        ctx.send(&self.logger, msg);
    }
}

/// Offers `rate` messages a second for `beats` heartbeats of `beat` each,
/// straight to a logger (`worker: false`, on the last core) or through a
/// worker (`worker: true`, on the last core, the logger on core 0).
pub fn run<P: Peer>(
    peer: &P,
    worker: bool,
    cores: usize,
    rate: u64,
    beats: u32,
    beat: Duration,
) -> Seen {
    peer.block_on(move |h| async move {
        let last = cores - 1;
        let logger = Logger {
            seen: Seen { latencies: histogram(3_600_000_000_000), per_beat: Vec::new() },
            this_beat: 0,
        };
        let logger = P::spawn(&h, if worker { 0 } else { last }, logger).await;
        let stage = if worker {
            Some(P::spawn(&h, last, Worker::<P> { logger: logger.clone() }).await)
        } else {
            None
        };
        let interval = Duration::from_secs_f64(1.0 / rate as f64);
        let per_beat = (beat.as_secs_f64() * rate as f64).max(1.0) as u64;
        let start = Instant::now();
        for i in 0..per_beat * u64::from(beats) {
            if i > 0 && i % per_beat == 0 {
                P::tell(&logger, LoggerMsg::Beat).await;
            }
            let due = start + interval.mul_f64(i as f64);
            while Instant::now() < due {
                yield_now().await;
            }
            match &stage {
                Some(worker) => P::tell(worker, LoggerMsg::Value(due)).await,
                None => P::tell(&logger, LoggerMsg::Value(due)).await,
            }
        }
        // The last beat closes after its last message is logged.
        let (done, seen) = finish_line();
        match &stage {
            Some(worker) => {
                P::tell(worker, LoggerMsg::Beat).await;
                P::tell(worker, LoggerMsg::Finish(done)).await;
            }
            None => {
                P::tell(&logger, LoggerMsg::Beat).await;
                P::tell(&logger, LoggerMsg::Finish(done)).await;
            }
        }
        seen.await
    })
}
