//! Value pools: every value a run writes is generated before measuring.
//!
//! The pool is one contiguous buffer plus offsets, so picking a value in the measured path is an
//! index, and the pool costs one allocation however many values it holds. Shapes: word-like text,
//! valid JSON documents of a target size, random bytes; `compressibility` replaces that share of
//! each value with a repeated run, so a compressor removes about that much. JSON values are
//! split into their top-level fields once, here (`fields_of`), for tiers that store them as hashes.

use rand::rngs::SmallRng;
use rand::{Rng, RngExt, SeedableRng};

use super::fields::{FieldSpan, spans};

/// What values look like.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueShape {
    /// Word-like ASCII text.
    Text,
    /// A JSON object with `fields` fields per object, nested `depth` levels.
    Json {
        /// Fields per object.
        fields: usize,
        /// Nesting depth (1 = flat).
        depth: usize,
    },
    /// Random bytes.
    Binary,
}

/// The most fields per JSON object and the deepest nesting a scenario may ask for.
pub const JSON_LIMITS: (u32, u32) = (256, 32);

impl ValueShape {
    /// The JSON shape with `fields` per object (default 4) nested `depth` levels (default 1),
    /// and the fields out of bounds with why (the shape then uses the nearest bound).
    pub fn json(
        fields: Option<u32>,
        depth: Option<u32>,
    ) -> (ValueShape, Vec<(&'static str, String)>) {
        let (fields, depth) = (fields.unwrap_or(4), depth.unwrap_or(1));
        let mut bad = Vec::new();
        for (name, v, max) in [
            ("fields", fields, JSON_LIMITS.0),
            ("depth", depth, JSON_LIMITS.1),
        ] {
            if !(1..=max).contains(&v) {
                bad.push((
                    name,
                    format!("`{name}` must be between 1 and {max}, got {v}"),
                ));
            }
        }
        let shape = ValueShape::Json {
            fields: fields.clamp(1, JSON_LIMITS.0) as usize,
            depth: depth.clamp(1, JSON_LIMITS.1) as usize,
        };
        (shape, bad)
    }

    /// The top-level field names of every value of a JSON shape, in the order values have
    /// them (`f0`, `f1`, ..., `pad`); `None` for shapes that are not JSON objects.
    pub fn field_names(&self) -> Option<Vec<String>> {
        match self {
            ValueShape::Json { fields, .. } => Some(
                (0..*fields)
                    .map(|i| format!("f{i}"))
                    .chain(std::iter::once("pad".to_string()))
                    .collect(),
            ),
            ValueShape::Text | ValueShape::Binary => None,
        }
    }

    /// The name a scenario gives the shape.
    pub fn name(&self) -> &'static str {
        match self {
            ValueShape::Text => "text",
            ValueShape::Json { .. } => "json",
            ValueShape::Binary => "binary",
        }
    }
}

/// How large values are.
#[derive(Clone, Debug, PartialEq)]
pub enum SizeSpec {
    /// Always this many bytes.
    Fixed(usize),
    /// Uniform in `min..=max`.
    Range {
        /// Smallest.
        min: usize,
        /// Largest.
        max: usize,
    },
    /// Sizes with relative weights.
    Weighted(Vec<(usize, u32)>),
}

impl SizeSpec {
    /// The mean size, bytes.
    pub fn mean(&self) -> f64 {
        match self {
            SizeSpec::Fixed(n) => *n as f64,
            SizeSpec::Range { min, max } => (*min as f64 + *max as f64) / 2.0,
            SizeSpec::Weighted(w) => {
                let total: f64 = w.iter().map(|&(_, x)| f64::from(x)).sum();
                let sum: f64 = w.iter().map(|&(n, x)| n as f64 * f64::from(x)).sum();
                if total > 0.0 { sum / total } else { 0.0 }
            }
        }
    }

