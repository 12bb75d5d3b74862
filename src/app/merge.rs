//! `tierbench merge`: the shards' documents in, one exact document and its reports out, and the
//! sharded run's one cleanup (`--cleanup SCENARIO`).

use super::merge_wait::read_finished;
use super::output::{self, write_atomic};
use super::{prepare_output, read_results};
use crate::cli::MergeArgs;
use crate::exit;
use crate::metrics::result::ResultDocument;
use crate::verdict::merge::{ShardDocument, merge};

/// A shard's result document: a file `--report json=FILE` wrote, or a shard's saved log
/// (`kubectl logs`, stdout and stderr together) in which `--report json` printed it: the last
/// document in the log that reads. No shared volume is needed to collect the shards' results.
fn read_shard(path: &std::path::Path) -> Result<ResultDocument, String> {
    let strict = read_results(path);
    let Ok(text) = std::fs::read_to_string(path) else {
        return strict;
    };
    if strict.is_ok() {
        return strict;
    }
    let starts = std::iter::once(0)
        .chain(text.match_indices("\n{").map(|(i, _)| i + 1))
        .filter(|&i| text[i..].starts_with('{'));
    let found = starts
        .filter_map(|i| {
            let mut docs = serde_json::Deserializer::from_str(&text[i..]).into_iter();
            docs.next()?.ok()
        })
        .last();
    found.ok_or_else(|| {
        let why = strict.err().unwrap_or_default();
        format!(
            "{why} (nor a log holding one: run each shard with `--report json` to print its \
             document to its log)"
        )
    })
}

/// Runs `tierbench merge`; returns the exit code.
pub fn command(args: &MergeArgs) -> u8 {
    let wait = match args
        .wait
        .as_deref()
        .map(crate::units::parse_duration)
        .transpose()
    {
        Ok(wait) => wait,
        Err(e) => {
            eprintln!("error: --wait: {e} (e.g. --wait 30m)");
            return exit::INVALID_INPUT;
        }
    };
    let docs = match read_finished(&args.files, wait, args.start_at.as_deref(), read_shard) {
        Ok(docs) => docs,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let shards: Vec<ShardDocument> = args
        .files
        .iter()
        .zip(docs)
        .map(|(file, doc)| ShardDocument {
            name: file.display().to_string(),
            doc,
        })
        .collect();
    let count = shards.len();
    let mut merged = match merge(shards) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: cannot merge: {e}");
            return exit::INVALID_INPUT;
        }
    };
    // The one cleanup comes first, so that the merged document says what is left. It is the
    // sharded run's own: with the shards' token, their names are the run's, not leftovers.
    if let Some(start) = merged.shard.as_ref().and_then(|s| s.start_at.as_ref()) {
        let token = super::shards::shards_token(&merged.scenario.sha256, start);
        crate::tier::ownership::marker::share_run_token(token);
    }
    let cleaned = match &args.cleanup {
        None => Ok(()),
        Some(scenario) => cleanup(scenario).inspect(|()| {
            merged
                .notes
                .retain(|n| !n.contains("left for the other shards"));
            merged.notes.push(format!(
                "the shards' keys and tables were removed by `tierbench merge --cleanup {}`",
                scenario.display()
            ));
        }),
    };
    let Some((mut reporter, specs)) = prepare_output(&args.reports) else {
        return exit::INVALID_INPUT;
    };
    let json = match serde_json::to_string_pretty(&merged) {
        Ok(j) => j + "\n",
        Err(e) => {
            eprintln!("error: cannot write the merged document: {e}");
            return exit::RUNTIME_FAILURE;
        }
    };
    if let Err(e) = write_atomic(&args.output, json.as_bytes()) {
        eprintln!("error: {e}");
        return exit::INVALID_INPUT;
    }
    eprintln!("merged {count} shards into {}", args.output.display());
    if let Err(e) = output::write_reports(&mut reporter, &specs, &merged) {
        eprintln!("error: {e}");
        return exit::INVALID_INPUT;
    }
    let mut code = if merged.summary.failure.is_some() || merged.summary.interrupted.is_some() {
        exit::RUNTIME_FAILURE
    } else if merged.summary.timed_out {
        exit::TIMED_OUT
    } else if merged.summary.failed > 0 {
        exit::THRESHOLD_FAILED
    } else {
        exit::OK
    };
    if let Err(e) = cleaned {
        eprintln!("error: --cleanup: {e}");
        code = code.max(exit::RUNTIME_FAILURE);
    }
    code
}

/// Sets the scenario's tiers up (which removes what the shards left, recognised by their
/// markers) and cleans them up as a run would.
fn cleanup(path: &std::path::Path) -> Result<(), String> {
    let scenario = crate::scenario::load(path).map_err(|d| d.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let tiers = super::run::connect_all(&scenario)
            .await
            .map_err(|e| e.to_string())?;
        for tier in &tiers {
            tier.cleanup(scenario.keep)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    })?;
    eprintln!("cleaned up after the shards of {}", path.display());
    Ok(())
}
