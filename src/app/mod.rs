//! The commands behind the CLI; each returns the process exit code.

mod ab;
mod baselines;
mod ci_outputs;
mod finish;
mod instances;
pub mod interrupt;
mod live_metrics;
mod measure;
mod merge;
mod merge_wait;
mod new_scenario;
pub mod output;
pub mod run;
mod run_machinery;
mod server_counts;
mod shards;
mod simulated;
mod sweep;
mod sweep_curves;
mod templates;
mod threshold_sources;

use std::path::Path;

use crate::cli::{
    Command, CompareArgs, OutputArgs, ReportArgs, RunArgs, ScenarioArgs, SchemaArgs, SchemaKind,
    ValidateArgs, VerdictArgs,
};
use crate::exit;
use crate::metrics::result::ResultDocument;
use crate::report::Reporter;
use crate::scenario::overrides::Overrides;
use crate::scenario::plan::Scenario;
use crate::scenario::{self, schema};
use crate::units::{parse_duration, parse_percent};
use crate::verdict::compare::{NoiseFloor, Rule, apply, compare, incompatibility};

/// Runs a command and returns the exit code. Messages go to stderr, reports to stdout or files.
pub fn execute(command: Command) -> u8 {
    match command {
        Command::Run(args) => run_command(&args),
        Command::Validate(args) => validate_command(&args),
        Command::Schema(args) => schema_command(&args),
        Command::Report(args) => report_command(&args),
        Command::Compare(args) => compare_command(&args),
        Command::Ab(args) => ab::command(&args),
        Command::New(args) => new_scenario::command(&args.file, &args.tiers, args.force),
        Command::Merge(args) => merge::command(&args),
        Command::Templates(args) => templates::command(&args),
    }
}

/// Loads a scenario with its profile and overrides (and its sweep's points, every one
/// validated), printing the problems if it is invalid.
fn load(
    path: &Path,
    args: &ScenarioArgs,
) -> Option<(Scenario, Option<scenario::sweep::SweepPlan>)> {
    // clap fills `--profile` from TIERBENCH_PROFILE too: a value that is the variable's is left
    // to `apply`, which reads the variable itself and names it in messages.
    let from_env = std::env::var("TIERBENCH_PROFILE").ok();
    let overrides = Overrides {
        profile: args
            .profile
            .clone()
            .filter(|p| from_env.as_ref() != Some(p)),
        sets: args.sets.clone(),
    };
    match scenario::load_sweep(path, &overrides, &|name| std::env::var(name).ok()) {
        Ok(s) => Some(s),
        Err(d) => {
            eprintln!("{d}");
            None
        }
    }
}

/// The value, or `None` after printing the error (the caller exits with invalid input).
fn or_report<T>(result: Result<T, String>) -> Option<T> {
    result.map_err(|e| eprintln!("error: {e}")).ok()
}

/// The verdict rule from the command line, over the scenario's noise floor (`floor`).
pub(super) fn rule(args: &VerdictArgs, floor: NoiseFloor) -> Result<Rule, String> {
    let noise = parse_percent(&args.noise).map_err(|e| format!("--noise {}: {e}", args.noise))?;
    if !(0.0..1.0).contains(&args.significance) || args.significance == 0.0 {
        return Err(format!(
            "--significance {} must be between 0 and 1",
            args.significance
        ));
    }
    let floor = match &args.noise_floor {
        Some(text) => floor
            .parse_over(text, parse_percent)
            .map_err(|e| format!("--noise-floor {text}: {e}"))?,
        None => floor,
    };
    Ok(Rule {
        noise,
        significance: args.significance,
        allow_inconclusive: args.allow_inconclusive,
        fail_on_regression: !args.no_fail_on_regression,
        floor,
    })
}

