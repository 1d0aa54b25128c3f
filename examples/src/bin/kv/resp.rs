//! RESP2, the Redis protocol: commands in (arrays of bulk strings, or an
//! inline line as `telnet` and `redis-cli` in a pipe send), replies out.
//!
//! The parser works on whatever the connection has read so far and says how
//! many bytes a complete command took, so a read that carries many
//! pipelined commands is parsed in one go and a command split across reads
//! waits for the rest. Errors are the ones `redis-server` sends; after one,
//! the connection is closed, as `redis-server` does.

use std::io::Write;

/// The longest inline command, and the longest `*`/`$` header line.
const MAX_INLINE: usize = 64 * 1024;

/// What the parser allows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The longest bulk string (`proto-max-bulk-len`).
    pub(crate) max_bulk: usize,
    /// The most arguments in one command.
    pub(crate) max_args: usize,
}

/// One step of parsing.
#[derive(Debug, PartialEq)]
pub(crate) enum Parsed {
    /// A command and its arguments, and the bytes it took.
    Command(Vec<Vec<u8>>, usize),
    /// Nothing to run (an empty line or `*0`), and the bytes it took.
    Nothing(usize),
    /// The command is not all here yet, and cannot be before the input
    /// holds `need` bytes (so a connection waiting for a large bulk string
    /// does not parse again until it has come).
    Incomplete { need: usize },
    /// The input is not RESP: the error to send before closing.
    Invalid(&'static str),
}

/// Parses the first command in `input`.
pub(crate) fn parse(input: &[u8], limits: &Limits) -> Parsed {
    match input.first() {
        None => Parsed::Incomplete { need: 1 },
        Some(b'*') => parse_array(input, limits),
        Some(_) => parse_inline(input, limits),
    }
}

fn parse_array(input: &[u8], limits: &Limits) -> Parsed {
    let Some((header, mut at)) = line(input, 1) else {
        return too_long(input, 0, "Protocol error: too big mbulk count string");
    };
    let count = match number(header) {
        Some(n) if n <= 0 => return Parsed::Nothing(at),
        Some(n) if (n as usize) <= limits.max_args => n as usize,
        _ => return Parsed::Invalid("Protocol error: invalid multibulk length"),
    };
    // Checked whole first, copied after: a command that comes over many
    // reads is copied once, not once per read.
    let first = at;
    for _ in 0..count {
        at = match bulk_at(input, at, limits) {
            Ok(bulk) => bulk.end + 2,
            Err(stop) => return stop,
        };
    }
    let mut args = Vec::with_capacity(count);
    let mut next = first;
    for _ in 0..count {
        let bulk = bulk_at(input, next, limits).expect("checked above");
        next = bulk.end + 2;
        args.push(input[bulk].to_vec());
    }
    Parsed::Command(args, at)
}

/// The bulk string whose `$` header starts at `at`: where its bytes lie (its
/// CRLF follows), or why there is none yet.
fn bulk_at(input: &[u8], at: usize, limits: &Limits) -> Result<std::ops::Range<usize>, Parsed> {
    match input.get(at) {
        None => return Err(Parsed::Incomplete { need: at + 1 }),
        Some(b'$') => {}
        Some(_) => return Err(Parsed::Invalid("Protocol error: expected '$'")),
    }
    let Some((header, start)) = line(input, at + 1) else {
        return Err(too_long(input, at, "Protocol error: too big bulk count string"));
    };
    let len = match number(header) {
        Some(n) if n >= 0 && (n as usize) <= limits.max_bulk => n as usize,
        _ => return Err(Parsed::Invalid("Protocol error: invalid bulk length")),
    };
    let end = start + len;
    if input.len() < end + 2 {
        return Err(Parsed::Incomplete { need: end + 2 });
    }
    if &input[end..end + 2] != b"\r\n" {
        return Err(Parsed::Invalid("Protocol error: bulk string not followed by CRLF"));
    }
    Ok(start..end)
}

fn parse_inline(input: &[u8], limits: &Limits) -> Parsed {
    let Some(end) = input.iter().position(|&b| b == b'\n') else {
        return too_long(input, 0, "Protocol error: too big inline request");
    };
    let text = input[..end].strip_suffix(b"\r").unwrap_or(&input[..end]);
    let args: Vec<Vec<u8>> = text
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    if args.len() > limits.max_args {
        return Parsed::Invalid("Protocol error: invalid multibulk length");
    }
    if args.is_empty() {
        Parsed::Nothing(end + 1)
    } else {
        Parsed::Command(args, end + 1)
    }
}

/// The line that starts at `from` (without its CRLF), and where the next
/// one starts; `None` if its end has not come.
fn line(input: &[u8], from: usize) -> Option<(&[u8], usize)> {
    let rest = input.get(from..)?;
    let end = rest.windows(2).take(MAX_INLINE).position(|w| w == b"\r\n")?;
    Some((&rest[..end], from + end + 2))
}

/// Incomplete (one more byte of `input` may end the line that starts at
/// `from`), unless that line has run past what a header may be.
fn too_long(input: &[u8], from: usize, error: &'static str) -> Parsed {
    if input.len() - from > MAX_INLINE {
        Parsed::Invalid(error)
    } else {
        Parsed::Incomplete { need: input.len() + 1 }
    }
}

/// A decimal integer, as Redis reads one: no sign but `-`, no leading
/// zeros, no spaces.
pub(crate) fn number(digits: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(digits).ok()?;
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let leading_zero = unsigned.len() > 1 && unsigned.starts_with('0');
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) || leading_zero {
        return None;
    }
    if text == "-0" {
        return None;
    }
    text.parse().ok()
}

