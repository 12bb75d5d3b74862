//! Semantic checks of the workloads: targets, operation sources, phases and rates, stop
//! conditions and thresholds. Part of `validate`; every problem is collected, none stops the rest.

use std::collections::HashSet;

use super::command_checks::{Commands, check_command_workload, resolve_mix, resolve_sequence};
use super::diagnostic::Problem;
use super::model::{ScenarioFile, TargetFile, TierFile, WorkloadFile};
use super::plan::{Phase, Rate, Stop, Workload};
use crate::units::parse_rate;
use crate::verdict::thresholds::{self, Metric, ThresholdContext};

/// The threshold every workload carries unless it states its own `errors` or `error_rate` one:
/// a run whose operations fail does not pass by saying nothing about errors.
pub const DEFAULT_ERROR_THRESHOLD: &str = "error_rate <= 1%";
use crate::workload::op::Op;
use crate::workload::ops::OpSource;

/// Checks every workload and plans the valid ones. `index` is the document's index of each of
/// `file.workloads` (some may have been left out as unreadable).
pub(super) fn check_workloads(
    file: &ScenarioFile,
    index: &[usize],
    dir: &std::path::Path,
    commands: &Commands,
    problems: &mut Vec<Problem>,
) -> Vec<Workload> {
    let mut seen = HashSet::new();
    let tier_names: Vec<&str> = file.tiers.iter().map(TierFile::name).collect();
    let mut out = Vec::new();
    for (k, w) in file.workloads.iter().enumerate() {
        let base = format!("/workloads/{}", index.get(k).copied().unwrap_or(k));
        if !seen.insert(w.name.as_str()) {
            problems.push(
                Problem::new(
                    format!("{base}/name"),
                    format!("workload name `{}` is used twice", w.name),
                )
                .hint("give every workload a unique name"),
            );
        }
        let (target, stacked) = resolve_target(&w.target, &tier_names, &base, problems);
        let pipelined = match (stacked, target.as_slice()) {
            (false, [t]) => match &file.tiers[*t] {
                TierFile::Redis(r) => r.pipeline.unwrap_or(1) > 1,
                TierFile::Memcached(m) => m.pipeline.unwrap_or(1) > 1,
                _ => false,
            },
            _ => false,
        };
        let open_loop = w.rate.is_some() || w.phases.iter().flatten().any(|p| p.rate.is_some());
        if pipelined && (open_loop || w.verify || w.trace.is_some()) {
            problems.push(
                Problem::new(&base, "explicit `pipeline` (Redis, memcached) works with closed-loop workloads only, without `verify` or `trace`")
                    .hint("remove the tier's `pipeline`, or the workload's `rate`/`verify`/`trace`"),
            );
        }
        let mut replay = None;
        let mut notes = Vec::new();
        let source = resolve_ops(w, &base, dir, commands, (&mut replay, &mut notes), problems);
        let batch = super::batch_checks::resolve_batch(w, source.as_ref(), &base, problems);
        let has_batch = batch.is_some();
        super::hash_checks::check_hash_workload(file, w, &target, has_batch, &base, problems);
        let concurrency = w.concurrency.or(file.defaults.concurrency).unwrap_or(1);
        if concurrency == 0 {
            problems.push(Problem::new(
                format!("{base}/concurrency"),
                "concurrency must be at least 1",
            ));
        }
        let phases = resolve_phases(
            file,
            w,
            &base,
            (concurrency.max(1) as usize, replay),
            problems,
        );
        let names: Vec<String> = target.iter().map(|&t| tier_names[t].to_string()).collect();
        let ops: Vec<Op> = source.as_ref().map(OpSource::ops).unwrap_or_default();
        check_command_workload(file, w, &target, stacked, &ops, &base, problems);
        let ctx = ThresholdContext {
            tiers: &names,
            ops: &ops,
            commands: &commands.names,
        };
        let parsed = workload_thresholds(w, &ctx, target.is_empty(), &base, problems);
        if let (Some(phases), Some(ops)) = (phases, source) {
            out.push(Workload {
                notes,
                concurrency: phases.iter().map(|p| p.concurrency).max().unwrap_or(1),
                name: w.name.clone(),
                target,
                preload: w.preload,
                ops,
                stacked,
                write: w.write,
                on_error: w.on_error,
                verify: w.verify,
                simulate: w.simulate,
                warmup: w.warmup.or(file.defaults.warmup).unwrap_or(0),
                phases,
                thresholds: parsed,
                batch,
                commands: commands
                    .checked
                    .clone()
                    .unwrap_or_else(|| Vec::new().into()),
            });
        }
    }
    if file.workloads.is_empty() {
        problems.push(Problem::new("/workloads", "no workloads").hint("add at least one workload"));
    }
    out
}