fn run_command(args: &RunArgs) -> u8 {
    let Some((mut scenario, mut sweep)) = load(&args.scenario, &args.scenario_args) else {
        return exit::INVALID_INPUT;
    };
    if args.simulate && !simulate_everything(&args.scenario, &mut scenario, sweep.as_mut()) {
        return exit::INVALID_INPUT;
    }
    if sweep.is_some() && (args.record_trace.is_some() || args.shard.is_some() || args.until_ready)
    {
        eprintln!(
            "error: a sweep runs many scenarios: --record-trace, --shard and --until-ready \
             apply to one (remove `sweep:` or the option)"
        );
        return exit::INVALID_INPUT;
    }
    let start_at = shards::prepare(args, &mut scenario, &|name| std::env::var(name).ok());
    let Some(start_at) = or_report(start_at) else {
        return exit::INVALID_INPUT;
    };
    let Some((mut reporter, specs)) = prepare_output(&args.output) else {
        return exit::INVALID_INPUT;
    };
    if let Err(e) = output::check_destinations(&specs) {
        eprintln!("error: {e}");
        return exit::INVALID_INPUT;
    }
    let Some(rule) = or_report(rule(&args.verdict, scenario.noise_floor)) else {
        return exit::INVALID_INPUT;
    };
    if let Some(name) = &args.save_baseline
        && or_report(baselines::check_name(name).map_err(|e| format!("--save-baseline: {e}")))
            .is_none()
    {
        return exit::INVALID_INPUT;
    }
    let timeout = args.timeout.as_deref().map(parse_duration).transpose();
    let Some(timeout) = or_report(timeout.map_err(|e| format!("--timeout: {e}"))) else {
        return exit::INVALID_INPUT;
    };
    let Some((baseline, history)) = baseline_and_history(args) else {
        return exit::INVALID_INPUT;
    };
    let (threads, threads_note) = run_machinery::threads(args.threads, &scenario);
    let Some(runtime) = run_machinery::runtime(threads) else {
        return exit::RUNTIME_FAILURE;
    };
    let Some(progress) = run_machinery::progress(args) else {
        return exit::INVALID_INPUT;
    };
    let Some(live) = or_report(live_metrics::start(args, &scenario)) else {
        return exit::INVALID_INPUT;
    };
    let margin = args.ready_margin.as_deref().map(parse_duration).transpose();
    let Some(margin) = or_report(margin.map_err(|e| format!("--ready-margin: {e}"))) else {
        return exit::INVALID_INPUT;
    };
    let probe = args.until_ready.then(shards::ReadyProbe::start);
    let options = run::RunOptions {
        record: args.record_trace.as_deref(),
        baseline,
        history,
        rule,
        timeout,
        start_at,
        probe: probe.as_ref(),
    };
    let mut outcome = match &sweep {
        Some(plan) => runtime.block_on(sweep::run_sweep(
            &scenario,
            plan,
            &specs,
            &progress,
            &options,
            !args.quiet,
        )),
        None => runtime.block_on(run::run_with(&scenario, &specs, &progress, &options)),
    };
    if let Some(probe) = &probe {
        let margin = margin.unwrap_or(std::time::Duration::from_secs(60));
        return shards::report_ready(probe, margin, &outcome);
    }
    threshold_sources::fill(&scenario, &mut outcome.document);
    outcome.document.notes.extend(threads_note);
    let code = conclude(args, &mut reporter, &specs, &outcome);
    if let Some(live) = live {
        live.end(&outcome, &reporter);
    }
    code
}

/// A baseline document and the name (or path) it was given by.
type NamedBaseline = (ResultDocument, String);

/// `--baseline`: the document it names (a file, or a saved name's latest run) and, for a saved
/// name, its history (every saved run that reads; a damaged one is skipped). `None` after
/// printing why it cannot be read.
fn baseline_and_history(args: &RunArgs) -> Option<(Option<NamedBaseline>, Vec<ResultDocument>)> {
    let baseline = args
        .baseline
        .as_deref()
        .map(|b| baselines::resolve(b).and_then(|path| read_results(&path)))
        .transpose();
    let baseline = or_report(baseline.map_err(|e| format!("--baseline: {e}")))?;
    let history: Vec<ResultDocument> = args
        .baseline
        .as_deref()
        .filter(|b| baselines::check_name(b).is_ok() && !Path::new(b).is_file())
        .map(|name| {
            baselines::history(name)
                .iter()
                .filter_map(|p| read_results(p).ok())
                .collect()
        })
        .unwrap_or_default();
    let named = baseline.map(|b| (b, args.baseline.clone().unwrap_or_default()));
    Some((named, history))
}

