//! The keys a shard owns, kept by one actor there: strings and lists, with
//! expiry.
//!
//! A connection sends the store a batch of operations (all of one read's
//! commands for keys of this shard, in request order) and gets their replies
//! back in one answer, so a pipelined read costs one message per shard it
//! touches. Expired keys are removed when they are next touched and by a
//! sweep ten times a second, as Redis does both.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io::Write;
use std::time::{Duration, Instant};

use whirl::{Actor, Context, Reply};

use crate::resp::{number, Response};

/// A key or a value.
pub(crate) type Bytes = Vec<u8>;

/// What a key holds.
#[derive(Debug)]
enum Value {
    Str(Bytes),
    List(VecDeque<Bytes>),
}

#[derive(Debug)]
struct Entry {
    value: Value,
    expires: Option<Instant>,
}

/// When a `SET` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetWhen {
    Always,
    /// `NX`: only if the key does not exist.
    Absent,
    /// `XX`: only if it does.
    Present,
}

/// What a `SET` does to the key's time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetExpiry {
    /// Clears it.
    Clear,
    /// `KEEPTTL`.
    Keep,
    /// `EX`/`PX`: expires after this long.
    After(Duration),
}

/// The unit of a TTL reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Millis,
}

/// One operation on one key of this shard (or on the whole shard).
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Get(Bytes),
    Set {
        key: Bytes,
        value: Bytes,
        when: SetWhen,
        expiry: SetExpiry,
        get: bool,
    },
    Del(Bytes),
    Exists(Bytes),
    IncrBy(Bytes, i64),
    Append(Bytes, Bytes),
    StrLen(Bytes),
    /// `EXPIRE`/`PEXPIRE`: a time to live in milliseconds (≤ 0 deletes).
    Expire(Bytes, i64),
    Persist(Bytes),
    Ttl(Bytes, Unit),
    Type(Bytes),
    Push {
        key: Bytes,
        front: bool,
        values: Vec<Bytes>,
    },
    Pop {
        key: Bytes,
        front: bool,
    },
    LLen(Bytes),
    LRange(Bytes, i64, i64),
    /// Keys on this shard.
    DbSize,
    /// Removes every key of this shard.
    Flush,
}

impl Op {
    /// The key the operation is on (`None`: it is for every shard).
    pub(crate) fn key(&self) -> Option<&Bytes> {
        match self {
            Op::Get(k)
            | Op::Set { key: k, .. }
            | Op::Del(k)
            | Op::Exists(k)
            | Op::IncrBy(k, _)
            | Op::Append(k, _)
            | Op::StrLen(k)
            | Op::Expire(k, _)
            | Op::Persist(k)
            | Op::Ttl(k, _)
            | Op::Type(k)
            | Op::Push { key: k, .. }
            | Op::Pop { key: k, .. }
            | Op::LLen(k)
            | Op::LRange(k, _, _) => Some(k),
            Op::DbSize | Op::Flush => None,
        }
    }
}

/// What the store is sent.
#[derive(Debug)]
pub(crate) enum StoreMsg {
    /// Runs the operations in order; answers their replies in order.
    /// (A boxed slice is two words: the reply crosses shards without an
    /// allocation of its own.)
    Run(Vec<Op>, Reply<Box<[Response]>>),
    /// Removes keys whose time has come.
    Sweep,
}

/// The longest one sweep holds the shard; if expired keys are left, the
/// store sends itself another sweep, behind what waits already.
const SWEEP_BUDGET: Duration = Duration::from_micros(500);

/// Expiry records kept beyond the keys that could need them before the
/// record heap is rebuilt from the keys (records of keys whose time was set
/// again, or that were deleted, are left behind in the heap).
const STALE_RECORDS: usize = 1024;

/// The keys of one shard.
#[derive(Debug, Default)]
pub(crate) struct Store {
    keys: HashMap<Bytes, Entry>,
    /// Expiry times as set, soonest first; a record whose key has since
    /// changed its time is skipped when it comes up.
    expiries: BinaryHeap<Reverse<(Instant, Bytes)>>,
}

