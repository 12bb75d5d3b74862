//! What a run's live metrics exporter reads (`live/`): each workload phase's figures, as its
//! workers last published them and, once the phase is over, exactly as it measured them.
//!
//! Why like this: the measured path must not pay for a scraper. Workers already aggregate
//! per operation into their own `Recorder`; once a second (at the start of a new second of their
//! time series, where the progress display is fed too) each copies its recorder's totals into
//! its slot here under a lock no other worker takes, and a scrape sums the slots. Nothing per
//! operation: no atomic, lock or allocation beyond today's. When a phase ends, its merged
//! recorder replaces the slots, so the last scrape's totals equal the result document's.
//!
//! The board is process-wide (`install`, `board`), as an exporter is: the engine publishes
//! only when one is installed.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::recorder::Recorder;
use crate::workload::op::Op;

/// Upper bounds of the latency histogram's classic buckets, in seconds: 1, 2.5 and 5 times each
/// power of ten from 1 µs to 10 s (cache latencies, from an in-process hit to a stalled
/// server).
pub const BUCKETS_S: [f64; 22] = [
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
    5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Where the run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RunState {
    /// Connecting and claiming the tiers.
    Setup = 0,
    /// Writing every key once.
    Preload = 1,
    /// Operations not recorded.
    Warmup = 2,
    /// Measured phases.
    Measure = 3,
    /// Finished; the figures are final.
    Done = 4,
    /// Stopped by an error.
    Failed = 5,
    /// Stopped by Ctrl-C or `--timeout`.
    Interrupted = 6,
}

impl RunState {
    /// Every state, in order (the exporter reports each as 0 or 1).
    pub const ALL: [RunState; 7] = [
        RunState::Setup,
        RunState::Preload,
        RunState::Warmup,
        RunState::Measure,
        RunState::Done,
        RunState::Failed,
        RunState::Interrupted,
    ];

    /// The state's name, as the metric's label says it.
    pub fn name(self) -> &'static str {
        match self {
            RunState::Setup => "setup",
            RunState::Preload => "preload",
            RunState::Warmup => "warmup",
            RunState::Measure => "measure",
            RunState::Done => "done",
            RunState::Failed => "failed",
            RunState::Interrupted => "interrupted",
        }
    }
}

/// One operation kind's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpFigures {
    /// Completed operations.
    pub ok: u64,
    /// Failed operations.
    pub errors: u64,
    /// Sum of the completed operations' latencies, seconds.
    pub sum_s: f64,
    /// Completed operations per bucket of `BUCKETS_S` (not cumulative), the last the overflow.
    pub buckets: Vec<u64>,
}

/// One tier's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TierFigures {
    /// Reads it served.
    pub hits: u64,
    /// Reads it missed.
    pub misses: u64,
    /// Its errors.
    pub errors: u64,
    /// Verified reads it served stale (`verify`, `coherence`).
    pub stale: u64,
}

/// A phase's (or one worker's share of a phase's) totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Per operation kind, by name.
    pub ops: Vec<(&'static str, OpFigures)>,
    /// Per target tier, in stack order.
    pub tiers: Vec<TierFigures>,
}

impl Figures {
    /// A recorder's totals (custom commands together, as `command`).
    pub fn of(rec: &Recorder) -> Figures {
        let mut figures = Figures::default();
        let kinds = rec.ops.latency.len().max(rec.ops.errors.len());
        for i in 0..kinds {
            let op = Op::from_index(i);
            let h = rec.ops.latency_of(op);
            let errors = rec.ops.errors_of(op);
            if h.is_empty() && errors == 0 {
                continue;
            }
            // One pass over the histogram's recorded values rather than a count per bucket
            // bound (22 walks): 1.3M against 1.6M instructions a publish under callgrind.
            let mut buckets = vec![0u64; BUCKETS_S.len() + 1];
            for v in h.iter_recorded() {
                let ns = v.value_iterated_to() as f64;
                let i = BUCKETS_S.partition_point(|&b| b * 1e9 < ns);
                buckets[i] += v.count_at_value();
            }
            let o = OpFigures {
                ok: h.len(),
                errors,
                sum_s: h.mean() * h.len() as f64 / 1e9,
                buckets,
            };
            figures.add_op(op.name(), &o);
        }
        figures.tiers = rec
            .tiers
            .iter()
            .map(|t| TierFigures {
                hits: t.hits,
                misses: t.misses,
                errors: t.errors,
                stale: t.stale,
            })
            .collect();
        figures
    }