    /// Checks the spec.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            SizeSpec::Range { min, max } if min > max => {
                Err(format!("size range {min}..{max} is empty"))
            }
            SizeSpec::Weighted(w) if w.is_empty() || w.iter().all(|&(_, x)| x == 0) => {
                Err("a weighted size list needs at least one positive weight".into())
            }
            _ => Ok(()),
        }
    }

    /// The largest size it can produce.
    pub fn max(&self) -> usize {
        match self {
            SizeSpec::Fixed(n) => *n,
            SizeSpec::Range { max, .. } => *max,
            SizeSpec::Weighted(w) => w.iter().map(|&(s, _)| s).max().unwrap_or(0),
        }
    }

    fn sample(&self, rng: &mut SmallRng) -> usize {
        match self {
            SizeSpec::Fixed(n) => *n,
            SizeSpec::Range { min, max } => rng.random_range(*min..=*max),
            SizeSpec::Weighted(w) => {
                let total: u64 = w.iter().map(|&(_, x)| u64::from(x)).sum();
                let mut pick = rng.random_range(0..total.max(1));
                for &(size, weight) in w {
                    if pick < u64::from(weight) {
                        return size;
                    }
                    pick -= u64::from(weight);
                }
                w.last().map_or(0, |&(s, _)| s)
            }
        }
    }
}

/// Pre-generated values.
pub struct ValuePool {
    bytes: Vec<u8>,
    offsets: Vec<usize>,
    /// JSON values' top-level fields, relative to each value's start (empty for other shapes).
    spans: Vec<FieldSpan>,
    /// Value `i`'s spans are `spans[span_offsets[i]..span_offsets[i + 1]]`.
    span_offsets: Vec<usize>,
}

const WORDS: [&str; 24] = [
    "cache", "tier", "lorem", "ipsum", "dolor", "sit", "amet", "redis", "table", "value", "key",
    "hit", "miss", "evict", "latency", "stack", "memory", "query", "session", "token", "user",
    "order", "item", "price",
];

fn text(rng: &mut SmallRng, size: usize, out: &mut Vec<u8>) {
    let start = out.len();
    while out.len() - start < size {
        if out.len() > start {
            out.push(b' ');
        }
        out.extend_from_slice(WORDS[rng.random_range(0..WORDS.len())].as_bytes());
    }
    out.truncate(start + size);
}

fn binary(rng: &mut SmallRng, size: usize, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + size, 0);
    rng.fill_bytes(&mut out[start..]);
}

/// A JSON object of about `size` bytes: fields with short text, nested objects, and a final
/// `pad` string that brings the document to the size.
fn json(rng: &mut SmallRng, size: usize, fields: usize, depth: usize, out: &mut Vec<u8>) {
    let start = out.len();
    let mut doc = Vec::new();
    object(rng, fields.max(1), depth.max(1), &mut doc);
    // Add the padding field so the whole document is `size` bytes where possible.
    doc.pop(); // the closing brace
    let overhead = b",\"pad\":\"\"}".len();
    let pad = size.saturating_sub(doc.len() + overhead);
    doc.extend_from_slice(b",\"pad\":\"");
    text(rng, pad, &mut doc);
    doc.extend_from_slice(b"\"}");
    out.extend_from_slice(&doc);
    debug_assert!(out.len() >= start);
}

fn object(rng: &mut SmallRng, fields: usize, depth: usize, out: &mut Vec<u8>) {
    out.push(b'{');
    for i in 0..fields {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(format!("\"f{i}\":").as_bytes());
        if depth > 1 && i == fields - 1 {
            object(rng, fields, depth - 1, out);
        } else if i % 2 == 0 {
            out.extend_from_slice(rng.random_range(0..1_000_000u32).to_string().as_bytes());
        } else {
            out.push(b'"');
            text(rng, 8, out);
            out.push(b'"');
        }
    }
    out.push(b'}');
}

