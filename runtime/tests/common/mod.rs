//! Shared test helpers (included with `mod common;`).

#![allow(dead_code, unreachable_pub, missing_docs, missing_debug_implementations)]

use std::time::Duration;

use whirl::{Actor, ActorRef, Context, Reply, Runtime, SendError};

/// A runtime of `shards` shards that never busy-spins (the machine has two cores).
pub fn runtime(shards: usize) -> Runtime {
    builder(shards).build().expect("runtime builds")
}

/// The builder of [`runtime`], for tests that set more.
pub fn builder(shards: usize) -> whirl::Builder {
    Runtime::builder().shards(shards).spin_before_park(Duration::ZERO)
}

/// Sends `msg`, retrying while the mailbox or ring is full (yielding the
/// thread, not the executor, in between); panics if `to` stopped.
pub fn send_retrying<M: Send + 'static>(to: &ActorRef<M>, mut msg: M) {
    loop {
        match to.send(msg) {
            Ok(()) => return,
            Err(SendError::Full(back)) => {
                msg = back;
                std::thread::yield_now();
            }
            Err(SendError::Closed(_)) => panic!("the receiver stopped"),
        }
    }
}

/// Counts what it is told; answers questions.
pub struct Counter {
    pub n: u64,
}

pub enum CounterMsg {
    Add(u64),
    Get(Reply<u64>),
    Stop,
}

impl Actor for Counter {
    type Msg = CounterMsg;
    fn handle(&mut self, msg: CounterMsg, ctx: &mut Context<Self>) {
        match msg {
            CounterMsg::Add(k) => self.n += k,
            CounterMsg::Get(reply) => reply.send(self.n),
            CounterMsg::Stop => ctx.stop(),
        }
    }
}

/// Runs `f` on its own thread and fails the test if it has not finished
/// within `secs` seconds: a hang becomes a failure instead of a stuck CI run.
/// The time is a hang detector only, many times what the work needs.
pub fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match result.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("hung: not finished within {secs} s"),
    }
}

/// Looks at a state that comes asynchronously (a restart on another shard,
/// a stop cascading down a tree) until `look` finds what it waits for,
/// pausing 1 ms between looks. Gives up after 10 000 looks (10 s): a hang
/// detector only, never what decides a pass.
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut look: impl FnMut() -> F,
) -> T {
    for _ in 0..10_000 {
        if let Some(found) = look().await {
            return found;
        }
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
    panic!("never happened: {what}");
}

/// Keeps the panics a test provokes on purpose (their message starts with
/// `prefix`) out of the output; every other panic prints as usual. The hook
/// stays for the test binary: restoring it while another test's actors
/// still panic would race.
pub fn quiet_panics(prefix: &'static str) {
    use std::sync::{Mutex, Once};
    static PREFIXES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    static INSTALL: Once = Once::new();
    PREFIXES.lock().unwrap().push(prefix);
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("");
            if !PREFIXES.lock().unwrap().iter().any(|p| message.starts_with(p)) {
                default(info);
            }
        }));
    });
}
