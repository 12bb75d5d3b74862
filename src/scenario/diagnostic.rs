//! Problems found in a scenario, each with its place, and their rendering.
//!
//! Validation collects every problem before reporting (so a user fixes a file in one pass). A
//! problem knows the JSON pointer of the offending node; the file's `Locations` turn that into
//! `line:column`, and the rendering shows the source line with a caret, the way compilers do.

use std::fmt;
use std::path::{Path, PathBuf};

use super::locate::{Location, Locations};
use super::origins::{Origin, Origins};
use crate::redact::redact_urls_in;

/// One thing wrong with a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Problem {
    /// JSON pointer of the node the problem is about (`/workloads/1/mix/get`); empty for the root.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// What was expected there, if that can be said.
    pub expected: Option<String>,
    /// How to fix it.
    pub hint: Option<String>,
    /// The override the problem comes from (`--set PATH=VALUE`, `--profile a,b`), when it is not
    /// about the file's text: it is shown in place of a `file:line:col`.
    pub origin: Option<String>,
}

impl Problem {
    /// A problem at `pointer` with a message.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            pointer: pointer.into(),
            message: message.into(),
            expected: None,
            hint: None,
            origin: None,
        }
    }

    /// Adds what was expected.
    pub fn expected(mut self, expected: impl Into<String>) -> Problem {
        self.expected = Some(expected.into());
        self
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }

    /// Marks the problem as an override's (`--set ...`), not the file's.
    pub fn origin(mut self, origin: impl Into<String>) -> Problem {
        self.origin = Some(origin.into());
        self
    }
}

/// The problems without repeats, the first of each kept, in order. Linear (a set of those
/// seen): comparing each with every earlier one made 13,000 problems take seconds.
pub fn unique(problems: Vec<Problem>) -> Vec<Problem> {
    let mut seen = std::collections::HashSet::new();
    problems
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

/// Turns a JSON pointer into the dotted path users read: `/workloads/1/mix/get` → `workloads[1].mix.get`.
pub fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&segment);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    if out.is_empty() {
        "(document)".to_string()
    } else {
        out
    }
}

/// Problems of one file, ready to print.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    /// The scenario file.
    pub file: PathBuf,
    /// The file's text (for the source line under each problem); empty when it could not be read.
    pub source: String,
    /// Where each pointer is in the text.
    pub locations: Locations,
    /// The problems, in the order found.
    pub problems: Vec<Problem>,
    /// Which nodes overrides and profiles wrote: problems there are shown as theirs.
    pub origins: Origins,
}

/// Where a problem is shown: an override's text, or a place in the file.
enum Place {
    /// The problem came in with this override (no line of the file to show).
    Override(String),
    /// At this location of the file; `profile` when a scenario profile's patch wrote the node.
    File {
        location: Option<Location>,
        profile: Option<String>,
    },
}

impl Diagnostics {
    /// The location of a problem in the file, or of its nearest located ancestor: for a node a
    /// scenario profile wrote, the profile's text; none for a problem an override brought in.
    pub fn location_of(&self, problem: &Problem) -> Option<Location> {
        match self.place_of(problem) {
            Place::File { location, .. } => location,
            Place::Override(_) => None,
        }
    }

    fn place_of(&self, problem: &Problem) -> Place {
        if let Some(origin) = &problem.origin {
            return Place::Override(origin.clone());
        }
        match self.origins.of(&problem.pointer) {
            Some((Origin::Override(text), _)) => Place::Override(text),
            Some((Origin::Profile { name, .. }, Some(at))) => Place::File {
                location: self.locations.nearest(&at),
                profile: Some(name),
            },
            _ => Place::File {
                location: self.locations.nearest(&problem.pointer),
                profile: None,
            },
        }
    }

    /// The path of the file as given.
    pub fn file(&self) -> &Path {
        &self.file
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Split once: looking each problem's line up by rescanning the text made thousands of
        // problems in a big file quadratic.
        let lines: Vec<&str> = if self.problems.is_empty() {
            Vec::new()
        } else {
            self.source.lines().collect()
        };
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let path = display_path(&problem.pointer);
            let location = match self.place_of(problem) {
                Place::Override(text) => {
                    // The override's own text is the place; a message that already starts
                    // with it is not repeated.
                    let message = problem
                        .message
                        .strip_prefix(&format!("{text}: "))
                        .unwrap_or(&problem.message);
                    if problem.pointer.is_empty() {
                        writeln!(f, "error: {text}: {message}")?;
                    } else {
                        writeln!(f, "error: {text}: {path}: {message}")?;
                    }
                    None
                }
                Place::File { location, profile } => {
                    let place = match location {
                        Some(loc) => format!("{}:{}:{}", self.file.display(), loc.line, loc.column),
                        None => self.file.display().to_string(),
                    };
                    let from = profile
                        .map(|name| format!(" (set by profile `{name}`)"))
                        .unwrap_or_default();
                    writeln!(
                        f,
                        "error: {place}: {path}{from}: {}",
                        redact_urls_in(&problem.message)
                    )?;
                    location
                }
            };
            if let Some(loc) = location
                && let Some(line) = lines.get(loc.line.saturating_sub(1))
            {
                // The line as the user wrote it, but never a password: a URL's is redacted, and
                // the caret moves with the text before it.
                let shown = redact_urls_in(line);
                let before: String = line.chars().take(loc.column.saturating_sub(1)).collect();
                let column = redact_urls_in(&before).chars().count();
                let gutter = loc.line.to_string();
                writeln!(f, "{:w$} |", "", w = gutter.len())?;
                writeln!(f, "{gutter} | {shown}")?;
                writeln!(f, "{:w$} | {:c$}^", "", "", w = gutter.len(), c = column)?;
            }
            if let Some(expected) = &problem.expected {
                writeln!(f, "  expected: {expected}")?;
            }
            if let Some(hint) = &problem.hint {
                let toml = self.file.extension().is_some_and(|e| e == "toml");
                let hint = if toml { in_toml(hint) } else { hint.clone() };
                writeln!(f, "  hint: {hint}")?;
            }
        }
        write!(
            f,
            "{}: {} problem{} found",
            self.file.display(),
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )
    }
}

/// A hint's snippets (the text between backticks) in TOML's syntax: hints are written in YAML's
/// (`mix: { get: 90 }`), which a TOML file writes `mix = { get = 90 }`.
fn in_toml(hint: &str) -> String {
    hint.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 0 {
                return part.to_string();
            }
            match part.strip_suffix(':') {
                Some(field) => field.to_string(),
                None => part.replace(": ", " = "),
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_read_as_dotted_paths() {
        assert_eq!(display_path("/workloads/1/mix/get"), "workloads[1].mix.get");
        assert_eq!(display_path(""), "(document)");
        assert_eq!(display_path("/a~1b/0"), "a/b[0]");
    }

    #[test]
    fn hints_speak_toml_in_a_toml_file() {
        assert_eq!(in_toml("add `values:` here"), "add `values` here");
        assert_eq!(
            in_toml("add e.g. `mix: { get: 90, set: 10 }` or `trace:`"),
            "add e.g. `mix = { get = 90, set = 10 }` or `trace`"
        );
    }
}