impl ValuePool {
    /// Generates `count` values (at least one) from `seed`.
    pub fn generate(
        shape: &ValueShape,
        size: &SizeSpec,
        compressibility: f64,
        count: usize,
        seed: u64,
    ) -> ValuePool {
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x76616c7565);
        let count = count.max(1);
        let mut bytes = Vec::new();
        let mut offsets = Vec::with_capacity(count + 1);
        offsets.push(0);
        for _ in 0..count {
            let n = size.sample(&mut rng);
            let start = bytes.len();
            match shape {
                ValueShape::Text => text(&mut rng, n, &mut bytes),
                ValueShape::Binary => binary(&mut rng, n, &mut bytes),
                ValueShape::Json { fields, depth } => {
                    json(&mut rng, n, *fields, *depth, &mut bytes)
                }
            }
            compress(&mut bytes[start..], shape, compressibility.clamp(0.0, 1.0));
            offsets.push(bytes.len());
        }
        let mut pool = ValuePool {
            bytes,
            offsets,
            spans: Vec::new(),
            span_offsets: Vec::new(),
        };
        if matches!(shape, ValueShape::Json { .. }) {
            pool.split_fields();
        }
        pool
    }

    /// Splits every value into its top-level fields, once (a value that does not split, which
    /// the generator never makes, gets none and is split again when written).
    fn split_fields(&mut self) {
        self.span_offsets.reserve(self.offsets.len());
        self.span_offsets.push(0);
        for i in 0..self.len() {
            let value = &self.bytes[self.offsets[i]..self.offsets[i + 1]];
            let before = self.spans.len();
            if spans(value, &mut self.spans).is_err() {
                self.spans.truncate(before);
            }
            self.span_offsets.push(self.spans.len());
        }
    }

    /// The top-level fields of `value` when it is one of this pool's JSON values, as `get`
    /// returned it (found by its address: a copy of it, or another buffer, is not). What lets
    /// a hash write name its fields without parsing: a binary search over the value offsets.
    #[inline]
    pub fn fields_of(&self, value: &[u8]) -> Option<&[FieldSpan]> {
        if self.span_offsets.is_empty() {
            return None;
        }
        let base = self.bytes.as_ptr() as usize;
        let at = (value.as_ptr() as usize).checked_sub(base)?;
        if at + value.len() > self.bytes.len() {
            return None;
        }
        let i = self.offsets.binary_search(&at).ok()?;
        if i + 1 >= self.offsets.len() || self.offsets[i + 1] - at != value.len() {
            return None;
        }
        let found = &self.spans[self.span_offsets[i]..self.span_offsets[i + 1]];
        (!found.is_empty()).then_some(found)
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when the pool holds no value (never, from `generate`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` (modulo the pool size).
    #[inline]
    pub fn get(&self, i: usize) -> &[u8] {
        let i = i % self.len().max(1);
        &self.bytes[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Mean value size, bytes.
    pub fn mean_size(&self) -> f64 {
        self.bytes.len() as f64 / self.len().max(1) as f64
    }
}

/// Overwrites the first `share` of a value with one repeated byte that keeps it valid: a space
/// in text and JSON strings (inside the padding only, for JSON), `a` in binary.
fn compress(value: &mut [u8], shape: &ValueShape, share: f64) {
    if share <= 0.0 {
        return;
    }
    let n = (value.len() as f64 * share).round() as usize;
    match shape {
        ValueShape::Binary => value[..n].fill(b'a'),
        ValueShape::Text => value[..n].fill(b' '),
        ValueShape::Json { .. } => {
            // Only the padding string may change; fill it from its start.
            if let Some(pos) = find(value, b"\"pad\":\"") {
                let start = pos + 7;
                let end = value.len().saturating_sub(2).max(start);
                let fill = n.min(end - start);
                value[start..start + fill].fill(b' ');
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_spec() {
        let pool = ValuePool::generate(
            &ValueShape::Text,
            &SizeSpec::Range { min: 10, max: 20 },
            0.0,
            100,
            1,
        );
        assert!((0..100).all(|i| (10..=20).contains(&pool.get(i).len())));
        let pool = ValuePool::generate(&ValueShape::Binary, &SizeSpec::Fixed(64), 0.0, 10, 1);
        assert!((0..10).all(|i| pool.get(i).len() == 64));
        let w = SizeSpec::Weighted(vec![(8, 1), (16, 0)]);
        let pool = ValuePool::generate(&ValueShape::Binary, &w, 0.0, 50, 1);
        assert!((0..50).all(|i| pool.get(i).len() == 8));
    }

    #[test]
    fn json_values_parse_and_are_about_the_size() {
        for size in [10, 64, 300, 4096] {
            let shape = ValueShape::Json {
                fields: 4,
                depth: 2,
            };
            let pool = ValuePool::generate(&shape, &SizeSpec::Fixed(size), 0.5, 20, 7);
            for i in 0..20 {
                let v: serde_json::Value = serde_json::from_slice(pool.get(i)).expect("valid JSON");
                assert!(v.get("f0").is_some());
                if size >= 128 {
                    assert_eq!(pool.get(i).len(), size);
                }
            }
        }
    }

    /// Fields of the outermost object (without `pad`) and how deep objects nest.
    fn fields_and_depth(v: &serde_json::Value) -> (usize, usize) {
        fn depth(v: &serde_json::Value) -> usize {
            match v {
                serde_json::Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
                _ => 0,
            }
        }
        let top = v.as_object().expect("an object");
        (top.keys().filter(|k| *k != "pad").count(), depth(v))
    }

    #[test]
    fn json_values_have_the_fields_and_depth_asked_for() {
        for (fields, depth) in [(1, 1), (4, 1), (7, 3), (12, 5)] {
            let shape = ValueShape::Json { fields, depth };
            let pool = ValuePool::generate(&shape, &SizeSpec::Fixed(512), 0.3, 10, 3);
            for i in 0..10 {
                let v: serde_json::Value = serde_json::from_slice(pool.get(i)).expect("valid JSON");
                assert_eq!(fields_and_depth(&v), (fields, depth), "{v}");
                // Every nested object has the same number of fields.
                let mut inner = &v;
                for _ in 1..depth {
                    inner = &inner[format!("f{}", fields - 1)];
                    assert_eq!(inner.as_object().expect("nested").len(), fields);
                }
            }
        }
        let (shape, bad) = ValueShape::json(Some(6), Some(2));
        assert_eq!(
            (shape, bad.len()),
            (
                ValueShape::Json {
                    fields: 6,
                    depth: 2
                },
                0
            )
        );
        let (_, bad) = ValueShape::json(Some(0), Some(99));
        assert_eq!(bad.len(), 2, "{bad:?}");
    }

    #[test]
    fn json_values_are_split_once_and_found_by_address_only() {
        let shape = ValueShape::Json {
            fields: 3,
            depth: 2,
        };
        let pool = ValuePool::generate(&shape, &SizeSpec::Range { min: 20, max: 300 }, 0.5, 50, 9);
        let names = shape.field_names().unwrap();
        for i in 0..pool.len() {
            let v = pool.get(i);
            let spans = pool.fields_of(v).expect("a pool value");
            let got: Vec<&[u8]> = spans.iter().map(|s| s.name(v)).collect();
            let want: Vec<&[u8]> = names.iter().map(|n| n.as_bytes()).collect();
            assert_eq!(got, want);
            let mut again = Vec::new();
            crate::workload::fields::spans(v, &mut again).unwrap();
            assert_eq!(spans, &again[..]);
            let copy = v.to_vec();
            assert_eq!(
                pool.fields_of(&copy),
                None,
                "a copy is not the pool's value"
            );
            assert_eq!(pool.fields_of(&v[1..]), None, "nor is a part of it");
        }
        let text = ValuePool::generate(&ValueShape::Text, &SizeSpec::Fixed(8), 0.0, 3, 1);
        assert_eq!(text.fields_of(text.get(0)), None);
        assert_eq!(ValueShape::Binary.field_names(), None);
    }

    #[test]
    fn the_same_seed_gives_the_same_pool() {
        let a = ValuePool::generate(&ValueShape::Binary, &SizeSpec::Fixed(32), 0.0, 5, 42);
        let b = ValuePool::generate(&ValueShape::Binary, &SizeSpec::Fixed(32), 0.0, 5, 42);
        let c = ValuePool::generate(&ValueShape::Binary, &SizeSpec::Fixed(32), 0.0, 5, 43);
        assert_eq!(a.get(3), b.get(3));
        assert_ne!(a.get(3), c.get(3));
        assert_eq!(a.get(8), a.get(3), "indices wrap");
    }

    #[test]
    fn compressibility_raises_the_compression_ratio() {
        let ratio = |c: f64| {
            let pool = ValuePool::generate(&ValueShape::Binary, &SizeSpec::Fixed(4096), c, 8, 1);
            let raw: Vec<u8> = (0..8).flat_map(|i| pool.get(i).to_vec()).collect();
            raw.len() as f64 / zstd::encode_all(raw.as_slice(), 3).unwrap().len() as f64
        };
        let (r0, r5, r9) = (ratio(0.0), ratio(0.5), ratio(0.9));
        assert!(r0 < 1.05 && r5 > 1.8 && r9 > 8.0, "{r0} {r5} {r9}");
    }
}
