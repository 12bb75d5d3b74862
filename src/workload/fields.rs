//! The top-level fields of a JSON object value, as byte ranges: what a Redis tier with
//! `store_as: hash` writes as one hash field per JSON field, and reads back into the same bytes.
//!
//! Why a splitter of its own: the value pool splits every JSON value once when it is generated
//! (`ValuePool::fields_of`), so the measured path writes HSET arguments from ranges without
//! parsing or allocating; values that are not the pool's own (a promotion from a lower tier, the
//! origin's copy) are split by the same code on the fly, into nothing but the output buffer. A
//! field keeps its value's JSON text (a string with its quotes, a nested object as its JSON), so
//! `{"` name `":` value `,` ... `}` re-assembles exactly the bytes the other tiers store.

use std::ops::Range;

/// One field of a JSON object: where its name (between the quotes) and its value's JSON text
/// lie in the value's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpan {
    /// Start and end of the name, without its quotes.
    pub name: (u32, u32),
    /// Start and end of the value's JSON text.
    pub value: (u32, u32),
}

impl FieldSpan {
    /// The name's bytes in `value`.
    #[inline]
    pub fn name<'a>(&self, value: &'a [u8]) -> &'a [u8] {
        &value[self.name.0 as usize..self.name.1 as usize]
    }

    /// The value's JSON text in `value`.
    #[inline]
    pub fn value<'a>(&self, value: &'a [u8]) -> &'a [u8] {
        &value[self.value.0 as usize..self.value.1 as usize]
    }
}

/// Why a value cannot be stored as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnObject(pub String);

fn skip_ws(v: &[u8], mut at: usize) -> usize {
    while at < v.len() && matches!(v[at], b' ' | b'\t' | b'\n' | b'\r') {
        at += 1;
    }
    at
}

/// The end (one past the closing quote) of the string whose opening quote is at `at`.
fn string_end(v: &[u8], at: usize) -> Result<usize, NotAnObject> {
    let mut i = at + 1;
    while i < v.len() {
        match v[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err(NotAnObject(format!(
        "a string starting at byte {at} never ends"
    )))
}

/// The end of the JSON value starting at `at` (a string, an object or array, or a scalar).
fn value_end(v: &[u8], at: usize) -> Result<usize, NotAnObject> {
    match v.get(at) {
        None => Err(NotAnObject("a field without a value".into())),
        Some(b'"') => string_end(v, at),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = at;
            while i < v.len() {
                match v[i] {
                    b'"' => {
                        i = string_end(v, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Err(NotAnObject(format!(
                "a nested value at byte {at} never ends"
            )))
        }
        Some(_) => {
            let mut i = at;
            while i < v.len() && !matches!(v[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                i += 1;
            }
            if i == at {
                return Err(NotAnObject(format!("a field without a value at byte {at}")));
            }
            Ok(i)
        }
    }
}

/// Calls `each(name, value)` for every top-level field of the JSON object `v`, in order, and
/// returns how many there were; an error when `v` is not one JSON object with at least one
/// field (a Redis hash cannot be empty). Values are delimited, not validated.
pub fn split_object(
    v: &[u8],
    mut each: impl FnMut(Range<usize>, Range<usize>),
) -> Result<usize, NotAnObject> {
    let mut at = skip_ws(v, 0);
    if v.get(at) != Some(&b'{') {
        return Err(NotAnObject("the value is not a JSON object".into()));
    }
    at = skip_ws(v, at + 1);
    let mut count = 0;
    if v.get(at) == Some(&b'}') {
        return Err(NotAnObject(
            "an empty JSON object makes no hash (Redis keeps no empty hash)".into(),
        ));
    }
    loop {
        if v.get(at) != Some(&b'"') {
            return Err(NotAnObject(format!("expected a field name at byte {at}")));
        }
        let name_end = string_end(v, at)?;
        let name = at + 1..name_end - 1;
        at = skip_ws(v, name_end);
        if v.get(at) != Some(&b':') {
            return Err(NotAnObject(format!("expected `:` at byte {at}")));
        }
        at = skip_ws(v, at + 1);
        let end = value_end(v, at)?;
        each(name, at..end);
        count += 1;
        at = skip_ws(v, end);
        match v.get(at) {
            Some(b',') => at = skip_ws(v, at + 1),
            Some(b'}') => break,
            _ => return Err(NotAnObject(format!("expected `,` or `}}` at byte {at}"))),
        }
    }
    if skip_ws(v, at + 1) != v.len() {
        return Err(NotAnObject("bytes after the JSON object".into()));
    }
    Ok(count)
}

/// Appends the spans of `v`'s fields to `out` (one pass of `split_object`).
pub fn spans(v: &[u8], out: &mut Vec<FieldSpan>) -> Result<usize, NotAnObject> {
    split_object(v, |name, value| {
        out.push(FieldSpan {
            name: (name.start as u32, name.end as u32),
            value: (value.start as u32, value.end as u32),
        })
    })
}

/// The bytes of `{"name":value,...}` for `fields` (name, JSON text) pairs, in that order,
/// appended to `out`: the inverse of `split_object` for an object written without spaces.
pub fn assemble<'a>(fields: impl Iterator<Item = (&'a [u8], &'a [u8])>, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (name, value)) in fields.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name);
        out.extend_from_slice(b"\":");
        out.extend_from_slice(value);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: &[u8]) -> Result<Vec<(String, String)>, NotAnObject> {
        let mut out = Vec::new();
        split_object(v, |n, x| {
            out.push((
                String::from_utf8_lossy(&v[n]).into_owned(),
                String::from_utf8_lossy(&v[x]).into_owned(),
            ))
        })?;
        Ok(out)
    }

    #[test]
    fn top_level_fields_keep_their_json_text() {
        let v = br#"{"f0":12,"f1":"a \"b\" {c}","f2":{"x":[1,{"y":"}"}]},"pad":"  "}"#;
        let got = fields(v).unwrap();
        let want = [
            ("f0", "12"),
            ("f1", r#""a \"b\" {c}""#),
            ("f2", r#"{"x":[1,{"y":"}"}]}"#),
            ("pad", r#""  ""#),
        ];
        assert_eq!(
            got,
            want.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
        );
        let mut out = Vec::new();
        let mut s = Vec::new();
        spans(v, &mut s).unwrap();
        assemble(s.iter().map(|f| (f.name(v), f.value(v))), &mut out);
        assert_eq!(out, v.to_vec(), "re-assembled bytes are the original");
        // Spaces between tokens are allowed (and not kept).
        assert_eq!(
            fields(b" { \"a\" : true , \"b\":null } ").unwrap(),
            [("a".into(), "true".into()), ("b".into(), "null".into())]
        );
    }

    #[test]
    fn what_is_not_an_object_with_fields_is_refused_not_a_panic() {
        for bad in [
            &b""[..],
            b"[1,2]",
            b"\"text\"",
            b"{}",
            b"{\"a\":1",
            b"{\"a\" 1}",
            b"{\"a\":\"x}",
            b"{\"a\":{\"b\":1}",
            b"{\"a\":1}x",
            b"{a:1}",
            b"{\"a\":}",
            b"{\"a\":1,}",
            b"\xff\x00binary",
        ] {
            assert!(fields(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
