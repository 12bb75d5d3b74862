//! The command line (clap derive): `run`, `validate`, `schema`, `report`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Declarative cache-workload benchmarks: scenario files in, HDR-measured results, thresholds
/// and templated reports out.
#[derive(Debug, Parser)]
#[command(name = "tierbench", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The exit codes, shown by `run --help` and `compare --help` (and documented in the README).
/// What latency means in every report: `tierbench run --help` and the result document's
/// `latency_method` say it in full, the text report in one line.
pub const LATENCY_METHOD: &str = "closed loop: each worker issues its next operation when the previous one \
completes, and latency is the service time of the call. Open loop (a `rate`): operations are due at scheduled \
times, and latency counts from each operation's intended start, so a stall shows in every operation it delayed \
(coordinated omission corrected, as in wrk2); service time from the actual start is reported apart. Calls are \
timed with a TSC clock (quanta) outside key and value selection, recorded in per-worker HDR histograms \
(3 significant digits) and merged. Preload and warmup are not recorded.";

/// `tierbench run --help`'s closing text: how latency is measured, then the exit codes.
fn run_help() -> String {
    format!("Latency: {LATENCY_METHOD}\n\n{EXIT_CODES}")
}

const EXIT_CODES: &str = "Exit codes:
  0    every threshold held (and, with a baseline, nothing regressed or was inconclusive)
  1    a threshold failed (also when something regressed as well)
  2    invalid input: scenario, template, command line; `compare` (or --baseline) of documents
       with workloads on one side only or no metric in common
  3    a tier could not be reached or was lost, or the run failed at run time
  4    the run hit its timeout (the results cover what ran before it)
  5    with a baseline: a metric regressed, or a change beyond the noise band could not be judged
       for lack of samples (inconclusive; --allow-inconclusive accepts it)
  130  interrupted by SIGINT (Ctrl-C); 143: by SIGTERM";

/// Subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process: boxing buys nothing
pub enum Command {
    /// Run a scenario: set up its tiers, generate the load, check thresholds, write reports.
    #[command(after_help = run_help())]
    Run(RunArgs),
    /// Validate scenario files and report every problem (exit 2 if any).
    Validate(ValidateArgs),
    /// Print a generated JSON Schema.
    Schema(SchemaArgs),
    /// Render reports from a saved result document (`--report json=FILE` of an earlier run).
    Report(ReportArgs),
    /// Write a commented starter scenario (and the schema for editors beside it).
    New(NewArgs),
    /// Merge the result documents of a sharded run (`run --shard I/N`) into one, exactly: HDR
    /// histograms added, counters summed, thresholds judged on the whole.
    #[command(after_help = EXIT_CODES)]
    Merge(MergeArgs),
    /// Compare two result documents: each metric's change, its confidence interval and a verdict.
    /// Exit 5 when something regressed or is inconclusive, 2 when the documents share no workload.
    #[command(after_help = EXIT_CODES)]
    Compare(CompareArgs),
    /// Interleaved A/B: run BASE and CANDIDATE in rounds (both each round, in a random order), each
    /// from the same tier state, and judge the paired per-round ratios (drift and neighbours
    /// cancel). Exit 5 when the candidate regressed or is inconclusive, 2 when the scenarios
    /// share no workload.
    #[command(after_help = EXIT_CODES)]
    Ab(AbArgs),
    /// List or export the built-in report templates (to copy and change them).
    #[command(subcommand)]
    Templates(TemplatesCommand),
}

/// `tierbench templates`.
#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Each built-in template: file name, report format and what it is for.
    List,
    /// Write every built-in template into DIR (created if missing), to edit and use with
    /// `--templates DIR`. An existing file is left alone unless --force.
    Export {
        /// The folder to write into.
        dir: PathBuf,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
    },
}

/// How a scenario is adjusted before it runs (precedence: file < profile < environment < --set).
#[derive(Debug, Args, Default)]
pub struct ScenarioArgs {
    /// Profiles, applied in order (a later one wins): each the scenario's own `profiles.NAME`,
    /// or a built-in one (development, testing, ci, production), e.g. `--profile strict,ci`.
    #[arg(long, env = "TIERBENCH_PROFILE", value_name = "NAME[,NAME...]")]
    pub profile: Option<String>,
    /// Override a field: PATH=VALUE, e.g. `workloads.reads.ops=5000`, `tiers.l2.url=redis://...`.
    /// May repeat; validated like the file.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
}

/// The verdict rule.
#[derive(Debug, Args)]
pub struct VerdictArgs {
    /// Half-width of the noise band: changes whose interval reaches inside it are "within noise".
    #[arg(long, default_value = "2%", value_name = "PERCENT")]
    pub noise: String,
    /// Significance level of Welch's test.
    #[arg(long, default_value_t = 0.05, value_name = "P")]
    pub significance: f64,
    /// The smallest band per metric when each side is one run (its windows hold none of the
    /// variance between runs): `throughput=5%,mean=5%,p50=5%,p99=10%,hit_rate=2%` (the
    /// defaults; name only the ones to change).
    #[arg(long, value_name = "METRIC=PERCENT,...")]
    pub noise_floor: Option<String>,
    /// Exit 0 even when a metric regressed.
    #[arg(long)]
    pub no_fail_on_regression: bool,
    /// Accept "inconclusive" metrics (a change beyond the noise band with too few samples to
    /// test it); by default they fail like a regression (exit 5).
    #[arg(long)]
    pub allow_inconclusive: bool,
}

