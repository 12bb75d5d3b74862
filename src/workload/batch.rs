//! Batch operations' keys: how many keys a batch has (`batch: 20` or a weighted distribution)
//! and the keys themselves, drawn into buffers a worker reuses from one batch to the next.
//!
//! Why its own file: the planner (`plan.rs`) draws one operation at a time; a batch operation
//! needs a size and that many distinct keys, drawn from a random stream of their own (seeded
//! per batch from the worker's stream) so that scenarios without batches keep their exact
//! sequences, and a `sequence` lifecycle can run all its steps on the same batch of keys.

use rand::rngs::SmallRng;
use rand::{Rng, RngExt, SeedableRng};

use super::keys::KeySampler;

/// The largest batch a scenario may ask for (bounds SQL statement parameters: 3 per key).
pub const MAX_BATCH: u32 = 1000;

/// How many keys a batch operation has: a fixed size or sizes with weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSizes {
    /// The sizes, ascending.
    sizes: Vec<u32>,
    /// Cumulative weights, indexed like `sizes`.
    cumulative: Vec<u64>,
}

impl BatchSizes {
    /// Every batch has `size` keys.
    pub fn fixed(size: u32) -> BatchSizes {
        BatchSizes {
            sizes: vec![size],
            cumulative: vec![1],
        }
    }

    /// Sizes drawn with probability proportional to their weights; `None` when no weight is
    /// positive. Zero-weight sizes are left out.
    pub fn weighted(mut pairs: Vec<(u32, u32)>) -> Option<BatchSizes> {
        pairs.retain(|&(_, w)| w > 0);
        pairs.sort_unstable();
        let mut total = 0u64;
        let mut sizes = Vec::with_capacity(pairs.len());
        let mut cumulative = Vec::with_capacity(pairs.len());
        for (size, weight) in pairs {
            total += u64::from(weight);
            sizes.push(size);
            cumulative.push(total);
        }
        (total > 0).then_some(BatchSizes { sizes, cumulative })
    }

    /// The largest size.
    pub fn max(&self) -> u32 {
        self.sizes.last().copied().unwrap_or(1)
    }

    /// The mean size, by weight.
    pub fn mean(&self) -> f64 {
        let total = self.cumulative.last().copied().unwrap_or(1) as f64;
        let mut previous = 0;
        let mut sum = 0.0;
        for (&size, &c) in self.sizes.iter().zip(&self.cumulative) {
            sum += f64::from(size) * (c - previous) as f64;
            previous = c;
        }
        sum / total
    }

    /// Draws a size.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        if self.sizes.len() == 1 {
            return self.sizes[0] as usize;
        }
        let total = self.cumulative.last().copied().unwrap_or(1);
        let x = rng.random_range(0..total);
        let i = self.cumulative.partition_point(|&c| c <= x);
        self.sizes.get(i).copied().unwrap_or(1) as usize
    }
}

/// Draws a batch's distinct key indices into `out` (cleared first): a size from `sizes`, then
/// that many keys from `sampler`, redrawing a key already in the batch (a page does not fetch
/// the same item twice; PostgreSQL's upsert refuses a key twice in one statement). After
/// `16 * size` draws the rest is filled with the next unused indices, so a hot distribution
/// over few keys still ends. `key_count` bounds the indices.
pub fn draw_keys(
    seed: u64,
    sizes: &BatchSizes,
    sampler: &mut KeySampler,
    key_count: u64,
    out: &mut Vec<u64>,
) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let size = sizes.sample(&mut rng).min(key_count.max(1) as usize);
    out.clear();
    let mut draws = 0;
    while out.len() < size && draws < 16 * size {
        draws += 1;
        let k = sampler.sample(&mut rng);
        if !out.contains(&k) {
            out.push(k);
        }
    }
    let mut next = out.last().copied().unwrap_or(0);
    while out.len() < size {
        next = (next + 1) % key_count.max(1);
        if !out.contains(&next) {
            out.push(next);
        }
    }
}

/// A batch's keys, written one after another into one reused buffer.
pub struct BatchKeys {
    prefix_len: usize,
    text: String,
    /// End offset of each key in `text` (a key starts where the previous ends).
    ends: Vec<usize>,
    /// Each key's index.
    indices: Vec<u64>,
}

impl BatchKeys {
    /// An empty batch of keys under `prefix`.
    pub fn new(prefix: &str) -> BatchKeys {
        let mut text = String::with_capacity(64 * (prefix.len() + 20));
        text.push_str(prefix);
        BatchKeys {
            prefix_len: prefix.len(),
            text,
            ends: Vec::with_capacity(64),
            indices: Vec::with_capacity(64),
        }
    }

    /// Writes the keys of `indices` (the prefix plus the decimal index each).
    pub fn set(&mut self, prefix: &str, indices: &[u64]) {
        self.text.clear();
        self.ends.clear();
        self.indices.clear();
        let mut digits = itoa::Buffer::new();
        for &i in indices {
            self.text.push_str(prefix);
            self.text.push_str(digits.format(i));
            self.ends.push(self.text.len());
            self.indices.push(i);
        }
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the batch has no key.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Key `i`, prefix included.
    #[inline]
    pub fn key(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// Key `i` without the prefix.
    pub fn suffix(&self, i: usize) -> &str {
        &self.key(i)[self.prefix_len..]
    }

    /// Key `i`'s index.
    pub fn index(&self, i: usize) -> u64 {
        self.indices[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::keys::KeyDistribution;

    #[test]
    fn weighted_sizes_follow_their_weights() {
        let sizes = BatchSizes::weighted(vec![(50, 25), (10, 70), (200, 5)]).unwrap();
        assert_eq!(sizes.max(), 200);
        assert!((sizes.mean() - (700.0 + 1250.0 + 1000.0) / 100.0).abs() < 1e-9);
        let mut rng = SmallRng::seed_from_u64(1);
        let mut tens = 0;
        for _ in 0..10_000 {
            if sizes.sample(&mut rng) == 10 {
                tens += 1;
            }
        }
        assert!((6_700..7_300).contains(&tens), "{tens}");
        assert!(BatchSizes::weighted(vec![(10, 0)]).is_none());
    }

    #[test]
    fn batches_have_distinct_keys_even_from_few_hot_ones() {
        let mut sampler =
            KeySampler::new(&KeyDistribution::Zipf { exponent: 1.2 }, 30, 0, 1).unwrap();
        let mut out = Vec::new();
        for seed in 0..50 {
            draw_keys(seed, &BatchSizes::fixed(25), &mut sampler, 30, &mut out);
            let mut sorted = out.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), 25);
            assert!(out.iter().all(|&k| k < 30));
        }
    }

    #[test]
    fn keys_are_written_into_one_buffer() {
        let mut keys = BatchKeys::new("p:");
        keys.set("p:", &[3, 14, 159]);
        assert_eq!(keys.len(), 3);
        assert_eq!(keys.key(0), "p:3");
        assert_eq!(keys.key(2), "p:159");
        assert_eq!(keys.suffix(1), "14");
        assert_eq!(keys.index(2), 159);
    }
}
