//! The exact LRU miss-ratio curve in one pass: Mattson's stack distances, counted with a
//! Fenwick tree over access times (O(log n) per request, O(n log n) for the stream).
//!
//! Why it exists: LRU has the inclusion property (a cache of `c` entries always holds the `c`
//! most recently used keys), so one pass that records each read's *stack distance* (how many
//! distinct keys were used since the key's last use, itself included) gives the hits of every
//! cache size at once: a read at distance `d` hits exactly the caches of `d` entries or more.
//!
//! The stack's semantics (they match [`super::replay::Semantics::ReadThrough`]):
//! - `get` is a lookup: a hit at its distance, or a cold miss; either way the key ends on top
//!   (a miss loads it: read-through);
//! - `set` puts the key on top, no lookup;
//! - `delete` removes the key from the stack, no lookup (leaving a hole: see [`LruStack`]);
//! - `touch` refreshes the key like a `get` (on top, loaded if absent) without counting a lookup.
//!
//! How distances are counted: every key on the stack has one mark in a Fenwick tree, at the
//! time of its last use (a hole keeps the mark of the key deleted there). A key's distance is
//! the count of marks after its own, plus one. When the times run out the marks are renumbered
//! in order (compaction), so the tree stays about twice the number of keys and holes on the
//! stack, whatever the stream's length.

use crate::workload::op::Op;

/// A Fenwick (binary indexed) tree of counts over positions `0..len`.
struct Fenwick {
    tree: Vec<u32>,
}

impl Fenwick {
    fn new(len: usize) -> Fenwick {
        Fenwick {
            tree: vec![0; len + 1],
        }
    }

    fn len(&self) -> usize {
        self.tree.len() - 1
    }

