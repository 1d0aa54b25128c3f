//! From a command's arguments to what runs where: answered on the
//! connection's own shard (PING, ECHO, the handshake commands), or as
//! operations on the shards that own its keys, with a rule for combining
//! their replies (MGET's array, DEL's sum, MSET's OK).

use std::time::Duration;

use crate::resp::{number, Response};
use crate::store::{Bytes, Op, SetExpiry, SetWhen, Unit};

/// How the replies of a command's operations become its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Combine {
    /// The one operation's reply.
    Single,
    /// An array of the replies, in key order (MGET: a key of another type
    /// reads as nil).
    Array,
    /// The sum of the integer replies (DEL, EXISTS, DBSIZE).
    Sum,
    /// `+OK` (MSET, FLUSHALL).
    Ok,
    /// INFO's text, with the key count from the sum.
    Info,
}

/// What a command needs.
#[derive(Debug)]
pub(crate) enum Plan {
    /// The reply, known without any shard.
    Reply(Response),
    /// Operations, each on the shard that owns its key (or on every shard:
    /// [`Op::key`]), and how to combine their replies.
    Ops(Vec<Op>, Combine),
    /// `+OK`, then the connection closes.
    Quit,
    /// The server stops: no reply, the connection closes.
    Shutdown,
}

/// The plan for one command (`args` not empty).
pub(crate) fn plan(args: Vec<Bytes>) -> Plan {
    // The table's lower-case name, found without a lower-case copy.
    let Some(&(name, arity)) =
        ARITY.iter().find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(&args[0]))
    else {
        return Plan::Reply(unknown(&args));
    };
    // Redis's convention: n exactly, -n at least n (the name counts).
    let arity_ok = if arity >= 0 {
        args.len() == arity as usize
    } else {
        args.len() >= arity.unsigned_abs() as usize
    };
    if !arity_ok {
        return Plan::Reply(Response::err(format!(
            "wrong number of arguments for '{name}' command"
        )));
    }
    let mut rest = args.into_iter();
    rest.next(); // the name
                 // The next argument: there is one, the arity says so.
    macro_rules! next {
        () => {
            rest.next().expect("arity checked")
        };
    }
    let one = |op: Op| Plan::Ops(vec![op], Combine::Single);
    match name {
        "ping" => match 1 + rest.len() {
            1 => Plan::Reply(Response::Status("PONG")),
            2 => Plan::Reply(Response::Bulk(next!())),
            _ => Plan::Reply(Response::err("wrong number of arguments for 'ping' command")),
        },
        "echo" => Plan::Reply(Response::Bulk(next!())),
        "get" => one(Op::Get(next!())),
        "set" => {
            let (key, value) = (next!(), next!());
            match set_options(rest.collect()) {
                Ok((when, expiry, get)) => one(Op::Set { key, value, when, expiry, get }),
                Err(e) => Plan::Reply(e),
            }
        }
        "setnx" => one(Op::Set {
            key: next!(),
            value: next!(),
            when: SetWhen::Absent,
            expiry: SetExpiry::Clear,
            get: false,
        }),
        "del" | "unlink" => Plan::Ops(rest.map(Op::Del).collect(), Combine::Sum),
        "exists" => Plan::Ops(rest.map(Op::Exists).collect(), Combine::Sum),
        "incr" => one(Op::IncrBy(next!(), 1)),
        "decr" => one(Op::IncrBy(next!(), -1)),
        "incrby" | "decrby" => {
            let key = next!();
            match number(&next!()) {
                Some(by) if name == "incrby" => one(Op::IncrBy(key, by)),
                Some(by) => match by.checked_neg() {
                    Some(by) => one(Op::IncrBy(key, by)),
                    None => Plan::Reply(Response::err("decrement would overflow")),
                },
                None => Plan::Reply(Response::not_an_integer()),
            }
        }
        "append" => one(Op::Append(next!(), next!())),
        "strlen" => one(Op::StrLen(next!())),
        "mget" => Plan::Ops(rest.map(Op::Get).collect(), Combine::Array),
        "mset" => {
            if rest.len() % 2 != 0 {
                return Plan::Reply(Response::err("wrong number of arguments for 'mset' command"));
            }
            let mut ops = Vec::with_capacity(rest.len() / 2);
            while let (Some(key), Some(value)) = (rest.next(), rest.next()) {
                let (when, expiry) = (SetWhen::Always, SetExpiry::Clear);
                ops.push(Op::Set { key, value, when, expiry, get: false });
            }
            Plan::Ops(ops, Combine::Ok)
        }
        "expire" | "pexpire" => {
            let key = next!();
            let Some(n) = number(&next!()) else { return Plan::Reply(Response::not_an_integer()) };
            let millis = if name == "expire" { n.checked_mul(1000) } else { Some(n) };
            match millis {
                Some(millis) => one(Op::Expire(key, millis)),
                None => Plan::Reply(Response::err("invalid expire time in 'expire' command")),
            }
        }
        "persist" => one(Op::Persist(next!())),
        "ttl" => one(Op::Ttl(next!(), Unit::Seconds)),
        "pttl" => one(Op::Ttl(next!(), Unit::Millis)),
        "type" => one(Op::Type(next!())),
        "lpush" | "rpush" => {
            let key = next!();
            one(Op::Push { key, front: name == "lpush", values: rest.collect() })
        }
        "lpop" | "rpop" => one(Op::Pop { key: next!(), front: name == "lpop" }),
        "llen" => one(Op::LLen(next!())),
        "lrange" => {
            let key = next!();
            match (number(&next!()), number(&next!())) {
                (Some(start), Some(stop)) => one(Op::LRange(key, start, stop)),
                _ => Plan::Reply(Response::not_an_integer()),
            }
        }
        "dbsize" => Plan::Ops(vec![Op::DbSize], Combine::Sum),
        "flushall" | "flushdb" => Plan::Ops(vec![Op::Flush], Combine::Ok),
        "info" => Plan::Ops(vec![Op::DbSize], Combine::Info),
        "select" => Plan::Reply(match number(&next!()) {
            Some(0) => Response::Ok,
            Some(_) => Response::err("DB index is out of range"),
            None => Response::not_an_integer(),
        }),
        "quit" => Plan::Quit,
        "shutdown" => Plan::Shutdown,
        "command" => Plan::Reply(command(rest.next())),
        "client" => Plan::Reply(client(&next!())),
        "hello" => Plan::Reply(hello(rest.next())),
        "config" => Plan::Reply(config(&next!(), rest.collect())),
        _ => unreachable!("every name in ARITY has a plan"),
    }
}