impl Actor for Store {
    type Msg = StoreMsg;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Dropping the handle lets the timer run for the actor's life.
        let _ = ctx.send_interval(Duration::from_millis(100), || StoreMsg::Sweep);
    }

    fn handle(&mut self, msg: StoreMsg, ctx: &mut Context<Self>) {
        match msg {
            StoreMsg::Run(ops, reply) => {
                let now = Instant::now();
                reply.send(ops.into_iter().map(|op| self.run(op, now)).collect());
                self.forget_stale_records();
            }
            StoreMsg::Sweep => {
                if !self.sweep(Instant::now(), SWEEP_BUDGET) {
                    let _ = ctx.send(&ctx.myself(), StoreMsg::Sweep);
                }
            }
        }
    }
}

impl Store {
    fn run(&mut self, op: Op, now: Instant) -> Response {
        match op {
            Op::Get(key) => match self.live(&key, now) {
                None => Response::Nil,
                Some(Entry { value: Value::Str(v), .. }) => Response::Bulk(v.clone()),
                Some(_) => Response::WrongType,
            },
            Op::Set { key, value, when, expiry, get } => {
                self.set(key, value, when, expiry, get, now)
            }
            // A key whose time has come goes too, but was not there.
            Op::Del(key) => Response::Int(i64::from(
                self.keys.remove(&key).is_some_and(|e| e.expires.is_none_or(|at| at > now)),
            )),
            Op::Exists(key) => Response::Int(i64::from(self.live(&key, now).is_some())),
            Op::IncrBy(key, by) => self.incr_by(key, by, now),
            Op::Append(key, tail) => match self.live(&key, now) {
                None => {
                    let len = tail.len();
                    self.keys.insert(key, Entry { value: Value::Str(tail), expires: None });
                    Response::Int(len as i64)
                }
                Some(Entry { value: Value::Str(v), .. }) => {
                    v.extend_from_slice(&tail);
                    Response::Int(v.len() as i64)
                }
                Some(_) => Response::WrongType,
            },
            Op::StrLen(key) => match self.live(&key, now) {
                None => Response::Int(0),
                Some(Entry { value: Value::Str(v), .. }) => Response::Int(v.len() as i64),
                Some(_) => Response::WrongType,
            },
            Op::Expire(key, millis) => {
                if self.live(&key, now).is_none() {
                    return Response::Int(0);
                }
                if millis <= 0 {
                    self.keys.remove(&key);
                } else {
                    let Some(at) = now.checked_add(Duration::from_millis(millis as u64)) else {
                        return Response::err("invalid expire time in 'expire' command");
                    };
                    self.expire_at(key, at);
                }
                Response::Int(1)
            }
            Op::Persist(key) => match self.live(&key, now) {
                Some(entry) if entry.expires.is_some() => {
                    entry.expires = None;
                    Response::Int(1)
                }
                _ => Response::Int(0),
            },
            Op::Ttl(key, unit) => match self.live(&key, now) {
                None => Response::Int(-2),
                Some(Entry { expires: None, .. }) => Response::Int(-1),
                Some(Entry { expires: Some(at), .. }) => {
                    let left = at.saturating_duration_since(now);
                    Response::Int(match unit {
                        // Rounded as Redis rounds: to the nearest second.
                        Unit::Seconds => ((left.as_millis() + 500) / 1000) as i64,
                        Unit::Millis => left.as_millis() as i64,
                    })
                }
            },
            Op::Type(key) => Response::Status(match self.live(&key, now) {
                None => "none",
                Some(Entry { value: Value::Str(_), .. }) => "string",
                Some(Entry { value: Value::List(_), .. }) => "list",
            }),
            Op::Push { key, front, values } => {
                let list = match self.live(&key, now) {
                    None => {
                        let entry = Entry { value: Value::List(VecDeque::new()), expires: None };
                        let Value::List(list) = &mut self.keys.entry(key).or_insert(entry).value
                        else {
                            unreachable!("just made a list")
                        };
                        list
                    }
                    Some(Entry { value: Value::List(list), .. }) => list,
                    Some(_) => return Response::WrongType,
                };
                for value in values {
                    if front {
                        list.push_front(value);
                    } else {
                        list.push_back(value);
                    }
                }
                Response::Int(list.len() as i64)
            }
            Op::Pop { key, front } => {
                let (popped, empty) = match self.live(&key, now) {
                    None => return Response::Nil,
                    Some(Entry { value: Value::List(list), .. }) => {
                        let popped = if front { list.pop_front() } else { list.pop_back() };
                        (popped, list.is_empty())
                    }
                    Some(_) => return Response::WrongType,
                };
                if empty {
                    self.keys.remove(&key);
                }
                popped.map_or(Response::Nil, Response::Bulk)
            }
            Op::LLen(key) => match self.live(&key, now) {
                None => Response::Int(0),
                Some(Entry { value: Value::List(list), .. }) => Response::Int(list.len() as i64),
                Some(_) => Response::WrongType,
            },
            Op::LRange(key, start, stop) => match self.live(&key, now) {
                None => Response::Array(Vec::new()),
                Some(Entry { value: Value::List(list), .. }) => {
                    let len = list.len() as i64;
                    let from = if start < 0 { (len + start).max(0) } else { start };
                    let to = if stop < 0 { len + stop } else { stop.min(len - 1) };
                    if from > to || from >= len {
                        return Response::Array(Vec::new());
                    }
                    let items = list.range(from as usize..=to as usize);
                    Response::Array(items.map(|v| Response::Bulk(v.clone())).collect())
                }
                Some(_) => Response::WrongType,
            },
            Op::DbSize => Response::Int(self.keys.len() as i64),
            Op::Flush => {
                self.keys.clear();
                self.expiries.clear();
                Response::Ok
            }
        }
    }