    /// Adds `o` into the figures of operation `name`.
    fn add_op(&mut self, name: &'static str, o: &OpFigures) {
        match self.ops.iter_mut().find(|(n, _)| *n == name) {
            Some((_, mine)) => {
                mine.ok += o.ok;
                mine.errors += o.errors;
                mine.sum_s += o.sum_s;
                let len = o.buckets.len().max(mine.buckets.len());
                mine.buckets.resize(len, 0);
                for (m, b) in mine.buckets.iter_mut().zip(&o.buckets) {
                    *m += b;
                }
            }
            None => self.ops.push((name, o.clone())),
        }
    }

    /// Adds `other` into these figures.
    pub fn add(&mut self, other: &Figures) {
        for (name, o) in &other.ops {
            self.add_op(name, o);
        }
        let len = self.tiers.len().max(other.tiers.len());
        self.tiers.resize(len, TierFigures::default());
        for (mine, t) in self.tiers.iter_mut().zip(&other.tiers) {
            mine.hits += t.hits;
            mine.misses += t.misses;
            mine.errors += t.errors;
            mine.stale += t.stale;
        }
    }
}

/// One workload phase on the board.
#[derive(Debug)]
pub struct PhaseBoard {
    /// The workload's name.
    pub workload: String,
    /// Its target tiers' names.
    pub tiers: Vec<String>,
    /// The phase's label: `warmup`, `measure`, or the phase's name.
    pub phase: String,
    /// Its workers.
    pub workers: usize,
    /// An open-loop phase's intended rate, operations per second: where it starts and ends
    /// (the same for a constant rate; a ramp goes from one to the other over the phase).
    pub intended: Option<(f64, f64)>,
    /// Earlier runs of the same workload phase (repetitions, sweep points): the counters go on
    /// from their totals, so a label set is one series that only grows.
    base: Figures,
    /// Each worker's last published figures while the phase runs.
    slots: Vec<Mutex<Figures>>,
    /// The phase's merged figures once it is over.
    done: Mutex<Option<Figures>>,
}

impl PhaseBoard {
    /// The phase's figures now: final once it is over, else the sum of its workers' last.
    pub fn figures(&self) -> Figures {
        let mut sum = self.base.clone();
        if let Some(done) = lock(&self.done).as_ref() {
            sum.add(done);
            return sum;
        }
        for slot in &self.slots {
            sum.add(&lock(slot));
        }
        sum
    }

    /// Whether the phase is over.
    pub fn is_done(&self) -> bool {
        lock(&self.done).is_some()
    }

    /// Worker `w` publishes its recorder's totals (once a second).
    pub fn publish(&self, w: usize, rec: &Recorder) {
        if let Some(slot) = self.slots.get(w) {
            *lock(slot) = Figures::of(rec);
        }
    }

    /// The phase ended with these merged figures.
    pub fn finish(&self, rec: &Recorder) {
        *lock(&self.done) = Some(Figures::of(rec));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What identifies the run (`tierbench_info`).
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file's SHA-256.
    pub sha256: String,
    /// The seed.
    pub seed: u64,
    /// This shard (`i/n`), or empty.
    pub shard: String,
}

/// The run's live figures, read by the exporter.
#[derive(Debug)]
pub struct LiveBoard {
    /// What the run is.
    pub info: RunInfo,
    state: AtomicU8,
    phases: Mutex<Vec<Arc<PhaseBoard>>>,
}

impl LiveBoard {
    /// An empty board for the run `info`, in `setup`.
    pub fn new(info: RunInfo) -> LiveBoard {
        LiveBoard {
            info,
            state: AtomicU8::new(RunState::Setup as u8),
            phases: Mutex::new(Vec::new()),
        }
    }