/// After the run: what failed, the reports, the verdict line, the baseline saved; the exit code.
fn conclude(
    args: &RunArgs,
    reporter: &mut Reporter,
    specs: &[output::ReportSpec],
    outcome: &run::RunOutcome,
) -> u8 {
    if let Some(failure) = &outcome.failure {
        eprintln!("error: {failure}");
    }
    if let Some(c) = &outcome.document.comparison {
        eprintln!("compared with {}: {}", c.baseline, c.summary);
    }
    if let Err(e) = output::write_reports(reporter, specs, &outcome.document) {
        eprintln!("error: {e}");
        return outcome.code.max(exit::INVALID_INPUT);
    }
    if !output::prints_to_stdout(specs)
        && let Some(line) = output::verdict_line(reporter, &outcome.document)
    {
        eprintln!("{line}");
    }
    if outcome.code == exit::REGRESSION {
        eprintln!("{}", verdict_message(&outcome.document.summary));
    }
    if let Some(name) = &args.save_baseline {
        let summary = &outcome.document.summary;
        if summary.interrupted.is_some() || summary.failure.is_some() {
            eprintln!("baseline `{name}` not saved: the run did not complete");
        } else {
            match baselines::save(name, &outcome.document, args.baseline_keep) {
                Ok(path) => eprintln!("saved baseline `{name}` in {}", path.display()),
                Err(e) => {
                    eprintln!("error: {e}");
                    return outcome.code.max(exit::INVALID_INPUT);
                }
            }
        }
    }
    outcome.code
}

/// `run --simulate`: every workload (of every sweep point) simulated; false after printing why
/// one cannot be.
fn simulate_everything(
    path: &Path,
    scenario: &mut Scenario,
    sweep: Option<&mut scenario::sweep::SweepPlan>,
) -> bool {
    let mut all: Vec<&mut Scenario> = vec![scenario];
    if let Some(plan) = sweep {
        all.extend(plan.points.iter_mut().map(|p| &mut p.scenario));
    }
    let mut problems = Vec::new();
    for s in all {
        simulated::simulate_all(s);
        for p in scenario::sweep::simulation_problems(s) {
            let line = format!("error: --simulate: {}: {}", path.display(), p.message);
            if !problems.contains(&line) {
                problems.push(line);
            }
        }
    }
    for line in &problems {
        eprintln!("{line}");
    }
    problems.is_empty()
}

/// What a failing baseline verdict says on stderr, and what to do about it.
pub(super) fn verdict_message(s: &crate::metrics::result::Summary) -> String {
    let baseline = s.baseline.as_deref().unwrap_or("the baseline");
    let mut parts = Vec::new();
    if s.regressions > 0 {
        parts.push(format!(
            "{} metric{} regressed against {baseline}",
            s.regressions,
            if s.regressions == 1 { "" } else { "s" }
        ));
    }
    if s.inconclusive > 0 {
        parts.push(format!(
            "{} metric{} inconclusive against {baseline} (changed beyond the noise band, too few \
             samples to tell: use `repeat: 5` or a longer run on both sides, or --allow-inconclusive)",
            s.inconclusive,
            if s.inconclusive == 1 { "" } else { "s" }
        ));
    }
    format!("error: exit 5: {}", parts.join("; "))
}

