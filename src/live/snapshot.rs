//! What the live page shows, as the JSON each server-sent event carries: the run's state, each
//! phase's totals and progress, and each workload's time series one second per point.
//!
//! The points come from the workload's series sink (`metrics::second::SeriesSink`), which the
//! workers already hand each finished second to: the page's p50 and p99 of a second are exact
//! percentiles of the merged HDR histogram of that second, the same figures the report's
//! charts draw, not estimates from buckets. A second is shown once a later one is in the sink (so
//! every worker has moved on from it); the report that replaces the page at the end has them
//! all.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::metrics::live::{LiveBoard, PhaseBoard};
use crate::metrics::second::{SecondBucket, SeriesSink};

/// One second of a workload's measured time series.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Operations completed in it.
    pub ops: u64,
    /// Operations failed in it.
    pub errors: u64,
    /// Verified reads served stale in it.
    pub stale: u64,
    /// Its median latency, nanoseconds (0 without operations).
    pub p50_ns: u64,
    /// Its 99th percentile latency, nanoseconds.
    pub p99_ns: u64,
    /// Each tier's hit ratio among the reads that reached it (`None`: no read reached it).
    pub hit: Vec<Option<f64>>,
}

impl Point {
    fn of(bucket: &SecondBucket, tiers: usize) -> Point {
        let h = bucket.latency();
        let (p50_ns, p99_ns) = if h.is_empty() {
            (0, 0)
        } else {
            (h.value_at_quantile(0.5), h.value_at_quantile(0.99))
        };
        let hit = (0..tiers)
            .map(|i| {
                let reached: u64 = bucket.reads.iter().skip(i).sum();
                let served = bucket.reads.get(i).copied().unwrap_or(0);
                (reached > 0).then(|| served as f64 / reached as f64)
            })
            .collect();
        Point {
            ops: bucket.ops,
            errors: bucket.errors,
            stale: bucket.stale,
            p50_ns,
            p99_ns,
            hit,
        }
    }
}

/// One workload's points so far, read from its series sink.
struct WorkloadSeries {
    workload: String,
    tiers: Vec<String>,
    sink: Arc<SeriesSink>,
    /// The sink's seconds already turned into points.
    cursor: usize,
    points: Vec<Point>,
}

/// Every workload's points, refreshed from the board's sinks once a second by the dashboard.
#[derive(Default)]
pub struct SeriesBook {
    workloads: Vec<WorkloadSeries>,
}

impl SeriesBook {
    /// Turns the seconds finished since the last refresh into points. A workload run again
    /// with a new sink (a sweep's next point) goes on after its earlier points.
    pub fn refresh(&mut self, board: &LiveBoard) {
        for (workload, tiers, sink) in board.watched_series() {
            let at = match self.workloads.iter().position(|w| w.workload == workload) {
                Some(at) => at,
                None => {
                    self.workloads.push(WorkloadSeries {
                        workload,
                        tiers,
                        sink: Arc::clone(&sink),
                        cursor: 0,
                        points: Vec::new(),
                    });
                    self.workloads.len() - 1
                }
            };
            let series = &mut self.workloads[at];
            if !Arc::ptr_eq(&series.sink, &sink) {
                series.sink = sink;
                series.cursor = 0;
            }
            let finished = series.sink.finished_from(series.cursor);
            series.cursor += finished.len();
            let tiers = series.tiers.len();
            series
                .points
                .extend(finished.iter().map(|b| Point::of(b, tiers)));
        }
    }

    /// How many points each workload has (a stream's cursor after sending them all).
    pub fn lengths(&self) -> Vec<usize> {
        self.workloads.iter().map(|w| w.points.len()).collect()
    }
}

/// A phase as the page shows it.
#[derive(Serialize)]
struct PhaseView {
    workload: String,
    phase: String,
    workers: usize,
    done: bool,
    /// 0 to 1; `None` when the phase has no planned end the page can measure.
    progress: Option<f64>,
    /// An open-loop phase's intended rate at its start and end.
    intended: Option<(f64, f64)>,
    ops: Vec<OpView>,
    tiers: Vec<TierView>,
}

#[derive(Serialize)]
struct OpView {
    op: &'static str,
    ok: u64,
    errors: u64,
    mean_ns: f64,
}

#[derive(Serialize)]
struct TierView {
    tier: String,
    hits: u64,
    misses: u64,
    errors: u64,
    stale: u64,
}

/// A workload's points from a stream's cursor on.
#[derive(Serialize)]
struct SeriesView<'a> {
    workload: &'a str,
    tiers: &'a [String],
    /// The index of the first point sent (the page appends them there).
    from: usize,
    points: &'a [Point],
}

/// One event's data.
#[derive(Serialize)]
struct Snapshot<'a> {
    scenario: &'a str,
    state: &'static str,
    elapsed_s: f64,
    phases: Vec<PhaseView>,
    series: Vec<SeriesView<'a>>,
}

fn phase_view(p: &PhaseBoard) -> PhaseView {
    let figures = p.figures();
    PhaseView {
        workload: p.workload.clone(),
        phase: p.phase.clone(),
        workers: p.plan.workers,
        done: p.is_done(),
        progress: p.progress(&figures),
        intended: p.plan.intended,
        ops: figures
            .ops
            .iter()
            .map(|(op, f)| OpView {
                op,
                ok: f.ok,
                errors: f.errors,
                mean_ns: if f.ok == 0 {
                    0.0
                } else {
                    f.sum_s * 1e9 / f.ok as f64
                },
            })
            .collect(),
        tiers: p
            .tiers
            .iter()
            .zip(
                figures
                    .tiers
                    .iter()
                    .chain(std::iter::repeat(&Default::default())),
            )
            .map(|(tier, t)| TierView {
                tier: tier.clone(),
                hits: t.hits,
                misses: t.misses,
                errors: t.errors,
                stale: t.stale,
            })
            .collect(),
    }
}

/// The JSON of one event: the board now, and each workload's points from `cursors` on (a
/// missing cursor is 0: every point).
pub fn snapshot_json(
    board: &LiveBoard,
    book: &SeriesBook,
    cursors: &[usize],
    started: Instant,
) -> String {
    let snapshot = Snapshot {
        scenario: &board.info.scenario,
        state: board.state().name(),
        elapsed_s: started.elapsed().as_secs_f64(),
        phases: board.phases().iter().map(|p| phase_view(p)).collect(),
        series: book
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let from = cursors.get(i).copied().unwrap_or(0).min(w.points.len());
                SeriesView {
                    workload: &w.workload,
                    tiers: &w.tiers,
                    from,
                    points: &w.points[from..],
                }
            })
            .collect(),
    };
    serde_json::to_string(&snapshot).unwrap_or_else(|_| "{}".to_string())
}
