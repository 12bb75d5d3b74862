//! One closed-loop worker: pick an operation and a key, time the call, record, repeat.
//!
//! Everything that is not the cache call happens outside the timed interval: the operation and
//! key are sampled first, the key is written into a reused buffer, the value is a slice of the
//! pre-generated pool. The timer is quanta's TSC clock (a few ns per read, against ~25 ns for
//! `Instant::now()`), read twice per operation. Recording is an array increment into this
//! worker's own histograms. Per operation: no allocation, lock or formatting besides the call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_utils::CachePadded;
use quanta::Clock;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use std::ops::Range;
use std::path::PathBuf;

use crate::metrics::recorder::{Recorder, record};
use crate::scenario::plan::Rate;
use crate::tier::TierError;
use crate::tier::stack::{Served, Stack};
use crate::workload::keys::KeySampler;
use crate::workload::ops::{Op, OpSource};
use crate::workload::trace::{TraceReader, TraceWriter};
use crate::workload::values::ValuePool;

/// What every worker of a workload shares.
pub struct WorkloadContext {
    /// The tiers and their policy.
    pub stack: Stack,
    /// Where operations come from.
    pub ops: OpSource,
    /// Pre-generated values.
    pub values: Arc<ValuePool>,
    /// Key prefix.
    pub prefix: String,
    /// Number of keys.
    pub key_count: u64,
    /// Per worker key samplers' template.
    pub sampler: KeySampler,
    /// Operations done so far, one padded counter per worker (read by the progress bar).
    pub progress: Arc<[CachePadded<AtomicU64>]>,
    /// Set to stop every worker early (timeout, Ctrl-C).
    pub stop: Arc<AtomicBool>,
    /// The shared TSC clock.
    pub clock: Clock,
    /// Write versions per key, in verify mode.
    pub verify: Option<Arc<VerifyState>>,
    /// `--record-trace`: where every issued operation is written (per-worker parts beside it).
    pub record: Option<PathBuf>,
    /// This workload's index (for trace parts).
    pub workload_index: usize,
    /// This workload's name (recorded with each operation).
    pub workload_name: String,
}

/// Verify mode's shared state: the last completed write version of every key.
pub struct VerifyState {
    last: Box<[AtomicU64]>,
    next: AtomicU64,
}

/// Marks a verify-mode value: magic, key index, version (little endian), then pool bytes.
const STAMP: &[u8; 4] = b"tbv1";
const STAMP_LEN: usize = 4 + 8 + 8;

impl VerifyState {
    /// State for `keys` keys (8 bytes each).
    pub fn new(keys: u64) -> VerifyState {
        VerifyState {
            last: (0..keys).map(|_| AtomicU64::new(0)).collect(),
            next: AtomicU64::new(0),
        }
    }

