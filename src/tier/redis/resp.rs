//! RESP2, as much of it as the measured Redis operations need: writing commands and reading
//! replies from a byte buffer that may end in the middle of one.
//!
//! Why not the `redis` crate here: its generic `Cmd`/`Value` path allocates per command and per
//! reply, and its multiplexed connection costs a channel and a write per command (see
//! `tier/wire/lane.rs`). GET, SET, DEL, PEXPIRE and EXISTS answer with a status, an integer, a
//! bulk string, nil or an error; writing them is a few `extend_from_slice`s into the
//! connection's one output buffer, and reading them borrows from the input buffer.

use crate::workload::op::Op;

/// One reply, borrowed from the input buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// `+OK` and other simple strings.
    Status,
    /// `:n`.
    Int(i64),
    /// `$-1` or `*-1`: no such key.
    Nil,
    /// `$n` with its bytes.
    Bulk(&'a [u8]),
    /// `-ERR ...`: the server's message (code and detail).
    Error(&'a [u8]),
    /// An array (skipped whole: no measured command answers with one).
    Array,
}

/// The input does not read as RESP: the connection cannot be trusted any more.
#[derive(Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

/// Appends `*n\r\n`: a command of `n` arguments follows.
#[inline]
pub fn command(out: &mut Vec<u8>, args: usize) {
    out.push(b'*');
    out.extend_from_slice(itoa::Buffer::new().format(args).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends one argument as a bulk string.
#[inline]
pub fn arg(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(itoa::Buffer::new().format(bytes.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// Appends one integer argument as a bulk string.
#[inline]
pub fn int_arg(out: &mut Vec<u8>, n: u64) {
    arg(out, itoa::Buffer::new().format(n).as_bytes());
}

/// Writes one measured command: GET, SET [PX], DEL, PEXPIRE or EXISTS.
#[inline]
pub fn encode_op(out: &mut Vec<u8>, op: Op, key: &str, value: &[u8], ttl_ms: Option<u64>) {
    match (op, ttl_ms) {
        (Op::Get | Op::MGet, _) => {
            command(out, 2);
            arg(out, b"GET");
            arg(out, key.as_bytes());
        }
        (Op::Set | Op::MSet, None) => {
            command(out, 3);
            arg(out, b"SET");
            arg(out, key.as_bytes());
            arg(out, value);
        }
        (Op::Set | Op::MSet, Some(ms)) => {
            command(out, 5);
            arg(out, b"SET");
            arg(out, key.as_bytes());
            arg(out, value);
            arg(out, b"PX");
            int_arg(out, ms);
        }
        (Op::Delete | Op::MDelete, _) => {
            command(out, 2);
            arg(out, b"DEL");
            arg(out, key.as_bytes());
        }
        (Op::Touch, Some(ms)) => {
            command(out, 3);
            arg(out, b"PEXPIRE");
            arg(out, key.as_bytes());
            int_arg(out, ms);
        }
        (Op::Touch, None) => {
            command(out, 2);
            arg(out, b"EXISTS");
            arg(out, key.as_bytes());
        }
        // Custom commands go through `custom` (validation keeps them off the pipelined path);
        // should one arrive here, PING touches no key.
        (Op::Command(_), _) => {
            command(out, 1);
            arg(out, b"PING");
        }
    }
}

/// The line starting at `at` (without its CRLF) and where the next one starts, or `None` when
/// the buffer ends first.
#[inline]
fn line(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(at..)?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((&rest[..end], at + end + 2))
}

fn number(digits: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            ProtocolError(format!(
                "expected a number in a Redis reply, found {:?}",
                String::from_utf8_lossy(digits)
            ))
        })
}

/// Reads one reply from `buf[at..]`: the reply and where the next one starts, `Ok(None)` when
/// the buffer ends before the reply does (read more and try again).
pub fn parse(buf: &[u8], at: usize) -> Result<Option<(Reply<'_>, usize)>, ProtocolError> {
    let Some((head, next)) = line(buf, at) else {
        return Ok(None);
    };
    let Some((&kind, body)) = head.split_first() else {
        return Err(ProtocolError(
            "an empty line where a Redis reply was expected".into(),
        ));
    };
    match kind {
        b'+' => Ok(Some((Reply::Status, next))),
        b'-' => Ok(Some((Reply::Error(body), next))),
        b':' => Ok(Some((Reply::Int(number(body)?), next))),
        b'$' => {
            let len = number(body)?;
            if len < 0 {
                return Ok(Some((Reply::Nil, next)));
            }
            let end = next + len as usize;
            match buf.get(end..end + 2) {
                Some(b"\r\n") => Ok(Some((Reply::Bulk(&buf[next..end]), end + 2))),
                Some(_) => Err(ProtocolError(
                    "a Redis bulk string not followed by CRLF".into(),
                )),
                None => Ok(None),
            }
        }
        b'*' => {
            let len = number(body)?;
            if len < 0 {
                return Ok(Some((Reply::Nil, next)));
            }
            let mut at = next;
            for _ in 0..len {
                match parse(buf, at)? {
                    Some((_, after)) => at = after,
                    None => return Ok(None),
                }
            }
            Ok(Some((Reply::Array, at)))
        }
        other => Err(ProtocolError(format!(
            "a Redis reply starting with {:?}, expected one of + - : $ *",
            other as char
        ))),
    }
}

/// Makes room to read into a full input buffer (`parsed..filled` unread): moves the unread part
/// to the front, or doubles the buffer for a reply this large.
pub fn make_room(rbuf: &mut Vec<u8>, parsed: &mut usize, filled: &mut usize) {
    if *filled < rbuf.len() {
        return;
    }
    if *parsed > 0 {
        rbuf.copy_within(*parsed..*filled, 0);
        *filled -= *parsed;
        *parsed = 0;
    } else {
        rbuf.resize(rbuf.len() * 2, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_written_as_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        command(&mut out, 5);
        arg(&mut out, b"SET");
        arg(&mut out, b"k");
        arg(&mut out, b"");
        arg(&mut out, b"PX");
        int_arg(&mut out, 1500);
        assert_eq!(
            out,
            b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n$2\r\nPX\r\n$4\r\n1500\r\n"
        );
    }

    #[test]
    fn every_reply_kind_is_read_with_where_the_next_starts() {
        let buf = b"+OK\r\n:42\r\n$-1\r\n$3\r\na\r\n\r\n-ERR wrong type\r\n*2\r\n$1\r\nx\r\n:1\r\n*-1\r\n";
        let mut at = 0;
        let mut got = Vec::new();
        while let Some((reply, next)) = parse(buf, at).unwrap() {
            got.push(format!("{reply:?}"));
            at = next;
        }
        assert_eq!(at, buf.len());
        assert_eq!(
            got,
            [
                "Status",
                "Int(42)",
                "Nil",
                format!("Bulk({:?})", b"a\r\n").as_str(),
                format!("Error({:?})", b"ERR wrong type").as_str(),
                "Array",
                "Nil"
            ]
        );
    }

    #[test]
    fn a_reply_cut_anywhere_asks_for_more() {
        let whole = b"$5\r\nhello\r\n*2\r\n:1\r\n$2\r\nab\r\n";
        for cut in 0..whole.len() {
            let first = parse(&whole[..cut], 0).unwrap();
            if cut < 11 {
                assert_eq!(first, None, "cut at {cut}");
            } else {
                assert_eq!(first, Some((Reply::Bulk(b"hello"), 11)));
                let second = parse(&whole[..cut], 11).unwrap();
                assert_eq!(second.is_some(), cut == whole.len(), "cut at {cut}");
            }
        }
    }

    #[test]
    fn garbage_is_a_protocol_error_not_a_panic() {
        assert!(parse(b"?\r\n", 0).is_err());
        assert!(parse(b":x\r\n", 0).is_err());
        assert!(parse(b"\r\n", 0).is_err());
        assert!(parse(b"$2\r\nabcd\r\n", 0).is_err());
    }
}