    /// Adds `delta` (±1) at `pos`.
    #[inline]
    fn add(&mut self, pos: usize, delta: i32) {
        let mut i = pos + 1;
        while i < self.tree.len() {
            self.tree[i] = self.tree[i].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Sum of the counts at positions `0..=pos`.
    #[inline]
    fn prefix(&self, pos: usize) -> u64 {
        let mut i = pos + 1;
        let mut sum = 0u64;
        while i > 0 {
            sum += u64::from(self.tree[i]);
            i &= i - 1;
        }
        sum
    }

    /// A tree with one mark at each of positions `0..marks` (built in O(len)).
    fn with_leading_marks(len: usize, marks: usize) -> Fenwick {
        let mut tree = vec![0u32; len + 1];
        for slot in tree.iter_mut().skip(1).take(marks) {
            *slot = 1;
        }
        for i in 1..=len {
            let parent = i + (i & i.wrapping_neg());
            if parent <= len {
                tree[parent] += tree[i];
            }
        }
        Fenwick { tree }
    }
}

/// No time recorded: the key is not on the stack.
const ABSENT: u64 = u64::MAX;
/// `owner` of a time that holds no mark.
const FREE: u64 = u64::MAX;
/// `owner` of a time that holds a hole (a deleted key's place).
const HOLE: u64 = u64::MAX - 1;

/// An LRU stack over dense key ids (`0..`), recording the stack distance of every lookup.
///
/// A `delete` leaves a *hole* where the key was: a cache of `c` entries holding that position
/// now holds `c - 1` keys, and its next insertion fills the hole instead of evicting. The next
/// key put on top consumes the topmost hole (the positions above it shift down by one, those
/// below stay), which is what every cache size containing the hole does; if the key came from
/// below that hole, its old place becomes the hole. Positions count holes, so a key at
/// position `d` is held by exactly the caches of `d` entries or more, deletes included.
pub struct LruStack {
    /// Each key id's last use time, or [`ABSENT`].
    last: Vec<u64>,
    /// The key id at each time (or [`HOLE`], [`FREE`]).
    owner: Vec<u64>,
    marks: Fenwick,
    /// The next time to hand out.
    now: usize,
    /// Positions on the stack now (keys and holes): the marks in `marks`.
    marked: usize,
    /// The holes' times, ascending (the last is the topmost hole).
    holes: std::collections::BTreeSet<usize>,
    /// `hits_at[d]`: lookups found at stack distance `d` (index 0 unused).
    hits_at: Vec<u64>,
    /// Lookups that found no key (cold or deleted).
    cold: u64,
    /// Whether lookups are counted now (preload and warmup only move keys).
    counting: bool,
}

impl Default for LruStack {
    fn default() -> LruStack {
        LruStack::new()
    }
}

impl LruStack {
    /// An empty stack.
    pub fn new() -> LruStack {
        LruStack::with_capacity(1024)
    }

    /// An empty stack sized for about `keys` distinct keys.
    pub fn with_capacity(keys: usize) -> LruStack {
        let times = (2 * keys).max(1024);
        LruStack {
            last: Vec::with_capacity(keys),
            owner: vec![FREE; times],
            marks: Fenwick::new(times),
            now: 0,
            marked: 0,
            holes: std::collections::BTreeSet::new(),
            hits_at: vec![0; 2],
            cold: 0,
            counting: true,
        }
    }

    /// Whether lookups from now on are counted (preload and warmup are not).
    pub fn set_counting(&mut self, counting: bool) {
        self.counting = counting;
    }

    /// Applies one request on key `id`.
    #[inline]
    pub fn request(&mut self, id: u64, op: Op) {
        match op.per_key() {
            Op::Get if !self.counting => self.put_on_top(id),
            Op::Get => {
                match self.distance(id) {
                    Some(d) => {
                        if d >= self.hits_at.len() {
                            self.hits_at.resize(d + 1, 0);
                        }
                        self.hits_at[d] += 1;
                    }
                    None => self.cold += 1,
                }
                self.put_on_top(id);
            }
            Op::Set | Op::Touch => self.put_on_top(id),
            Op::Delete | Op::MDelete => self.remove(id),
            Op::MGet | Op::MSet => self.put_on_top(id),
            // Simulation refuses custom commands (validation).
            Op::Command(_) => {}
        }
    }

    /// The key's time, if it is on the stack.
    #[inline]
    fn time_of(&self, id: u64) -> Option<usize> {
        let t = *self.last.get(id as usize)?;
        (t != ABSENT).then_some(t as usize)
    }

    /// The key's stack position (1 for the most recent; holes count), `None` when it is not
    /// on the stack.
    #[inline]
    fn distance(&self, id: u64) -> Option<usize> {
        let t = self.time_of(id)?;
        let newer = self.marked as u64 - self.marks.prefix(t);
        Some(newer as usize + 1)
    }

    /// Puts the key on top of the stack.
    #[inline]
    fn put_on_top(&mut self, id: u64) {
        let index = id as usize;
        if index >= self.last.len() {
            self.last.resize(index + 1, ABSENT);
        }
        if self.now == self.marks.len() {
            self.compact();
        }
        let t = self.time_of(id);
        let topmost_hole = self.holes.last().copied();
        match (topmost_hole, t) {
            // A hole above the key (or the key is new): the hole is filled, and the key's old
            // place (if any) becomes a hole.
            (Some(h), t) if t.is_none_or(|t| h > t) => {
                self.holes.remove(&h);
                self.marks.add(h, -1);
                self.owner[h] = FREE;
                if let Some(t) = t {
                    self.owner[t] = HOLE;
                    self.holes.insert(t);
                }
            }
            (_, Some(t)) => {
                self.marks.add(t, -1);
                self.owner[t] = FREE;
            }
            (_, None) => self.marked += 1,
        }
        self.marks.add(self.now, 1);
        self.owner[self.now] = id;
        self.last[index] = self.now as u64;
        self.now += 1;
    }

    /// Takes the key off the stack, leaving a hole in its place.
    #[inline]
    fn remove(&mut self, id: u64) {
        if let Some(t) = self.time_of(id) {
            self.owner[t] = HOLE;
            self.holes.insert(t);
            self.last[id as usize] = ABSENT;
        }
    }

    /// Renumbers the marks (keys and holes) `0..marked` in time order, in a tree twice their
    /// number (at least as large as now), so the next `marked` or more requests have times free.
    fn compact(&mut self) {
        let len = (2 * self.marked).max(self.marks.len()).max(1024);
        let mut owner = vec![FREE; len];
        let mut next = 0;
        self.holes.clear();
        for &id in self.owner.iter().filter(|&&id| id != FREE) {
            owner[next] = id;
            if id == HOLE {
                self.holes.insert(next);
            } else {
                self.last[id as usize] = next as u64;
            }
            next += 1;
        }
        self.marks = Fenwick::with_leading_marks(len, next);
        self.owner = owner;
        self.now = next;
    }

    /// What the stream so far says about every cache size.
    pub fn histogram(&self) -> DistanceHistogram {
        DistanceHistogram {
            hits_at: self.hits_at.clone(),
            cold: self.cold,
        }
    }
}

/// The stack distances of a stream's lookups: the whole miss-ratio curve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistanceHistogram {
    /// `hits_at[d]`: lookups at stack distance `d` (index 0 unused).
    pub hits_at: Vec<u64>,
    /// Lookups of keys not on the stack (a miss at every size).
    pub cold: u64,
}

impl DistanceHistogram {
    /// Lookups counted.
    pub fn lookups(&self) -> u64 {
        self.hits_at.iter().sum::<u64>() + self.cold
    }

