//! Addressing actors: the typed [`ActorRef`](actor_ref::ActorRef) that
//! works from any shard or thread, its batched form (`send_many`) and the
//! request–reply [`Ask`](ask::Ask) with its [`Reply`](ask::Reply).

pub(crate) mod actor_ref;
pub(crate) mod ask;
pub mod registry;
pub(crate) mod send_many;
