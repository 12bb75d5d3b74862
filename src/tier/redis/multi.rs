//! The Redis tier's batch calls: one MGET, one MSET (a pipeline of `SET PX` when the tier has
//! a ttl: MSET sets no expiry), one DEL, each bounded by the tier's timeout.
//!
//! A child of `redis.rs` (it uses the tier's data path, ttl and timeout) kept in its own file
//! so the tier's file stays about connecting. On tierbench's own connections an MGET reply is
//! copied once, whole, and each value is a slice of that copy: one allocation per batch, none
//! per key.

use bytes::Bytes;

use super::RedisTier;
use crate::tier::error::{TierError, redis_message};
use crate::tier::redis::data::DataPath;
use crate::tier::redis::resp::{self, Reply};
use crate::tier::wire::lane::Answer;
use crate::workload::batch::BatchKeys;

fn timed_out(timeout: std::time::Duration) -> TierError {
    TierError::Operation(format!("no answer within {timeout:?} (the tier's timeout)"))
}

/// Runs `call` bounded by `timeout`.
async fn bounded<T>(
    timeout: std::time::Duration,
    call: impl Future<Output = Result<T, TierError>>,
) -> Result<T, TierError> {
    tokio::time::timeout(timeout, call)
        .await
        .unwrap_or_else(|_| Err(timed_out(timeout)))
}

fn lean(answer: Result<Answer, String>) -> Result<Answer, TierError> {
    match answer.map_err(TierError::Operation)? {
        Answer::Failed(said) => Err(TierError::Operation(said)),
        other => Ok(other),
    }
}

/// Splits an MGET reply (`*n` then n bulk strings or nils) into `found`, each value a slice of
/// `reply`.
pub(crate) fn split_array(
    reply: &Bytes,
    expected: usize,
    found: &mut Vec<Option<Bytes>>,
) -> Result<(), TierError> {
    let bad = |what: &str| TierError::Operation(format!("an MGET reply {what}"));
    let head_end = reply
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or_else(|| bad("without a header"))?;
    let mut at = head_end + 2;
    for _ in 0..expected {
        match resp::parse(reply, at).map_err(|e| TierError::Operation(e.0))? {
            Some((Reply::Bulk(b), next)) => {
                found.push(Some(reply.slice_ref(b)));
                at = next;
            }
            Some((Reply::Nil, next)) => {
                found.push(None);
                at = next;
            }
            _ => return Err(bad("with an element that is not a string")),
        }
    }
    if at != reply.len() {
        return Err(bad(&format!("with more than {expected} elements")));
    }
    Ok(())
}

impl RedisTier {
    /// One MGET of the keys at `which`.
    pub async fn mget(
        &self,
        lane: usize,
        keys: &BatchKeys,
        which: &[u32],
        found: &mut Vec<Option<Bytes>>,
    ) -> Result<(), TierError> {
        self.strings_only("mget")?;
        match &self.data {
            DataPath::Lean(lanes) => {
                let conn = &lanes[lane % lanes.len()];
                let encode = |out: &mut Vec<u8>| encode_keys(out, b"MGET", keys, which);
                let answer =
                    bounded(self.timeout, async { lean(conn.one(true, encode).await) }).await?;
                match answer {
                    Answer::Array(reply) => split_array(&reply, which.len(), found),
                    _ => Err(TierError::Operation(
                        "MGET answered with something other than an array".into(),
                    )),
                }
            }
            DataPath::Crate(conns) => {
                let mut conn = conns[lane % conns.len()].clone();
                let mut cmd = redis::cmd("MGET");
                for &i in which {
                    cmd.arg(keys.key(i as usize));
                }
                let values: Vec<Option<Vec<u8>>> = bounded(self.timeout, async {
                    cmd.query_async(&mut conn)
                        .await
                        .map_err(|e| TierError::Operation(redis_message(&e)))
                })
                .await?;
                found.extend(values.into_iter().map(|v| v.map(Bytes::from)));
                Ok(())
            }
        }
    }