    /// The largest distance seen: a cache this large misses only cold lookups.
    pub fn max_distance(&self) -> u64 {
        self.hits_at.iter().rposition(|&n| n > 0).unwrap_or(0) as u64
    }

    /// Hits of an LRU cache of `size` entries at each of `sizes` (any order).
    pub fn hits(&self, sizes: &[u64]) -> Vec<u64> {
        let mut cumulative = Vec::with_capacity(self.hits_at.len());
        let mut sum = 0;
        for &n in &self.hits_at {
            sum += n;
            cumulative.push(sum);
        }
        sizes
            .iter()
            .map(|&s| {
                let at = usize::try_from(s)
                    .unwrap_or(usize::MAX)
                    .min(cumulative.len() - 1);
                cumulative[at]
            })
            .collect()
    }

    /// Miss ratio (misses / lookups) at each of `sizes`; 0 when there were no lookups.
    pub fn miss_ratios(&self, sizes: &[u64]) -> Vec<f64> {
        let lookups = self.lookups();
        self.hits(sizes)
            .into_iter()
            .map(|h| {
                if lookups == 0 {
                    0.0
                } else {
                    (lookups - h) as f64 / lookups as f64
                }
            })
            .collect()
    }
}

/// Cache sizes 1, 2, 5, 10, 20, 50, ... up to `max` (which is always the last).
pub fn log_grid(max: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut decade = 1u64;
    'outer: loop {
        for step in [1, 2, 5] {
            let size = decade.saturating_mul(step);
            if size >= max {
                break 'outer;
            }
            out.push(size);
        }
        decade = decade.saturating_mul(10);
    }
    out.push(max.max(1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hits of a plain LRU cache of `size` entries (a list in recency order, read-through gets,
    /// touches like gets, deletes removing).
    fn lru_hits(requests: &[(u64, Op)], size: usize) -> u64 {
        let mut cache: Vec<u64> = Vec::new();
        let mut hits = 0;
        for &(id, op) in requests {
            let at = cache.iter().position(|&k| k == id);
            if op == Op::Get && at.is_some() {
                hits += 1;
            }
            if let Some(i) = at {
                cache.remove(i);
            }
            if op != Op::Delete {
                cache.insert(0, id);
                cache.truncate(size);
            }
        }
        hits
    }

    #[test]
    fn hits_match_an_lru_cache_of_every_size_through_deletes_and_compactions() {
        // A small tree (1024 times) with 20,000 requests forces many compactions; deletes
        // leave holes that later requests fill.
        let mut x = 12345u64;
        let mut requests = Vec::new();
        for i in 0..20_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let id = (x >> 33) % if i < 10_000 { 60 } else { 600 };
            let op = match (x >> 20) % 10 {
                0 => Op::Set,
                1..=2 => Op::Delete,
                3 => Op::Touch,
                _ => Op::Get,
            };
            requests.push((id, op));
        }
        let mut stack = LruStack::new();
        for &(id, op) in &requests {
            stack.request(id, op);
        }
        let h = stack.histogram();
        let sizes: Vec<u64> = (1..=70).chain([100, 300, 700]).collect();
        let got = h.hits(&sizes);
        for (&size, &hits) in sizes.iter().zip(&got) {
            assert_eq!(hits, lru_hits(&requests, size as usize), "size {size}");
        }
        let gets = requests.iter().filter(|r| r.1 == Op::Get).count() as u64;
        assert_eq!(h.lookups(), gets);
    }

    #[test]
    fn a_cyclic_scan_misses_below_its_length_and_hits_at_it() {
        let mut stack = LruStack::new();
        for _ in 0..3 {
            for id in 0..10 {
                stack.request(id, Op::Get);
            }
        }
        let h = stack.histogram();
        assert_eq!(h.lookups(), 30);
        assert_eq!(h.hits(&[9, 10, 100]), vec![0, 20, 20]);
        assert_eq!(h.miss_ratios(&[9])[0], 1.0);
        assert_eq!(h.max_distance(), 10);
    }

    #[test]
    fn the_grid_is_one_two_five_up_to_the_largest() {
        assert_eq!(log_grid(120), vec![1, 2, 5, 10, 20, 50, 100, 120]);
        assert_eq!(log_grid(100), vec![1, 2, 5, 10, 20, 50, 100]);
        assert_eq!(log_grid(0), vec![1]);
    }
}
