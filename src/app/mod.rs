//! The commands behind the CLI; each returns the process exit code.

pub mod output;
pub mod run;

use std::path::Path;

use crate::cli::{Command, OutputArgs, ReportArgs, RunArgs, SchemaArgs, SchemaKind, ValidateArgs};
use crate::engine::progress::Progress;
use crate::exit;
use crate::metrics::result::ResultDocument;
use crate::report::Reporter;
use crate::scenario::{self, schema};

/// Runs a command and returns the exit code. Messages go to stderr, reports to stdout or files.
pub fn execute(command: Command) -> u8 {
    match command {
        Command::Run(args) => run_command(&args),
        Command::Validate(args) => validate_command(&args),
        Command::Schema(args) => schema_command(&args),
        Command::Report(args) => report_command(&args),
    }
}

fn run_command(args: &RunArgs) -> u8 {
    let scenario = match scenario::load(&args.scenario) {
        Ok(s) => s,
        Err(d) => {
            eprintln!("{d}");
            return exit::INVALID_INPUT;
        }
    };
    let Some((mut reporter, specs)) = prepare_output(&args.output) else {
        return exit::INVALID_INPUT;
    };
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
    let progress = if args.no_progress {
        Progress::hidden()
    } else {
        Progress::auto()
    };
    let outcome = runtime.block_on(run::run_with(
        &scenario,
        &specs,
        &progress,
        args.record_trace.as_deref(),
    ));
    if let Some(failure) = &outcome.failure {
        eprintln!("error: {failure}");
    }
    if let Err(e) = output::write_reports(&mut reporter, &specs, &outcome.document) {
        eprintln!("error: {e}");
        return outcome.code.max(exit::INVALID_INPUT);
    }
    outcome.code
}

/// Builds the reporter and parses the report options (printing any error).
fn prepare_output(args: &OutputArgs) -> Option<(Reporter, Vec<output::ReportSpec>)> {
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
        match scenario::load(file) {
            Ok(s) => {
                if args.print {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&s.effective).unwrap_or_default()
                    );
                } else {
                    eprintln!(
                        "{}: ok ({} tiers, {} workloads)",
                        file.display(),
                        s.tiers.len(),
                        s.workloads.len()
                    );
                }
            }
            Err(d) => {
                eprintln!("{d}");
                code = exit::INVALID_INPUT;
            }
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
