//! What the server's actors share: a store on every shard, and a keeper on
//! shard 0 that the program waits on. Connections are actors of
//! `whirl::net` (`connection.rs`), spread over the shards round robin.

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;

use whirl::{Actor, ActorRef, Context, Reply};

use crate::resp::Limits;
use crate::store::{Bytes, StoreMsg};

/// What every connection of every shard shares.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    /// The store of shard `i`.
    pub(crate) stores: Vec<ActorRef<StoreMsg>>,
    pub(crate) keeper: ActorRef<KeeperMsg>,
    pub(crate) limits: Limits,
    /// The most bytes a connection may have read and not yet parsed.
    pub(crate) max_query_buffer: usize,
    pub(crate) max_clients: usize,
    /// Connections open now, over all shards.
    pub(crate) clients: AtomicUsize,
}

impl Server {
    /// The shard that owns `key`: FNV-1a, so every connection on every shard
    /// agrees without sharing anything.
    pub(crate) fn shard_of(&self, key: &Bytes) -> usize {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &byte in key {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        (hash % self.stores.len() as u64) as usize
    }
}

/// What the keeper is told.
#[derive(Debug)]
pub(crate) enum KeeperMsg {
    /// `SHUTDOWN` from a client.
    Shutdown,
    /// The program waits for the end: `Ok` on `SHUTDOWN`, the error if a
    /// shard failed.
    WaitForEnd(Reply<Result<(), String>>),
}

/// Ends the program's wait.
#[derive(Debug)]
pub(crate) struct Keeper {
    pub(crate) waiting: Option<Reply<Result<(), String>>>,
    pub(crate) end: Option<Result<(), String>>,
}

impl Actor for Keeper {
    type Msg = KeeperMsg;

    fn handle(&mut self, msg: KeeperMsg, _ctx: &mut Context<Self>) {
        match msg {
            KeeperMsg::Shutdown => self.end_with(Ok(())),
            KeeperMsg::WaitForEnd(reply) => match self.end.take() {
                Some(end) => reply.send(end),
                None => self.waiting = Some(reply),
            },
        }
    }
}

impl Keeper {
    fn end_with(&mut self, end: Result<(), String>) {
        match self.waiting.take() {
            Some(reply) => reply.send(end),
            None => self.end = self.end.take().or(Some(end)),
        }
    }
}