    fn next_version(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn last(&self, index: u64) -> u64 {
        self.last[index as usize].load(Ordering::Acquire)
    }

    fn completed(&self, index: u64, version: u64) {
        self.last[index as usize].fetch_max(version, Ordering::AcqRel);
    }
}

/// Writes a stamped value (key index, version, then `body`) into `buf`.
fn stamp(buf: &mut Vec<u8>, index: u64, version: u64, body: &[u8]) {
    buf.clear();
    buf.extend_from_slice(STAMP);
    buf.extend_from_slice(&index.to_le_bytes());
    buf.extend_from_slice(&version.to_le_bytes());
    buf.extend_from_slice(body);
}

/// What a verified read found.
#[derive(Debug, PartialEq, Eq)]
enum Check {
    Fresh,
    Stale,
    Corrupt,
}

fn check(value: &[u8], index: u64, min_version: u64) -> Check {
    if value.len() < STAMP_LEN || &value[..4] != STAMP {
        return Check::Corrupt;
    }
    let key = u64::from_le_bytes(value[4..12].try_into().unwrap_or_default());
    let version = u64::from_le_bytes(value[12..20].try_into().unwrap_or_default());
    if key != index {
        Check::Corrupt
    } else if version < min_version {
        Check::Stale
    } else {
        Check::Fresh
    }
}

/// One worker's share of a phase.
#[derive(Debug, Clone, Copy)]
pub struct WorkerJob {
    /// This worker's index.
    pub worker: usize,
    /// How many workers run the phase.
    pub workers: usize,
    /// Seed of this worker's random stream.
    pub seed: u64,
    /// Operations to run, or unlimited (`u64::MAX`) with a deadline.
    pub ops: u64,
    /// Raw clock reading when the phase started.
    pub start_raw: u64,
    /// Stop once this many nanoseconds have passed since `start_raw` (`u64::MAX`: no deadline).
    pub deadline_ns: u64,
    /// Open loop: the phase's arrival rate (`ops` is then the phase's global count).
    pub rate: Option<Rate>,
    /// Raw clock reading when the workload's measurement started (second 0 of its time series).
    pub series_origin: u64,
    /// Phase number for trace recording: 0 for warmup, then 1, 2, ...
    pub phase: usize,
}

/// When operation `i` of an open-loop phase is due, in nanoseconds from the phase start. A ramp
/// from r0 to r1 over D has N(t) = r0·t + (r1 − r0)·t²/(2D) operations due by t; this solves N(t) = i.
pub fn intended_ns(i: u64, rate: Rate, duration_ns: u64) -> u64 {
    let i = i as f64;
    let slope = if duration_ns == u64::MAX {
        0.0
    } else {
        (rate.end - rate.start) / (duration_ns as f64 / 1e9)
    };
    let secs = if slope.abs() < 1e-9 {
        i / rate.start
    } else {
        (-rate.start + (rate.start * rate.start + 2.0 * slope * i).max(0.0).sqrt()) / slope
    };
    (secs * 1e9) as u64
}

/// A key written as `prefix` + decimal index into one reused buffer.
pub struct KeyBuf {
    buf: String,
    prefix_len: usize,
    digits: itoa::Buffer,
}

impl KeyBuf {
    /// A buffer holding `prefix`, with room for any index.
    pub fn new(prefix: &str) -> KeyBuf {
        let mut buf = String::with_capacity(prefix.len() + 20);
        buf.push_str(prefix);
        KeyBuf {
            buf,
            prefix_len: prefix.len(),
            digits: itoa::Buffer::new(),
        }
    }

    /// Writes key `index` and returns it.
    #[inline]
    pub fn set(&mut self, index: u64) -> &str {
        self.buf.truncate(self.prefix_len);
        self.buf.push_str(self.digits.format(index));
        &self.buf
    }

    /// Writes a trace's key (after the prefix).
    #[inline]
    pub fn set_str(&mut self, key: &str) {
        self.buf.truncate(self.prefix_len);
        self.buf.push_str(key);
    }

    /// The whole key now in the buffer.
    pub fn as_str(&self) -> &str {
        &self.buf
    }

