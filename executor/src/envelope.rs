//! What travels through the rings between shards and through the injection
//! queues from foreign threads.

use whirl_mailbox::Payload;

use crate::shard::Shard;

/// What an envelope asks the receiving shard to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// Deliver `payload` (an `M`) to the actor at `slot`/`generation`.
    Message = 0,
    /// Stop the actor at `slot`/`generation` after the messages already
    /// queued for it.
    Stop = 1,
    /// Install an actor at the reserved `slot`; `payload` is a [`SpawnFn`].
    Spawn = 2,
    /// Complete the ask waiting in reply entry `slot`/`generation` with
    /// `payload`.
    Reply = 3,
    /// The ask waiting in reply entry `slot`/`generation` will get no reply.
    ReplyDropped = 4,
    /// Run the closure in `payload` (a [`RunFn`]) on the receiving shard.
    Run = 5,
}

impl Kind {
    fn from_bits(bits: u32) -> Self {
        match bits {
            0 => Self::Message,
            1 => Self::Stop,
            2 => Self::Spawn,
            3 => Self::Reply,
            4 => Self::ReplyDropped,
            5 => Self::Run,
            _ => unreachable!("envelope kinds are written by Envelope::new"),
        }
    }
}

/// Builds and installs an actor on the shard that receives it, at the slot
/// and generation reserved for it.
pub(crate) type SpawnFn = Box<dyn FnOnce(&Shard, u32, u32) + Send>;

/// Runs on the shard that receives it (starts `block_on` tasks, for one).
pub(crate) type RunFn = Box<dyn FnOnce() + Send>;

/// Slots per shard: slot indices use the low 28 bits of an envelope's
/// target word, the kind the top 4.
pub(crate) const MAX_SLOTS: u32 = 1 << SLOT_BITS;
const SLOT_BITS: u32 = 28;

/// One message or command for a shard: 32 bytes, two to a cache line (the
/// unit a cross-core transfer moves), with payloads of up to two words
/// inline.
#[derive(Debug)]
pub(crate) struct Envelope {
    /// `kind << 28 | slot`.
    target: u32,
    generation: u32,
    payload: Payload,
}

const _: () = assert!(std::mem::size_of::<Envelope>() == 32);

impl Envelope {
    #[inline]
    pub(crate) fn new(kind: Kind, slot: u32, generation: u32, payload: Payload) -> Self {
        debug_assert!(slot < MAX_SLOTS);
        Self { target: (kind as u32) << SLOT_BITS | slot, generation, payload }
    }

    pub(crate) fn control(kind: Kind, slot: u32, generation: u32) -> Self {
        Self::new(kind, slot, generation, Payload::new(()))
    }

    #[inline]
    pub(crate) fn kind(&self) -> Kind {
        Kind::from_bits(self.target >> SLOT_BITS)
    }

    /// `(kind, slot, generation, payload)`.
    #[inline]
    pub(crate) fn into_parts(self) -> (Kind, u32, u32, Payload) {
        (self.kind(), self.target & (MAX_SLOTS - 1), self.generation, self.payload)
    }

    pub(crate) fn into_payload(self) -> Payload {
        self.payload
    }
}

/// Builds the envelope that runs `f` on the receiving shard.
pub(crate) fn run_envelope(f: RunFn) -> Envelope {
    Envelope::new(Kind::Run, 0, 0, Payload::new(f))
}
