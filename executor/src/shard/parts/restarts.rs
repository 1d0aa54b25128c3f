//! An actor's restart state: its policy, the window of recent restarts,
//! its incarnation, its supervisor link and a pending backoff (the
//! behaviour is `shard::ops::restart`).

use std::time::{Duration, Instant};

use glommio::task::JoinHandle;

use crate::base::restart_window::RestartWindow;
use crate::shard::parts::link::Link;
use crate::types::restart_policy::RestartPolicy;

/// The restart state of one actor whose policy may restart it, or that has
/// a supervisor.
#[derive(Debug)]
pub(crate) struct Restarts {
    policy: RestartPolicy,
    /// The restarts inside the intensity window (unused under a
    /// supervisor, which keeps its own).
    recent: RestartWindow,
    pub(crate) incarnation: u32,
    /// The timer that ends the backoff, while one runs.
    backoff: Option<JoinHandle<()>>,
    /// The supervisor that decides this actor's restarts, if it has one.
    pub(crate) link: Option<Link>,
    /// Down and waiting for its supervisor to resume it.
    awaiting: bool,
    /// Restarting under `MailboxOnRestart::Drop`: how many of the messages
    /// queued when it failed are still to be dropped as they come up.
    pub(crate) discard: u32,
}

impl Restarts {
    pub(crate) fn new(policy: RestartPolicy, link: Option<Link>) -> Self {
        Self {
            policy,
            recent: RestartWindow::default(),
            incarnation: 0,
            backoff: None,
            link,
            awaiting: false,
            discard: 0,
        }
    }

    /// Records a restart now against the intensity of `policy`; returns the
    /// backoff before it, or `None` if it would exceed the intensity. (A
    /// supervisor keeps one of these for its children.)
    pub(crate) fn admit_now(&mut self) -> Option<Duration> {
        let (max, within) = self.policy.window();
        let before = self.recent.admit(Instant::now(), max, within)?;
        Some(self.policy.backoff_before(before as usize, random_bits))
    }

    /// Its restart policy.
    pub(crate) fn policy(&self) -> &RestartPolicy {
        &self.policy
    }

    /// A new incarnation is built: any backoff is over, and nothing waits
    /// to be discarded.
    pub(crate) fn rebuilt(&mut self) {
        self.discard = 0;
        self.incarnation += 1;
        self.backoff = None;
    }

    /// Its supervisor answered: a rebuild is on its way.
    pub(crate) fn stop_awaiting(&mut self) {
        self.awaiting = false;
    }

    /// Waits `timer` out before the rebuild; returns the timer it replaces.
    pub(crate) fn set_backoff(&mut self, timer: JoinHandle<()>) -> Option<JoinHandle<()>> {
        self.backoff.replace(timer)
    }

    pub(crate) fn restart_type(&self) -> crate::Restart {
        self.policy.restart_type()
    }

    /// Down and waiting for its supervisor to resume it.
    pub(crate) fn is_awaiting(&self) -> bool {
        self.awaiting
    }

    /// The supervisor took the actor down again before its scheduled
    /// rebuild: the rebuild is called off until the supervisor resumes it.
    pub(crate) fn wait_again(&mut self) {
        self.awaiting = true;
        if let Some(timer) = self.backoff.take() {
            timer.cancel();
        }
    }

    pub(crate) fn cancel_backoff(self) {
        if let Some(timer) = self.backoff {
            timer.cancel();
        }
    }
}

/// 64 bits for the backoff's jitter: a xorshift of the clock, good enough
/// to keep restarts of many actors from marching in step.
fn random_bits() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64 ^ d.as_secs());
    let mut x = nanos | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}
