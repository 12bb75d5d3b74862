//! One closed-loop worker: pick an operation and a key, time the call, record, repeat.
//!
//! Everything that is not the cache call happens outside the timed interval: the operation and
//! key are sampled first, the key is written into a reused buffer, the value is a slice of the
//! pre-generated pool. The timer is quanta's TSC clock (a few ns per read, against ~25 ns for
//! `Instant::now()`), read twice per operation. Recording is an array increment into this
//! worker's own histograms. Per operation: no allocation, lock or formatting besides the call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crossbeam_utils::CachePadded;
use quanta::Clock;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::metrics::recorder::Recorder;
use crate::tier::{Stack, TierError};
use crate::workload::keys::KeySampler;
use crate::workload::ops::{Op, OpMix};
use crate::workload::values::ValuePool;

/// What every worker of a workload shares.
pub struct WorkloadContext {
    /// The tiers and their policy.
    pub stack: Stack,
    /// Operation weights.
    pub mix: OpMix,
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
}

/// Runs one worker's measured (or warmup) share of a phase and returns what it recorded.
pub async fn run_closed_loop(ctx: &WorkloadContext, job: WorkerJob) -> Recorder {
    let mut rec = Recorder::new(ctx.stack.len());
    let mut rng = SmallRng::seed_from_u64(job.seed);
    let mut sampler = ctx.sampler.clone();
    let mut key = KeyBuf::new(&ctx.prefix);
    let progress = &ctx.progress[job.worker];
    let clock = &ctx.clock;
    let mut done = 0u64;
    while done < job.ops && !ctx.stop.load(Ordering::Relaxed) {
        let op = ctx.mix.sample(&mut rng);
        let index = sampler.sample(&mut rng);
        let value_index = rng.next_u32() as usize;
        let key = key.set(index);
        let start = clock.raw();
        let outcome: Result<(), TierError> = match op {
            Op::Get => ctx.stack.get(key, &mut rec).await.map(drop),
            Op::Set => {
                let value = ctx.values.get(value_index);
                ctx.stack.set(key, value).await
            }
            Op::Delete => ctx.stack.delete(key).await,
        };
        let end = clock.raw();
        match outcome {
            Ok(()) => {
                rec.ops.record(op, clock.delta_as_nanos(start, end));
                if op == Op::Set {
                    sampler.note_write(index);
                }
            }
            Err(_) => rec.ops.record_error(op),
        }
        done += 1;
        progress.store(done, Ordering::Relaxed);
        if job.deadline_ns != u64::MAX
            && clock.delta_as_nanos(job.start_raw, end) >= job.deadline_ns
        {
            break;
        }
    }
    rec
}

/// Writes every key this worker owns (`worker`, `worker + workers`, ...) once, unrecorded.
pub async fn preload(
    ctx: &WorkloadContext,
    worker: usize,
    workers: usize,
) -> Result<(), TierError> {
    let mut key = KeyBuf::new(&ctx.prefix);
    let mut index = worker as u64;
    let progress = &ctx.progress[worker];
    let mut done = 0u64;
    while index < ctx.key_count && !ctx.stop.load(Ordering::Relaxed) {
        let value = ctx.values.get(index as usize);
        ctx.stack.set(key.set(index), value).await?;
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
    fn key_buffer_reuses_its_prefix() {
        let mut k = KeyBuf::new("qs:");
        assert_eq!(k.set(0), "qs:0");
        assert_eq!(k.set(123456), "qs:123456");
        assert_eq!(k.set(7), "qs:7");
    }
}
