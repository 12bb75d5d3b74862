//! The text formats a trace can be in, each line parsed in place into the key's byte range, the
//! operation and the value size (no allocation):
//!
//! - `csv`: `key,op[,size,...]`, tierbench's own recordings included;
//! - `twitter`: the Twitter/X production cache traces
//!   (`timestamp,key,key_size,value_size,client_id,operation,ttl`);
//! - `redis_monitor`: what `redis-cli MONITOR` prints
//!   (`1339518083.107412 [0 127.0.0.1:60866] "SET" "key" "value"`).
//!
//! A line that is not a request tierbench can replay (a header, `OK`, a command with no cache
//! operation such as `PING`) gives `None`; `monitor_command` names the command of such a line so
//! that the count before a run can list what a capture holds that is not replayed.

use std::ops::Range;

use super::TraceFormat;
use crate::workload::op::Op;

/// A parsed line: where its key is in the line, its operation, its value size if it says.
pub(super) type Parsed = (Range<usize>, Op, Option<usize>);

/// Parses one line of a text trace.
pub(super) fn parse_text(format: TraceFormat, line: &str) -> Option<Parsed> {
    match format {
        TraceFormat::Csv => parse_csv(line),
        TraceFormat::Twitter => parse_twitter(line),
        TraceFormat::RedisMonitor => parse_monitor(line),
        TraceFormat::OracleGeneral => None,
    }
}

/// `key,op[,size,...]`.
pub(super) fn parse_csv(line: &str) -> Option<Parsed> {
    let line = line.trim_end_matches(['\n', '\r']);
    let mut fields = line.split(',');
    let field = fields.next()?;
    let start = field.len() - field.trim_start().len();
    let key = field.trim();
    // A recorded batch (its keys on consecutive lines) replays key by key.
    let op = Op::from_name(fields.next()?.trim())?.per_key();
    let size = fields.next().and_then(|s| s.trim().parse().ok());
    (!key.is_empty()).then_some((start..start + key.len(), op, size))
}

/// `timestamp,key,key_size,value_size,client_id,operation,ttl` (memcached operations).
fn parse_twitter(line: &str) -> Option<Parsed> {
    let line = line.trim_end_matches(['\n', '\r']);
    let mut fields = line.split(',');
    let timestamp = fields.next()?;
    let key = fields.next()?;
    let _key_size = fields.next()?;
    let value_size = fields.next()?.trim().parse::<usize>().ok();
    let _client = fields.next()?;
    let op = match fields.next()?.trim() {
        "get" | "gets" => Op::Get,
        "set" | "add" | "replace" | "cas" | "append" | "prepend" | "incr" | "decr" => Op::Set,
        "delete" => Op::Delete,
        "touch" => Op::Touch,
        _ => return None,
    };
    let start = timestamp.len() + 1;
    let size = value_size.filter(|_| op == Op::Set);
    (!key.is_empty()).then_some((start..start + key.len(), op, size))
}

/// A `redis-cli MONITOR` line: the command's key and, for writes, the value's size. A multi-key
/// command reaches here split into single-key lines (`split_monitor`); parsed whole, it gives
/// its first key.
fn parse_monitor(line: &str) -> Option<Parsed> {
    let (args_at, mut tokens) = monitor_tokens(line)?;
    let (command, _) = tokens.next()?;
    let command = &line[args_at + command.start..args_at + command.end];
    let (key, _) = tokens.next()?;
    let key = args_at + key.start..args_at + key.end;
    let mut nth = |n: usize| tokens.nth(n).map(|(_, len)| len);
    let (op, size) = match command.to_ascii_uppercase().as_str() {
        "GET" | "GETEX" | "GETDEL" | "MGET" | "EXISTS" | "STRLEN" => (Op::Get, None),
        "SET" | "SETNX" | "GETSET" | "APPEND" => (Op::Set, nth(0)),
        "SETEX" | "PSETEX" => (Op::Set, nth(1)),
        "DEL" | "UNLINK" => (Op::Delete, None),
        "EXPIRE" | "PEXPIRE" | "EXPIREAT" | "PEXPIREAT" | "TOUCH" | "PERSIST" => (Op::Touch, None),
        _ => return None,
    };
    (!key.is_empty()).then_some((key, op, size))
}