/// Commands and their arity, as `COMMAND INFO` gives it.
const ARITY: &[(&str, i32)] = &[
    ("ping", -1),
    ("echo", 2),
    ("get", 2),
    ("set", -3),
    ("setnx", 3),
    ("del", -2),
    ("unlink", -2),
    ("exists", -2),
    ("incr", 2),
    ("decr", 2),
    ("incrby", 3),
    ("decrby", 3),
    ("append", 3),
    ("strlen", 2),
    ("mget", -2),
    ("mset", -3),
    ("expire", 3),
    ("pexpire", 3),
    ("persist", 2),
    ("ttl", 2),
    ("pttl", 2),
    ("type", 2),
    ("lpush", -3),
    ("rpush", -3),
    ("lpop", 2),
    ("rpop", 2),
    ("llen", 2),
    ("lrange", 4),
    ("dbsize", 1),
    ("flushall", -1),
    ("flushdb", -1),
    ("info", -1),
    ("select", 2),
    ("quit", -1),
    ("shutdown", -1),
    ("command", -1),
    ("client", -2),
    ("hello", -1),
    ("config", -2),
];

/// `SET`'s options: NX | XX, GET, EX s | PX ms | KEEPTTL.
fn set_options(options: Vec<Bytes>) -> Result<(SetWhen, SetExpiry, bool), Response> {
    let (mut when, mut expiry, mut get) = (SetWhen::Always, SetExpiry::Clear, false);
    let mut options = options.into_iter();
    while let Some(option) = options.next() {
        match option.to_ascii_uppercase().as_slice() {
            b"NX" if when == SetWhen::Always => when = SetWhen::Absent,
            b"XX" if when == SetWhen::Always => when = SetWhen::Present,
            b"GET" => get = true,
            b"KEEPTTL" if expiry == SetExpiry::Clear => expiry = SetExpiry::Keep,
            unit @ (b"EX" | b"PX") if expiry == SetExpiry::Clear => {
                let Some(n) = options.next() else { return Err(Response::err("syntax error")) };
                let n = number(&n).ok_or_else(Response::not_an_integer)?;
                if n <= 0 {
                    return Err(Response::err("invalid expire time in 'set' command"));
                }
                let millis = if unit == b"EX" { n.checked_mul(1000) } else { Some(n) };
                let millis =
                    millis.ok_or_else(|| Response::err("invalid expire time in 'set' command"))?;
                expiry = SetExpiry::After(Duration::from_millis(millis as u64));
            }
            _ => return Err(Response::err("syntax error")),
        }
    }
    Ok((when, expiry, get))
}

/// The error for a command this server does not know, worded as Redis's.
fn unknown(args: &[Bytes]) -> Response {
    let quoted: String = args[1..]
        .iter()
        .take(20)
        .map(|a| format!("'{}' ", String::from_utf8_lossy(&a[..a.len().min(128)])))
        .collect();
    Response::err(format!(
        "unknown command '{}', with args beginning with: {quoted}",
        String::from_utf8_lossy(&args[0][..args[0].len().min(128)])
    ))
}

