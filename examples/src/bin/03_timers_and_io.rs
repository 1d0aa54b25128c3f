//! 3. Timers, and async work (here a glommio sleep; in a service, file or
//!    socket I/O) run next to the actor and delivered back as messages.

use std::time::Duration;

use whirl::{Actor, Context, Reply, Runtime};

/// Waits for a timer and a piece of async work, then reports.
struct Waiter {
    events: Vec<&'static str>,
    report: Option<Reply<Vec<&'static str>>>,
}

enum Msg {
    Start(Reply<Vec<&'static str>>),
    Timer,
    Tick,
    WorkDone(u64),
}

impl Actor for Waiter {
    type Msg = Msg;

    fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) {
        match msg {
            Msg::Start(report) => {
                self.report = Some(report);
                // A one-shot timer ...
                ctx.send_after(Duration::from_millis(30), Msg::Timer);
                // ... a timer that is cancelled before it fires ...
                ctx.send_after(Duration::from_millis(1), Msg::Tick).cancel();
                // ... and async work whose result comes back as a message.
                // Such jobs are cancelled if the actor stops first.
                ctx.pipe(
                    async {
                        glommio::timer::sleep(Duration::from_millis(5)).await;
                        7
                    },
                    Msg::WorkDone,
                );
            }
            Msg::Tick => self.events.push("tick (never: it was cancelled)"),
            Msg::WorkDone(answer) => {
                assert_eq!(answer, 7);
                self.events.push("work done");
            }
            Msg::Timer => {
                self.events.push("timer");
                let events = std::mem::take(&mut self.events);
                self.report.take().expect("started").send(events);
            }
        }
    }
}

fn main() -> Result<(), whirl::Error> {
    let rt = Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build()?;
    let events = rt.block_on(|sys| async move {
        let waiter =
            sys.spawn_on(1, || Waiter { events: Vec::new(), report: None }).expect("spawn");
        let events = waiter.ask(Msg::Start).await.expect("report");
        sys.shutdown().await;
        events
    })?;
    for event in events {
        println!("{event}");
    }
    Ok(())
}
