//! `store_as: hash` on a Redis tier: each value, a JSON object, is kept as a Redis hash with one
//! field per top-level JSON field, as a session store keeps a session; a set is `HSET key f1 v1
//! f2 v2 ...` (pipelined with `PEXPIRE key ttl` on the same connection when the tier has a ttl,
//! one write and one wait for both replies: one operation, timed from the write to the second
//! reply), a get is `HGETALL` (a hit is a non-empty hash). Deletes and touches are the string
//! tier's (`DEL`, `PEXPIRE`/`EXISTS`): they do not care about the type.
//!
//! Why fields hold their JSON text (a string keeps its quotes): a get re-assembles
//! `{"f1":v1,...}` in the shape's field order (HGETALL's order is the hash's, not the
//! insertion's, once a field outgrows a listpack) into exactly the bytes the other tiers of a
//! stack store, so promotion, verification and hit checks see one value whatever tier served it.
//!
//! Writes take the field ranges the value pool computed when it generated the value
//! (`ValuePool::fields_of`): HSET's arguments are slices of the value, with no parsing or
//! allocation per write. A value that is not the pool's (a promotion from a lower tier, the
//! origin's copy) is split on the fly, into the connection's output buffer only.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tier::error::TierError;
use crate::tier::redis::data::{DataPath, crate_error};
use crate::tier::redis::resp::{self, Reply};
use crate::tier::wire::bounded;
use crate::tier::wire::lane::Answer;
use crate::workload::fields::{FieldSpan, assemble, split_object};
use crate::workload::values::ValuePool;

/// How a Redis tier keeps each value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoreAs {
    /// One string per key (`SET`/`GET`): the value's bytes as they are.
    #[default]
    String,
    /// One hash per key (`HSET`/`HGETALL`), a field per top-level field of the JSON object
    /// value, each holding that field's JSON text; needs `values: { shape: json }`.
    Hash,
}

/// A hash tier's resolved setting: the order of the values' fields (the JSON shape's), which a
/// get re-assembles them in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashLayout {
    /// Field names, in the values' order.
    pub fields: Vec<String>,
}

/// What a hash tier keeps besides its connections.
pub(in crate::tier) struct HashStore {
    /// Each field name's place in the values' order.
    order: HashMap<Box<[u8]>, u32>,
    /// The run's values, split into fields when generated (`RedisTier::use_values`).
    values: OnceLock<Arc<ValuePool>>,
}

/// Where a write's fields come from.
#[derive(Clone, Copy)]
enum Fields<'a> {
    /// The pool's spans of the value.
    Spans(&'a [FieldSpan]),
    /// Split while writing; this many fields (counted by a first split).
    Split(usize),
}

impl Fields<'_> {
    fn count(&self) -> usize {
        match self {
            Fields::Spans(s) => s.len(),
            Fields::Split(n) => *n,
        }
    }
}

/// The error of a value that is not a JSON object with fields.
fn not_an_object(why: String) -> TierError {
    TierError::Operation(format!(
        "store_as: hash needs values that are JSON objects with fields: {why}"
    ))
}

impl HashStore {
    pub(in crate::tier) fn new(layout: &HashLayout) -> HashStore {
        HashStore {
            order: (0u32..)
                .zip(&layout.fields)
                .map(|(i, name)| (name.as_bytes().into(), i))
                .collect(),
            values: OnceLock::new(),
        }
    }

    /// Remembers the run's value pool (the first one given; a tier serves one run).
    pub(in crate::tier) fn use_values(&self, values: &Arc<ValuePool>) {
        let _ = self.values.set(Arc::clone(values));
    }

    /// The fields of `value`: the pool's spans, or a count from splitting it.
    fn fields<'a>(&'a self, value: &[u8]) -> Result<Fields<'a>, TierError> {
        if let Some(spans) = self.values.get().and_then(|pool| pool.fields_of(value)) {
            return Ok(Fields::Spans(spans));
        }
        split_object(value, |_, _| {})
            .map(Fields::Split)
            .map_err(|e| not_an_object(e.0))
    }

    /// The value of a hash read as `(name, value)` pairs: the JSON object with the fields in
    /// the values' order (fields the order does not know last, as the server listed them), or
    /// `None` for an empty (missing) hash.
    fn rebuild(&self, pairs: &mut [(u64, &[u8], &[u8])]) -> Option<Bytes> {
        if pairs.is_empty() {
            return None;
        }
        for (at, pair) in pairs.iter_mut().enumerate() {
            let place = self.order.get(pair.1).copied().unwrap_or(u32::MAX);
            pair.0 = (u64::from(place) << 32) | at as u64;
        }
        pairs.sort_unstable_by_key(|p| p.0);
        let len = 1 + pairs
            .iter()
            .map(|(_, n, v)| n.len() + v.len() + 4)
            .sum::<usize>();
        let mut out = Vec::with_capacity(len);
        assemble(pairs.iter().map(|&(_, n, v)| (n, v)), &mut out);
        debug_assert_eq!(out.len(), len, "one allocation, of the exact size");
        Some(Bytes::from(out))
    }
}