/// `tierbench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline: a result document's path or a saved baseline's name.
    pub baseline: String,
    /// The current result document: a path or a saved baseline's name.
    pub current: String,
    /// The rule.
    #[command(flatten)]
    pub verdict: VerdictArgs,
    /// Where reports go (the comparison is part of the current document they render).
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `tierbench ab`.
#[derive(Debug, Args)]
pub struct AbArgs {
    /// The base scenario (A).
    pub base: PathBuf,
    /// The candidate scenario (B): the same workloads, with what is being tried changed.
    pub candidate: PathBuf,
    /// Rounds: each runs A and B once, in a random order.
    #[arg(long, default_value_t = 6, value_name = "N")]
    pub rounds: usize,
    /// No progress output.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// The rule.
    #[command(flatten)]
    pub verdict: VerdictArgs,
    /// Where reports go (they render the last candidate run, with the comparison).
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `tierbench run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (.yaml, .yml or .toml).
    pub scenario: PathBuf,
    /// Where reports go.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Write every operation issued (warmup and measured phases; not preload) to FILE as a CSV
    /// trace (`key,op,size,worker,workload`) that a workload's `trace:` replays. With a `seed`,
    /// two runs record the same sequence per worker. Recording costs a formatted line per operation
    /// outside the timed interval.
    #[arg(long, value_name = "FILE")]
    pub record_trace: Option<PathBuf>,
    /// Simulate every workload: replay its requests through the in-process engines and count
    /// hits and misses, timing nothing (as `simulate: true` on each workload; tiers must be
    /// `kind: memory`, and latency or throughput thresholds are refused).
    #[arg(long)]
    pub simulate: bool,
    /// Profile and overrides.
    #[command(flatten)]
    pub scenario_args: ScenarioArgs,
    /// Compare with an earlier run: a result document's path, or a name saved with
    /// --save-baseline. A regression (or an inconclusive change) sets exit code 5 when the
    /// thresholds held.
    #[arg(long, value_name = "RESULTS.json|NAME")]
    pub baseline: Option<String>,
    /// Save this run's result document as baseline NAME (in .tierbench/baselines/, or
    /// $TIERBENCH_BASELINE_DIR), for a later `--baseline NAME`. Not saved when the run was
    /// interrupted or failed.
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// How many of the last runs saved under a baseline name are kept for `--baseline NAME`,
    /// which judges a run against their spread once 3 or more are saved.
    #[arg(
        long,
        env = "TIERBENCH_BASELINE_KEEP",
        default_value_t = 10,
        value_name = "N"
    )]
    pub baseline_keep: usize,
    /// The verdict rule for --baseline.
    #[command(flatten)]
    pub verdict: VerdictArgs,
    /// Run shard I of N (0-based): every workload's operations, rates and concurrency divided by
    /// N, seeds derived from the shard, preload over the shard's key range. Without it, a
    /// Kubernetes Indexed Job's JOB_COMPLETION_INDEX with TIERBENCH_SHARDS=N set it. Merge the
    /// shards' JSON with `tierbench merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Wait until this time (RFC 3339, e.g. 2026-11-28T10:00:00Z) after setting the tiers up and
    /// before the first workload, so that every shard measures the same window. Required with
    /// --shard when N > 1.
    #[arg(long, env = "TIERBENCH_START_AT", value_name = "TIME")]
    pub start_at: Option<String>,
    /// Find the common start a sharded run needs: prepare as this shard would (connect, claim,
    /// preload and warm up the first measured workload), then stop before measuring, clean up,
    /// and print `TIERBENCH_START_AT=TIME` on stdout: now, plus twice the time it took to be
    /// ready, plus --ready-margin (for deploy/kubernetes/start.env). Use the shard count you
    /// will run with (`--shard 0/N`: shard 0 preloads the largest share); --start-at is ignored.
    #[arg(long)]
    pub until_ready: bool,
    /// With --until-ready: what the start allows besides setting up: scheduling the shards,
    /// pulling the image, a slower machine. Default 60s.
    #[arg(long, value_name = "DURATION", requires = "until_ready")]
    pub ready_margin: Option<String>,
    /// Stop after this long (`10m`), write the results so far and exit 4; replaces `timeout:`.
    #[arg(long, env = "TIERBENCH_TIMEOUT", value_name = "DURATION")]
    pub timeout: Option<String>,
    /// No progress output. Progress is a bar per phase on a terminal; in a log (stderr not a
    /// terminal, or `CI` set) a plain status line every --progress-interval.
    #[arg(long, short = 'q', visible_alias = "no-progress")]
    pub quiet: bool,
    /// How often a log gets a status line: elapsed, operations, ops/s since the last line, p99
    /// (the slowest worker's last complete second) and the first tier's hit rate. Default 5s.
    #[arg(long, env = "TIERBENCH_PROGRESS_INTERVAL", value_name = "DURATION")]
    pub progress_interval: Option<String>,
    /// Threads that run the load (the async runtime's workers; memtier's `-t`). Default: one
    /// per core, one fewer when the Redis or memcached servers under test are all on this
    /// machine (loopback, `localhost` or a unix socket), pipelined (`pipeline` above 1), with
    /// at most 500 workers; the report says so. Left a core, the server answers sooner and the
    /// pipelined client's CPU per operation drops. `1` runs everything on one thread (a
    /// current-thread runtime).
    #[arg(long, env = "TIERBENCH_THREADS", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Serve the run's live metrics at http://ADDR/metrics while it runs (Prometheus text
    /// format, OpenMetrics when asked): operations by workload, phase, op and outcome, latency
    /// histograms, tier hits and misses, workers, the run's state. Workers publish once a
    /// second. E.g. 127.0.0.1:9464.
    #[arg(long, env = "TIERBENCH_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Serve a live page of the run at http://ADDR/ (ops/s, p50/p99 and hit ratio per tier
    /// over time, errors, each phase's progress), updated every second over server-sent events;
    /// it turns into the final HTML report when the run ends. E.g. 127.0.0.1:5665.
    #[arg(long, env = "TIERBENCH_DASHBOARD", value_name = "ADDR")]
    pub dashboard: Option<String>,
    /// Keep serving the final figures (the metrics endpoint, the dashboard's report) this long
    /// after the run (`30s`), so the last scrape sees the totals. Default 0.
    #[arg(long, env = "TIERBENCH_METRICS_LINGER", value_name = "DURATION")]
    pub metrics_linger: Option<String>,
    /// Push the final figures to this Prometheus Pushgateway (`http://host:9091`), grouped by
    /// scenario and shard, for jobs that end before a scrape. A failed push is a warning.
    #[arg(long, env = "TIERBENCH_METRICS_PUSH", value_name = "URL")]
    pub metrics_push: Option<String>,
}

