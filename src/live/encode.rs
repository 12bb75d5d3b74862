//! The live board (`metrics::live`) as Prometheus metrics, encoded by `prometheus-client`, the
//! Prometheus project's own Rust client: a `Collector` reads the board at each scrape (nothing
//! is registered or updated per operation), and the client writes the exposition text.
//!
//! The client writes OpenMetrics text; `prometheus_text` turns it into the classic Prometheus
//! text format (0.0.4: a counter's `# TYPE` names its `_total` samples, no `# UNIT` or `# EOF`),
//! which is what a plain scrape, `curl` and the Pushgateway read.
//!
//! Metrics (base units, `_total` counters):
//! - `tierbench_info{scenario,sha256,seed,version,shard}` and `tierbench_run_state{state}` (1 for
//!   the state the run is in, 0 for the others);
//! - `tierbench_workers{workload,phase}`, and an open-loop phase's
//!   `tierbench_intended_rate{workload,phase,at}` (`at`: `start`, `end`; equal unless it ramps);
//! - `tierbench_operations_total{workload,phase,op,outcome}`, outcome `ok` or `error`;
//! - `tierbench_operation_duration_seconds{workload,phase,op}`, a histogram of the completed
//!   operations (buckets 1 µs to 10 s);
//! - `tierbench_tier_reads_total{workload,phase,tier,outcome}`, outcome `hit` or `miss` (a
//!   tier's hit ratio is hit / (hit + miss));
//! - `tierbench_tier_stale_reads_total{workload,phase,tier}` (verify mode);
//! - `tierbench_tier_errors_total{workload,phase,tier}`;
//! - with several app instances kept coherent (`coherence:`):
//!   `tierbench_coherence_invalidations_total{workload,outcome}` (sent, delivered, foreign, own),
//!   `tierbench_coherence_late_total`, `_flushes_total`, `_publish_errors_total{workload}` and
//!   the histogram `tierbench_coherence_lag_seconds{workload}`.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::metrics::coherence::CoherenceCounts;
use crate::metrics::live::{BUCKETS_S, Figures, LiveBoard, PhaseBoard, RunState, classic_buckets};

/// Reads a board at each scrape.
#[derive(Debug)]
struct BoardCollector(std::sync::Arc<LiveBoard>);