    /// The entry of `key` unless it has expired (then it is removed).
    fn live(&mut self, key: &[u8], now: Instant) -> Option<&mut Entry> {
        if self.keys.get(key)?.expires.is_some_and(|at| at <= now) {
            self.keys.remove(key);
            return None;
        }
        self.keys.get_mut(key)
    }

    fn set(
        &mut self,
        key: Bytes,
        value: Bytes,
        when: SetWhen,
        expiry: SetExpiry,
        get: bool,
        now: Instant,
    ) -> Response {
        let (exists, old) = match self.live(&key, now) {
            None => (false, Response::Nil),
            Some(Entry { value: Value::Str(v), .. }) if get => (true, Response::Bulk(v.clone())),
            Some(_) if get => return Response::WrongType,
            Some(_) => (true, Response::Nil),
        };
        let applies = match when {
            SetWhen::Always => true,
            SetWhen::Absent => !exists,
            SetWhen::Present => exists,
        };
        if applies {
            let expires = match expiry {
                SetExpiry::Clear => None,
                SetExpiry::Keep => self.keys.get(&key).and_then(|e| e.expires),
                SetExpiry::After(ttl) => {
                    let at = now.checked_add(ttl);
                    if let Some(at) = at {
                        self.expiries.push(Reverse((at, key.clone())));
                    }
                    at
                }
            };
            self.keys.insert(key, Entry { value: Value::Str(value), expires });
        }
        match (get, applies) {
            (true, _) => old,
            (false, true) => Response::Ok,
            (false, false) => Response::Nil,
        }
    }

    fn incr_by(&mut self, key: Bytes, by: i64, now: Instant) -> Response {
        let entry = match self.live(&key, now) {
            None => self
                .keys
                .entry(key)
                .or_insert(Entry { value: Value::Str(b"0".to_vec()), expires: None }),
            Some(entry) => entry,
        };
        let Value::Str(text) = &mut entry.value else { return Response::WrongType };
        let Some(n) = number(text) else { return Response::not_an_integer() };
        let Some(sum) = n.checked_add(by) else {
            return Response::err("increment or decrement would overflow");
        };
        text.clear();
        let _ = write!(text, "{sum}");
        Response::Int(sum)
    }

    fn expire_at(&mut self, key: Bytes, at: Instant) {
        if let Some(entry) = self.keys.get_mut(&key) {
            entry.expires = Some(at);
            self.expiries.push(Reverse((at, key)));
        }
    }

    /// Removes keys whose time has come, for at most `budget`; whether it
    /// got through all of them.
    fn sweep(&mut self, now: Instant, budget: Duration) -> bool {
        let began = Instant::now();
        loop {
            for _ in 0..256 {
                match self.expiries.peek() {
                    Some(Reverse((at, _))) if *at <= now => {}
                    _ => return true,
                }
                let Some(Reverse((at, key))) = self.expiries.pop() else { return true };
                if self.keys.get(&key).is_some_and(|e| e.expires == Some(at)) {
                    self.keys.remove(&key);
                }
            }
            if began.elapsed() >= budget {
                return false;
            }
        }
    }