/// A workload's thresholds, parsed against its tiers and operations, with the implicit
/// `error_rate <= 1%` when it states no errors threshold of its own (fail closed: errors fail a
/// run unless the workload says how many it accepts). With no valid target, thresholds that
/// name a tier are left to be checked once the target is fixed (the target has its problem).
fn workload_thresholds(
    w: &WorkloadFile,
    ctx: &ThresholdContext<'_>,
    no_target: bool,
    base: &str,
    problems: &mut Vec<Problem>,
) -> Vec<thresholds::Threshold> {
    let mut parsed = Vec::new();
    for (j, text) in w.thresholds.iter().enumerate() {
        match thresholds::parse(text, ctx) {
            Ok(t) => parsed.push(t),
            Err(e) if no_target && e.message.contains("is not a tier") => {}
            Err(e) => problems.push(
                Problem::new(
                    format!("{base}/thresholds/{j}"),
                    format!("threshold `{text}`: {}", e.message),
                )
                .hint(e.hint),
            ),
        }
    }
    let states_errors = parsed
        .iter()
        .any(|t| matches!(t.metric, Metric::Errors | Metric::ErrorRate));
    if !states_errors && let Ok(t) = thresholds::parse(DEFAULT_ERROR_THRESHOLD, ctx) {
        parsed.push(t);
    }
    parsed
}

/// The measured phases: the workload's `phases`, or one phase from its `ops`/`duration`/`rate`.
/// `replay`: the records a trace workload replays, when it does.
fn resolve_phases(
    file: &ScenarioFile,
    w: &WorkloadFile,
    base: &str,
    (concurrency, replay): (usize, Option<u64>),
    problems: &mut Vec<Problem>,
) -> Option<Vec<Phase>> {
    let Some(list) = &w.phases else {
        let stop = resolve_stop(file, w, base, replay, problems)?;
        let rate = w
            .rate
            .as_deref()
            .and_then(|r| resolve_rate(r, stop, &format!("{base}/rate"), problems));
        if w.rate.is_some() && rate.is_none() {
            return None;
        }
        return Some(vec![Phase {
            name: "main".into(),
            stop,
            concurrency,
            rate,
        }]);
    };
    if w.ops.is_some() || w.duration.is_some() || w.rate.is_some() {
        problems.push(
            Problem::new(
                base,
                "`phases` replaces the workload's `ops`, `duration` and `rate`",
            )
            .hint("move them into the phases"),
        );
    }
    if list.is_empty() {
        problems.push(Problem::new(format!("{base}/phases"), "no phases"));
        return None;
    }
    let mut out = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let at = format!("{base}/phases/{i}");
        let stop = match (p.ops, p.duration) {
            (Some(n), None) if n > 0 => Stop::Ops(n),
            (None, Some(d)) if !d.0.is_zero() => Stop::Duration(d.0),
            _ => {
                problems.push(
                    Problem::new(
                        &at,
                        "a phase needs exactly one of `ops` (> 0) or `duration` (> 0)",
                    )
                    .hint("e.g. `{ duration: 10s, rate: 5000/s }`"),
                );
                continue;
            }
        };
        let rate = match &p.rate {
            Some(r) => match resolve_rate(r, stop, &format!("{at}/rate"), problems) {
                Some(rate) => Some(rate),
                None => continue,
            },
            None => None,
        };
        if p.concurrency == Some(0) {
            problems.push(Problem::new(
                format!("{at}/concurrency"),
                "concurrency must be at least 1",
            ));
        }
        out.push(Phase {
            name: p.name.clone().unwrap_or_else(|| format!("phase-{}", i + 1)),
            stop,
            concurrency: p.concurrency.map_or(concurrency, |c| c.max(1) as usize),
            rate,
        });
    }
    (out.len() == list.len()).then_some(out)
}

/// `5000/s` or a ramp `1000/s..20000/s` (a ramp needs a duration to ramp over).
fn resolve_rate(
    text: &str,
    stop: Stop,
    pointer: &str,
    problems: &mut Vec<Problem>,
) -> Option<Rate> {
    let parsed = match text.split_once("..") {
        Some((a, b)) => {
            parse_rate(a).and_then(|start| parse_rate(b).map(|end| Rate { start, end }))
        }
        None => parse_rate(text).map(|r| Rate { start: r, end: r }),
    };
    match parsed {
        Ok(rate) if rate.start > 0.0 && rate.end > 0.0 => {
            if rate.start != rate.end && !matches!(stop, Stop::Duration(_)) {
                problems.push(
                    Problem::new(pointer, "a ramping rate needs a `duration` to ramp over")
                        .hint("give the phase `duration:` instead of `ops:`"),
                );
                return None;
            }
            Some(rate)
        }
        Ok(_) => {
            problems.push(Problem::new(pointer, "a rate must be positive"));
            None
        }
        Err(message) => {
            problems.push(
                Problem::new(pointer, message)
                    .expected("a rate (`5000/s`, `20k/s`) or a ramp (`1000/s..20000/s`)"),
            );
            None
        }
    }
}