/// The single-key command each key of a multi-key command becomes, and how many arguments one
/// key takes (`MSET`: a key and its value).
fn single_key_form(command: &str) -> Option<(&'static str, usize)> {
    Some(match command.to_ascii_uppercase().as_str() {
        "MGET" => ("GET", 1),
        "DEL" => ("DEL", 1),
        "UNLINK" => ("UNLINK", 1),
        "EXISTS" => ("EXISTS", 1),
        "TOUCH" => ("TOUCH", 1),
        "MSET" => ("SET", 2),
        _ => return None,
    })
}

/// A MONITOR line of a multi-key command (`MGET a b`, `DEL a b`, `UNLINK`, `EXISTS`, `TOUCH`,
/// `MSET a 1 b 2`) written as one single-key line per key into `out` (`GET a`, `GET b`; `SET a
/// 1`, `SET b 2`), each with the line's timestamp and client and ending in `\n`; returns how
/// many. 0 for any other line (and a multi-key command of one key), which stays as it is.
pub(super) fn split_monitor(line: &str, out: &mut Vec<u8>) -> usize {
    let Some((args_at, mut tokens)) = monitor_tokens(line) else {
        return 0;
    };
    let Some((command, _)) = tokens.next() else {
        return 0;
    };
    let Some((single, per_key)) =
        single_key_form(&line[args_at + command.start..args_at + command.end])
    else {
        return 0;
    };
    let args: Vec<Range<usize>> = tokens.map(|(range, _)| range).collect();
    let keys = args.len() / per_key;
    if keys < 2 {
        return 0;
    }
    let head = &line.as_bytes()[..args_at];
    for key in args.chunks_exact(per_key) {
        out.extend_from_slice(head);
        out.push(b'"');
        out.extend_from_slice(single.as_bytes());
        out.push(b'"');
        for arg in key {
            out.extend_from_slice(b" \"");
            out.extend_from_slice(&line.as_bytes()[args_at + arg.start..args_at + arg.end]);
            out.push(b'"');
        }
        out.push(b'\n');
    }
    keys
}

/// A write's time to live in seconds: a Twitter line's last field (`ttl`), when it is a set
/// with a TTL above 0; `None` for other formats and lines.
pub(super) fn ttl_s(format: TraceFormat, op: Op, line: &str) -> Option<u32> {
    if format != TraceFormat::Twitter || op != Op::Set {
        return None;
    }
    let ttl: u32 = line.trim_end().rsplit(',').next()?.trim().parse().ok()?;
    (ttl > 0).then_some(ttl)
}

