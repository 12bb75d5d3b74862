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

mod figures;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

pub use figures::{BUCKETS_S, Figures, OpFigures, TierFigures, classic_buckets};

use super::coherence::CoherenceCounts;
use super::recorder::{Recorder, SharedLatencies};
use super::second::SeriesSink;

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

/// What a phase is to do, as it begins.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhasePlan {
    /// Its workers.
    pub workers: usize,
    /// An open-loop phase's intended rate, operations per second: where it starts and ends
    /// (the same for a constant rate; a ramp goes from one to the other over the phase).
    pub intended: Option<(f64, f64)>,
    /// The operations it ends after, when it ends after a count.
    pub ops: Option<u64>,
    /// How long it lasts, seconds, when it ends after a time.
    pub duration_s: Option<f64>,
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
    /// What it is to do.
    pub plan: PhasePlan,
    /// When it began.
    started: std::time::Instant,
    /// Earlier runs of the same workload phase (repetitions, sweep points): the counters go on
    /// from their totals, so a label set is one series that only grows.
    base: Figures,
    /// Each worker's last published figures while the phase runs.
    slots: Vec<Mutex<Figures>>,
    /// The phase's merged figures once it is over.
    done: Mutex<Option<Figures>>,
    /// The latencies its workers spool, when there are many (`recorder/spool.rs`): their own
    /// recorders then hold none.
    spooled: Mutex<Option<SharedLatencies>>,
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
        if let Some(spooled) = lock(&self.spooled).as_ref() {
            sum.add(&spooled.read(Figures::of));
        }
        sum
    }

    /// Reads the latencies its workers spool from `shared` too.
    pub fn read_spooled_from(&self, shared: SharedLatencies) {
        *lock(&self.spooled) = Some(shared);
    }

    /// How far the phase is, 0 to 1, given its `figures` now: operations done of those
    /// planned, or time passed of its duration; `None` when it has neither.
    pub fn progress(&self, figures: &Figures) -> Option<f64> {
        if self.is_done() {
            return Some(1.0);
        }
        let count = |f: &Figures| f.ops.iter().map(|(_, o)| o.ok + o.errors).sum::<u64>();
        match (self.plan.ops, self.plan.duration_s) {
            (Some(ops), _) if ops > 0 => {
                let done = count(figures).saturating_sub(count(&self.base));
                Some((done as f64 / ops as f64).min(1.0))
            }
            (_, Some(s)) if s > 0.0 => Some((self.started.elapsed().as_secs_f64() / s).min(1.0)),
            _ => None,
        }
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
    /// Each workload's measured time series (its name, its tiers' names, its sink).
    series: Mutex<Vec<WatchedSeries>>,
    /// Each workload's coherence across app instances (`coherence:`).
    coherence: Mutex<Vec<WatchedCoherence>>,
}

/// A workload's name, its tiers' names, and the sink its workers hand each finished second to.
pub type WatchedSeries = (String, Vec<String>, Arc<SeriesSink>);

/// A workload's coherence counters now (`None` once its instances are gone).
pub type CoherenceFeed = Arc<dyn Fn() -> Option<CoherenceCounts> + Send + Sync>;

/// A workload's coherence feed and what it last said (kept when the feed is gone, so the last
/// scrape sees the totals), on top of its earlier runs' totals (repetitions).
struct WatchedCoherence {
    workload: String,
    feed: Option<CoherenceFeed>,
    base: Option<CoherenceCounts>,
    last: Option<CoherenceCounts>,
}

impl std::fmt::Debug for WatchedCoherence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchedCoherence")
            .field("workload", &self.workload)
            .finish_non_exhaustive()
    }
}

impl LiveBoard {
    /// An empty board for the run `info`, in `setup`.
    pub fn new(info: RunInfo) -> LiveBoard {
        LiveBoard {
            info,
            state: AtomicU8::new(RunState::Setup as u8),
            phases: Mutex::new(Vec::new()),
            series: Mutex::new(Vec::new()),
            coherence: Mutex::new(Vec::new()),
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
        plan: PhasePlan,
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
            plan,
            started: std::time::Instant::now(),
            base,
            slots: (0..plan.workers).map(|_| Mutex::default()).collect(),
            done: Mutex::new(None),
            spooled: Mutex::new(None),
        });
        match earlier {
            Some(i) => phases[i] = Arc::clone(&board),
            None => phases.push(Arc::clone(&board)),
        }
        board
    }

    /// The workload's measured seconds go to `sink` (the live page draws them); a workload
    /// measured again (a sweep's next point) replaces its sink.
    pub fn watch_series(&self, workload: &str, tiers: Vec<String>, sink: &Arc<SeriesSink>) {
        let mut series = lock(&self.series);
        match series.iter_mut().find(|(w, _, _)| w == workload) {
            Some(entry) => entry.2 = Arc::clone(sink),
            None => series.push((workload.to_string(), tiers, Arc::clone(sink))),
        }
    }

    /// The workload's app instances are kept coherent: `feed` tells their counters. A workload
    /// run again (a repetition) counts on from its earlier runs' totals.
    pub fn watch_coherence(&self, workload: &str, feed: CoherenceFeed) {
        let mut watched = lock(&self.coherence);
        match watched.iter_mut().find(|w| w.workload == workload) {
            Some(w) => {
                w.base = sum_counts(w.base.take(), w.last.take());
                w.feed = Some(feed);
            }
            None => watched.push(WatchedCoherence {
                workload: workload.to_string(),
                feed: Some(feed),
                base: None,
                last: None,
            }),
        }
    }

    /// The workload's run is over with these counts (its instances are going away).
    pub fn coherence_final(&self, workload: &str, counts: &CoherenceCounts) {
        if let Some(w) = lock(&self.coherence)
            .iter_mut()
            .find(|w| w.workload == workload)
        {
            w.feed = None;
            w.last = Some(counts.clone());
        }
    }

    /// Each watched workload's coherence counters so far.
    pub fn coherence(&self) -> Vec<(String, CoherenceCounts)> {
        let mut watched = lock(&self.coherence);
        watched
            .iter_mut()
            .filter_map(|w| {
                if let Some(now) = w.feed.as_ref().and_then(|feed| feed()) {
                    w.last = Some(now);
                }
                Some((
                    w.workload.clone(),
                    sum_counts(w.base.clone(), w.last.clone())?,
                ))
            })
            .collect()
    }

    /// Every watched workload's series.
    pub fn watched_series(&self) -> Vec<WatchedSeries> {
        lock(&self.series).clone()
    }

    /// Every phase so far, in the order they started.
    pub fn phases(&self) -> Vec<Arc<PhaseBoard>> {
        lock(&self.phases).clone()
    }
}

fn sum_counts(a: Option<CoherenceCounts>, b: Option<CoherenceCounts>) -> Option<CoherenceCounts> {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            a.absorb(&b);
            Some(a)
        }
        (a, b) => a.or(b),
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
    use crate::workload::op::Op;

    fn one_worker() -> PhasePlan {
        PhasePlan {
            workers: 1,
            ops: Some(4),
            ..PhasePlan::default()
        }
    }

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
            .begin_phase("w", vec!["l1".into()], "measure", one_worker())
            .finish(&rec);
        board
            .begin_phase("w", vec!["l1".into()], "measure", one_worker())
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