/// Appends `HSET key name value ...` (and `PEXPIRE key ms` with a ttl) to `out`.
fn encode_hset(out: &mut Vec<u8>, key: &str, value: &[u8], fields: Fields<'_>, ttl: Option<u64>) {
    resp::command(out, 2 + 2 * fields.count());
    resp::arg(out, b"HSET");
    resp::arg(out, key.as_bytes());
    match fields {
        Fields::Spans(spans) => {
            for f in spans {
                resp::arg(out, f.name(value));
                resp::arg(out, f.value(value));
            }
        }
        Fields::Split(_) => {
            // Split once already (that is how the count is known): it cannot fail now.
            let _ = split_object(value, |name, text| {
                resp::arg(out, &value[name]);
                resp::arg(out, &value[text]);
            });
        }
    }
    if let Some(ms) = ttl {
        resp::command(out, 3);
        resp::arg(out, b"PEXPIRE");
        resp::arg(out, key.as_bytes());
        resp::int_arg(out, ms);
    }
}

/// Takes the replies of a pipelined write: keeps the first error, drops the rest.
#[derive(Default)]
struct FirstError(Option<String>);

impl Extend<Answer> for FirstError {
    fn extend<I: IntoIterator<Item = Answer>>(&mut self, answers: I) {
        for a in answers {
            if let (None, Answer::Failed(said)) = (&self.0, a) {
                self.0 = Some(said);
            }
        }
    }
}

/// Splits an HGETALL reply (`*2n` then n name/value bulk strings) into pairs.
fn reply_pairs<'a>(
    reply: &'a [u8],
    pairs: &mut Vec<(u64, &'a [u8], &'a [u8])>,
) -> Result<(), TierError> {
    let bad = || TierError::Operation("an HGETALL reply that is not name/value strings".into());
    let mut at = reply
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or_else(bad)?
        + 2;
    while at < reply.len() {
        let mut string = || match resp::parse(reply, at) {
            Ok(Some((Reply::Bulk(b), next))) => {
                at = next;
                Ok(b)
            }
            _ => Err(bad()),
        };
        let name = string()?;
        let value = string()?;
        pairs.push((0, name, value));
    }
    Ok(())
}

/// The bytes of a string in a reply of the `redis` crate.
fn crate_bytes(v: &redis::Value) -> Result<&[u8], TierError> {
    match v {
        redis::Value::BulkString(b) => Ok(b),
        redis::Value::SimpleString(s) => Ok(s.as_bytes()),
        _ => Err(TierError::Operation(
            "an HGETALL reply that is not name/value strings".into(),
        )),
    }
}

impl DataPath {
    /// HSET of `value`'s fields (with PEXPIRE in the same round trip when `ttl_ms`).
    pub(in crate::tier) async fn hash_set(
        &self,
        lane: usize,
        key: &str,
        value: &[u8],
        store: &HashStore,
        ttl_ms: Option<u64>,
        timeout: Duration,
    ) -> Result<(), TierError> {
        let fields = store.fields(value)?;
        match self {
            DataPath::Lean(lanes) => {
                let conn = &lanes[lane % lanes.len()];
                let encode = |out: &mut Vec<u8>| encode_hset(out, key, value, fields, ttl_ms);
                let commands = 1 + usize::from(ttl_ms.is_some());
                let mut failed = FirstError::default();
                let call = conn.many(commands, false, encode, &mut failed);
                bounded(timeout, call, TierError::Operation).await?;
                failed
                    .0
                    .map_or(Ok(()), |said| Err(TierError::Operation(said)))
            }
            DataPath::Crate(conns) => {
                let mut hset = redis::cmd("HSET");
                hset.arg(key);
                let mut add = |name: &[u8], text: &[u8]| {
                    hset.arg(name).arg(text);
                };
                match fields {
                    Fields::Spans(spans) => {
                        for f in spans {
                            add(f.name(value), f.value(value));
                        }
                    }
                    Fields::Split(_) => {
                        let _ = split_object(value, |n, t| add(&value[n], &value[t]));
                    }
                }
                let mut pipe = redis::pipe();
                pipe.add_command(hset);
                if let Some(ms) = ttl_ms {
                    pipe.cmd("PEXPIRE").arg(key).arg(ms);
                }
                let mut conn = conns[lane % conns.len()].clone();
                bounded(timeout, pipe.query_async::<()>(&mut conn), crate_error).await
            }
        }
    }