/// When a line's request was made, in nanoseconds of the trace's own clock: a MONITOR line's
/// `1339518083.107412`, a Twitter line's first field (seconds); `None` for CSV.
pub(super) fn timestamp_ns(format: TraceFormat, line: &str) -> Option<u64> {
    let text = match format {
        TraceFormat::RedisMonitor => line.split(' ').next()?,
        TraceFormat::Twitter => line.split(',').next()?,
        TraceFormat::Csv | TraceFormat::OracleGeneral => return None,
    };
    // Whole seconds and a fraction of up to nine digits, exactly (an f64 would round them).
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let seconds: u64 = whole.parse().ok()?;
    let digits = fraction.get(..fraction.len().min(9))?;
    let mut nanos: u64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    for _ in digits.len()..9 {
        nanos *= 10;
    }
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// The command of a `redis-cli MONITOR` line that `parse_monitor` does not replay (`PING`,
/// `HSET`...), upper-cased; `None` for a line that is not a command.
pub(super) fn monitor_command(line: &str) -> Option<String> {
    let (args_at, mut tokens) = monitor_tokens(line)?;
    let (command, _) = tokens.next()?;
    Some(line[args_at + command.start..args_at + command.end].to_ascii_uppercase())
}

/// Where a MONITOR line's arguments start, and each quoted argument: its content's byte range
/// (from that start, escapes kept as written) and its length once unescaped.
fn monitor_tokens(line: &str) -> Option<(usize, impl Iterator<Item = (Range<usize>, usize)>)> {
    let at = line.find("] ")? + 2;
    let bytes = &line.as_bytes()[at..];
    let mut pos = 0;
    let tokens = std::iter::from_fn(move || {
        while pos < bytes.len() && bytes[pos] != b'"' {
            pos += 1;
        }
        pos += 1;
        let start = pos;
        let mut len = 0;
        while pos < bytes.len() && bytes[pos] != b'"' {
            if bytes[pos] == b'\\' {
                // `\xHH` is one byte; `\"`, `\\`, `\n`... one character.
                pos += if bytes.get(pos + 1) == Some(&b'x') {
                    4
                } else {
                    2
                };
            } else {
                pos += 1;
            }
            len += 1;
        }
        let end = pos.min(bytes.len());
        pos += 1;
        (start <= bytes.len() && end <= bytes.len() && start <= end).then_some((start..end, len))
    });
    Some((at, tokens))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expire_line() -> &'static str {
        r#"1.0 [3 127.0.0.1:1] "EXPIRE" "k" "10""#
    }

    fn parsed(format: TraceFormat, line: &str) -> Option<(&str, Op, Option<usize>)> {
        parse_text(format, line).map(|(key, op, size)| (&line[key], op, size))
    }

    #[test]
    fn twitter_lines_give_key_operation_and_value_size() {
        let f = TraceFormat::Twitter;
        assert_eq!(
            parsed(f, "0,q:q:1:8WTfjZU,18,32,1,set,0\n"),
            Some(("q:q:1:8WTfjZU", Op::Set, Some(32)))
        );
        assert_eq!(parsed(f, "5,k1,2,0,3,gets,0"), Some(("k1", Op::Get, None)));
        assert_eq!(
            parsed(f, "5,k1,2,0,3,delete,0"),
            Some(("k1", Op::Delete, None))
        );
        assert_eq!(parsed(f, "5,k1,2,0,3,flush_all,0"), None);
        assert_eq!(ttl_s(f, Op::Set, "0,k,1,32,1,set,600\n"), Some(600));
        assert_eq!(ttl_s(f, Op::Set, "0,k,1,32,1,set,0"), None);
        assert_eq!(ttl_s(f, Op::Get, "0,k,1,32,1,get,600"), None);
        assert_eq!(ttl_s(TraceFormat::Csv, Op::Set, "k,set,600"), None);
    }

    #[test]
    fn monitor_lines_give_the_first_key_and_the_value_size() {
        let f = TraceFormat::RedisMonitor;
        let set = r#"1339518083.107412 [0 127.0.0.1:60866] "SET" "user:1" "hello""#;
        assert_eq!(parsed(f, set), Some(("user:1", Op::Set, Some(5))));
        let setex = r#"1.0 [0 unix:/tmp/r.sock] "setex" "s:9" "60" "a\x00\"b""#;
        assert_eq!(parsed(f, setex), Some(("s:9", Op::Set, Some(4))));
        let mget = r#"1.0 [0 127.0.0.1:1] "MGET" "a" "b""#;
        assert_eq!(parsed(f, mget), Some(("a", Op::Get, None)));
        let mut out = Vec::new();
        assert_eq!(split_monitor(mget, &mut out), 2);
        let mset = r#"2.5 [0 127.0.0.1:1] "mset" "a" "1\"x" "b" "22""#;
        assert_eq!(split_monitor(mset, &mut out), 2);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1.0 [0 127.0.0.1:1] \"GET\" \"a\"\n1.0 [0 127.0.0.1:1] \"GET\" \"b\"\n\
             2.5 [0 127.0.0.1:1] \"SET\" \"a\" \"1\\\"x\"\n2.5 [0 127.0.0.1:1] \"SET\" \"b\" \"22\"\n"
        );
        let mut none = Vec::new();
        let one = r#"1.0 [0 127.0.0.1:1] "DEL" "a""#;
        assert_eq!(
            split_monitor(one, &mut none) + split_monitor(expire_line(), &mut none),
            0
        );
        assert!(none.is_empty());
        let expire = r#"1.0 [3 127.0.0.1:1] "EXPIRE" "k" "10""#;
        assert_eq!(parsed(f, expire), Some(("k", Op::Touch, None)));
        let ping = r#"1.0 [0 127.0.0.1:1] "PING""#;
        assert_eq!(parsed(f, ping), None);
        assert_eq!(monitor_command(ping).as_deref(), Some("PING"));
        assert_eq!(parsed(f, "OK"), None);
        assert_eq!(monitor_command("OK"), None);
        assert_eq!(timestamp_ns(f, set), Some(1_339_518_083_107_412_000));
        assert_eq!(timestamp_ns(f, "OK"), None);
        assert_eq!(
            timestamp_ns(TraceFormat::Twitter, "12,k,1,2,3,get,0"),
            Some(12_000_000_000)
        );
    }
}
