//! The closed loop with explicit Redis pipelining (`pipeline: P` on a lone Redis tier).
//!
//! A worker plans P operations (sampling outside the timed interval, as in `worker`), sends
//! them in one round trip, and records each with the batch's latency: from the send to the
//! last reply, which is how memtier_benchmark times pipelined requests.

use std::sync::atomic::Ordering;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::worker::{KeyBuf, WorkerJob, WorkloadContext};
use crate::metrics::recorder::{Recorder, record};
use crate::tier::redis::RedisTier;
use crate::workload::ops::{Op, OpSource};

/// Closed loop with explicit Redis pipelining: each round trip carries `depth` operations, and
/// each operation's latency is the batch's, from its send to its last reply.
pub(super) async fn run_pipelined(
    ctx: &WorkloadContext,
    job: WorkerJob,
    redis: &RedisTier,
    depth: usize,
) -> Recorder {
    let mut rec = Recorder::new(1);
    let mut rng = SmallRng::seed_from_u64(job.seed);
    let mut sampler = ctx.sampler.clone();
    let mut keys: Vec<KeyBuf> = (0..depth).map(|_| KeyBuf::new(&ctx.prefix)).collect();
    let mut planned: Vec<(Op, usize)> = Vec::with_capacity(depth);
    let mut sequence_step = 0usize;
    let mut sequence_key = 0u64;
    let progress = &ctx.progress[job.worker];
    let clock = &ctx.clock;
    let mut done = 0u64;
    while done < job.ops && !ctx.stop.load(Ordering::Relaxed) {
        let n = (job.ops - done).min(depth as u64) as usize;
        planned.clear();
        for key in keys.iter_mut().take(n) {
            let (op, index) = match &ctx.ops {
                OpSource::Sequence(steps) => {
                    if sequence_step == 0 {
                        sequence_key = sampler.sample(&mut rng);
                    }
                    let op = steps[sequence_step];
                    sequence_step = (sequence_step + 1) % steps.len();
                    (op, sequence_key)
                }
                // Validation allows no trace here; a mix is the rest.
                OpSource::Mix(mix) => (mix.sample(&mut rng), sampler.sample(&mut rng)),
                OpSource::Trace { .. } => break,
            };
            key.set(index);
            planned.push((op, rng.next_u32() as usize));
        }
        if planned.is_empty() {
            break;
        }
        let batch: Vec<(Op, &str, &[u8])> = planned
            .iter()
            .zip(&keys)
            .map(|(&(op, value), key)| (op, key.as_str(), ctx.values.get(value)))
            .collect();
        let start = clock.raw();
        let result = redis.run_batch(job.worker, &batch).await;
        let end = clock.raw();
        let nanos = clock.delta_as_nanos(start, end);
        let second = (clock.delta_as_nanos(job.series_origin, end) / 1_000_000_000) as usize;
        match result {
            Ok(hits) => {
                for (&(op, _), hit) in planned.iter().zip(hits) {
                    rec.ops.record(op, nanos);
                    rec.record_second(second, Some(nanos));
                    if let Some(hit) = hit {
                        rec.tiers[0].count_lookup(hit);
                        if hit {
                            record(&mut rec.tiers[0].served, nanos);
                        }
                    }
                }
            }
            Err(_) => {
                rec.tiers[0].errors += 1;
                for &(op, _) in &planned {
                    rec.ops.record_error(op);
                    rec.record_second(second, None);
                }
            }
        }
        done += planned.len() as u64;
        progress.store(done, Ordering::Relaxed);
        if job.deadline_ns != u64::MAX
            && clock.delta_as_nanos(job.start_raw, end) >= job.deadline_ns
        {
            break;
        }
    }
    rec
}