    /// Where the run is.
    pub fn state(&self) -> RunState {
        let now = self.state.load(Ordering::Relaxed);
        RunState::ALL
            .into_iter()
            .find(|s| *s as u8 == now)
            .unwrap_or(RunState::Setup)
    }

    /// The run moved on to `state`.
    pub fn set_state(&self, state: RunState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    /// A phase starts with `workers` workers; its board. A phase run again (a repetition, a
    /// sweep point) replaces its earlier board and counts on from its totals.
    pub fn begin_phase(
        &self,
        workload: &str,
        tiers: Vec<String>,
        phase: &str,
        (workers, intended): (usize, Option<(f64, f64)>),
    ) -> Arc<PhaseBoard> {
        let mut phases = lock(&self.phases);
        let earlier = phases
            .iter()
            .position(|p| p.workload == workload && p.phase == phase);
        let base = earlier.map(|i| phases[i].figures()).unwrap_or_default();
        let board = Arc::new(PhaseBoard {
            workload: workload.to_string(),
            tiers,
            phase: phase.to_string(),
            workers,
            intended,
            base,
            slots: (0..workers).map(|_| Mutex::default()).collect(),
            done: Mutex::new(None),
        });
        match earlier {
            Some(i) => phases[i] = Arc::clone(&board),
            None => phases.push(Arc::clone(&board)),
        }
        board
    }

    /// Every phase so far, in the order they started.
    pub fn phases(&self) -> Vec<Arc<PhaseBoard>> {
        lock(&self.phases).clone()
    }
}

static BOARD: OnceLock<Arc<LiveBoard>> = OnceLock::new();

/// Makes `board` the process's live board (once); false if one was installed already.
pub fn install(board: Arc<LiveBoard>) -> bool {
    BOARD.set(board).is_ok()
}

/// The process's live board, when an exporter installed one.
pub fn board() -> Option<&'static Arc<LiveBoard>> {
    BOARD.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_bucket_latencies_and_add_up() {
        let mut rec = Recorder::new(1);
        rec.ops.record(Op::Get, 800); // 0.8 µs: the first bucket
        rec.ops.record(Op::Get, 3_000_000); // 3 ms: the 5 ms bucket
        rec.ops.record(Op::Set, 20_000_000_000); // 20 s: overflow
        rec.ops.record_error(Op::Set);
        let f = Figures::of(&rec);
        let get = &f.ops.iter().find(|(n, _)| *n == "get").unwrap().1;
        assert_eq!((get.ok, get.errors), (2, 0));
        assert_eq!(get.buckets[0], 1);
        assert_eq!(get.buckets[11], 1, "5 ms bucket");
        assert_eq!(get.buckets.iter().sum::<u64>(), 2);
        let set = &f.ops.iter().find(|(n, _)| *n == "set").unwrap().1;
        assert_eq!((set.ok, set.errors, set.buckets[22]), (1, 1, 1));
        // A phase run again (a repetition) is the same series, counting on.
        let board = LiveBoard::new(RunInfo::default());
        board
            .begin_phase("w", vec!["l1".into()], "measure", (1, None))
            .finish(&rec);
        board
            .begin_phase("w", vec!["l1".into()], "measure", (1, None))
            .finish(&rec);
        assert_eq!(board.phases().len(), 1);
        let again = board.phases()[0].figures();
        assert_eq!(again.ops.iter().find(|(n, _)| *n == "get").unwrap().1.ok, 4);
        let mut twice = f.clone();
        twice.add(&f);
        assert_eq!(twice.ops[0].1.ok, 4);
        assert_eq!(twice.tiers.len(), 1);
    }
}