    /// One MSET of the keys at `which` (a pipeline of `SET key value PX ttl` when the tier has
    /// a ttl, in one round trip).
    pub async fn mset<'v>(
        &self,
        lane: usize,
        keys: &BatchKeys,
        which: &[u32],
        value: impl Fn(usize) -> &'v [u8],
    ) -> Result<(), TierError> {
        self.strings_only("mset")?;
        let ttl = self.ttl_ms;
        match &self.data {
            DataPath::Lean(lanes) => {
                let conn = &lanes[lane % lanes.len()];
                match ttl {
                    None => {
                        let encode = |out: &mut Vec<u8>| {
                            resp::command(out, 1 + 2 * which.len());
                            resp::arg(out, b"MSET");
                            for &i in which {
                                resp::arg(out, keys.key(i as usize).as_bytes());
                                resp::arg(out, value(i as usize));
                            }
                        };
                        bounded(self.timeout, async { lean(conn.one(false, encode).await) })
                            .await
                            .map(drop)
                    }
                    Some(ms) => {
                        let encode = |out: &mut Vec<u8>| {
                            for &i in which {
                                resp::command(out, 5);
                                resp::arg(out, b"SET");
                                resp::arg(out, keys.key(i as usize).as_bytes());
                                resp::arg(out, value(i as usize));
                                resp::arg(out, b"PX");
                                resp::int_arg(out, ms);
                            }
                        };
                        let mut answers = Vec::with_capacity(which.len());
                        bounded(self.timeout, async {
                            conn.many(which.len(), false, encode, &mut answers)
                                .await
                                .map_err(TierError::Operation)
                        })
                        .await?;
                        match answers.into_iter().find_map(|a| match a {
                            Answer::Failed(said) => Some(said),
                            _ => None,
                        }) {
                            Some(said) => Err(TierError::Operation(said)),
                            None => Ok(()),
                        }
                    }
                }
            }
            DataPath::Crate(conns) => {
                let mut conn = conns[lane % conns.len()].clone();
                let mut pipe = redis::pipe();
                match ttl {
                    None => {
                        let cmd = pipe.cmd("MSET");
                        for &i in which {
                            cmd.arg(keys.key(i as usize)).arg(value(i as usize));
                        }
                    }
                    Some(ms) => {
                        for &i in which {
                            pipe.cmd("SET")
                                .arg(keys.key(i as usize))
                                .arg(value(i as usize))
                                .arg("PX")
                                .arg(ms);
                        }
                    }
                }
                bounded(self.timeout, async {
                    pipe.query_async::<()>(&mut conn)
                        .await
                        .map_err(|e| TierError::Operation(redis_message(&e)))
                })
                .await
            }
        }
    }

    /// One DEL of the keys at `which`.
    pub async fn mdelete(
        &self,
        lane: usize,
        keys: &BatchKeys,
        which: &[u32],
    ) -> Result<(), TierError> {
        match &self.data {
            DataPath::Lean(lanes) => {
                let conn = &lanes[lane % lanes.len()];
                let encode = |out: &mut Vec<u8>| encode_keys(out, b"DEL", keys, which);
                bounded(self.timeout, async { lean(conn.one(false, encode).await) })
                    .await
                    .map(drop)
            }
            DataPath::Crate(conns) => {
                let mut conn = conns[lane % conns.len()].clone();
                let mut cmd = redis::cmd("DEL");
                for &i in which {
                    cmd.arg(keys.key(i as usize));
                }
                bounded(self.timeout, async {
                    cmd.query_async::<i64>(&mut conn)
                        .await
                        .map(drop)
                        .map_err(|e| TierError::Operation(redis_message(&e)))
                })
                .await
            }
        }
    }
}

/// Encodes `command` followed by the keys at `which` (MGET, DEL).
fn encode_keys(out: &mut Vec<u8>, command: &[u8], keys: &BatchKeys, which: &[u32]) {
    resp::command(out, 1 + which.len());
    resp::arg(out, command);
    for &i in which {
        resp::arg(out, keys.key(i as usize).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mget_replies_split_into_slices_of_one_copy() {
        let reply = Bytes::from_static(b"*3\r\n$2\r\nab\r\n$-1\r\n$0\r\n\r\n");
        let mut found = Vec::new();
        split_array(&reply, 3, &mut found).unwrap();
        assert_eq!(
            found,
            vec![Some(Bytes::from_static(b"ab")), None, Some(Bytes::new())]
        );
        found.clear();
        assert!(split_array(&reply, 2, &mut found).is_err());
        found.clear();
        assert!(split_array(&Bytes::from_static(b"*1\r\n:1\r\n"), 1, &mut found).is_err());
    }
}
