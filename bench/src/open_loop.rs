//! Open-loop load, corrected for coordinated omission: the program offers
//! messages at a fixed rate, each stamped with the time it was *due*, and
//! the receiver records the time from then (as wrk2 does). A runtime that
//! falls behind cannot hide it by making the sender wait: the wait counts.
//!
//! Two shapes, on every [`Peer`]: one way (program → logger) and the
//! steady_state pipeline (generator → worker → logger). A run lasts
//! `beats` heartbeats of `beat` each.

use std::time::{Duration, Instant};

use futures_lite::future::yield_now;
use hdrhistogram::Histogram;

use crate::actors::{finish_line, Ctx, Done, Logic, Peer};
use crate::report::histogram;

/// Records how late each message is.
struct Logger {
    latencies: Histogram<u64>,
}

/// Messages of [`Logger`] (and of the worker, which passes them on).
enum LoggerMsg {
    /// A value due at this time.
    Value(Instant),
    /// The run is over: hand over the latencies.
    Finish(Done<Histogram<u64>>),
}

impl<P: Peer> Logic<P> for Logger {
    type Msg = LoggerMsg;

    #[inline]
    fn handle(&mut self, msg: LoggerMsg, _ctx: &mut Ctx<'_, P, Self>) {
        match msg {
            LoggerMsg::Value(due) => {
                let late = due.elapsed().as_nanos() as u64;
                self.latencies.saturating_record(late.max(1));
            }
            LoggerMsg::Finish(mut done) => {
                done.finish(std::mem::replace(&mut self.latencies, histogram(2)));
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

/// Where the program's messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Straight to a logger on the last core.
    OneWay,
    /// To a worker on the last core, which passes them to a logger on
    /// core 0.
    Pipeline,
}

/// The first actor of a shape.
enum First<P: Peer> {
    Logger(P::Addr<Logger>),
    Worker(P::Addr<Worker<P>>),
}

impl<P: Peer> First<P> {
    async fn tell(&self, msg: LoggerMsg) {
        match self {
            First::Logger(logger) => P::tell(logger, msg).await,
            First::Worker(worker) => P::tell(worker, msg).await,
        }
    }
}

/// Offers `rate` messages a second for `beats` heartbeats of `beat` each,
/// in `shape` over `cores` cores; the latency of each message from when it
/// was due to when the logger handled it, nanoseconds.
pub fn run<P: Peer>(
    peer: &P,
    shape: Shape,
    cores: usize,
    rate: u64,
    beats: u32,
    beat: Duration,
) -> Histogram<u64> {
    peer.block_on(move |h| async move {
        let last = cores - 1;
        let logger = Logger { latencies: histogram(3_600_000_000_000) };
        let first: First<P> = match shape {
            Shape::OneWay => First::Logger(P::spawn(&h, last, logger).await),
            Shape::Pipeline => {
                let logger = P::spawn(&h, 0, logger).await;
                First::Worker(P::spawn(&h, last, Worker::<P> { logger }).await)
            }
        };
        let interval = Duration::from_secs_f64(1.0 / rate as f64);
        let messages = (beat.as_secs_f64() * rate as f64 * f64::from(beats)).max(1.0) as u64;
        let start = Instant::now();
        for i in 0..messages {
            let due = start + interval.mul_f64(i as f64);
            while Instant::now() < due {
                yield_now().await;
            }
            first.tell(LoggerMsg::Value(due)).await;
        }
        // Behind the last value: the worker passes it on in order.
        let (done, latencies) = finish_line();
        first.tell(LoggerMsg::Finish(done)).await;
        latencies.await
    })
}
