//! One client connection, an actor on `whirl::net`: it takes what the
//! client sent, runs every complete command in it, and writes all the
//! replies in request order with one write.
//!
//! The commands of one read are grouped by the shard that owns their keys:
//! each shard gets one batch (one ask), the batches run at once on their
//! shards, and the replies are put back in request order. Commands for the
//! same key keep their order (one shard, one batch, in order). The asks run
//! inside `Context::wait`, which holds the connection's actor until the
//! replies are in, so the next read is parsed only after this one's replies
//! are queued. A connection that sends nothing, or a byte at a time, only
//! waits on its own socket.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use futures_lite::future;
use whirl::net::{Connection, NetEvent};
use whirl::{Actor, Context, StopReason};

use crate::command::{self, Combine, Plan};
use crate::resp::{self, Parsed, Response};
use crate::server::{KeeperMsg, Server};
use crate::store::{Op, StoreMsg};

/// What a connection's actor is told.
pub(crate) enum ConnMsg {
    Net(NetEvent),
    /// The replies to one read's commands, how the connection ends after
    /// them, and whether the read broke the protocol.
    Replied(Vec<u8>, Option<End>, bool),
}

/// A client connection.
pub(crate) struct Client {
    pub(crate) conn: Connection<ConnMsg>,
    pub(crate) server: Arc<Server>,
    /// Bytes read and not yet parsed.
    input: Vec<u8>,
    /// The bytes the pending command needs before parsing can get further.
    need: usize,
    /// `SHUTDOWN` came: the server stops once its replies are written.
    shut_down_after: bool,
    /// The replies of one read, written into by the wait and handed back
    /// with them: one buffer for the connection's life.
    out: Vec<u8>,
}

impl Client {
    pub(crate) fn new(conn: Connection<ConnMsg>, server: Arc<Server>) -> Self {
        Self { conn, server, input: Vec::new(), need: 1, shut_down_after: false, out: Vec::new() }
    }

    /// Runs every complete command read so far, in the connection's wait;
    /// closes a client over its query buffer limit (without a reply, as
    /// redis-server).
    fn serve_input(&mut self, ctx: &mut Context<Self>) {
        if self.input.len() < self.need {
            if self.input.len() > self.server.max_query_buffer {
                self.conn.abort();
            }
            return;
        }
        let (plans, used, need, broken) = parse_all(&self.input, &self.server);
        self.input.drain(..used);
        self.need = need - used.min(need);
        if self.input.len() > self.server.max_query_buffer {
            self.conn.abort();
            return;
        }
        let server = self.server.clone();
        let mut out = std::mem::take(&mut self.out);
        ctx.wait(
            async move {
                let end = run(plans, &server, &mut out).await;
                if let Some(error) = broken {
                    Response::err(error).write(&mut out);
                }
                (out, end, broken.is_some())
            },
            |(out, end, broken)| ConnMsg::Replied(out, end, broken),
        );
    }
}

