//! Why an actor's incarnation ended.

use std::any::Any;
use std::fmt;

/// Why an actor stopped, or why it is being restarted: what
/// [`Actor::stopped`](crate::Actor::stopped) is told.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// It stopped itself ([`Context::stop`](crate::Context::stop)) or was
    /// asked to ([`ActorRef::stop`](crate::ActorRef::stop)).
    Normal,
    /// A handler, hook, piped future or timer of the actor panicked; the
    /// panic's message.
    Panicked(String),
    /// It failed on purpose ([`Context::fail`](crate::Context::fail)); the
    /// reason it gave.
    Failed(String),
    /// It failed too often: more restarts than its policy allows within its
    /// window. Stopped for good.
    TooManyRestarts,
    /// An allocation would have grown its arena past its budget of this
    /// many bytes.
    ArenaBudget(usize),
    /// Its supervisor took it down: to restart it with a sibling that
    /// failed (one-for-all, rest-for-one), or because the supervisor itself
    /// went down. Not a failure of this actor.
    Supervisor,
    /// The runtime is shutting down.
    Shutdown,
    /// It had already stopped for good when it was watched
    /// ([`Context::watch`](crate::Context::watch)); why is no longer known.
    AlreadyStopped,
}

impl StopReason {
    /// Whether this is a failure (a panic, [`Context::fail`](crate::Context::fail),
    /// too many restarts), as opposed to a normal stop or shutdown.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Self::Panicked(_) | Self::Failed(_) | Self::TooManyRestarts | Self::ArenaBudget(_)
        )
    }

    /// The reason for a caught panic, with its message when it has one.
    pub(crate) fn from_panic(payload: &(dyn Any + Send)) -> Self {
        let message = if let Some(message) = payload.downcast_ref::<&'static str>() {
            (*message).to_owned()
        } else if let Some(message) = payload.downcast_ref::<String>() {
            message.clone()
        } else {
            "a panic with a non-string payload".to_owned()
        };
        Self::Panicked(message)
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Normal => f.write_str("stopped"),
            Self::Panicked(message) => write!(f, "panicked: {message}"),
            Self::Failed(reason) => write!(f, "failed: {reason}"),
            Self::TooManyRestarts => f.write_str("failed too often (restart intensity exceeded)"),
            Self::ArenaBudget(bytes) => {
                write!(f, "its arena would outgrow its budget of {bytes} bytes")
            }
            Self::Supervisor => f.write_str("taken down by its supervisor"),
            Self::Shutdown => f.write_str("the runtime shut down"),
            Self::AlreadyStopped => f.write_str("it had already stopped"),
        }
    }
}
