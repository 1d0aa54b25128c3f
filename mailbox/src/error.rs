//! Errors of the mailbox operations. Every error that refuses an item hands it
//! back, and none requires the item to be `Debug`.

use std::fmt;

/// A push that did not happen; the item comes back inside.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum PushError<T> {
    /// The ring has no free slot right now.
    Full(T),
    /// The consumer is gone; nothing pushed now would ever be read.
    Closed(T),
}

impl<T> PushError<T> {
    /// The item that was not pushed.
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(item) | Self::Closed(item) => item,
        }
    }

    /// Whether the ring was full.
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    /// Whether the consumer is gone.
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed(_))
    }
}

impl<T> fmt::Debug for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("ring is full"),
            Self::Closed(_) => f.write_str("ring is closed: the consumer is gone"),
        }
    }
}

impl<T> std::error::Error for PushError<T> {}

/// A pop that found nothing.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum PopError {
    /// Nothing to read right now; the producer is still there.
    Empty,
    /// Nothing to read, ever again: the ring is drained and the producer is gone.
    Closed,
}

impl fmt::Display for PopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("ring is empty"),
            Self::Closed => f.write_str("ring is closed: drained and the producer is gone"),
        }
    }
}

impl std::error::Error for PopError {}

/// The other side of the ring is gone (returned by batch operations).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ring is closed: the other side is gone")
    }
}

impl std::error::Error for Closed {}

/// A ring could not be built with the capacity asked for.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct CapacityError {
    requested: usize,
    reason: &'static str,
}

impl CapacityError {
    pub(crate) fn new(requested: usize, reason: &'static str) -> Self {
        Self { requested, reason }
    }

    /// The capacity that was asked for.
    pub fn requested(&self) -> usize {
        self.requested
    }
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid ring capacity {}: {}", self.requested, self.reason)
    }
}

impl std::error::Error for CapacityError {}