/// `COMMAND`, `COMMAND COUNT`, `COMMAND DOCS`: enough for `redis-cli`.
fn command(sub: Option<Bytes>) -> Response {
    match sub.map(|s| s.to_ascii_lowercase()) {
        Some(s) if s == b"count" => Response::Int(ARITY.len() as i64),
        // redis-cli asks for the docs to show hints; it works without.
        _ => Response::Array(Vec::new()),
    }
}

/// `CLIENT SETNAME`, `SETINFO` and the like: accepted, not kept.
fn client(sub: &[u8]) -> Response {
    match sub.to_ascii_lowercase().as_slice() {
        b"getname" => Response::Nil,
        b"id" => Response::Int(1),
        _ => Response::Ok,
    }
}

/// `HELLO [2]`: RESP2 only.
fn hello(version: Option<Bytes>) -> Response {
    if version.is_some_and(|v| v != b"2") {
        return Response::Error("NOPROTO unsupported protocol version".into());
    }
    let field = |k: &str, v: Response| [Response::Bulk(k.as_bytes().to_vec()), v];
    Response::Array(
        [
            field("server", Response::Bulk(b"whirl-kv".to_vec())),
            field("version", Response::Bulk(env!("CARGO_PKG_VERSION").as_bytes().to_vec())),
            field("proto", Response::Int(2)),
            field("mode", Response::Bulk(b"standalone".to_vec())),
            field("role", Response::Bulk(b"master".to_vec())),
            field("modules", Response::Array(Vec::new())),
        ]
        .into_iter()
        .flatten()
        .collect(),
    )
}

/// `CONFIG GET` of the few settings clients read (`redis-benchmark` reads
/// `save` and `appendonly`); `CONFIG SET` is refused.
fn config(sub: &[u8], args: Vec<Bytes>) -> Response {
    const KNOWN: &[(&str, &str)] =
        &[("save", ""), ("appendonly", "no"), ("databases", "1"), ("maxmemory", "0")];
    match sub.to_ascii_lowercase().as_slice() {
        b"get" if !args.is_empty() => Response::Array(
            KNOWN
                .iter()
                .filter(|(name, _)| args.iter().any(|a| glob_matches(a, name.as_bytes())))
                .flat_map(|(name, value)| {
                    [
                        Response::Bulk(name.as_bytes().to_vec()),
                        Response::Bulk(value.as_bytes().to_vec()),
                    ]
                })
                .collect(),
        ),
        b"get" => Response::err("wrong number of arguments for 'config|get' command"),
        _ => Response::err("CONFIG subcommands other than GET are not supported"),
    }
}

/// Whether `pattern` (with `*` for any run) matches `name`, case-blind.
fn glob_matches(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob_matches(rest, &name[i..])),
        Some((c, rest)) => {
            name.first().is_some_and(|n| n.eq_ignore_ascii_case(c))
                && glob_matches(rest, &name[1..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(line: &str) -> Plan {
        plan(line.split(' ').map(|w| w.as_bytes().to_vec()).collect())
    }

    fn reply_of(line: &str) -> Response {
        match plan_of(line) {
            Plan::Reply(r) => r,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn errors_as_redis_words_them() {
        assert_eq!(
            reply_of("FOO a b"),
            Response::err("unknown command 'FOO', with args beginning with: 'a' 'b' ")
        );
        assert_eq!(reply_of("GET"), Response::err("wrong number of arguments for 'get' command"));
        assert_eq!(reply_of("set k v EX 0"), Response::err("invalid expire time in 'set' command"));
        assert_eq!(reply_of("set k v EX ten"), Response::not_an_integer());
        assert_eq!(reply_of("set k v NX XX"), Response::err("syntax error"));
        assert_eq!(reply_of("incrby k x"), Response::not_an_integer());
        assert_eq!(
            reply_of("mset a 1 b"),
            Response::err("wrong number of arguments for 'mset' command")
        );
        assert_eq!(
            reply_of("ping a b"),
            Response::err("wrong number of arguments for 'ping' command")
        );
    }

    #[test]
    fn multi_key_commands_split_by_key() {
        let Plan::Ops(ops, Combine::Array) = plan_of("MGET a b c") else { panic!() };
        assert_eq!(ops.len(), 3);
        let Plan::Ops(ops, Combine::Ok) = plan_of("MSET a 1 b 2") else { panic!() };
        assert_eq!(ops.len(), 2);
        let Plan::Ops(ops, Combine::Sum) = plan_of("DBSIZE") else { panic!() };
        assert!(ops[0].key().is_none(), "every shard");
    }

    #[test]
    fn config_get_globs() {
        assert_eq!(
            reply_of("CONFIG GET save"),
            Response::Array(vec![Response::Bulk(b"save".to_vec()), Response::Bulk(Vec::new())])
        );
        assert_eq!(
            reply_of("CONFIG GET *max*").clone(),
            Response::Array(vec![
                Response::Bulk(b"maxmemory".to_vec()),
                Response::Bulk(b"0".to_vec())
            ])
        );
    }
}
