//! The basic flow: spawn, send, ask, shut down.

mod common;

use std::time::Duration;

use common::{runtime, Counter, CounterMsg};

#[test]
fn send_and_ask_on_every_shard() {
    let rt = runtime(2);
    let totals = rt
        .block_on(|sys| async move {
            let mut totals = Vec::new();
            for shard in 0..2 {
                let c = sys.spawn_on(shard, || Counter { n: 0 }).unwrap();
                assert_eq!(c.shard(), shard);
                c.send(CounterMsg::Add(5)).unwrap();
                c.send_async(CounterMsg::Add(1)).await.unwrap();
                let n = c.ask(CounterMsg::Get).timeout(Duration::from_secs(10)).await.unwrap();
                totals.push(n);
            }
            sys.shutdown().await;
            totals
        })
        .unwrap();
    assert_eq!(totals, [6, 6]);
}
