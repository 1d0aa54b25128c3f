//! The only ways to reach the running shard, and which to use when.
//!
//! | way in | gives | use it when |
//! |---|---|---|
//! | [`with_current`] | `Option<&Shard>`, kept alive by a strong count for the call | the default: code that may run user code or wake a task |
//! | [`current_of`] (`unsafe`) | `Option<&Shard>` of one mesh, no count: a load and a compare | hot send paths that run no user code and wake no task |
//! | [`with_mesh`] | the mesh, from the running shard or a global look-up | refs reading mesh tables from any thread |
//! | [`Shard::from_erased`] (`unsafe`) | `&Shard` from the `*const ()` every run function and function table gets | inside run functions (`base::entry::RunFn`, `base::actor_fns`) |
//! | `Context::shard` (actor layer) | `&Shard` from the pointer the handler call was given | inside a handler |
//!
//! [`CurrentShard::enter`] makes a shard current; only `run_shard` calls it.

use std::cell::Cell;
use std::ptr;
use std::rc::Rc;
use std::task::Waker;

use crate::mesh::Mesh;
use crate::shard::Shard;

thread_local! {
    /// The shard running on this thread, if any: a pointer from
    /// `Rc::into_raw`, whose strong count [`CurrentShard`] holds while it is
    /// set.
    static CURRENT: Cell<*const Shard> = const { Cell::new(ptr::null()) };
}

/// Runs `f` with the mesh `id`, if it is alive: the running shard's own
/// (a compare) on one of its shards, else a look-up under a read lock.
pub(crate) fn with_mesh<R>(id: u32, f: impl FnOnce(&Mesh) -> R) -> Option<R> {
    // SAFETY: the shard is used only within this call, which runs `f` on
    // its mesh; `f` calls no user code (its callers read tables).
    if let Some(shard) = unsafe { current_of(id) } {
        return Some(f(&shard.mesh));
    }
    Mesh::find(id).map(|mesh| f(&mesh))
}

/// Runs `f` with the shard of this thread, or `None` on a thread outside the
/// runtime.
///
/// The shard is kept alive for the whole call by a strong reference of our
/// own: an embedding program owns the shard's future and may drop it from
/// inside a wake-up that `f` makes (it polls that future with a waker of its
/// choosing), which must not free the shard under `f`.
#[inline(always)]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Shard>) -> R) -> R {
    let shard = CURRENT.with(Cell::get);
    if shard.is_null() {
        return f(None);
    }
    // SAFETY: a non-null pointer came from `Rc::into_raw` in
    // `CurrentShard::enter`, whose guard holds that strong count until it
    // resets the pointer; the count is only touched on this thread. We take a
    // count of our own, released when `keep` drops after `f`.
    let keep = unsafe {
        Rc::increment_strong_count(shard);
        Rc::from_raw(shard)
    };
    f(Some(&keep))
}

/// The shard of this thread if it belongs to mesh `mesh`.
///
/// Unlike [`with_current`] this takes no strong reference: a thread-local
/// load and a compare.
///
/// # Safety
///
/// The caller must use the reference only for code that calls no user code
/// and wakes no task of this thread, and only until it returns: then nothing
/// can drop the shard under it (whatever runs the caller on this thread is
/// inside the shard's executor, whose shard future owns the shard and is not
/// dropped without user code running).
#[inline(always)]
pub(crate) unsafe fn current_of<'a>(mesh: u32) -> Option<&'a Shard> {
    let current = CURRENT.with(Cell::get);
    if current.is_null() {
        return None;
    }
    // SAFETY: a non-null pointer is the live shard of this thread (see
    // `with_current`), alive as long as the caller needs it (the contract).
    let current = unsafe { &*current };
    (current.mesh_id == mesh).then_some(current)
}

/// Makes a shard this thread's current shard until dropped.
pub(crate) struct CurrentShard {
    /// From `Rc::into_raw`: the strong count `CURRENT` relies on.
    shard: *const Shard,
}

impl CurrentShard {
    pub(crate) fn enter(shard: Rc<Shard>) -> Self {
        let shard = CURRENT.with(|current| {
            // Checked before `into_raw`, so a refused shard is dropped, not
            // leaked.
            assert!(current.get().is_null(), "a whirl shard already runs on this thread");
            let shard = Rc::into_raw(shard);
            current.set(shard);
            shard
        });
        Self { shard }
    }
}

impl Drop for CurrentShard {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(ptr::null()));
        // SAFETY: the pointer came from `Rc::into_raw` in `enter`, and this
        // is the one place that gives its count back.
        drop(unsafe { Rc::from_raw(self.shard) });
    }
}

/// Wakes a parked shard, holding a reference to this thread's shard across
/// the call: the waker may be an embedding program's, and the sender may
/// hold this shard only by [`current_of`]'s borrowed reference.
#[cold]
#[inline(never)]
pub(crate) fn wake_other_shard(waker: Waker) {
    with_current(|_| waker.wake());
}

impl Shard {
    /// This shard as the untyped pointer run functions get.
    #[inline(always)]
    pub(crate) fn erased(&self) -> *const () {
        (self as *const Self).cast()
    }

    /// The shard behind a run function's pointer.
    ///
    /// # Safety
    ///
    /// The caller must ensure: `shard` came from [`erased`](Self::erased) of
    /// a shard that is alive for `'a`.
    #[inline(always)]
    pub(crate) unsafe fn from_erased<'a>(shard: *const ()) -> &'a Shard {
        // SAFETY: as the contract says.
        unsafe { &*shard.cast::<Shard>() }
    }
}
