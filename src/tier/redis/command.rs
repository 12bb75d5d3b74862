//! Writing a custom command (`workload::command::CommandTemplate`) as RESP into a connection's
//! reused output buffer: the template was split at plan time, so a write is the arguments'
//! lengths, a few `extend_from_slice`s and one decimal field index: no allocation, no parsing.

use crate::tier::redis::resp;
use crate::workload::command::{CommandTemplate, Segment};

/// Appends `template` with its placeholders filled in to `out`.
pub fn encode(template: &CommandTemplate, out: &mut Vec<u8>, key: &[u8], value: &[u8], field: u64) {
    let mut digits = itoa::Buffer::new();
    let field = digits.format(field).as_bytes();
    resp::command(out, template.args.len());
    for arg in template.args.iter() {
        let piece = |s: &Segment| -> usize {
            match s {
                Segment::Literal(b) => b.len(),
                Segment::Key => key.len(),
                Segment::Value => value.len(),
                Segment::Field => field.len(),
            }
        };
        if let [single] = &arg[..] {
            let bytes: &[u8] = match single {
                Segment::Literal(b) => b,
                Segment::Key => key,
                Segment::Value => value,
                Segment::Field => field,
            };
            resp::arg(out, bytes);
            continue;
        }
        let len: usize = arg.iter().map(piece).sum();
        out.push(b'$');
        out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
        out.extend_from_slice(b"\r\n");
        for s in arg.iter() {
            out.extend_from_slice(match s {
                Segment::Literal(b) => b,
                Segment::Key => key,
                Segment::Value => value,
                Segment::Field => field,
            });
        }
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders_as_resp() {
        let args: Vec<String> = ["HSET", "{key}", "f:{field}", "{value}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let t = CommandTemplate::parse("hs", &args).unwrap();
        let mut out = Vec::new();
        encode(&t, &mut out, b"tb:k1", b"vvv", 12);
        assert_eq!(
            out,
            b"*4\r\n$4\r\nHSET\r\n$5\r\ntb:k1\r\n$4\r\nf:12\r\n$3\r\nvvv\r\n".to_vec()
        );
    }

    /// The bytes are a command Redis accepts: sent to the local server when one listens.
    #[test]
    fn redis_accepts_the_encoded_command() {
        use std::io::{Read, Write};
        let Ok(mut conn) = std::net::TcpStream::connect("127.0.0.1:6379") else {
            eprintln!("no Redis on 127.0.0.1:6379: skipped");
            return;
        };
        let args: Vec<String> = ["HSET", "{key}", "field:{field}", "{value}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let t = CommandTemplate::parse("hs", &args).unwrap();
        let key = format!("tierbench-unit-cmd-{}", std::process::id());
        let mut out = Vec::new();
        encode(&t, &mut out, key.as_bytes(), b"hello", 3);
        resp::command(&mut out, 3);
        resp::arg(&mut out, b"HGET");
        resp::arg(&mut out, key.as_bytes());
        resp::arg(&mut out, b"field:3");
        resp::command(&mut out, 2);
        resp::arg(&mut out, b"UNLINK");
        resp::arg(&mut out, key.as_bytes());
        conn.write_all(&out).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 256];
        let mut replies = Vec::new();
        while replies.len() < 3 {
            let n = conn.read(&mut chunk).unwrap();
            assert!(n > 0, "Redis closed the connection");
            buf.extend_from_slice(&chunk[..n]);
            replies.clear();
            let mut at = 0;
            while let Some((reply, next)) = resp::parse(&buf, at).unwrap() {
                replies.push(format!("{reply:?}"));
                at = next;
            }
        }
        assert_eq!(
            replies,
            ["Int(1)", "Bulk([104, 101, 108, 108, 111])", "Int(1)"]
        );
    }
}