    /// The key without its prefix.
    pub fn suffix(&self) -> &str {
        &self.buf[self.prefix_len..]
    }
}

/// Waits until `target_ns` after `start_raw`: sleeping while far off, then yielding, so an
/// operation starts within microseconds of its schedule (tokio's timer alone is 1 ms coarse).
async fn wait_until(ctx: &WorkloadContext, start_raw: u64, target_ns: u64) {
    const SPIN_NS: u64 = 1_500_000;
    loop {
        let now = ctx.clock.delta_as_nanos(start_raw, ctx.clock.raw());
        if now >= target_ns || ctx.stop.load(Ordering::Relaxed) {
            return;
        }
        let left = target_ns - now;
        match (ctx.stack.is_in_process(), left > SPIN_NS) {
            (true, true) => std::thread::sleep(Duration::from_nanos(left - SPIN_NS)),
            (true, false) => std::hint::spin_loop(),
            (false, true) => tokio::time::sleep(Duration::from_nanos(left - SPIN_NS)).await,
            (false, false) => tokio::task::yield_now().await,
        }
    }
}

/// Runs one worker's share of a phase (closed or open loop) and returns what it recorded.
pub async fn run_phase_worker(ctx: &WorkloadContext, job: WorkerJob) -> Recorder {
    if job.rate.is_none()
        && ctx.verify.is_none()
        && ctx.record.is_none()
        && let Some((redis, depth)) = ctx.stack.pipelined()
    {
        return super::pipelined::run_pipelined(ctx, job, redis, depth).await;
    }
    let mut rec = Recorder::new(ctx.stack.len());
    let mut rng = SmallRng::seed_from_u64(job.seed);
    let mut sampler = ctx.sampler.clone();
    let mut key = KeyBuf::new(&ctx.prefix);
    let mut stamped = Vec::new();
    let mut sequence_step = 0usize;
    let mut sequence_key = 0u64;
    let progress = &ctx.progress[job.worker];
    let clock = &ctx.clock;
    let lane = job.worker;
    let mut done = 0u64;
    // Open loop: this worker runs operations worker, worker + workers, ... of the phase.
    let mut next = job.worker as u64;
    let mut trace = match &ctx.ops {
        OpSource::Trace { path, format } => {
            TraceReader::open(path, *format, job.worker, job.workers).ok()
        }
        _ => None,
    };
    let mut sized = Vec::new();
    let mut writer = ctx
        .record
        .as_ref()
        .and_then(|base| TraceWriter::create(base, ctx.workload_index, job.phase, job.worker).ok());
    loop {
        if ctx.stop.load(Ordering::Relaxed) {
            break;
        }
        let intended = match job.rate {
            None if done >= job.ops => break,
            None => None,
            Some(_) if next >= job.ops => break,
            Some(rate) => {
                let due = intended_ns(next, rate, job.deadline_ns);
                if due >= job.deadline_ns {
                    break;
                }
                wait_until(ctx, job.start_raw, due).await;
                next += job.workers as u64;
                Some(due)
            }
        };
        // Everything but the call happens before the timer starts.
        let mut trace_size = None;
        let (op, index) = match &ctx.ops {
            OpSource::Mix(mix) => (mix.sample(&mut rng), sampler.sample(&mut rng)),
            OpSource::Sequence(steps) => {
                if sequence_step == 0 {
                    sequence_key = sampler.sample(&mut rng);
                }
                let op = steps[sequence_step];
                sequence_step = (sequence_step + 1) % steps.len();
                (op, sequence_key)
            }
            OpSource::Trace { .. } => {
                let Some(record) = trace.as_mut().and_then(TraceReader::next_record) else {
                    break;
                };
                key.set_str(&record.key);
                trace_size = record.size;
                (record.op, u64::MAX)
            }
        };
        let mut pool_value = ctx.values.get(rng.next_u32() as usize);
        if let Some(size) = trace_size {
            // A trace's write size: the pool value, repeated to that length (buffer reused).
            sized.clear();
            while sized.len() < size && !pool_value.is_empty() {
                let take = (size - sized.len()).min(pool_value.len());
                sized.extend_from_slice(&pool_value[..take]);
            }
            pool_value = &sized;
        }
        let (value, version): (&[u8], u64) = match &ctx.verify {
            None => (pool_value, 0),
            Some(v) => {
                // Writes carry a new version; a read expects at least the last completed one
                // (and the origin, the source of truth, answers with exactly that).
                let version = match op {
                    Op::Set | Op::Delete => v.next_version(),
                    Op::Get | Op::Touch => v.last(index),
                };
                stamp(&mut stamped, index, version, pool_value);
                (&stamped, version)
            }
        };
        if index != u64::MAX {
            key.set(index);
        }
        let key_str = key.as_str();
        let start = clock.raw();
        let outcome = match op {
            Op::Get => ctx
                .stack
                .get(key_str, lane, value, &mut rec)
                .await
                .map(Some),
            Op::Set => ctx
                .stack
                .set(key_str, value, lane, &mut rec)
                .await
                .map(|()| None),
            Op::Delete => ctx
                .stack
                .delete(key_str, lane, &mut rec)
                .await
                .map(|()| None),
            Op::Touch => ctx
                .stack
                .touch(key_str, lane, &mut rec)
                .await
                .map(|()| None),
        };
        let end = clock.raw();
        let service = clock.delta_as_nanos(start, end);
        if let Some(w) = writer.as_mut() {
            let size = if op == Op::Set { value.len() } else { 0 };
            w.write(key.suffix(), op, size, job.worker, &ctx.workload_name);
        }
        // Open loop counts from the intended start: a stall delays every operation behind it.
        let nanos = match intended {
            Some(due) => clock
                .delta_as_nanos(job.start_raw, end)
                .saturating_sub(due)
                .max(service),
            None => service,
        };
        let second = (clock.delta_as_nanos(job.series_origin, end) / 1_000_000_000) as usize;
        match outcome {
            Ok(read) => {
                rec.ops.record(op, nanos);
                if intended.is_some() {
                    rec.service.record(op, service);
                }
                rec.record_second(second, Some(nanos));
                if let Some((served, found)) = read {
                    note_read(
                        &mut rec,
                        served,
                        nanos,
                        found.as_deref(),
                        ctx.verify.is_some(),
                        index,
                        version,
                    );
                }
                if matches!(op, Op::Set | Op::Delete) {
                    sampler.note_write(index);
                    if let Some(v) = &ctx.verify {
                        v.completed(index, version);
                    }
                }
            }
            Err(_) => {
                rec.ops.record_error(op);
                rec.record_second(second, None);
            }
        }
        done += 1;
        progress.store(done, Ordering::Relaxed);
        if intended.is_none()
            && job.deadline_ns != u64::MAX
            && clock.delta_as_nanos(job.start_raw, end) >= job.deadline_ns
        {
            break;
        }
    }
    if let Some(path) = writer.and_then(|w| w.finish().ok()) {
        rec.trace_parts.push(path);
    }
    rec
}

/// Records who served a read, and in verify mode whether what it served was fresh.
#[inline]
fn note_read(
    rec: &mut Recorder,
    served: Served,
    nanos: u64,
    found: Option<&[u8]>,
    verify: bool,
    index: u64,
    min_version: u64,
) {
    match served {
        Served::Tier(i) => {
            record(&mut rec.tiers[i].served, nanos);
            if verify && let Some(value) = found {
                match check(value, index, min_version) {
                    Check::Fresh => {}
                    Check::Stale => rec.tiers[i].stale += 1,
                    Check::Corrupt => rec.tiers[i].corrupt += 1,
                }
            }
        }
        Served::Origin => record(&mut rec.origin_served, nanos),
        Served::Miss => {}
    }
}

/// Writes this worker's keys of `keys` (`start + worker`, `start + worker + workers`, ...) once,
/// unrecorded. In verify mode they are stamped with version 0.
pub async fn preload(
    ctx: &WorkloadContext,
    worker: usize,
    workers: usize,
    keys: Range<u64>,
) -> Result<(), TierError> {
    let mut rec = Recorder::new(ctx.stack.len());
    let mut key = KeyBuf::new(&ctx.prefix);
    let mut stamped = Vec::new();
    let mut index = keys.start + worker as u64;
    let progress = &ctx.progress[worker];
    let mut done = progress.load(Ordering::Relaxed);
    while index < keys.end && !ctx.stop.load(Ordering::Relaxed) {
        let mut value = ctx.values.get(index as usize);
        if ctx.verify.is_some() {
            stamp(&mut stamped, index, 0, value);
            value = &stamped;
        }
        ctx.stack
            .set(key.set(index), value, worker, &mut rec)
            .await?;
        index += workers as u64;
        done += 1;
        progress.store(done, Ordering::Relaxed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamped_values_check_key_and_version() {
        let mut buf = Vec::new();
        stamp(&mut buf, 7, 5, b"body");
        assert_eq!(check(&buf, 7, 5), Check::Fresh);
        assert_eq!(check(&buf, 7, 4), Check::Fresh);
        assert_eq!(check(&buf, 7, 6), Check::Stale);
        assert_eq!(check(&buf, 8, 0), Check::Corrupt);
        assert_eq!(check(b"tbv1", 7, 0), Check::Corrupt);
    }

    #[test]
    fn open_loop_schedules_follow_the_rate_and_the_ramp() {
        let constant = Rate {
            start: 1000.0,
            end: 1000.0,
        };
        assert_eq!(intended_ns(0, constant, u64::MAX), 0);
        assert_eq!(intended_ns(1000, constant, u64::MAX), 1_000_000_000);
        // 0 → 2000/s over 1 s: N(t) = 1000 t², so op 250 is due at 0.5 s and op 1000 at 1 s.
        let ramp = Rate {
            start: 1e-9,
            end: 2000.0,
        };
        let d = 1_000_000_000;
        assert!((intended_ns(250, ramp, d) as i64 - 500_000_000).abs() < 1_000);
        assert!((intended_ns(1000, ramp, d) as i64 - 1_000_000_000).abs() < 1_000);
        // 1000 → 3000/s over 2 s: N(2) = 2000 + 2000 = 4000.
        let up = Rate {
            start: 1000.0,
            end: 3000.0,
        };
        assert!((intended_ns(4000, up, 2 * d) as i64 - 2 * d as i64).abs() < 1_000);
    }

    #[test]
    fn key_buffer_reuses_its_prefix() {
        let mut k = KeyBuf::new("qs:");
        assert_eq!(k.set(0), "qs:0");
        assert_eq!(k.set(123456), "qs:123456");
        assert_eq!(k.set(7), "qs:7");
    }
}
