//! Idle and write timeouts from one coarse sweep per shard, not a reactor
//! timer per read or write: every connection of a thread with a timeout
//! is looked at every [`NetOptions::sweep_every`](crate::net::NetOptions)
//! by one task, which closes those past their timeout. A timeout fires
//! between its length and its length plus one sweep period.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use crate::net::connection::{CloseReason, Shared};

/// The connections of this thread that have a timeout, and whether the
/// sweeping task runs.
#[derive(Default)]
struct Sweep {
    watched: Vec<Weak<Shared>>,
    running: bool,
}

thread_local! {
    static SWEEP: RefCell<Sweep> = RefCell::default();
}

/// Adds `shared` to this thread's sweep if it has a timeout, starting the
/// sweeping task if none runs (it ends when no connection is left).
pub(crate) fn watch(shared: &Rc<Shared>) {
    let options = &shared.options;
    if options.idle_timeout.is_none() && options.write_timeout.is_none() {
        return;
    }
    let every = options.sweep_every;
    let start = SWEEP.with(|sweep| {
        let mut sweep = sweep.borrow_mut();
        sweep.watched.push(Rc::downgrade(shared));
        !std::mem::replace(&mut sweep.running, true)
    });
    if start {
        glommio::spawn_local(sweep_every(every)).detach();
    }
}

/// Looks at every watched connection each `every`, until none is left.
async fn sweep_every(every: Duration) {
    loop {
        glommio::timer::sleep(every).await;
        let now = Instant::now();
        // Taken out, so that closing (which wakes tasks) borrows nothing.
        let mut watched = SWEEP.with(|sweep| std::mem::take(&mut sweep.borrow_mut().watched));
        watched.retain(|weak| match weak.upgrade() {
            Some(shared) => {
                if let Some(reason) = expired(&shared, now) {
                    shared.abort(reason);
                    false
                } else {
                    true
                }
            }
            None => false,
        });
        let done = SWEEP.with(|sweep| {
            let mut sweep = sweep.borrow_mut();
            // Connections that joined meanwhile are in the new list.
            watched.append(&mut sweep.watched);
            sweep.watched = watched;
            sweep.running = !sweep.watched.is_empty();
            !sweep.running
        });
        if done {
            return;
        }
    }
}

/// The timeout `shared` is past at `now`, if any.
fn expired(shared: &Shared, now: Instant) -> Option<CloseReason> {
    let options = &shared.options;
    if let (Some(limit), Some(since)) = (options.write_timeout, shared.write_started.get()) {
        if now.saturating_duration_since(since) >= limit {
            return Some(CloseReason::WriteTimeout);
        }
    }
    if let Some(limit) = options.idle_timeout {
        if now.saturating_duration_since(shared.last_read.get()) >= limit {
            return Some(CloseReason::Idle);
        }
    }
    None
}
