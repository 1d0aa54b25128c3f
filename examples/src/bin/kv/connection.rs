//! One client connection: read what the client sent, run every complete
//! command in it, write all the replies in request order with one write.
//!
//! The commands of one read are grouped by the shard that owns their keys:
//! each shard gets one batch (one ask), the batches run at once on their
//! shards, and the replies are put back in request order. Commands for the
//! same key keep their order (one shard, one batch, in order); the next read
//! is parsed only after this one's replies are written. A connection is a
//! task of its own, so one that sends nothing, or a byte at a time, only
//! waits on its own socket.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use whirl::glommio::net::TcpStream;

use crate::command::{self, Combine, Plan};
use crate::resp::{self, Parsed, Response};
use crate::server::{KeeperMsg, Server};
use crate::store::{Op, StoreMsg};

/// Bytes asked of the socket per read.
const READ_SIZE: usize = 64 * 1024;

/// Serves the client until it quits, closes, idles out or breaks the
/// protocol.
pub(crate) async fn serve(mut stream: TcpStream, server: &Server) {
    let _ = stream.set_nodelay(true);
    // A client idle that long is closed, and so is one that stops reading
    // its replies.
    if stream.set_read_timeout(server.idle_timeout).is_err()
        || stream.set_write_timeout(server.idle_timeout).is_err()
    {
        return;
    }
    let mut chunk = vec![0u8; READ_SIZE];
    let mut input: Vec<u8> = Vec::new();
    let mut out: Vec<u8> = Vec::new();
    // The bytes the pending command needs before parsing can get further.
    let mut need = 1;
    loop {
        let read = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        input.extend_from_slice(&chunk[..read]);
        if input.len() < need {
            if input.len() > server.max_query_buffer {
                return;
            }
            continue;
        }
        let (plans, used, broken);
        (plans, used, need, broken) = parse_all(&input, server);
        input.drain(..used);
        need -= used.min(need);
        let end = run(plans, server, &mut out).await;
        if let Some(error) = broken {
            Response::err(error).write(&mut out);
        }
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            return;
        }
        out.clear();
        if let Some(End::Shutdown) = end {
            // After the replies to what came before it, as redis-server.
            let _ = server.keeper.send_async(KeeperMsg::Shutdown).await;
        }
        if end.is_some() || broken.is_some() {
            return;
        }
        if input.len() > server.max_query_buffer {
            // As redis-server: a client over its query buffer limit is
            // closed without a reply.
            return;
        }
    }
}

/// Tells a client the server cannot take it, and closes.
pub(crate) async fn refuse(mut stream: TcpStream, error: &str) {
    let mut out = Vec::new();
    Response::Error(error.into()).write(&mut out);
    let _ = stream.write_all(&out).await;
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
enum End {
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
