//! The shard's program tasks (`block_on`, `spawn_program`), cancelled when
//! it exits, and the ids its jobs and waiters are numbered by.

use std::cell::{Cell, RefCell};

use glommio::task::JoinHandle;

/// A shard's jobs.
#[derive(Default)]
pub(crate) struct Jobs {
    next_id: Cell<u64>,
    /// Program tasks on this shard, by id.
    programs: RefCell<Vec<(u64, JoinHandle<()>)>>,
}

impl Jobs {
    /// A fresh id (for a job, a program or a waiter).
    pub(crate) fn next_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    pub(crate) fn add_program(&self, id: u64, task: JoinHandle<()>) {
        self.programs.borrow_mut().push((id, task));
    }

    /// Program `id` ended.
    pub(crate) fn remove_program(&self, id: u64) {
        self.programs.borrow_mut().retain(|(program, _)| *program != id);
    }

    /// Takes every program out (to cancel them with no borrow held).
    pub(crate) fn take_programs(&self) -> Vec<(u64, JoinHandle<()>)> {
        std::mem::take(&mut *self.programs.borrow_mut())
    }
}