    /// HGETALL: the value re-assembled from the hash's fields, if the hash exists.
    pub(in crate::tier) async fn hash_get(
        &self,
        lane: usize,
        key: &str,
        store: &HashStore,
        timeout: Duration,
    ) -> Result<Option<Bytes>, TierError> {
        let mut pairs = Vec::new();
        match self {
            DataPath::Lean(lanes) => {
                let conn = &lanes[lane % lanes.len()];
                let call = conn.one(true, |out| {
                    resp::command(out, 2);
                    resp::arg(out, b"HGETALL");
                    resp::arg(out, key.as_bytes());
                });
                match bounded(timeout, call, TierError::Operation).await? {
                    Answer::Array(reply) => {
                        reply_pairs(&reply, &mut pairs)?;
                        Ok(store.rebuild(&mut pairs))
                    }
                    Answer::Failed(said) => Err(TierError::Operation(said)),
                    Answer::Nil => Ok(None),
                    _ => Err(TierError::Operation(
                        "HGETALL answered with something other than an array".into(),
                    )),
                }
            }
            DataPath::Crate(conns) => {
                let mut conn = conns[lane % conns.len()].clone();
                let mut cmd = redis::cmd("HGETALL");
                cmd.arg(key);
                let reply: redis::Value =
                    bounded(timeout, cmd.query_async(&mut conn), crate_error).await?;
                match &reply {
                    redis::Value::Array(items) if items.len() % 2 == 0 => {
                        for pair in items.chunks(2) {
                            pairs.push((0, crate_bytes(&pair[0])?, crate_bytes(&pair[1])?));
                        }
                    }
                    redis::Value::Map(items) => {
                        for (name, text) in items {
                            pairs.push((0, crate_bytes(name)?, crate_bytes(text)?));
                        }
                    }
                    redis::Value::Nil => {}
                    _ => {
                        return Err(TierError::Operation(
                            "HGETALL answered with something other than name/value pairs".into(),
                        ));
                    }
                }
                Ok(store.rebuild(&mut pairs))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> HashStore {
        HashStore::new(&HashLayout {
            fields: vec!["f0".into(), "f1".into(), "pad".into()],
        })
    }

    #[test]
    fn hset_arguments_are_the_fields_json_text_from_spans_or_a_split() {
        let value = br#"{"f0":7,"f1":"ab","pad":"  "}"#;
        let want = b"*8\r\n$4\r\nHSET\r\n$1\r\nk\r\n$2\r\nf0\r\n$1\r\n7\r\n$2\r\nf1\r\n$4\r\n\"ab\"\r\n$3\r\npad\r\n$4\r\n\"  \"\r\n*3\r\n$7\r\nPEXPIRE\r\n$1\r\nk\r\n$3\r\n500\r\n";
        let mut spans = Vec::new();
        crate::workload::fields::spans(value, &mut spans).unwrap();
        let mut a = Vec::new();
        encode_hset(&mut a, "k", value, Fields::Spans(&spans), Some(500));
        let mut b = Vec::new();
        let store = store();
        let split = store.fields(value).unwrap();
        assert!(matches!(split, Fields::Split(3)));
        encode_hset(&mut b, "k", value, split, Some(500));
        assert_eq!(a, want.to_vec());
        assert_eq!(b, want.to_vec());
        let err = store.fields(b"plain text").err().unwrap().to_string();
        assert!(
            err.contains("store_as: hash needs values that are JSON objects"),
            "{err}"
        );
    }

    #[test]
    fn a_hash_read_back_is_the_value_in_the_shapes_order() {
        // The server's order (a hashtable's) differs from the shape's; an unknown field goes last.
        let reply = b"*8\r\n$3\r\npad\r\n$2\r\n\"\"\r\n$1\r\nx\r\n$1\r\n1\r\n$2\r\nf1\r\n$3\r\n\"b\"\r\n$2\r\nf0\r\n$2\r\n12\r\n";
        let mut pairs = Vec::new();
        reply_pairs(reply, &mut pairs).unwrap();
        let got = store().rebuild(&mut pairs).unwrap();
        assert_eq!(&got[..], br#"{"f0":12,"f1":"b","pad":"","x":1}"#);
        let mut none = Vec::new();
        reply_pairs(b"*0\r\n", &mut none).unwrap();
        assert_eq!(store().rebuild(&mut none), None, "an empty hash is a miss");
        let mut odd = Vec::new();
        assert!(reply_pairs(b"*1\r\n$1\r\na\r\n", &mut odd).is_err());
    }
}