/// `stack`, a tier name, or a list of tier names → tier indices and whether it is a stack.
fn resolve_target(
    target: &TargetFile,
    tiers: &[&str],
    base: &str,
    problems: &mut Vec<Problem>,
) -> (Vec<usize>, bool) {
    let (names, stacked): (Vec<(String, String)>, bool) = match target {
        TargetFile::One(name) if name == "stack" => return ((0..tiers.len()).collect(), true),
        TargetFile::One(name) => (vec![(format!("{base}/target"), name.clone())], false),
        TargetFile::Many(list) => (
            list.iter()
                .enumerate()
                .map(|(i, n)| (format!("{base}/target/{i}"), n.clone()))
                .collect(),
            true,
        ),
    };
    if names.is_empty() {
        problems.push(Problem::new(
            format!("{base}/target"),
            "the target lists no tier",
        ));
    }
    let mut out = Vec::new();
    for (pointer, name) in names {
        match tiers.iter().position(|&t| t == name) {
            Some(t) if out.contains(&t) => problems.push(
                Problem::new(pointer, format!("tier `{name}` is listed twice"))
                    .hint("list each tier once, top first"),
            ),
            Some(t) => out.push(t),
            None => problems.push(
                Problem::new(pointer, format!("unknown tier `{name}`"))
                    .expected("the name of a tier declared under `tiers`, or `stack`")
                    .hint(format!("declared tiers: {}", tiers.join(", "))),
            ),
        }
    }
    (out, stacked)
}

/// `mix` or `sequence`, exactly one.
fn resolve_ops(
    w: &WorkloadFile,
    base: &str,
    dir: &std::path::Path,
    commands: &Commands,
    (replay, notes): (&mut Option<u64>, &mut Vec<String>),
    problems: &mut Vec<Problem>,
) -> Option<OpSource> {
    if let Some(trace) = &w.trace {
        if w.mix.is_some() || w.sequence.is_some() {
            problems.push(
                Problem::new(base, "`trace` replaces `mix` and `sequence`")
                    .hint("keep one of them"),
            );
            return None;
        }
        if w.verify {
            problems.push(
                Problem::new(
                    format!("{base}/verify"),
                    "verify mode needs generated keys, not a trace",
                )
                .hint("remove `verify` or the trace"),
            );
        }
        let (source, records, skipped) =
            super::trace_checks::resolve_trace(w, trace, base, dir, problems)?;
        *replay = Some(records);
        notes.extend(skipped);
        return Some(source);
    }
    match (&w.mix, &w.sequence) {
        (Some(_), Some(_)) => {
            problems.push(
                Problem::new(base, "both `mix` and `sequence` are set")
                    .hint("a workload issues either a weighted mix or a per-key sequence"),
            );
            None
        }
        (None, None) => {
            problems.push(
                Problem::new(base, "the workload has no `mix`, `sequence` or `trace`")
                    .hint("add e.g. `mix: { get: 90, set: 10 }`, `sequence: [set, get, delete]` or `trace:`"),
            );
            None
        }
        (Some(mix), None) => resolve_mix(mix, commands, base, problems).map(OpSource::Mix),
        (None, Some(seq)) if seq.is_empty() => {
            problems.push(Problem::new(
                format!("{base}/sequence"),
                "the sequence is empty",
            ));
            None
        }
        (None, Some(seq)) => {
            resolve_sequence(seq, commands, base, problems).map(OpSource::Sequence)
        }
    }
}

/// A workload's own `ops`/`duration` replace the defaults'; exactly one must result, or none for
/// a trace workload, which then replays its `replay` records to the end (after its warmup).
fn resolve_stop(
    file: &ScenarioFile,
    w: &WorkloadFile,
    base: &str,
    replay: Option<u64>,
    problems: &mut Vec<Problem>,
) -> Option<Stop> {
    let (ops, duration, place) = if w.ops.is_some() || w.duration.is_some() {
        (w.ops, w.duration, base.to_string())
    } else {
        (
            file.defaults.ops,
            file.defaults.duration,
            "/defaults".to_string(),
        )
    };
    match (ops, duration) {
        (Some(_), Some(_)) => {
            problems.push(
                Problem::new(place, "both `ops` and `duration` are set")
                    .hint("give one: a number of operations or a duration"),
            );
            None
        }
        (Some(0), None) => {
            problems.push(Problem::new(
                format!("{place}/ops"),
                "`ops` must be at least 1",
            ));
            None
        }
        (Some(n), None) => Some(Stop::Ops(n)),
        (None, Some(d)) if d.0.is_zero() => {
            problems.push(Problem::new(
                format!("{place}/duration"),
                "`duration` must be positive",
            ));
            None
        }
        (None, Some(d)) => Some(Stop::Duration(d.0)),
        (None, None) if replay.is_some() => {
            super::trace_checks::to_the_end(file, w, base, replay.unwrap_or(0), problems)
        }
        (None, None) => {
            problems.push(
                Problem::new(base, "the workload has neither `ops` nor `duration`")
                    .hint("set `ops:` or `duration:` on the workload or under `defaults`"),
            );
            None
        }
    }
}
