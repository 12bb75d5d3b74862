//! Live progress: a bar per workload phase on a terminal, a status line every few seconds in a
//! log (CI), nothing with `--quiet`.
//!
//! Workers never touch the display: each stores its operation count in a cache-padded atomic
//! after every operation, and once a second (at the start of a new second of its time series)
//! its last second's p99 and its first tier's hits and lookups (`LiveWorker`). A ticker thread
//! sums them; the measured path pays a relaxed store per operation and nothing else. A log gets
//! plain lines (no escape codes), like k6's status lines, so a CI job shows signs of life
//! during a long run.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::units::{format_duration, format_nanos};

/// One worker's figures for the display, published once a second.
#[derive(Default)]
pub struct LiveWorker {
    /// p99 latency of the worker's last complete second, in ns (0: none yet).
    pub p99_ns: AtomicU64,
    /// Hits of the workload's first tier in this phase so far.
    pub hits: AtomicU64,
    /// Lookups (hits and misses) of the first tier in this phase so far.
    pub lookups: AtomicU64,
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Bars redrawn in place (a terminal).
    Bars,
    /// A plain status line every `interval` (a log).
    Lines(Duration),
    /// Nothing.
    Quiet,
}

/// Whether and how progress is shown, and the repetition under way.
pub struct Progress {
    mode: Mode,
    /// The repetition under way (1-based) and their number, packed `i << 32 | n`.
    repetition: AtomicU64,
}

/// What a phase's display says about it.
#[derive(Clone, Copy)]
pub struct PhaseInfo<'a> {
    /// The workload's name.
    pub workload: &'a str,
    /// The phase's label (preload, warmup, measure, or the phase's name).
    pub phase: &'a str,
    /// Operations it will run, when bounded by a count.
    pub total: Option<u64>,
    /// How long it runs, when bounded by a duration.
    pub duration: Option<Duration>,
    /// The tier whose hit rate is shown (the workload's first).
    pub tier: &'a str,
}

impl Progress {
    /// Bars when stderr is a terminal and `CI` is unset, otherwise status lines every
    /// `interval`.
    pub fn auto(interval: Duration) -> Progress {
        let bars = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Progress::with_mode(if bars {
            Mode::Bars
        } else {
            Mode::Lines(interval)
        })
    }

    /// No progress at all.
    pub fn hidden() -> Progress {
        Progress::with_mode(Mode::Quiet)
    }

    /// Progress shown the given way.
    pub fn with_mode(mode: Mode) -> Progress {
        Progress {
            mode,
            repetition: AtomicU64::new(0),
        }
    }

    /// Says which repetition (`index` of `count`, 1-based) the next phases belong to.
    pub fn set_repetition(&self, index: u32, count: u32) {
        let packed = (u64::from(index) << 32) | u64::from(count);
        self.repetition.store(packed, Ordering::Relaxed);
    }

    /// Starts showing one phase; `counters` and `live` are its workers' figures (reset here).
    pub fn phase(
        &self,
        info: &PhaseInfo<'_>,
        counters: &Arc<[CachePadded<AtomicU64>]>,
        live: &Arc<[CachePadded<LiveWorker>]>,
    ) -> PhaseBar {
        for c in counters.iter() {
            c.store(0, Ordering::Relaxed);
        }
        for l in live.iter() {
            l.p99_ns.store(0, Ordering::Relaxed);
            l.hits.store(0, Ordering::Relaxed);
            l.lookups.store(0, Ordering::Relaxed);
        }
        if self.mode == Mode::Quiet {
            return PhaseBar { ticker: None };
        }
        let rep = self.repetition.load(Ordering::Relaxed);
        let (index, count) = (rep >> 32, rep & 0xffff_ffff);
        let mut label = format!("{} {}", info.workload, info.phase);
        if count > 1 {
            label.push_str(&format!(" {index}/{count}"));
        }
        let ticker = Ticker {
            label,
            total: info.total,
            duration: info.duration,
            tier: info.tier.to_string(),
            counters: Arc::clone(counters),
            live: Arc::clone(live),
            done: Arc::new(AtomicBool::new(false)),
        };
        let done = Arc::clone(&ticker.done);
        let mode = self.mode;
        let thread = std::thread::Builder::new()
            .name("tierbench-progress".into())
            .spawn(move || match mode {
                Mode::Bars => ticker.bars(),
                Mode::Lines(every) => ticker.lines(every),
                Mode::Quiet => {}
            })
            .ok();
        PhaseBar {
            ticker: thread.map(|t| (done, t)),
        }
    }
}

/// The thread that reads the workers' figures and shows them.
struct Ticker {
    label: String,
    total: Option<u64>,
    duration: Option<Duration>,
    tier: String,
    counters: Arc<[CachePadded<AtomicU64>]>,
    live: Arc<[CachePadded<LiveWorker>]>,
    done: Arc<AtomicBool>,
}

/// The figures at one instant.
struct Reading {
    ops: u64,
    p99_ns: u64,
    hit_rate: Option<f64>,
}