impl Actor for Client {
    type Msg = ConnMsg;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let open = self.server.clients.fetch_add(1, Ordering::Relaxed);
        self.conn.start(ctx);
        if open >= self.server.max_clients {
            let mut out = Vec::new();
            Response::Error("ERR max number of clients reached".into()).write(&mut out);
            let _ = self.conn.write(ctx, &out);
            self.conn.close();
        }
    }

    fn handle(&mut self, msg: ConnMsg, ctx: &mut Context<Self>) {
        match msg {
            ConnMsg::Net(NetEvent::Data) => {
                if !self.conn.is_closed() {
                    self.conn.read(&mut self.input);
                    self.serve_input(ctx);
                }
            }
            // The client is done: so are we, once the replies are out.
            ConnMsg::Net(NetEvent::ReadClosed) => self.conn.close(),
            ConnMsg::Net(NetEvent::Drained) => {}
            ConnMsg::Net(NetEvent::Closed(_)) => {
                if self.shut_down_after {
                    // After the replies to what came before it, as
                    // redis-server.
                    let _ = self.server.keeper.send(KeeperMsg::Shutdown);
                }
                ctx.stop();
            }
            ConnMsg::Replied(mut out, end, broken) => {
                if !out.is_empty() {
                    let _ = self.conn.write(ctx, &out);
                }
                out.clear();
                self.out = out;
                if matches!(end, Some(End::Shutdown)) {
                    self.shut_down_after = true;
                }
                if end.is_some() || broken {
                    self.conn.close();
                }
            }
        }
    }

    fn stopped(&mut self, _reason: &StopReason, _ctx: &mut Context<Self>) {
        // Counted in `started`, which runs first.
        self.server.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The plans of every complete command in `input`, the bytes they took,
/// the bytes the input must hold before the next command can be parsed,
/// and the protocol error that stopped the parse, if one did.
fn parse_all(input: &[u8], server: &Server) -> (Vec<Plan>, usize, usize, Option<&'static str>) {
    let mut plans = Vec::new();
    let mut at = 0;
    loop {
        match resp::parse(&input[at..], &server.limits) {
            Parsed::Command(args, used) => {
                at += used;
                let plan = command::plan(args);
                let last = matches!(plan, Plan::Quit | Plan::Shutdown);
                plans.push(plan);
                if last {
                    return (plans, at, at + 1, None);
                }
            }
            Parsed::Nothing(used) => at += used,
            Parsed::Incomplete { need } => return (plans, at, at + need, None),
            Parsed::Invalid(error) => return (plans, at, at + 1, Some(error)),
        }
    }
}

/// Why a connection ends after its replies.
pub(crate) enum End {
    Quit,
    Shutdown,
}

/// Where a command's reply comes from.
enum Pending {
    Now(Response),
    /// One reply from each of these shards' batches, in turn.
    From(Vec<usize>, Combine),
}

/// Runs `plans` and writes their replies to `out`, in order.
async fn run(plans: Vec<Plan>, server: &Server, out: &mut Vec<u8>) -> Option<End> {
    let shards = server.stores.len();
    let mut batches: Vec<Vec<Op>> = (0..shards).map(|_| Vec::new()).collect();
    let mut pending = Vec::with_capacity(plans.len());
    let mut end = None;
    for plan in plans {
        match plan {
            Plan::Reply(reply) => pending.push(Pending::Now(reply)),
            Plan::Ops(ops, combine) => {
                let mut from = Vec::with_capacity(ops.len());
                for op in ops {
                    match op.key() {
                        Some(key) => {
                            let shard = server.shard_of(key);
                            batches[shard].push(op);
                            from.push(shard);
                        }
                        None => {
                            for (shard, batch) in batches.iter_mut().enumerate() {
                                batch.push(op.clone());
                                from.push(shard);
                            }
                        }
                    }
                }
                pending.push(Pending::From(from, combine));
            }
            Plan::Quit => {
                pending.push(Pending::Now(Response::Ok));
                end = Some(End::Quit);
            }
            Plan::Shutdown => end = Some(End::Shutdown),
        }
    }
    let mut replies = ask_all(server, batches).await;
    for p in pending {
        let reply = match p {
            Pending::Now(reply) => reply,
            Pending::From(from, combine) => {
                let parts = from.into_iter().map(|shard| {
                    replies[shard]
                        .next()
                        .unwrap_or_else(|| Response::err("server is shutting down"))
                });
                combine_replies(parts, combine, server)
            }
        };
        reply.write(out);
    }
    end
}

/// A shard's part of a read: asked, or answered.
enum Answer<F> {
    Asking(F),
    Got(Vec<Response>),
}

/// Sends each non-empty batch to its shard's store, all at once, and
/// returns each shard's replies in order (none where the store is gone).
async fn ask_all(server: &Server, batches: Vec<Vec<Op>>) -> Vec<std::vec::IntoIter<Response>> {
    let mut answers: Vec<_> = batches
        .into_iter()
        .enumerate()
        .map(|(shard, batch)| match batch.is_empty() {
            true => Answer::Got(Vec::new()),
            false => Answer::Asking(server.stores[shard].ask(|reply| StoreMsg::Run(batch, reply))),
        })
        .collect();
    // Every ask is polled in turn, so the shards run their parts at once.
    future::poll_fn(|cx| {
        let mut waiting = false;
        for answer in &mut answers {
            if let Answer::Asking(ask) = answer {
                match Pin::new(ask).poll(cx) {
                    // An ask fails only when the store is gone: shutdown.
                    Poll::Ready(got) => {
                        *answer = Answer::Got(got.map(Vec::from).unwrap_or_default())
                    }
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    answers
        .into_iter()
        .map(|answer| match answer {
            Answer::Got(replies) => replies.into_iter(),
            Answer::Asking(_) => unreachable!("every ask has answered"),
        })
        .collect()
}

/// A command's reply from the replies of its operations.
fn combine_replies(
    mut parts: impl Iterator<Item = Response>,
    combine: Combine,
    server: &Server,
) -> Response {
    match combine {
        Combine::Single => parts.next().unwrap_or(Response::Nil),
        Combine::Array => Response::Array(
            parts
                .map(|r| match r {
                    // MGET reads a key of another type as nil.
                    Response::WrongType => Response::Nil,
                    r => r,
                })
                .collect(),
        ),
        Combine::Sum => {
            let mut sum = 0;
            for part in parts {
                match part {
                    Response::Int(n) => sum += n,
                    other => return other,
                }
            }
            Response::Int(sum)
        }
        Combine::Ok => parts
            .find(|r| matches!(r, Response::Error(_) | Response::WrongType))
            .unwrap_or(Response::Ok),
        Combine::Info => {
            let keys: i64 = parts.map(|r| if let Response::Int(n) = r { n } else { 0 }).sum();
            Response::Bulk(info(server, keys).into_bytes())
        }
    }
}

/// `INFO`'s text.
fn info(server: &Server, keys: i64) -> String {
    use std::sync::atomic::Ordering;
    format!(
        "# Server\r\nredis_version:7.0.0\r\nserver_name:whirl-kv\r\nwhirl_kv_version:{}\r\n\
         redis_mode:standalone\r\ntcp_port:{}\r\nshards:{}\r\n\r\n# Clients\r\n\
         connected_clients:{}\r\nmaxclients:{}\r\n\r\n# Keyspace\r\ndb0:keys={keys}\r\n",
        env!("CARGO_PKG_VERSION"),
        server.addr.port(),
        server.stores.len(),
        server.clients.load(Ordering::Relaxed),
        server.max_clients,
    )
}
