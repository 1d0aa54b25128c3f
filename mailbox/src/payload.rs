//! A type-erased, `Send` value that travels through rings without allocating
//! when it is small.

use std::any::TypeId;
use std::fmt;
use std::mem::{self, MaybeUninit};

/// Words of inline storage: values up to this many machine words (and no
/// more aligned than a word) travel inline; larger ones are boxed.
///
/// Two words keep a whirl envelope at 32 bytes, two to a cache line: every
/// line a ring moves is a cross-core transfer, so a smaller slot is more
/// messages per transfer. Measured with the latency suite's cross-shard
/// throughput scenario, three runs each: 19–22 M msg/s with 56-byte
/// envelopes (four inline words), 23–26 M msg/s with 32-byte ones. Two words
/// hold the common messages: a number, a small enum, or one carrying a
/// `Reply`.
pub const INLINE_WORDS: usize = 2;

type Storage = MaybeUninit<[usize; INLINE_WORDS]>;

/// What a payload knows about the type it holds.
struct VTable {
    type_id: fn() -> TypeId,
    /// Drops the value in place.
    drop: unsafe fn(*mut Storage),
    /// Whether the value lives behind a `Box` in the storage.
    boxed: bool,
}

/// Returns whether `T` fits inline.
const fn fits_inline<T>() -> bool {
    mem::size_of::<T>() <= mem::size_of::<Storage>()
        && mem::align_of::<T>() <= mem::align_of::<Storage>()
}

struct VTableOf<T>(T);

impl<T: 'static> VTableOf<T> {
    const VTABLE: VTable =
        VTable { type_id: TypeId::of::<T>, drop: drop_value::<T>, boxed: !fits_inline::<T>() };
}

/// # Safety
///
/// The caller must ensure: `storage` holds a live value written by
/// [`Payload::new::<T>`], which is not used again.
unsafe fn drop_value<T>(storage: *mut Storage) {
    if fits_inline::<T>() {
        // SAFETY: the value was written inline at the start of the storage.
        unsafe { std::ptr::drop_in_place(storage.cast::<T>()) }
    } else {
        // SAFETY: the storage holds a `Box<T>` written by `new`.
        drop(unsafe { storage.cast::<Box<T>>().read() });
    }
}

/// A value of some `Send + 'static` type, stored in two words inline, or
/// boxed if it is larger: the payload of every cross-core envelope.
///
/// ```
/// use whirl_mailbox::Payload;
///
/// let p = Payload::new(42u64);
/// assert!(p.is::<u64>());
/// assert!(!p.is_boxed());
/// let p = p.downcast::<String>().unwrap_err(); // wrong type: handed back
/// assert_eq!(p.downcast::<u64>().ok(), Some(42));
/// ```
pub struct Payload {
    storage: Storage,
    vtable: &'static VTable,
}

impl Payload {
    /// Wraps `value`; allocates only if it does not fit in
    /// [`INLINE_WORDS`] words.
    pub fn new<T: Send + 'static>(value: T) -> Self {
        let mut storage = Storage::uninit();
        if fits_inline::<T>() {
            // SAFETY: T fits the storage in size and alignment.
            unsafe { storage.as_mut_ptr().cast::<T>().write(value) };
        } else {
            // SAFETY: a Box is one word, which fits.
            unsafe { storage.as_mut_ptr().cast::<Box<T>>().write(Box::new(value)) };
        }
        Self { storage, vtable: &VTableOf::<T>::VTABLE }
    }

    /// Whether the value is a `T`.
    pub fn is<T: 'static>(&self) -> bool {
        (self.vtable.type_id)() == TypeId::of::<T>()
    }

    /// Whether the value was too large to travel inline.
    pub fn is_boxed(&self) -> bool {
        self.vtable.boxed
    }

    /// Takes the value out if it is a `T`; otherwise hands the payload back.
    pub fn downcast<T: 'static>(self) -> Result<T, Self> {
        if !self.is::<T>() {
            return Err(self);
        }
        let this = mem::ManuallyDrop::new(self);
        let value = if fits_inline::<T>() {
            // SAFETY: `new::<T>` wrote a T inline (the vtable says T), and
            // ManuallyDrop keeps it from being dropped again.
            unsafe { this.storage.as_ptr().cast::<T>().read() }
        } else {
            // SAFETY: as above, with a Box<T>.
            *unsafe { this.storage.as_ptr().cast::<Box<T>>().read() }
        };
        Ok(value)
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        // SAFETY: the storage holds the live value described by the vtable,
        // and this is its last use.
        unsafe { (self.vtable.drop)(&mut self.storage) }
    }
}

// SAFETY: `new` only accepts `T: Send`, so the value may move between threads.
unsafe impl Send for Payload {}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payload").field("boxed", &self.is_boxed()).finish_non_exhaustive()
    }
}
