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

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario: set up its tiers, generate the load, check thresholds, write reports.
    Run(RunArgs),
    /// Validate scenario files and report every problem (exit 2 if any).
    Validate(ValidateArgs),
    /// Print a generated JSON Schema.
    Schema(SchemaArgs),
    /// Render reports from a saved result document (`--report json=FILE` of an earlier run).
    Report(ReportArgs),
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
    /// Do not draw progress bars (they are only drawn on a terminal, and never when CI is set).
    #[arg(long)]
    pub no_progress: bool,
}

/// Report options shared by `run` and `report`.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// A report to write: FORMAT[=PATH], FORMAT one of text, markdown, json; without PATH it goes to
    /// stdout. May repeat. Without any, the text report goes to stdout.
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
    /// Print the effective scenario (variables expanded) as JSON.
    #[arg(long)]
    pub print: bool,
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
