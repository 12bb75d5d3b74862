//! `tierbench ab BASE CANDIDATE`: an interleaved A/B experiment in one job. The two scenarios
//! run in rounds, each round both in an order drawn at random, each run a whole `run` from the
//! same tier state (its
//! preload repeated, its keys removed at the end), and the candidate is judged against the base
//! on the paired per-round ratios (`verdict::compare_paired`): the machine's drift and a noisy
//! neighbour touch both runs of a round, and cancel. The recommended CI recipe when both
//! variants can run: two configurations, two engines, two server versions.

use std::path::Path;

use super::output;
use super::run;
use crate::cli::AbArgs;
use crate::engine::progress::Progress;
use crate::exit;
use crate::metrics::result::ResultDocument;
use crate::scenario::plan::Scenario;
use crate::verdict::compare::{apply, incompatibility};
use crate::verdict::compare_paired::compare_paired;

/// Runs the experiment and reports it; the exit code as `compare`'s (0, 5, 2), or a run's own
/// failure (3, 4, 130, 143).
pub(super) fn command(args: &AbArgs) -> u8 {
    // The paired ratios carry the variance between rounds: no floor beyond the band.
    let Some(rule) = super::rule(&args.verdict, Default::default())
        .map_err(|e| eprintln!("error: {e}"))
        .ok()
    else {
        return exit::INVALID_INPUT;
    };
    if args.rounds < 2 {
        eprintln!(
            "error: --rounds {}: at least 2 rounds are needed for a paired test",
            args.rounds
        );
        return exit::INVALID_INPUT;
    }
    let (Some(base), Some(candidate)) = (load(&args.base), load(&args.candidate)) else {
        return exit::INVALID_INPUT;
    };
    let Some((mut reporter, mut specs)) = super::prepare_output(&args.output) else {
        return exit::INVALID_INPUT;
    };
    if let Err(e) = output::check_destinations(&specs) {
        eprintln!("error: {e}");
        return exit::INVALID_INPUT;
    }
    if args.output.reports.is_empty() && args.output.templates.is_empty() {
        specs = vec![output::ReportSpec::Format {
            format: "comparison".into(),
            path: None,
        }];
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::RUNTIME_FAILURE;
        }
    };
    let (mut a, mut b): (Vec<ResultDocument>, Vec<ResultDocument>) = (Vec::new(), Vec::new());
    for round in 0..args.rounds {
        // The order of each round is drawn at random: a fixed pattern (ABBA) can fall in step
        // with a neighbour's own period and put one side in its busy phase every time (seen
        // with a CPU hog switching every 1.5 s: 4 of 10 A/A experiments failed).
        let a_first = rand::random::<bool>();
        for is_a in [a_first, !a_first] {
            let scenario = if is_a { &base } else { &candidate };
            let progress = if args.quiet {
                Progress::hidden()
            } else {
                Progress::auto(std::time::Duration::from_secs(5))
            };
            let outcome = runtime.block_on(run::run(scenario, &[], &progress));
            if !matches!(outcome.code, exit::OK | exit::THRESHOLD_FAILED) {
                let what = outcome.failure.unwrap_or_else(|| "the run failed".into());
                eprintln!(
                    "error: round {} of {}, {}: {what}",
                    round + 1,
                    args.rounds,
                    if is_a { "base" } else { "candidate" }
                );
                return outcome.code;
            }
            if is_a {
                a.push(outcome.document)
            } else {
                b.push(outcome.document)
            }
        }
        if !args.quiet {
            eprintln!(
                "round {} of {} done ({})",
                round + 1,
                args.rounds,
                if a_first { "A B" } else { "B A" }
            );
        }
    }
    judge_and_report(args, &a, b, rule, &mut reporter, &specs)
}

/// The paired comparison written into the last candidate run's document, reported; the code.
fn judge_and_report(
    args: &AbArgs,
    a: &[ResultDocument],
    mut b: Vec<ResultDocument>,
    rule: crate::verdict::compare::Rule,
    reporter: &mut crate::report::Reporter,
    specs: &[output::ReportSpec],
) -> u8 {
    let (Some(first_a), Some(first_b)) = (a.first(), b.first()) else {
        return exit::INVALID_INPUT;
    };
    if let Some(problem) = incompatibility(first_a, first_b) {
        eprintln!(
            "error: cannot compare {} (base) with {} (candidate): {problem}",
            args.base.display(),
            args.candidate.display()
        );
        return exit::INVALID_INPUT;
    }
    let comparison = compare_paired(a, &b, rule);
    if comparison.metrics.is_empty() {
        eprintln!("error: the two scenarios have no metric in common");
        return exit::INVALID_INPUT;
    }
    let Some(mut current) = b.pop() else {
        return exit::INVALID_INPUT;
    };
    let name = args.base.display().to_string();
    let fails = apply(&mut current.summary, &comparison, &name, rule);
    current.comparison = Some(comparison);
    if let Err(e) = output::write_reports(reporter, specs, &current) {
        eprintln!("error: {e}");
        return exit::INVALID_INPUT;
    }
    if fails {
        eprintln!("{}", super::verdict_message(&current.summary));
        exit::REGRESSION
    } else {
        exit::OK
    }
}

fn load(path: &Path) -> Option<Scenario> {
    crate::scenario::load(path)
        .map_err(|d| eprintln!("{d}"))
        .ok()
}
