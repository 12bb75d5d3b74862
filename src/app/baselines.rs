//! Named baselines, as criterion has them: `run --save-baseline NAME` keeps the run's result
//! document under a name, `run --baseline NAME` and `compare NAME OTHER` find it again, so a team
//! can say "compare with main" without managing files.
//!
//! They live in `.tierbench/baselines/NAME.json` under the current directory, or in
//! `$TIERBENCH_BASELINE_DIR` (a CI cache directory, say). A `--baseline` value that names an
//! existing file, or looks like a path (a `/` or a `.json` ending), is a file, never a name.
//!
//! Each save also keeps the run in `NAME.history/` (the last `--baseline-keep` runs, 10 by
//! default), so `--baseline NAME` can judge a run against the spread of several saved runs
//! (`verdict::compare_history`) instead of one run's luck.

use std::path::{Path, PathBuf};

use super::output::write_atomic;
use crate::metrics::result::ResultDocument;

/// The environment variable that moves the baseline directory.
pub const DIR_ENV: &str = "TIERBENCH_BASELINE_DIR";

/// Where named baselines are kept.
pub fn dir() -> PathBuf {
    std::env::var_os(DIR_ENV)
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from(".tierbench/baselines"), PathBuf::from)
}

/// Checks a baseline name: letters, digits, `.`, `_` and `-` (a file name on every system).
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a baseline name: use letters, digits, `.`, `_` and `-` \
             (e.g. `main`, `v1.2`), or give a result file's path"
        ))
    }
}

/// The result document a `--baseline` (or `compare`) argument means: a file, or a saved name.
pub fn resolve(arg: &str) -> Result<PathBuf, String> {
    let path = Path::new(arg);
    if path.is_file() || arg.contains('/') || arg.ends_with(".json") {
        return Ok(path.to_path_buf());
    }
    check_name(arg)?;
    let dir = dir();
    let file = dir.join(format!("{arg}.json"));
    if file.is_file() {
        return Ok(file);
    }
    let saved = saved(&dir);
    let hint = if saved.is_empty() {
        format!(
            "no baseline is saved in {} yet: run once with `--save-baseline {arg}`",
            dir.display()
        )
    } else {
        format!("saved in {}: {}", dir.display(), saved.join(", "))
    };
    Err(format!(
        "no file and no saved baseline named `{arg}` ({hint})"
    ))
}

/// The names saved in `dir`, sorted.
fn saved(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// The saved runs of baseline `name`, oldest first (none when it has no history).
pub fn history(name: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir().join(format!("{name}.history")))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Keeps `doc` in the history of `name` and removes the oldest runs beyond `keep`.
fn keep_in_history(
    name: &str,
    doc: &ResultDocument,
    json: &[u8],
    keep: usize,
) -> Result<(), String> {
    let folder = dir().join(format!("{name}.history"));
    std::fs::create_dir_all(&folder)
        .map_err(|e| format!("--save-baseline: cannot create {}: {e}", folder.display()))?;
    // Named by start time (RFC 3339 sorts as text) and pid: oldest first, never two alike.
    let stamp: String = doc
        .started_at
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let file = folder.join(format!("{stamp}-{}.json", std::process::id()));
    write_atomic(&file, json).map_err(|e| format!("--save-baseline: {e}"))?;
    let saved = history(name);
    for old in &saved[..saved.len().saturating_sub(keep.max(1))] {
        let _ = std::fs::remove_file(old);
    }
    Ok(())
}

/// Saves `doc` as baseline `name` (replacing an older one atomically) and keeps it among the
/// last `keep` runs of the name; returns the file.
pub fn save(name: &str, doc: &ResultDocument, keep: usize) -> Result<PathBuf, String> {
    check_name(name).map_err(|e| format!("--save-baseline: {e}"))?;
    let dir = dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("--save-baseline: cannot create {}: {e}", dir.display()))?;
    let file = dir.join(format!("{name}.json"));
    let json = serde_json::to_string_pretty(doc)
        .map_err(|e| format!("--save-baseline: cannot serialize the results: {e}"))?;
    write_atomic(&file, json.as_bytes()).map_err(|e| format!("--save-baseline: {e}"))?;
    keep_in_history(name, doc, json.as_bytes(), keep)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("main").is_ok());
        assert!(check_name("v1.2_rc-3").is_ok());
        for bad in ["", ".hidden", "a b", "../x", "a/b", "naïve"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_are_files_and_unknown_names_list_the_saved_ones() {
        assert_eq!(
            resolve("results/old.json").ok(),
            Some(PathBuf::from("results/old.json"))
        );
        assert_eq!(resolve("old.json").ok(), Some(PathBuf::from("old.json")));
        let err = resolve("no-such-baseline-name").unwrap_err();
        assert!(
            err.contains("no saved baseline named `no-such-baseline-name`"),
            "{err}"
        );
    }
}
