//! The mesh API used by embedders and the runtime crate: validation, and
//! closures run on a shard (hardening issue, items 3, 4 and 15).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use glommio::{LocalExecutorBuilder, Placement};
use whirl_executor::{run_shard, Mesh, ShardConfig};

fn config(shards: usize) -> ShardConfig {
    ShardConfig {
        shards,
        ring_capacity: 64,
        mailbox_capacity: 64,
        turn_budget: 16,
        injector_capacity: 64,
        spin_before_park: Duration::ZERO,
        shutdown_timeout: Duration::from_secs(10),
        dead_letter_hook: None,
        arena_budget: None,
        metrics: true,
        handling_time_sample_every: 1024,
    }
}

#[test]
fn mesh_new_refuses_what_the_builder_refuses() {
    let bad = [
        ShardConfig { shards: 0, ..config(1) },
        ShardConfig { shards: 70_000, ..config(1) },
        ShardConfig { ring_capacity: 0, ..config(2) },
        ShardConfig { ring_capacity: 3, ..config(2) },
        ShardConfig { mailbox_capacity: 0, ..config(1) },
        ShardConfig { injector_capacity: 0, ..config(1) },
        ShardConfig { turn_budget: 0, ..config(1) },
    ];
    for config in bad {
        assert!(Mesh::new(config.clone()).is_err(), "{config:?} was accepted");
    }
}

/// Runs shard 0 of a one-shard mesh on its own executor thread.
fn start(mesh: &Arc<Mesh>) -> glommio::ExecutorJoinHandle<bool> {
    let mesh = mesh.clone();
    LocalExecutorBuilder::new(Placement::Unbound).spawn(move || run_shard(mesh, 0)).unwrap()
}

#[test]
fn a_panicking_closure_run_on_a_shard_does_not_take_it_down() {
    let mesh = Mesh::new(config(1)).unwrap();
    let shard = start(&mesh);
    assert!(mesh.run_on(0, Box::new(|| panic!("a run_on closure panicked"))).is_ok());
    let (tx, rx) = std::sync::mpsc::channel();
    assert!(mesh.run_on(0, Box::new(move || tx.send(42).unwrap())).is_ok());
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(42), "the shard still runs");
    mesh.begin_shutdown();
    assert!(shard.join().unwrap());
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn work_for_a_shard_that_has_exited_is_dropped_not_kept() {
    let mesh = Mesh::new(config(1)).unwrap();
    let shard = start(&mesh);
    mesh.begin_shutdown();
    assert!(shard.join().unwrap());
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let result = mesh.run_on(0, Box::new(move || drop(flag)));
    drop(result);
    assert!(dropped.load(Ordering::SeqCst), "the closure waits for a shard that is gone");
}
