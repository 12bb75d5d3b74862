//! Running a phase's workers, and giving up on the ones a stop leaves waiting on a server.
//!
//! On Ctrl-C, SIGTERM or `--timeout` the loops stop issuing at once, but an operation already
//! sent may wait on a stalled server for the tier's whole `timeout` (5 s by default). A stopping
//! run must not wait that long: one second after the stop, workers still waiting are cancelled
//! (their tokio task aborted, dropping the in-flight call). What they measured so far is not
//! lost: each worker keeps its recorder in a `KeptRecorder`, which hands the recorder to the
//! workload context when the task is dropped. The abandoned calls themselves are neither
//! successes nor errors: they are counted and reported as abandoned.
//!
//! In-process workers on OS threads never wait on a server and are simply joined.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::context::{WorkerJob, WorkloadContext};
use super::driver;
use crate::metrics::recorder::{Recorder, SPOOL_FROM_WORKERS};

/// How long a stopping run waits for operations in flight before abandoning them.
pub const STOP_GRACE: Duration = Duration::from_secs(1);

/// How often the driver looks for a stop while its workers run (off the measured path).
const STOP_POLL: Duration = Duration::from_millis(20);

/// A worker's recorder that survives the cancellation of its task: dropped before `finish`, it
/// hands what it holds to the context (`WorkloadContext::abandoned`), keyed by worker.
pub struct KeptRecorder<'a> {
    rec: Recorder,
    worker: usize,
    ctx: &'a WorkloadContext,
    finished: bool,
}

impl<'a> KeptRecorder<'a> {
    /// Wraps worker `worker`'s recorder.
    pub fn new(rec: Recorder, worker: usize, ctx: &'a WorkloadContext) -> KeptRecorder<'a> {
        KeptRecorder {
            rec,
            worker,
            ctx,
            finished: false,
        }
    }

    /// `rec` for `job`'s share of a phase, kept under worker `keep_as`: its time series counts
    /// from the workload's origin, and a measured phase's finished seconds go to the workload's
    /// shared series.
    pub fn for_job(
        rec: Recorder,
        job: &WorkerJob,
        keep_as: usize,
        ctx: &'a WorkloadContext,
    ) -> KeptRecorder<'a> {
        let mut kept = KeptRecorder::new(rec, keep_as, ctx);
        kept.series_origin = job.series_origin;
        if job.phase > 0 {
            kept.series_sink = Some(Arc::clone(&ctx.series));
        }
        if job.workers > SPOOL_FROM_WORKERS {
            kept.spool_into(ctx.latencies.clone());
        }
        kept
    }

    /// The recorder, when the worker ended on its own.
    pub fn finish(mut self) -> Recorder {
        self.finished = true;
        self.rec.flush_spool();
        std::mem::replace(&mut self.rec, Recorder::new(0))
    }
}

impl Deref for KeptRecorder<'_> {
    type Target = Recorder;
    #[inline]
    fn deref(&self) -> &Recorder {
        &self.rec
    }
}

impl DerefMut for KeptRecorder<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Recorder {
        &mut self.rec
    }
}

impl Drop for KeptRecorder<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.rec.flush_spool();
            let rec = std::mem::replace(&mut self.rec, Recorder::new(0));
            if let Ok(mut kept) = self.ctx.abandoned.lock() {
                kept.push((self.worker, rec));
            }
        }
    }
}

/// The most workers an in-process stack runs on OS threads of their own. Each thread is an
/// application thread calling the cache, as the stack would see them; but beyond the cores a
/// thread descheduled while it holds the cache's lock stalls the others (100 threads on 2 cores:
/// p99 160 ms), and 10,000 threads cost 620 MB (stacks and allocator caches). With more workers,
/// they are tasks on the runtime's threads (one per core), each giving its thread up every 128
/// operations (tokio's cooperative budget), so every worker progresses and none is preempted
/// in the middle of an operation.
pub const MAX_WORKER_THREADS: usize = 64;

/// Runs `make(ctx, worker)` for every worker: on OS threads for an in-process stack of at most
/// `MAX_WORKER_THREADS` workers (`WorkloadContext::on_threads`), as tokio tasks otherwise.
/// Returns each worker's output in worker order; a task still running `STOP_GRACE` after the
/// run was stopped is aborted and replaced by `recover(worker)`.
pub async fn fan_out<T, F, Fut, R>(
    ctx: &Arc<WorkloadContext>,
    workers: usize,
    make: F,
    recover: R,
) -> Result<Vec<T>, String>
where
    T: Send + 'static,
    F: Fn(Arc<WorkloadContext>, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    R: Fn(&WorkloadContext, usize) -> T,
{
    if ctx.on_threads {
        let futures: Vec<Fut> = (0..workers).map(|w| make(Arc::clone(ctx), w)).collect();
        let handles: Vec<_> = futures
            .into_iter()
            .enumerate()
            .map(|(w, fut)| {
                std::thread::Builder::new()
                    .name(format!("tierbench-worker-{w}"))
                    .spawn(move || {
                        precise_sleeps();
                        driver::block_on(fut)
                    })
                    .map_err(|e| format!("cannot start a worker thread: {e}"))
            })
            .collect::<Result<_, _>>()?;
        // Joining blocks this thread; that is fine, the workers are what runs now.
        return handles
            .into_iter()
            .map(|h| h.join().map_err(|_| "a worker thread panicked".to_string()))
            .collect();
    }
    let handles: Vec<_> = (0..workers)
        .map(|w| tokio::spawn(make(Arc::clone(ctx), w)))
        .collect();
    let mut out = Vec::with_capacity(workers);
    let mut stopped_at: Option<Instant> = None;
    for (w, mut handle) in handles.into_iter().enumerate() {
        loop {
            match tokio::time::timeout(STOP_POLL, &mut handle).await {
                Ok(joined) => {
                    out.push(joined.map_err(|e| format!("a worker task failed: {e}"))?);
                    break;
                }
                Err(_) if ctx.stop.load(Ordering::Relaxed) => {
                    let since = *stopped_at.get_or_insert_with(Instant::now);
                    if since.elapsed() >= STOP_GRACE {
                        handle.abort();
                        // The task is dropped (its recorder handed over) before this returns.
                        match handle.await {
                            Ok(done) => out.push(done),
                            Err(e) if e.is_cancelled() => {
                                ctx.abandoned_in_flight.fetch_add(1, Ordering::Relaxed);
                                out.push(recover(ctx, w));
                            }
                            Err(e) => return Err(format!("a worker task failed: {e}")),
                        }
                        break;
                    }
                }
                Err(_) => {}
            }
        }
    }
    Ok(out)
}

/// What an aborted worker handed over, merged (a task driving several workers hands over one
/// recorder each, all under its index; an empty one if it had not made its own yet).
pub fn kept_recorder(ctx: &WorkloadContext, worker: usize) -> Recorder {
    let mut out = Recorder::with_commands(ctx.stack.len(), ctx.commands.len());
    let Ok(mut kept) = ctx.abandoned.lock() else {
        return out;
    };
    kept.retain(|(w, rec)| {
        if *w == worker {
            out.merge(rec);
        }
        *w != worker
    });
    out
}

/// Makes this thread's sleeps end within a microsecond of when they are due, instead of the
/// kernel's default 50 us timer slack: an open-loop worker sleeps until its next operation, and
/// its lateness counts as the operation's latency.
fn precise_sleeps() {
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::set_current_timer_slack(std::num::NonZeroU64::new(1_000));
}