type Labels = Vec<(&'static str, String)>;

fn phase_labels(p: &PhaseBoard) -> Labels {
    vec![("workload", p.workload.clone()), ("phase", p.phase.clone())]
}

fn with(mut labels: Labels, more: &[(&'static str, &str)]) -> Labels {
    labels.extend(more.iter().map(|(k, v)| (*k, (*v).to_string())));
    labels
}

impl Collector for BoardCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let board = &self.0;
        let info = &board.info;
        let mut e = encoder.encode_descriptor(
            "tierbench_info",
            "The run: scenario, its SHA-256, seed, tierbench version and shard",
            None,
            MetricType::Gauge,
        )?;
        let labels: Labels = vec![
            ("scenario", info.scenario.clone()),
            ("sha256", info.sha256.clone()),
            ("seed", info.seed.to_string()),
            ("version", env!("CARGO_PKG_VERSION").to_string()),
            ("shard", info.shard.clone()),
        ];
        ConstGauge::new(1i64).encode(e.encode_family(&labels)?)?;
        let now = board.state();
        let mut e = encoder.encode_descriptor(
            "tierbench_run_state",
            "1 for the state the run is in (setup, preload, warmup, measure, done, failed, interrupted)",
            None,
            MetricType::Gauge,
        )?;
        for state in RunState::ALL {
            let labels: Labels = vec![("state", state.name().to_string())];
            ConstGauge::new(i64::from(state == now)).encode(e.encode_family(&labels)?)?;
        }
        let phases: Vec<_> = board.phases();
        let figures: Vec<Figures> = phases.iter().map(|p| p.figures()).collect();
        encode_workers(&mut encoder, &phases)?;
        encode_operations(&mut encoder, &phases, &figures)?;
        encode_durations(&mut encoder, &phases, &figures)?;
        encode_tiers(&mut encoder, &phases, &figures)?;
        encode_coherence(&mut encoder, &board.coherence())
    }
}

fn encode_workers(
    encoder: &mut DescriptorEncoder,
    phases: &[std::sync::Arc<PhaseBoard>],
) -> Result<(), std::fmt::Error> {
    let mut e = encoder.encode_descriptor(
        "tierbench_workers",
        "Workers of each workload phase while it runs (0 once it is over)",
        None,
        MetricType::Gauge,
    )?;
    for p in phases {
        let workers = if p.is_done() {
            0
        } else {
            p.plan.workers as i64
        };
        ConstGauge::new(workers).encode(e.encode_family(&phase_labels(p))?)?;
    }
    let mut e = encoder.encode_descriptor(
        "tierbench_intended_rate",
        "An open-loop phase's intended operations per second (start and end of a ramp); \
         compare with rate(tierbench_operations_total)",
        None,
        MetricType::Gauge,
    )?;
    for p in phases {
        if let Some((start, end)) = p.plan.intended {
            for (at, rate) in [("start", start), ("end", end)] {
                let labels = with(phase_labels(p), &[("at", at)]);
                ConstGauge::new(rate).encode(e.encode_family(&labels)?)?;
            }
        }
    }
    Ok(())
}

fn encode_operations(
    encoder: &mut DescriptorEncoder,
    phases: &[std::sync::Arc<PhaseBoard>],
    figures: &[Figures],
) -> Result<(), std::fmt::Error> {
    let mut e = encoder.encode_descriptor(
        "tierbench_operations",
        "Operations by workload, phase, operation and outcome (ok, error)",
        None,
        MetricType::Counter,
    )?;
    for (p, f) in phases.iter().zip(figures) {
        for (op, o) in &f.ops {
            for (outcome, n) in [("ok", o.ok), ("error", o.errors)] {
                let labels = with(phase_labels(p), &[("op", op), ("outcome", outcome)]);
                ConstCounter::new(n).encode(e.encode_family(&labels)?)?;
            }
        }
    }
    Ok(())
}

fn encode_durations(
    encoder: &mut DescriptorEncoder,
    phases: &[std::sync::Arc<PhaseBoard>],
    figures: &[Figures],
) -> Result<(), std::fmt::Error> {
    let mut e = encoder.encode_descriptor(
        "tierbench_operation_duration_seconds",
        "Latency of completed operations (open loop: from each operation's intended start)",
        None,
        MetricType::Histogram,
    )?;
    for (p, f) in phases.iter().zip(figures) {
        for (op, o) in &f.ops {
            let labels = with(phase_labels(p), &[("op", op)]);
            let buckets: Vec<(f64, u64)> = BUCKETS_S
                .iter()
                .copied()
                .chain([f64::INFINITY])
                .zip(o.buckets.iter().copied())
                .collect();
            e.encode_family(&labels)?
                .encode_histogram::<Labels>(o.sum_s, o.ok, &buckets, None)?;
        }
    }
    Ok(())
}

fn encode_tiers(
    encoder: &mut DescriptorEncoder,
    phases: &[std::sync::Arc<PhaseBoard>],
    figures: &[Figures],
) -> Result<(), std::fmt::Error> {
    let mut e = encoder.encode_descriptor(
        "tierbench_tier_reads",
        "Reads each target tier served (hit) or missed (miss): its hit ratio's inputs",
        None,
        MetricType::Counter,
    )?;
    for (p, f) in phases.iter().zip(figures) {
        for (name, t) in p.tiers.iter().zip(&f.tiers) {
            for (outcome, n) in [("hit", t.hits), ("miss", t.misses)] {
                let labels = with(phase_labels(p), &[("tier", name), ("outcome", outcome)]);
                ConstCounter::new(n).encode(e.encode_family(&labels)?)?;
            }
        }
    }
    let mut e = encoder.encode_descriptor(
        "tierbench_tier_stale_reads",
        "Verified reads each target tier served stale (verify mode, several app instances)",
        None,
        MetricType::Counter,
    )?;
    for (p, f) in phases.iter().zip(figures) {
        for (name, t) in p.tiers.iter().zip(&f.tiers) {
            let labels = with(phase_labels(p), &[("tier", name)]);
            ConstCounter::new(t.stale).encode(e.encode_family(&labels)?)?;
        }
    }
    let mut e = encoder.encode_descriptor(
        "tierbench_tier_errors",
        "Errors of each target tier",
        None,
        MetricType::Counter,
    )?;
    for (p, f) in phases.iter().zip(figures) {
        for (name, t) in p.tiers.iter().zip(&f.tiers) {
            let labels = with(phase_labels(p), &[("tier", name)]);
            ConstCounter::new(t.errors).encode(e.encode_family(&labels)?)?;
        }
    }
    Ok(())
}

/// Coherence across app instances, per workload: invalidations by outcome, the late ones,
/// flushes, failed publishes, and the lag histogram (from a write's completion to another
/// instance dropping its copy).
fn encode_coherence(
    encoder: &mut DescriptorEncoder,
    watched: &[(String, CoherenceCounts)],
) -> Result<(), std::fmt::Error> {
    if watched.is_empty() {
        return Ok(());
    }
    let mut e = encoder.encode_descriptor(
        "tierbench_coherence_invalidations",
        "Invalidations between app instances: sent, delivered (another instance dropped its \
         copy), foreign (another process's write), own (an instance's own write, ignored)",
        None,
        MetricType::Counter,
    )?;
    for (workload, c) in watched {
        for (outcome, n) in [
            ("sent", c.sent),
            ("delivered", c.delivered),
            ("foreign", c.foreign),
            ("own", c.own),
        ] {
            let labels: Labels = vec![("workload", workload.clone()), ("outcome", outcome.into())];
            ConstCounter::new(n).encode(e.encode_family(&labels)?)?;
        }
    }
    for (name, help, pick) in [
        (
            "tierbench_coherence_late",
            "Invalidations delivered later than the scenario's late_after",
            (|c: &CoherenceCounts| c.late) as fn(&CoherenceCounts) -> u64,
        ),
        (
            "tierbench_coherence_flushes",
            "Times an instance flushed its in-process tiers after losing its invalidations",
            |c: &CoherenceCounts| c.flushes,
        ),
        (
            "tierbench_coherence_publish_errors",
            "Invalidations that failed to publish (they reached nobody)",
            |c: &CoherenceCounts| c.publish_errors,
        ),
    ] {
        let mut e = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
        for (workload, c) in watched {
            let labels: Labels = vec![("workload", workload.clone())];
            ConstCounter::new(pick(c)).encode(e.encode_family(&labels)?)?;
        }
    }
    let mut e = encoder.encode_descriptor(
        "tierbench_coherence_lag_seconds",
        "From a write's completion to another instance dropping its copy",
        None,
        MetricType::Histogram,
    )?;
    for (workload, c) in watched {
        let labels: Labels = vec![("workload", workload.clone())];
        let buckets: Vec<(f64, u64)> = BUCKETS_S
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(classic_buckets(&c.lag))
            .collect();
        let sum_s = c.lag.mean() * c.lag.len() as f64 / 1e9;
        e.encode_family(&labels)?
            .encode_histogram::<Labels>(sum_s, c.lag.len(), &buckets, None)?;
    }
    Ok(())
}

/// The board's metrics as OpenMetrics text (ending in `# EOF`).
pub fn openmetrics(board: &std::sync::Arc<LiveBoard>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(BoardCollector(std::sync::Arc::clone(board))));
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// The board's metrics in the classic Prometheus text format (0.0.4): a counter's `# HELP`
/// and `# TYPE` name its `_total` samples; no `# UNIT` or `# EOF`.
pub fn prometheus_text(board: &std::sync::Arc<LiveBoard>) -> String {
    let open = openmetrics(board);
    let mut out = String::with_capacity(open.len());
    let mut help: Option<&str> = None;
    for line in open.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if line.starts_with("# HELP ") {
            help = Some(line);
            continue;
        }
        if let Some(name) = line
            .strip_prefix("# TYPE ")
            .and_then(|rest| rest.strip_suffix(" counter"))
        {
            if let Some(text) = help.take().and_then(|h| h.strip_prefix("# HELP ")) {
                let text = text.strip_prefix(name).unwrap_or(text);
                out.push_str(&format!("# HELP {name}_total{text}\n"));
            }
            out.push_str(&format!("# TYPE {name}_total counter\n"));
            continue;
        }
        if let Some(h) = help.take() {
            out.push_str(h);
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::live::RunInfo;
    use crate::metrics::recorder::Recorder;
    use crate::workload::op::Op;

    #[test]
    fn a_board_reads_as_prometheus_text_and_openmetrics() {
        let board = std::sync::Arc::new(LiveBoard::new(RunInfo {
            scenario: "s\"x".into(),
            sha256: "ab".into(),
            seed: 7,
            shard: String::new(),
        }));
        let phase = board.begin_phase(
            "w",
            vec!["l1".into()],
            "measure",
            crate::metrics::live::PhasePlan {
                workers: 2,
                intended: Some((100.0, 300.0)),
                ..Default::default()
            },
        );
        let mut rec = Recorder::new(1);
        rec.ops.record(Op::Get, 2_000);
        rec.ops.record(Op::Get, 4_000);
        rec.ops.record_error(Op::Set);
        rec.tiers[0].hits = 1;
        rec.tiers[0].misses = 1;
        phase.publish(0, &rec);
        board.set_state(RunState::Measure);
        let text = prometheus_text(&board);
        assert!(
            text.contains("# TYPE tierbench_operations_total counter"),
            "{text}"
        );
        assert!(
            text.contains(
                "tierbench_operations_total{workload=\"w\",phase=\"measure\",op=\"get\",outcome=\"ok\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("op=\"set\",outcome=\"error\"} 1"), "{text}");
        assert!(
            text.contains("tierbench_operation_duration_seconds_count{workload=\"w\",phase=\"measure\",op=\"get\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("_bucket{le=\"+Inf\",workload=\"w\",phase=\"measure\",op=\"get\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("# HELP tierbench_operations_total Operations by"),
            "{text}"
        );
        assert!(
            text.contains("tierbench_run_state{state=\"measure\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "tierbench_intended_rate{workload=\"w\",phase=\"measure\",at=\"end\"} 300"
            ),
            "{text}"
        );
        assert!(
            text.contains("tierbench_workers{workload=\"w\",phase=\"measure\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("scenario=\"s\\\"x\""),
            "labels are escaped: {text}"
        );
        assert!(!text.contains("# EOF"));
        phase.finish(&rec);
        assert!(openmetrics(&board).ends_with("# EOF\n"));
        assert!(
            prometheus_text(&board)
                .contains("tierbench_workers{workload=\"w\",phase=\"measure\"} 0")
        );
    }
}
