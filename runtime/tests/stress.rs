//! Ten million messages across shards, five million in each direction at
//! once: none lost, none reordered.

mod common;

use whirl::{Actor, ActorRef, Context, Reply};

const PER_DIRECTION: u64 = 5_000_000;

/// Streams `0..count` to a sink from a piped task (which may wait for room
/// when the ring is full), then answers.
struct Source {
    done: Option<Reply<()>>,
}

enum SourceMsg {
    Stream(ActorRef<SinkMsg>, u64, Reply<()>),
    Finished,
}

impl Actor for Source {
    type Msg = SourceMsg;
    fn handle(&mut self, msg: SourceMsg, ctx: &mut Context<Self>) {
        match msg {
            SourceMsg::Stream(to, count, done) => {
                self.done = Some(done);
                ctx.pipe(
                    async move {
                        for i in 0..count {
                            to.send_async(SinkMsg::Num(i)).await.expect("sink alive");
                        }
                    },
                    |()| SourceMsg::Finished,
                );
            }
            SourceMsg::Finished => self.done.take().expect("streaming").send(()),
        }
    }
}

/// Checks that numbers arrive in order and counts them.
struct Sink {
    next: u64,
}

enum SinkMsg {
    Num(u64),
    Count(Reply<u64>),
}

impl Actor for Sink {
    type Msg = SinkMsg;
    fn handle(&mut self, msg: SinkMsg, _ctx: &mut Context<Self>) {
        match msg {
            SinkMsg::Num(n) => {
                assert_eq!(n, self.next, "lost or reordered");
                self.next += 1;
            }
            SinkMsg::Count(reply) => reply.send(self.next),
        }
    }
}

#[test]
fn ten_million_messages_both_directions_in_order() {
    let rt = common::runtime(2);
    let counts = rt
        .block_on(|sys| async move {
            let sinks = [
                sys.spawn_on(0, || Sink { next: 0 }).unwrap(),
                sys.spawn_on(1, || Sink { next: 0 }).unwrap(),
            ];
            let sources = [
                sys.spawn_on(0, || Source { done: None }).unwrap(),
                sys.spawn_on(1, || Source { done: None }).unwrap(),
            ];
            // Each source streams to the sink on the other shard, both at once.
            let a = sources[0].ask(|r| SourceMsg::Stream(sinks[1], PER_DIRECTION, r));
            let b = sources[1].ask(|r| SourceMsg::Stream(sinks[0], PER_DIRECTION, r));
            a.await.unwrap();
            b.await.unwrap();
            let counts = [
                sinks[0].ask(SinkMsg::Count).await.unwrap(),
                sinks[1].ask(SinkMsg::Count).await.unwrap(),
            ];
            sys.shutdown().await;
            counts
        })
        .unwrap();
    assert_eq!(counts, [PER_DIRECTION, PER_DIRECTION]);
}
