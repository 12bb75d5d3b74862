//! The `tierbench` binary: parse the command line, run the command, exit with its code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match tierbench::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                tierbench::exit::INVALID_INPUT
            } else {
                tierbench::exit::OK
            });
        }
    };
    ExitCode::from(tierbench::app::execute(cli.command))
}