/// Report options shared by `run` and `report`.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// A report to write: FORMAT[=PATH]; without PATH it goes to stdout. May repeat. Without
    /// any, the text report goes to stdout. FORMAT: text, markdown, json, comparison, junit,
    /// github (workflow commands; also appends the Markdown report to $GITHUB_STEP_SUMMARY),
    /// gitlab (PATH a folder or a file prefix: metrics.txt and junit.xml there), badge,
    /// benchmark-action-smaller, benchmark-action-bigger, csv, csv-timeseries, or auto (github
    /// under GitHub Actions, gitlab under GitLab CI, text otherwise); `tierbench templates list`
    /// lists them all.
    #[arg(long = "report", value_name = "FORMAT[=PATH]")]
    pub reports: Vec<String>,
    /// A user template to render: FILE[=PATH] (stdout without PATH). May repeat.
    #[arg(long = "template", value_name = "FILE[=PATH]")]
    pub templates: Vec<String>,
    /// A folder of templates that replace the built-in ones by file name (text.txt.j2, markdown.md.j2).
    #[arg(long = "templates", value_name = "DIR")]
    pub templates_dir: Option<PathBuf>,
}

/// `tierbench validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print the effective scenario as JSON: variables expanded, profiles and overrides applied,
    /// every default filled in.
    #[arg(long)]
    pub print: bool,
    /// Profile and overrides.
    #[command(flatten)]
    pub scenario_args: ScenarioArgs,
}

/// `tierbench schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema.
    #[arg(value_enum, default_value = "scenario")]
    pub which: SchemaKind,
}

/// The schemas tierbench generates.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SchemaKind {
    /// Scenario files.
    Scenario,
    /// The result document.
    Results,
}

/// `tierbench report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A result document written by `tierbench run --report json=FILE`.
    pub results: PathBuf,
    /// Where reports go.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `tierbench new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The scenario file to write (.yaml).
    pub file: PathBuf,
    /// Tier kinds, top first: memory, redis, memcached, sql (comma-separated or repeated). Default:
    /// memory,sql, which needs no server.
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    pub tiers: Vec<String>,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// `tierbench merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' result documents (`run --shard I/N --report json=FILE`), one per shard.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where the merged result document goes.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Wait up to this long (e.g. `30m`) for every file to exist and hold a finished run: a
    /// merge started together with its shards (the merge Job of deploy/kubernetes) waits for
    /// them. Without it, a missing file or a document still in progress is refused.
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,
    /// Merge only documents of the sharded run that starts at TIME (the shards' `--start-at`,
    /// as they were given it): a document of another run, e.g. left on a shared volume by an
    /// earlier one, counts as not there yet.
    #[arg(long, env = "TIERBENCH_START_AT", value_name = "TIME")]
    pub start_at: Option<String>,
    /// After merging, remove the shards' keys and tables: the scenario file they ran (shards
    /// leave their data for each other; this is the one cleanup of a sharded run).
    #[arg(long, value_name = "SCENARIO")]
    pub cleanup: Option<PathBuf>,
    /// Reports of the merged run.
    #[command(flatten)]
    pub reports: OutputArgs,
}
