//! `whirl::net` with real sockets: a connection that breaks while a write
//! holds its actor still reports `Closed`; idle connections are closed by
//! the shard's sweep; `Closed` comes once.

mod common;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use whirl::net::{self, CloseReason, Connection, NetEvent, NetOptions};
use whirl::{Actor, Context};

type Events = Arc<Mutex<Vec<NetEvent>>>;

/// Answers every read with `reply` bytes; records its events; notes when a
/// write holds it.
struct Flooder {
    conn: Connection<NetEvent>,
    reply: usize,
    events: Events,
    held: Arc<AtomicBool>,
    buf: Vec<u8>,
}

impl Actor for Flooder {
    type Msg = NetEvent;
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.conn.start(ctx);
    }
    fn handle(&mut self, event: NetEvent, ctx: &mut Context<Self>) {
        self.events.lock().unwrap().push(event.clone());
        match event {
            NetEvent::Data => {
                self.conn.read(&mut self.buf);
                self.buf.clear();
                let _ = self.conn.write(ctx, &vec![b'x'; self.reply]);
                if self.conn.queued() > 64 * 1024 {
                    self.held.store(true, Ordering::SeqCst);
                }
            }
            NetEvent::Closed(_) => ctx.stop(),
            NetEvent::ReadClosed | NetEvent::Drained => {}
        }
    }
}

fn closes(events: &Events) -> Vec<CloseReason> {
    events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| if let NetEvent::Closed(r) = e { Some(*r) } else { None })
        .collect()
}

#[test]
fn a_reset_while_a_write_holds_the_actor_is_reported() {
    let events = Events::default();
    let seen = events.clone();
    common::within(60, move || {
        let rt = common::runtime(1);
        rt.block_on(move |sys| async move {
            let held = Arc::new(AtomicBool::new(false));
            let (e, h) = (seen.clone(), held.clone());
            // No write timeout: only the reset may end the hold.
            let options =
                NetOptions::new().max_output(64 * 1024).send_buffer(4096).write_timeout(None);
            let listening =
                net::serve(&sys, "127.0.0.1:0".parse().unwrap(), options, move |conn| Flooder {
                    conn,
                    reply: 1 << 20,
                    events: e.clone(),
                    held: h.clone(),
                    buf: Vec::new(),
                })
                .unwrap();
            let addr = listening.local_addr();
            let client = std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.write_all(b"go").unwrap();
                s
            });
            let client = loop {
                if client.is_finished() {
                    break client.join().unwrap();
                }
                whirl::time::sleep(Duration::from_millis(1)).await;
            };
            common::eventually("the write holds the actor", || async {
                held.load(Ordering::SeqCst).then_some(())
            })
            .await;
            // Unread data in its buffer: closing sends a reset.
            drop(client);
            common::eventually("closed", || async { (!closes(&seen).is_empty()).then_some(()) })
                .await;
            listening.stop();
            sys.shutdown().await;
        })
        .unwrap();
    });
    let closed = closes(&events);
    assert_eq!(closed.len(), 1, "Closed comes once: {closed:?}");
    assert!(matches!(closed[0], CloseReason::Error(_)), "{closed:?}");
}

#[test]
fn an_idle_connection_is_closed_by_the_sweep_once() {
    let events = Events::default();
    let seen = events.clone();
    let answered = common::within(60, move || {
        let rt = common::runtime(2);
        rt.block_on(move |sys| async move {
            let e = seen.clone();
            let options = NetOptions::new()
                .idle_timeout(Duration::from_millis(200))
                .sweep_every(Duration::from_millis(50));
            let listening =
                net::serve(&sys, "127.0.0.1:0".parse().unwrap(), options, move |conn| Flooder {
                    conn,
                    reply: 3,
                    events: e.clone(),
                    held: Arc::new(AtomicBool::new(false)),
                    buf: Vec::new(),
                })
                .unwrap();
            let addr = listening.local_addr();
            // Asks once, then says nothing: the reply comes, then the end.
            let client = std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                s.write_all(b"?").unwrap();
                let mut all = Vec::new();
                s.read_to_end(&mut all).map(|_| all)
            });
            let answered = loop {
                if client.is_finished() {
                    break client.join().unwrap();
                }
                whirl::time::sleep(Duration::from_millis(5)).await;
            };
            common::eventually("closed", || async { (!closes(&seen).is_empty()).then_some(()) })
                .await;
            listening.stop();
            sys.shutdown().await;
            answered
        })
        .unwrap()
    });
    assert_eq!(answered.expect("the end of the stream, not the read timeout"), b"xxx");
    assert_eq!(closes(&events), [CloseReason::Idle]);
}
