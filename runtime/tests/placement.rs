//! Where actors go: a given shard, round-robin, least-loaded, next to another.

mod common;

use common::{runtime, Counter};
use whirl::Placement;

#[test]
fn placements() {
    let rt = runtime(2);
    let sys = rt.system();
    let on_one = sys.spawn_with(Placement::Shard(1), || Counter { n: 0 }).unwrap();
    assert_eq!(on_one.shard(), 1);
    let near = sys.spawn_with(Placement::near(&on_one), || Counter { n: 0 }).unwrap();
    assert_eq!(near.shard(), 1);
    let rr: Vec<usize> = (0..4).map(|_| sys.spawn(|| Counter { n: 0 }).unwrap().shard()).collect();
    assert_eq!(rr[0], rr[2]);
    assert_eq!(rr[1], rr[3]);
    assert_ne!(rr[0], rr[1], "round-robin alternates over two shards");
    // Load shard 1 with actors; least-loaded then picks shard 0 once the
    // shards have reported their counts (a round trip to each).
    for _ in 0..20 {
        sys.spawn_on(1, || Counter { n: 0 }).unwrap();
    }
    rt.block_on(|sys| async move {
        for shard in 0..2 {
            let probe = sys.spawn_on(shard, || Counter { n: 0 }).unwrap();
            probe.ask(common::CounterMsg::Get).await.unwrap();
        }
        let least = sys.spawn_with(Placement::LeastLoaded, || Counter { n: 0 }).unwrap();
        assert_eq!(least.shard(), 0);
    })
    .unwrap();
}
