//! What a run command runs on: the async runtime (`--threads`) and the progress display
//! (`-q`, `--progress-interval`), each read from the command line with a clear error.

use std::time::Duration;

use crate::cli::RunArgs;
use crate::engine::progress::Progress;
use crate::units::parse_duration;

/// The async runtime for `--threads`. One thread: a current-thread runtime (everything on the
/// main thread, no parking and waking of a second one); more: the multi-thread runtime with
/// that many workers. `None` after printing why it cannot start.
pub(super) fn runtime(threads: Option<u16>) -> Option<tokio::runtime::Runtime> {
    let mut builder = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    if let Some(threads) = threads.filter(|&t| t > 1) {
        builder.worker_threads(usize::from(threads));
    }
    builder
        .enable_all()
        .build()
        .inspect_err(|e| eprintln!("error: cannot start the async runtime: {e}"))
        .ok()
}

/// The progress display: bars on a terminal, a line every `--progress-interval` otherwise,
/// nothing with `-q`. `None` after printing why the interval is wrong.
pub(super) fn progress(args: &RunArgs) -> Option<Progress> {
    let interval = match args.progress_interval.as_deref().map(parse_duration) {
        None => Duration::from_secs(5),
        Some(Ok(d)) if !d.is_zero() => d,
        Some(Ok(_)) => {
            eprintln!("error: --progress-interval must be longer than 0 s");
            return None;
        }
        Some(Err(e)) => {
            eprintln!("error: --progress-interval: {e}");
            return None;
        }
    };
    Some(if args.quiet {
        Progress::hidden()
    } else {
        Progress::auto(interval)
    })
}
