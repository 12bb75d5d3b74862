//! memcached's meta protocol (text protocol, memcached 1.6): the commands tierbench's measured
//! operations send and the replies they get, read into the same `Reply` the RESP reader gives,
//! so the shared connections (`wire/`) carry both.
//!
//! Why meta commands, not the classic `get`/`set`: one syntax for every operation, a miss that
//! is a reply of its own (`EN`) rather than an absent line (a classic `get` of a missing key
//! answers only `END`, which a pipelined reader cannot tell apart from the end of a hit), and a
//! touch inside the get (`mg key T`) with a hit or miss of its own.
//!
//! | operation | sent | hit / done | miss |
//! |---|---|---|---|
//! | get | `mg KEY v` | `VA n` + value | `EN` |
//! | set | `ms KEY n [T<s>]` + value | `HD` | — |
//! | delete | `md KEY` | `HD` | `NF` |
//! | touch | `mg KEY T<s>` (`T0` without a ttl: expiry stays "never") | `HD` | `EN` |
//! | exists (claim, counts) | `me KEY` (debug: counts no get, leaves the LRU alone) | `ME ...` | `EN` |
//!
//! memcached keeps TTLs in whole seconds: a ttl in milliseconds is rounded up.

use crate::tier::redis::resp::Reply;
use crate::workload::op::Op;

/// Writes one measured operation on `key` (see the table above).
#[inline]
pub fn encode(out: &mut Vec<u8>, op: Op, key: &str, value: &[u8], ttl_ms: Option<u64>) {
    let mut digits = itoa::Buffer::new();
    match op {
        Op::Get | Op::MGet => {
            out.extend_from_slice(b"mg ");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b" v\r\n");
        }
        Op::Set | Op::MSet => {
            out.extend_from_slice(b"ms ");
            out.extend_from_slice(key.as_bytes());
            out.push(b' ');
            out.extend_from_slice(digits.format(value.len()).as_bytes());
            if let Some(ms) = ttl_ms {
                out.extend_from_slice(b" T");
                out.extend_from_slice(digits.format(seconds(ms)).as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        Op::Delete | Op::MDelete => {
            out.extend_from_slice(b"md ");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Op::Touch => {
            out.extend_from_slice(b"mg ");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b" T");
            out.extend_from_slice(digits.format(ttl_ms.map_or(0, seconds)).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        // Validation keeps custom commands off memcached; should one arrive, a no-op.
        Op::Command(_) => out.extend_from_slice(b"mn\r\n"),
    }
}

/// Writes `me KEY`: does the key exist (no get counted, the LRU left alone).
pub fn encode_exists(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b"me ");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Whole seconds for a ttl in milliseconds, rounded up (memcached's TTL unit).
pub fn seconds(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

/// Reads one reply from `buf[at..]`: the reply and where the next one starts, `Ok(None)` when
/// the buffer ends before the reply does. `VA` is a value (`Bulk`), `HD`/`MN`/`ME`/`OK` done
/// (`Status`), `EN`/`NF` no such key (`Nil`), `NS`/`EX` and the `ERROR` lines the server's
/// refusal (`Error`, the whole line).
pub fn parse(buf: &[u8], at: usize) -> Result<Option<(Reply<'_>, usize)>, String> {
    let Some(rest) = buf.get(at..) else {
        return Ok(None);
    };
    let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let head = &rest[..end];
    let next = at + end + 2;
    let code = head.split(|&b| b == b' ').next().unwrap_or_default();
    match code {
        b"VA" => {
            let size = head
                .split(|&b| b == b' ')
                .nth(1)
                .and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok())
                .ok_or_else(|| unexpected(head, "a value's size after VA"))?;
            let stop = next + size;
            match buf.get(stop..stop + 2) {
                Some(b"\r\n") => Ok(Some((Reply::Bulk(&buf[next..stop]), stop + 2))),
                Some(_) => Err(unexpected(head, "the value followed by CRLF")),
                None => Ok(None),
            }
        }
        b"HD" | b"MN" | b"ME" | b"OK" => Ok(Some((Reply::Status, next))),
        b"EN" | b"NF" => Ok(Some((Reply::Nil, next))),
        b"NS" | b"EX" | b"ERROR" | b"CLIENT_ERROR" | b"SERVER_ERROR" => {
            Ok(Some((Reply::Error(head), next)))
        }
        _ => Err(unexpected(
            head,
            "a meta reply (VA, HD, EN, NF, NS, MN, ...)",
        )),
    }
}

fn unexpected(line: &[u8], expected: &str) -> String {
    format!(
        "memcached replied {:?} where {expected} was expected",
        String::from_utf8_lossy(line)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(op: Op, value: &[u8], ttl_ms: Option<u64>) -> String {
        let mut out = Vec::new();
        encode(&mut out, op, "tb:7", value, ttl_ms);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn operations_are_written_as_meta_commands() {
        assert_eq!(written(Op::Get, b"", None), "mg tb:7 v\r\n");
        assert_eq!(written(Op::Set, b"abc", None), "ms tb:7 3\r\nabc\r\n");
        assert_eq!(
            written(Op::Set, b"abc", Some(1500)),
            "ms tb:7 3 T2\r\nabc\r\n"
        );
        assert_eq!(written(Op::Delete, b"", None), "md tb:7\r\n");
        assert_eq!(written(Op::Touch, b"", Some(60_000)), "mg tb:7 T60\r\n");
        assert_eq!(written(Op::Touch, b"", None), "mg tb:7 T0\r\n");
        assert_eq!(seconds(1), 1);
    }

    #[test]
    fn replies_are_read_whole_or_not_at_all() {
        let buf = b"VA 3 t\r\nabc\r\nEN\r\nHD\r\nNF\r\nSERVER_ERROR out of memory storing object\r\nVA 5\r\nab";
        let (r, at) = parse(buf, 0).unwrap().unwrap();
        assert_eq!(r, Reply::Bulk(b"abc"));
        let (r, at) = parse(buf, at).unwrap().unwrap();
        assert_eq!(r, Reply::Nil);
        let (r, at) = parse(buf, at).unwrap().unwrap();
        assert_eq!(r, Reply::Status);
        let (r, at) = parse(buf, at).unwrap().unwrap();
        assert_eq!(r, Reply::Nil);
        let (r, at) = parse(buf, at).unwrap().unwrap();
        assert_eq!(
            r,
            Reply::Error(&b"SERVER_ERROR out of memory storing object"[..])
        );
        assert_eq!(parse(buf, at).unwrap(), None, "an incomplete value waits");
        let err = parse(b"STAT pid 1\r\n", 0).unwrap_err();
        assert!(err.contains("\"STAT pid 1\""), "{err}");
    }
}