/// A reply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Response {
    /// `+OK`.
    Ok,
    /// A status line, such as `+PONG`.
    Status(&'static str),
    /// An error line, its first word the error's kind (`ERR`).
    Error(String),
    /// The `WRONGTYPE` error: the key holds another kind of value.
    WrongType,
    Int(i64),
    Bulk(Vec<u8>),
    /// The null bulk string: no such key.
    Nil,
    Array(Vec<Response>),
}

impl Response {
    /// An `ERR` error.
    pub(crate) fn err(message: impl std::fmt::Display) -> Self {
        Self::Error(format!("ERR {message}"))
    }

    pub(crate) fn not_an_integer() -> Self {
        Self::err("value is not an integer or out of range")
    }

    /// Appends the reply's bytes to `out`.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::Ok => out.extend_from_slice(b"+OK\r\n"),
            Self::Status(s) => line_of(out, b'+', s.as_bytes()),
            Self::Error(e) => line_of(out, b'-', e.as_bytes()),
            Self::WrongType => out.extend_from_slice(
                b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
            Self::Int(n) => {
                let _ = write!(out, ":{n}\r\n");
            }
            Self::Bulk(bytes) => {
                let _ = write!(out, "${}\r\n", bytes.len());
                out.extend_from_slice(bytes);
                out.extend_from_slice(b"\r\n");
            }
            Self::Nil => out.extend_from_slice(b"$-1\r\n"),
            Self::Array(items) => {
                let _ = write!(out, "*{}\r\n", items.len());
                for item in items {
                    item.write(out);
                }
            }
        }
    }
}

fn line_of(out: &mut Vec<u8>, kind: u8, text: &[u8]) {
    out.push(kind);
    // A line cannot carry a line break: an error quoting the client's
    // input must not let it forge a second reply.
    out.extend(text.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { max_bulk: 16, max_args: 4 };

    fn args(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn an_array_of_bulk_strings() {
        let input = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n";
        assert_eq!(parse(input, &LIMITS), Parsed::Command(args(&["GET", "k"]), 20));
    }

    #[test]
    fn a_command_split_across_reads_waits_for_the_rest() {
        let whole = b"*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
        for end in 0..whole.len() {
            let Parsed::Incomplete { need } = parse(&whole[..end], &LIMITS) else {
                panic!("{end} bytes: not incomplete")
            };
            assert!(need > end && need <= whole.len(), "{end} bytes: need {need}");
        }
        // Inside the bulk string, it knows where it ends.
        assert_eq!(parse(&whole[..20], &LIMITS), Parsed::Incomplete { need: 24 });
        assert!(matches!(parse(whole, &LIMITS), Parsed::Command(_, 24)));
    }

    #[test]
    fn inline_commands_and_empty_lines() {
        assert_eq!(parse(b"PING\r\n", &LIMITS), Parsed::Command(args(&["PING"]), 6));
        assert_eq!(parse(b"set  a b\n", &LIMITS), Parsed::Command(args(&["set", "a", "b"]), 9));
        assert_eq!(parse(b"\r\n", &LIMITS), Parsed::Nothing(2));
        assert_eq!(parse(b"*0\r\n", &LIMITS), Parsed::Nothing(4));
    }

    #[test]
    fn bad_frames_get_redis_errors() {
        let invalid = |input: &[u8]| match parse(input, &LIMITS) {
            Parsed::Invalid(e) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(invalid(b"*x\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(invalid(b"*5\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(invalid(b"*1\r\n+OK\r\n"), "Protocol error: expected '$'");
        assert_eq!(invalid(b"*1\r\n$17\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(invalid(b"*1\r\n$-2\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(
            invalid(b"*1\r\n$1\r\nab\r\n"),
            "Protocol error: bulk string not followed by CRLF"
        );
        assert_eq!(invalid(&[b'a'; MAX_INLINE + 1]), "Protocol error: too big inline request");
    }

    #[test]
    fn integers_as_redis_reads_them() {
        assert_eq!(number(b"-12"), Some(-12));
        assert_eq!(number(b"0"), Some(0));
        for bad in [&b"007"[..], b"+1", b" 1", b"-0", b"", b"-", b"1e3", b"99999999999999999999"] {
            assert_eq!(number(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn replies_as_redis_writes_them() {
        let mut out = Vec::new();
        for r in [
            Response::Ok,
            Response::Int(-3),
            Response::Nil,
            Response::Array(vec![Response::Bulk(b"v".to_vec()), Response::Nil]),
            Response::err("bad\r\nline"),
        ] {
            r.write(&mut out);
        }
        assert_eq!(out, b"+OK\r\n:-3\r\n$-1\r\n*2\r\n$1\r\nv\r\n$-1\r\n-ERR bad  line\r\n");
    }
}
