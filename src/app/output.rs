//! Where reports go: `--report FORMAT[=PATH]` and `--template FILE[=PATH]`, written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::OutputArgs;
use crate::metrics::result::ResultDocument;
use crate::report::{FORMATS, ReportError, Reporter};

/// One report to produce.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportSpec {
    /// A built-in format.
    Format {
        /// text, markdown or json.
        format: String,
        /// File, or stdout.
        path: Option<PathBuf>,
    },
    /// A user template file.
    Template {
        /// The template.
        file: PathBuf,
        /// File, or stdout.
        path: Option<PathBuf>,
    },
}

fn split(arg: &str) -> (&str, Option<PathBuf>) {
    match arg.split_once('=') {
        Some((a, p)) if !p.is_empty() => (a, Some(PathBuf::from(p))),
        Some((a, _)) => (a, None),
        None => (arg, None),
    }
}

/// Parses the report options; text to stdout when none is given.
pub fn parse_outputs(args: &OutputArgs) -> Result<Vec<ReportSpec>, String> {
    let mut specs = Vec::new();
    for arg in &args.reports {
        let (format, path) = split(arg);
        let format = crate::report::formats::resolve_auto(format, &|n| std::env::var(n).ok());
        if !FORMATS.contains(&format) {
            return Err(format!(
                "--report {arg}: unknown format `{format}` (choose from: {})",
                FORMATS.join(", ")
            ));
        }
        specs.push(ReportSpec::Format {
            format: format.to_string(),
            path,
        });
    }
    for arg in &args.templates {
        let (file, path) = split(arg);
        if !Path::new(file).is_file() {
            return Err(format!("--template {arg}: `{file}` is not a file"));
        }
        specs.push(ReportSpec::Template {
            file: PathBuf::from(file),
            path,
        });
    }
    if specs.is_empty() {
        specs.push(ReportSpec::Format {
            format: "text".into(),
            path: None,
        });
    }
    Ok(specs)
}

/// The JSON results file among the specs, if any (it is rewritten after each workload).
pub fn json_path(specs: &[ReportSpec]) -> Option<&Path> {
    specs.iter().find_map(|s| match s {
        ReportSpec::Format {
            format,
            path: Some(p),
        } if format == "json" => Some(p.as_path()),
        _ => None,
    })
}

/// Renders and writes every report.
pub fn write_reports(
    reporter: &mut Reporter,
    specs: &[ReportSpec],
    doc: &ResultDocument,
) -> Result<(), ReportError> {
    for spec in specs {
        if let ReportSpec::Format { format, path } = spec
            && super::ci_outputs::write(reporter, format, path.as_deref(), doc, write_atomic)?
        {
            continue;
        }
        let (text, path) = match spec {
            ReportSpec::Format { format, path } => (reporter.render_format(format, doc)?, path),
            ReportSpec::Template { file, path } => (reporter.render_file(file, doc)?, path),
        };
        match path {
            Some(p) => write_atomic(p, text.as_bytes())?,
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(|source| ReportError::Io {
                        path: PathBuf::from("<stdout>"),
                        source,
                    })?;
            }
        }
    }
    Ok(())
}

/// True when one of `specs` prints to stdout (a report without a file).
pub fn prints_to_stdout(specs: &[ReportSpec]) -> bool {
    specs.iter().any(|spec| match spec {
        ReportSpec::Format { path, .. } | ReportSpec::Template { path, .. } => path.is_none(),
    })
}

/// The text report's verdict line (`result: PASSED: ...`), for a run whose reports all went to
/// files: the terminal still says how it ended.
pub fn verdict_line(reporter: &Reporter, doc: &ResultDocument) -> Option<String> {
    let text = reporter.render_format("text", doc).ok()?;
    text.lines()
        .rev()
        .find(|l| l.starts_with("result:"))
        .map(str::to_string)
}

