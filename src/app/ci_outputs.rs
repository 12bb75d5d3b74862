//! The two report formats that write more than one text: `github` and `gitlab`.
//!
//! - `github[=PATH]`: the workflow commands (annotations, then the text report in a collapsed
//!   group) to stdout or PATH; and, when `$GITHUB_STEP_SUMMARY` is set (as it is in every
//!   GitHub Actions step), the Markdown report appended to that file, so the job's summary page
//!   shows it.
//! - `gitlab[=DIR/ | =PREFIX]`: the OpenMetrics metrics report and the JUnit report, the two
//!   files GitLab's `artifacts:reports:metrics` and `artifacts:reports:junit` read. With a
//!   folder (an existing one, or a path ending in `/`): `DIR/metrics.txt` and `DIR/junit.xml`;
//!   with any other path, a prefix: `PREFIX.metrics.txt` and `PREFIX.junit.xml`; without one:
//!   `tierbench.metrics.txt` and `tierbench.junit.xml` in the current folder.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::metrics::result::ResultDocument;
use crate::report::{ReportError, Reporter};

/// How a report file is written (`output::write_atomic`; passed in so this file does not import
/// the one that calls it).
pub type WriteFile = fn(&Path, &[u8]) -> Result<(), ReportError>;

/// Writes the report `format` to `path` when it is `github` or `gitlab` and returns true; false
/// for any other format (the caller writes it).
pub fn write(
    reporter: &Reporter,
    format: &str,
    path: Option<&Path>,
    doc: &ResultDocument,
    write_atomic: WriteFile,
) -> Result<bool, ReportError> {
    match format {
        "github" => {
            let commands = reporter.render_format("github", doc)?;
            match path {
                Some(p) => write_atomic(p, commands.as_bytes())?,
                None => stdout(&commands)?,
            }
            if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty())
            {
                let markdown = reporter.render_format("markdown", doc)?;
                append(Path::new(&summary), &markdown)?;
            }
            Ok(true)
        }
        "gitlab" => {
            let (metrics, junit) = gitlab_paths(path);
            write_atomic(&metrics, reporter.render_format("gitlab", doc)?.as_bytes())?;
            write_atomic(&junit, reporter.render_format("junit", doc)?.as_bytes())?;
            eprintln!(
                "gitlab reports: metrics in {}, JUnit in {}",
                metrics.display(),
                junit.display()
            );
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Where `--report gitlab[=PATH]` writes its metrics and JUnit files.
pub fn gitlab_paths(path: Option<&Path>) -> (PathBuf, PathBuf) {
    match path {
        Some(dir) if dir.is_dir() || dir.as_os_str().to_string_lossy().ends_with('/') => {
            (dir.join("metrics.txt"), dir.join("junit.xml"))
        }
        Some(prefix) => {
            let with = |suffix: &str| {
                let mut p = prefix.as_os_str().to_owned();
                p.push(suffix);
                PathBuf::from(p)
            };
            (with(".metrics.txt"), with(".junit.xml"))
        }
        None => (
            PathBuf::from("tierbench.metrics.txt"),
            PathBuf::from("tierbench.junit.xml"),
        ),
    }
}

fn stdout(text: &str) -> Result<(), ReportError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| ReportError::Io {
            path: PathBuf::from("<stdout>"),
            source,
        })
}

/// Appends to a file (GitHub's step summary is shared by every step writing to it).
fn append(path: &Path, text: &str) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_paths_take_a_folder_or_a_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let (m, j) = gitlab_paths(Some(dir.path()));
        assert_eq!(
            (m, j),
            (dir.path().join("metrics.txt"), dir.path().join("junit.xml"))
        );
        let (m, j) = gitlab_paths(Some(Path::new("out/new/")));
        assert_eq!(
            (m, j),
            (
                PathBuf::from("out/new/metrics.txt"),
                PathBuf::from("out/new/junit.xml")
            )
        );
        let (m, j) = gitlab_paths(Some(Path::new("out/bench")));
        assert_eq!(
            (m, j),
            (
                PathBuf::from("out/bench.metrics.txt"),
                PathBuf::from("out/bench.junit.xml")
            )
        );
        assert_eq!(gitlab_paths(None).0, PathBuf::from("tierbench.metrics.txt"));
    }
}
