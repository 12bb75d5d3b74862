//! Reading the shards' documents for `tierbench merge`, and `--wait`: a merge started together
//! with its shards (on Kubernetes, the merge Job applied with the shards' Job) waits until every
//! shard's document is there and finished, instead of being applied by hand afterwards.
//!
//! Why "finished" and not "there": a run rewrites its JSON document after each workload, so a
//! shard's file exists long before the shard is done. Those documents say `"in_progress": true`;
//! the last one a run writes does not. A merge never adds a document still in progress: without
//! `--wait` it refuses it, with `--wait` it waits for it, and after the wait it names each shard
//! it was still missing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::metrics::result::ResultDocument;

/// How often a waiting merge looks at the files again.
const POLL: Duration = Duration::from_millis(500);

/// Why one shard's document cannot be merged yet.
enum NotYet {
    /// No file (yet).
    Missing,
    /// A run's document written before its last workload ended.
    InProgress,
    /// A document of another sharded run (its start, if it has one).
    OtherRun(Option<String>),
    /// The file does not read as a result document (or a log holding one).
    Unreadable(String),
}

/// Reads every file with `read`; with `wait`, looks again until each is there and finished, for
/// at most that long. Err: which files are still missing, in progress or unreadable, and what to do.
/// With `run` (the shards' start, as they were given it), a document of another run counts as
/// not there yet.
pub(super) fn read_finished(
    files: &[PathBuf],
    wait: Option<Duration>,
    run: Option<&str>,
    read: impl Fn(&Path) -> Result<ResultDocument, String>,
) -> Result<Vec<ResultDocument>, String> {
    let deadline = wait.map(|w| Instant::now() + w);
    let mut docs: Vec<Option<ResultDocument>> = files.iter().map(|_| None).collect();
    let mut announced = false;
    loop {
        let mut pending = Vec::new();
        for (file, slot) in files.iter().zip(docs.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            match look(file, run, &read) {
                Ok(doc) => {
                    if announced {
                        eprintln!("tierbench: {} is finished", file.display());
                    }
                    *slot = Some(doc);
                }
                Err(why) => pending.push((file, why)),
            }
        }
        if pending.is_empty() {
            return Ok(docs.into_iter().flatten().collect());
        }
        let waiting = deadline.is_some_and(|d| Instant::now() < d);
        if !waiting {
            return Err(refusal(&pending, wait, run));
        }
        if !announced {
            eprintln!(
                "tierbench: waiting for {} of {} shard documents to be finished (--wait {:?})",
                pending.len(),
                files.len(),
                wait.unwrap_or_default()
            );
            announced = true;
        }
        std::thread::sleep(POLL);
    }
}

fn look(
    file: &Path,
    run: Option<&str>,
    read: &impl Fn(&Path) -> Result<ResultDocument, String>,
) -> Result<ResultDocument, NotYet> {
    if !file.exists() {
        return Err(NotYet::Missing);
    }
    let doc = read(file).map_err(NotYet::Unreadable)?;
    let start = doc.shard.as_ref().and_then(|s| s.start_at.as_deref());
    if let Some(run) = run
        && start.map(str::trim) != Some(run.trim())
    {
        return Err(NotYet::OtherRun(start.map(str::to_string)));
    }
    if doc.in_progress {
        return Err(NotYet::InProgress);
    }
    Ok(doc)
}

/// The error naming every file that could not be merged, and the hint.
fn refusal(pending: &[(&PathBuf, NotYet)], wait: Option<Duration>, run: Option<&str>) -> String {
    let lines: Vec<String> = pending
        .iter()
        .map(|(file, why)| match why {
            NotYet::Missing => format!("{}: no such file", file.display()),
            NotYet::InProgress => format!(
                "{}: the shard's run has not finished (its document is rewritten after each \
                 workload and says \"in_progress\": true)",
                file.display()
            ),
            NotYet::OtherRun(start) => format!(
                "{}: a document of another run (started {}, not {}): left from an earlier run?",
                file.display(),
                start.as_deref().unwrap_or("without --start-at"),
                run.unwrap_or_default()
            ),
            NotYet::Unreadable(why) => why.clone(),
        })
        .collect();
    let hint = match wait {
        Some(w) => format!(
            "waited {w:?}: a shard that died before its last workload leaves its document in \
             progress; run that shard again, or wait longer (--wait)"
        ),
        None => "merge when every shard has finished, or let merge wait for them: \
                 `--wait 30m`"
            .to_string(),
    };
    format!("cannot merge yet:\n  {}\nhint: {hint}", lines.join("\n  "))
}
