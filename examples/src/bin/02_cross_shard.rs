//! 2. Actors on different cores: a ball bounced between two shards, and the
//!    placement choices for new actors.

use std::time::Duration;

use whirl::{Actor, ActorRef, Context, Placement, Reply, Runtime};

/// Bounces the ball back until it has been hit `rounds` times.
struct Player {
    name: &'static str,
    hits: u32,
    done: Option<Reply<u32>>,
}

enum Ball {
    /// Start a rally against `other`; answer when it is over.
    Serve { other: ActorRef<Ball>, rounds: u32, done: Reply<u32> },
    /// The ball, with the rounds left and who hit it.
    Hit { left: u32, from: ActorRef<Ball> },
}

impl Actor for Player {
    type Msg = Ball;

    fn handle(&mut self, msg: Ball, ctx: &mut Context<Self>) {
        match msg {
            Ball::Serve { other, rounds, done } => {
                self.done = Some(done);
                let _ = other.send(Ball::Hit { left: rounds, from: ctx.myself() });
            }
            Ball::Hit { left: 0, from } => match self.done.take() {
                // The rally is over: the server reports ...
                Some(done) => done.send(self.hits),
                // ... so the other player passes the news back.
                None => {
                    let _ = from.send(Ball::Hit { left: 0, from: ctx.myself() });
                }
            },
            Ball::Hit { left, from } => {
                self.hits += 1;
                // `from` lives on the other core: this send goes through the
                // ring between the two shards, published when this turn ends.
                let _ = from.send(Ball::Hit { left: left - 1, from: ctx.myself() });
            }
        }
    }

    fn started(&mut self, ctx: &mut Context<Self>) {
        println!("{} plays on shard {}", self.name, ctx.shard_id());
    }
}

fn player(name: &'static str) -> impl Fn() -> Player + Send + 'static {
    move || Player { name, hits: 0, done: None }
}

fn main() -> Result<(), whirl::Error> {
    let rt = Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build()?;
    let hits = rt.block_on(|sys| async move {
        let alice = sys.spawn_with(Placement::Shard(0), player("alice")).expect("spawn");
        // Next to nobody in particular: the other shard.
        let bob = sys.spawn_with(Placement::Shard(1), player("bob")).expect("spawn");
        // Near alice: same shard, so they talk without crossing cores.
        let carol = sys.spawn_with(Placement::near(&alice), player("carol")).expect("spawn");
        assert_eq!(carol.shard(), alice.shard());

        let hits =
            alice.ask(|done| Ball::Serve { other: bob, rounds: 1000, done }).await.expect("rally");
        sys.shutdown().await;
        hits
    })?;
    println!("alice hit the ball {hits} times");
    Ok(())
}