/// The noise floor the current run's scenario set (`noise_floor`, kept in its effective
/// scenario), or the defaults.
fn noise_floor_of(current: &ResultDocument) -> NoiseFloor {
    let file = current.scenario.effective.get("noise_floor").cloned();
    file.and_then(|f| serde_json::from_value::<scenario::model_verdict::NoiseFloorFile>(f).ok())
        .map_or_else(NoiseFloor::default, |f| f.resolve(&mut Vec::new()))
}

fn compare_command(args: &CompareArgs) -> u8 {
    let read = |arg: &str| baselines::resolve(arg).and_then(|path| read_results(&path));
    let (baseline, mut current) = match (read(&args.baseline), read(&args.current)) {
        (Ok(b), Ok(c)) => (b, c),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let Some(rule) = or_report(rule(&args.verdict, noise_floor_of(&current))) else {
        return exit::INVALID_INPUT;
    };
    let Some((mut reporter, mut specs)) = prepare_output(&args.output) else {
        return exit::INVALID_INPUT;
    };
    if args.output.reports.is_empty() && args.output.templates.is_empty() {
        specs = vec![output::ReportSpec::Format {
            format: "comparison".into(),
            path: None,
        }];
    }
    if let Some(problem) = incompatibility(&baseline, &current) {
        eprintln!(
            "error: cannot compare {} (baseline) with {} (current): {problem}; a renamed or \
             missing workload would switch the comparison off",
            args.baseline, args.current
        );
        return exit::INVALID_INPUT;
    }
    let comparison = compare(&baseline, &current, rule);
    if comparison.metrics.is_empty() {
        eprintln!(
            "error: {} and {} have no metric in common",
            args.baseline, args.current
        );
        return exit::INVALID_INPUT;
    }
    let fails = apply(
        &mut current.summary,
        &comparison,
        &args.baseline.clone(),
        rule,
    );
    current.comparison = Some(comparison);
    if let Err(e) = output::write_reports(&mut reporter, &specs, &current) {
        eprintln!("error: {e}");
        return exit::INVALID_INPUT;
    }
    if fails {
        eprintln!("{}", verdict_message(&current.summary));
        exit::REGRESSION
    } else {
        exit::OK
    }
}

/// Builds the reporter and parses the report options (printing any error).
pub(super) fn prepare_output(args: &OutputArgs) -> Option<(Reporter, Vec<output::ReportSpec>)> {
    let specs = match output::parse_outputs(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return None;
        }
    };
    match Reporter::new(args.templates_dir.as_deref()) {
        Ok(r) => Some((r, specs)),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

fn validate_command(args: &ValidateArgs) -> u8 {
    let mut code = exit::OK;
    for file in &args.files {
        match load(file, &args.scenario_args).ok_or(()) {
            Ok((s, _)) => {
                if args.print {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&s.effective).unwrap_or_default()
                    );
                } else {
                    let plural = |n: usize, one: &str| {
                        if n == 1 {
                            format!("1 {one}")
                        } else {
                            format!("{n} {one}s")
                        }
                    };
                    eprintln!(
                        "{}: ok ({}, {})",
                        file.display(),
                        plural(s.tiers.len(), "tier"),
                        plural(s.workloads.len(), "workload")
                    );
                }
            }
            Err(()) => code = exit::INVALID_INPUT,
        }
    }
    code
}

fn schema_command(args: &SchemaArgs) -> u8 {
    let schema = match args.which {
        SchemaKind::Scenario => schema::scenario_schema(),
        SchemaKind::Results => schema::results_schema(),
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&schema).unwrap_or_default()
    );
    exit::OK
}

fn report_command(args: &ReportArgs) -> u8 {
    let document = match read_results(&args.results) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let Some((mut reporter, specs)) = prepare_output(&args.output) else {
        return exit::INVALID_INPUT;
    };
    match output::write_reports(&mut reporter, &specs, &document) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            exit::INVALID_INPUT
        }
    }
}

/// Reads a result document, with the line and column of any JSON error.
pub fn read_results(path: &Path) -> Result<ResultDocument, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a tierbench result document: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}
