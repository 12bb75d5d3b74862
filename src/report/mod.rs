//! Reports: minijinja templates over the result document.
//!
//! The built-in `text` and `markdown` templates live in `templates/` and are embedded in the
//! binary; a `--templates DIR` replaces any of them by file name, and `--template FILE` renders
//! a user's own. Templates see the result document exactly as `--report json` writes it, plus
//! formatting filters, so a report never computes a number the document does not hold.

pub mod catalog;
mod chart_bars;
mod chart_compare;
mod chart_curve;
mod chart_spectrum;
mod chart_style;
mod chart_time;
pub mod charts;
mod diagnose;
pub mod filters;
pub mod formats;

use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior};
use thiserror::Error;

use crate::metrics::result::ResultDocument;

/// Built-in templates: (name, format, source).
const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "text.txt.j2",
        "text",
        include_str!("../../templates/text.txt.j2"),
    ),
    (
        "markdown.md.j2",
        "markdown",
        include_str!("../../templates/markdown.md.j2"),
    ),
    (
        "comparison.txt.j2",
        "comparison",
        include_str!("../../templates/comparison.txt.j2"),
    ),
    (
        "junit.xml.j2",
        "junit",
        include_str!("../../templates/junit.xml.j2"),
    ),
    (
        "github.txt.j2",
        "github",
        include_str!("../../templates/github.txt.j2"),
    ),
    (
        "gitlab-metrics.txt.j2",
        "gitlab",
        include_str!("../../templates/gitlab-metrics.txt.j2"),
    ),
    (
        "badge.json.j2",
        "badge",
        include_str!("../../templates/badge.json.j2"),
    ),
    (
        "benchmark-action-smaller.json.j2",
        "benchmark-action-smaller",
        include_str!("../../templates/benchmark-action-smaller.json.j2"),
    ),
    (
        "benchmark-action-bigger.json.j2",
        "benchmark-action-bigger",
        include_str!("../../templates/benchmark-action-bigger.json.j2"),
    ),
    (
        "results.csv.j2",
        "csv",
        include_str!("../../templates/results.csv.j2"),
    ),
    (
        "timeseries.csv.j2",
        "csv-timeseries",
        include_str!("../../templates/timeseries.csv.j2"),
    ),
    (
        "html.html.j2",
        "html",
        include_str!("../../templates/html.html.j2"),
    ),
];

/// Report formats `--report` accepts (`auto` picks one from the CI environment, see
/// `formats::resolve_auto`).
pub const FORMATS: &[&str] = &[
    "text",
    "markdown",
    "json",
    "comparison",
    "junit",
    "github",
    "gitlab",
    "badge",
    "benchmark-action-smaller",
    "benchmark-action-bigger",
    "csv",
    "csv-timeseries",
    "html",
    "auto",
];

/// A report that could not be produced.
#[derive(Debug, Error)]
pub enum ReportError {
    /// A template failed to parse or render.
    #[error("template `{template}`{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Template {
        /// Template name.
        template: String,
        /// Line in the template, when known.
        line: Option<usize>,
        /// What went wrong.
        message: String,
    },
    /// A format name `--report` does not know.
    #[error("unknown report format `{}` (choose from: {})", .0, FORMATS.join(", "))]
    UnknownFormat(String),
    /// Reading a template or writing a report failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn template_error(name: &str, e: &minijinja::Error) -> ReportError {
    let message = diagnose::message(e);
    ReportError::Template {
        template: e.name().unwrap_or(name).to_string(),
        line: e.line(),
        message,
    }
}

/// The template environment: built-ins, overridden by files in `templates_dir`.
pub struct Reporter {
    env: Environment<'static>,
}

impl Reporter {
    /// Builds the environment; templates in `templates_dir` replace built-ins of the same file name
    /// and add new ones.
    pub fn new(templates_dir: Option<&Path>) -> Result<Reporter, ReportError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Debug info lets an error name the undefined expression (`w.nope` is undefined) and
        // carry the template's source for the snippet under it.
        env.set_debug(true);
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        filters::register(&mut env);
        formats::register(&mut env);
        charts::register(&mut env);
        for (name, _, source) in BUILTIN {
            env.add_template(name, source)
                .map_err(|e| template_error(name, &e))?;
        }
        if let Some(dir) = templates_dir {
            let entries = std::fs::read_dir(dir).map_err(|source| ReportError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_file() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let source = read(&path)?;
                    env.add_template_owned(name.clone(), source)
                        .map_err(|e| template_error(&name, &e))?;
                }
            }
        }
        Ok(Reporter { env })
    }

    /// Renders a built-in format (one of `FORMATS`; `auto` is resolved from the environment).
    pub fn render_format(&self, format: &str, doc: &ResultDocument) -> Result<String, ReportError> {
        let format = formats::resolve_auto(format, &|name| std::env::var(name).ok());
        if format == "json" {
            return serde_json::to_string_pretty(doc)
                .map(|s| s + "\n")
                .map_err(|e| ReportError::Template {
                    template: "json".into(),
                    line: None,
                    message: e.to_string(),
                });
        }
        let name = BUILTIN
            .iter()
            .find(|(_, f, _)| *f == format)
            .map(|(n, _, _)| *n)
            .ok_or_else(|| ReportError::UnknownFormat(format.to_string()))?;
        self.render_named(name, doc)
    }

    /// Renders a template already in the environment.
    pub fn render_named(&self, name: &str, doc: &ResultDocument) -> Result<String, ReportError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| template_error(name, &e))?;
        template
            .render(minijinja::Value::from(minijinja::value::Serde(doc)))
            .map_err(|e| template_error(name, &e))
    }

    /// Renders a user's template file.
    pub fn render_file(
        &mut self,
        path: &Path,
        doc: &ResultDocument,
    ) -> Result<String, ReportError> {
        let name = path.display().to_string();
        let source = read(path)?;
        self.env
            .add_template_owned(name.clone(), source)
            .map_err(|e| template_error(&name, &e))?;
        self.render_named(&name, doc)
    }
}

fn read(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}