    /// Rebuilds the record heap from the keys once stale records outnumber
    /// the keys by [`STALE_RECORDS`]: the heap stays within the keys it
    /// could be for, however often a key's time is set again.
    fn forget_stale_records(&mut self) {
        if self.expiries.len() <= self.keys.len() + STALE_RECORDS {
            return;
        }
        self.expiries = self
            .keys
            .iter()
            .filter_map(|(key, entry)| Some(Reverse((entry.expires?, key.clone()))))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        s.as_bytes().to_vec()
    }

    /// `SET key value` with `when` and `expiry`, without `GET`.
    fn set(key: &str, value: &str, when: SetWhen, expiry: SetExpiry) -> Op {
        Op::Set { key: b(key), value: b(value), when, expiry, get: false }
    }

    #[test]
    fn strings_counters_and_types() {
        let mut s = Store::default();
        let now = Instant::now();
        let set_plain = |key, value| set(key, value, SetWhen::Always, SetExpiry::Clear);
        assert_eq!(s.run(set_plain("a", "10"), now), Response::Ok);
        assert_eq!(s.run(Op::IncrBy(b("a"), 5), now), Response::Int(15));
        assert_eq!(s.run(Op::Get(b("a")), now), Response::Bulk(b("15")));
        assert_eq!(s.run(set_plain("t", "x"), now), Response::Ok);
        assert_eq!(s.run(Op::IncrBy(b("t"), 1), now), Response::not_an_integer());
        assert_eq!(
            s.run(Op::IncrBy(b("a"), i64::MAX), now),
            Response::err("increment or decrement would overflow")
        );
        let push = Op::Push { key: b("l"), front: true, values: vec![b("1"), b("2")] };
        assert_eq!(s.run(push, now), Response::Int(2));
        assert_eq!(s.run(Op::Get(b("l")), now), Response::WrongType);
        assert_eq!(
            s.run(Op::LRange(b("l"), 0, -1), now),
            Response::Array(vec![Response::Bulk(b("2")), Response::Bulk(b("1"))])
        );
        assert_eq!(s.run(Op::DbSize, now), Response::Int(3));
    }

    #[test]
    fn expiry_on_touch_and_by_sweep() {
        let mut s = Store::default();
        let now = Instant::now();
        let ten_seconds = SetExpiry::After(Duration::from_secs(10));
        assert_eq!(s.run(set("k", "v", SetWhen::Absent, ten_seconds), now), Response::Ok);
        assert_eq!(s.run(Op::Ttl(b("k"), Unit::Seconds), now), Response::Int(10));
        let later = now + Duration::from_secs(11);
        assert_eq!(s.run(Op::Exists(b("k")), later), Response::Int(0), "gone when touched");
        assert_eq!(s.run(Op::Ttl(b("k"), Unit::Millis), later), Response::Int(-2));
        assert_eq!(s.run(set("j", "v", SetWhen::Always, SetExpiry::Clear), now), Response::Ok);
        assert_eq!(s.run(Op::Expire(b("j"), 1000), now), Response::Int(1));
        assert!(s.sweep(now + Duration::from_secs(2), Duration::from_secs(1)));
        assert_eq!(s.keys.len(), 0, "swept without a touch");
    }

    #[test]
    fn setting_a_time_again_and_again_keeps_the_records_bounded() {
        let mut s = Store::default();
        let now = Instant::now();
        for _ in 0..10_000 {
            let a_day = SetExpiry::After(Duration::from_secs(86_400));
            s.run(set("k", "v", SetWhen::Always, a_day), now);
            s.forget_stale_records();
        }
        assert!(s.expiries.len() <= 1 + STALE_RECORDS, "{} records", s.expiries.len());
        assert_eq!(s.run(Op::Ttl(b("k"), Unit::Seconds), now), Response::Int(86_400));
    }

    #[test]
    fn a_sweep_behind_reports_it_and_the_next_catches_up() {
        let mut s = Store::default();
        let now = Instant::now();
        for i in 0..100_000u32 {
            let ttl = SetExpiry::After(Duration::from_millis(1));
            s.run(set(&i.to_string(), "v", SetWhen::Always, ttl), now);
        }
        let later = now + Duration::from_secs(1);
        assert!(!s.sweep(later, Duration::ZERO), "one round of 256, then out of time");
        while !s.sweep(later, Duration::from_millis(5)) {}
        assert_eq!((s.keys.len(), s.expiries.len()), (0, 0));
    }
}