impl Ticker {
    fn read(&self) -> Reading {
        let ops = self
            .counters
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum();
        // The slowest worker's last complete second (documented under --progress-interval).
        let p99_ns = self
            .live
            .iter()
            .map(|l| l.p99_ns.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0);
        let hits: u64 = self
            .live
            .iter()
            .map(|l| l.hits.load(Ordering::Relaxed))
            .sum();
        let lookups: u64 = self
            .live
            .iter()
            .map(|l| l.lookups.load(Ordering::Relaxed))
            .sum();
        Reading {
            ops,
            p99_ns,
            hit_rate: (lookups > 0).then(|| hits as f64 / lookups as f64),
        }
    }

    /// The figures after the counts: rate, p99, hit rate.
    fn figures(&self, reading: &Reading, rate: f64) -> String {
        let mut out = format!("{rate:.0} ops/s");
        if reading.p99_ns > 0 {
            out.push_str(&format!("  p99 {}", format_nanos(reading.p99_ns as f64)));
        }
        if let Some(h) = reading.hit_rate {
            out.push_str(&format!("  {} hit {:.1}%", self.tier, h * 100.0));
        }
        out
    }

    fn bars(self) {
        let bar = match (self.total, self.duration) {
            (Some(n), _) => ProgressBar::new(n),
            (None, Some(d)) => ProgressBar::new(d.as_millis() as u64),
            (None, None) => ProgressBar::new_spinner(),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        let template = match (self.total, self.duration) {
            (Some(_), _) => "{prefix:>24} {bar:30} {pos}/{len} ops  {elapsed} (eta {eta})  {msg}",
            // indicatif's {elapsed} rounds to whole seconds ("2s/2s" at 90%): the message
            // carries the time to a tenth.
            (None, Some(_)) => "{prefix:>24} {bar:30} {msg}",
            (None, None) => "{prefix:>24} {spinner} {elapsed}  {msg}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_prefix(self.label.clone());
        let started = Instant::now();
        let mut window = RateWindow::new();
        while !self.done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            let reading = self.read();
            let rate = window.update(reading.ops);
            match self.total {
                Some(_) => bar.set_position(reading.ops),
                None => bar.set_position(started.elapsed().as_millis() as u64),
            }
            let mut msg = self.figures(&reading, rate);
            if self.total.is_none() {
                msg = format!("{} ops  {msg}", reading.ops);
            }
            if let (None, Some(d)) = (self.total, self.duration) {
                let elapsed = started.elapsed().min(d).as_secs_f64();
                msg = format!("{elapsed:.1}s/{:.1}s  {msg}", d.as_secs_f64());
            }
            bar.set_message(msg);
        }
        bar.finish_and_clear();
    }

    fn lines(self, every: Duration) {
        let started = Instant::now();
        let mut last = (Duration::ZERO, 0u64);
        let mut next = every;
        while !self.done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            let elapsed = started.elapsed();
            if elapsed < next {
                continue;
            }
            next += every;
            let reading = self.read();
            let span = (elapsed - last.0).as_secs_f64().max(1e-9);
            let rate = reading.ops.saturating_sub(last.1) as f64 / span;
            last = (elapsed, reading.ops);
            let progress = match (self.total, self.duration) {
                (Some(n), _) => format!("{}/{n} ops", reading.ops),
                (None, Some(d)) => format!(
                    "{}/{}  {} ops",
                    format_duration(round_to_tenth(elapsed)),
                    format_duration(d),
                    reading.ops
                ),
                (None, None) => format!("{} ops", reading.ops),
            };
            let clock = match self.duration {
                Some(_) => String::new(),
                None => format!("{}  ", format_duration(round_to_tenth(elapsed))),
            };
            let line = format!(
                "tierbench: {}  {clock}{progress}  {}\n",
                self.label,
                self.figures(&reading, rate)
            );
            // One write per line, so lines from a log never interleave mid-line.
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }
}

fn round_to_tenth(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64 / 100 * 100)
}

/// Throughput over roughly the last second, from readings ten times a second.
struct RateWindow {
    readings: std::collections::VecDeque<(Instant, u64)>,
}

impl RateWindow {
    fn new() -> RateWindow {
        RateWindow {
            readings: std::collections::VecDeque::with_capacity(12),
        }
    }

    fn update(&mut self, ops: u64) -> f64 {
        let now = Instant::now();
        self.readings.push_back((now, ops));
        while self.readings.len() > 11 {
            self.readings.pop_front();
        }
        match self.readings.front() {
            Some(&(t, n)) if now > t => ops.saturating_sub(n) as f64 / (now - t).as_secs_f64(),
            _ => 0.0,
        }
    }
}

/// A running display; `finish` stops its ticker.
pub struct PhaseBar {
    ticker: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl PhaseBar {
    /// Stops and clears the display.
    pub fn finish(self) {
        if let Some((done, thread)) = self.ticker {
            done.store(true, Ordering::Relaxed);
            let _ = thread.join();
        }
    }
}