/// Checks, before a run, that every report file can be written (a report that fails only after
/// the run loses its verdict): a file that exists must open for writing, a new one's nearest
/// existing folder must take a file. Nothing is left behind.
pub fn check_destinations(specs: &[ReportSpec]) -> Result<(), String> {
    for spec in specs {
        let (format, path) = match spec {
            ReportSpec::Format { format, path } => (format.as_str(), path),
            ReportSpec::Template { path, .. } => ("", path),
        };
        let Some(path) = path else { continue };
        let paths = match format {
            "gitlab" | "auto" => {
                let (metrics, junit) = super::ci_outputs::gitlab_paths(Some(path));
                vec![metrics, junit]
            }
            _ => vec![path.clone()],
        };
        for p in paths {
            writable(&p).map_err(|why| {
                format!(
                    "--report {}: cannot write {}: {why}; choose another path",
                    if format.is_empty() {
                        "(template)"
                    } else {
                        format
                    },
                    p.display()
                )
            })?;
        }
    }
    Ok(())
}

/// Why `path` cannot be written, if it cannot.
fn writable(path: &Path) -> Result<(), String> {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_dir() {
            return Err("it is a folder".into());
        }
        return std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop)
            .map_err(|e| e.to_string());
    }
    let mut folder = path.parent();
    while let Some(dir) = folder {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if dir.exists() {
            if !dir.is_dir() {
                return Err(format!("{} is not a folder", dir.display()));
            }
            let probe = dir.join(format!(".tierbench-probe-{}", std::process::id()));
            return std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&probe)
                .map(|_| {
                    let _ = std::fs::remove_file(&probe);
                })
                .map_err(|e| format!("{} takes no new file ({e})", dir.display()));
        }
        folder = dir.parent();
    }
    Ok(())
}

/// Writes a file through a temporary sibling and a rename, so readers never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    // A path that exists and is not a regular file (`/dev/null`, `/dev/stdout`, a pipe) or is a
    // symbolic link is written in place: a rename would replace the device or the link itself
    // with a plain file.
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && !meta.file_type().is_file()
    {
        return std::fs::write(path, bytes).map_err(io);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // A name of tierbench's own beside the target (never a file the user may have).
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tierbench-{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(reports: &[&str]) -> OutputArgs {
        OutputArgs {
            reports: reports.iter().map(|s| s.to_string()).collect(),
            templates: Vec::new(),
            templates_dir: None,
        }
    }

    #[test]
    fn report_destinations_are_checked_before_a_run() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("new/sub/r.html");
        let spec = |format: &str, path: &Path| ReportSpec::Format {
            format: format.into(),
            path: Some(path.to_path_buf()),
        };
        assert_eq!(check_destinations(&[spec("html", &ok)]), Ok(()));
        assert!(
            !dir.path().join("new").exists(),
            "the check makes no folder"
        );
        let proc = check_destinations(&[spec("html", Path::new("/proc/x.html"))]).unwrap_err();
        assert!(proc.contains("cannot write /proc/x.html"), "{proc}");
        let folder = check_destinations(&[spec("json", dir.path())]).unwrap_err();
        assert!(folder.contains("it is a folder"), "{folder}");
        assert_eq!(
            check_destinations(&[spec("json", Path::new("/dev/null"))]),
            Ok(())
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "the probe leaves nothing: {left:?}");
    }

    #[test]
    fn writing_to_a_device_or_a_link_writes_through_it() {
        let dir = tempfile::tempdir().unwrap();
        // A device: /dev/null stays a character device.
        write_atomic(Path::new("/dev/null"), b"{}").unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(!meta.file_type().is_file(), "/dev/null became a plain file");
        // A link: the target gets the bytes, the link stays a link.
        let target = dir.path().join("target.json");
        std::fs::write(&target, b"old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        // A plain file is replaced whole, and nothing is left beside it.
        let plain = dir.path().join("r.json");
        write_atomic(&plain, b"one").unwrap();
        write_atomic(&plain, b"two").unwrap();
        assert_eq!(std::fs::read(&plain).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn report_options_parse() {
        let specs = parse_outputs(&args(&["markdown=out/r.md", "json"])).unwrap();
        assert_eq!(
            specs[0],
            ReportSpec::Format {
                format: "markdown".into(),
                path: Some("out/r.md".into())
            }
        );
        assert_eq!(
            specs[1],
            ReportSpec::Format {
                format: "json".into(),
                path: None
            }
        );
        assert!(
            parse_outputs(&args(&["nope"]))
                .unwrap_err()
                .contains("unknown format")
        );
        assert_eq!(parse_outputs(&args(&[])).unwrap().len(), 1);
    }
}
