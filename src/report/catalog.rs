//! The built-in templates as a catalogue: name, format, a one-line description, the source.
//!
//! `tierbench templates list` shows it and `tierbench templates export DIR` writes the sources,
//! so a user starts a replacement (used with `--templates DIR`) from the real thing. The
//! description is the first sentence of the comment each built-in template opens with, so it
//! cannot drift from the template.

use super::BUILTIN;

/// One built-in template.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// File name (what `--templates DIR` replaces it by).
    pub name: &'static str,
    /// The `--report` format that renders it.
    pub format: &'static str,
    /// One line: what it is for.
    pub description: &'static str,
    /// The template text.
    pub source: &'static str,
}

/// Every built-in template, in `FORMATS` order.
pub fn builtins() -> Vec<Builtin> {
    BUILTIN
        .iter()
        .map(|&(name, format, source)| Builtin {
            name,
            format,
            description: description(source),
            source,
        })
        .collect()
}

/// The first sentence of a template's opening `{# ... #}` comment, up to its first `: ` (the
/// details after it are for the reader of the template), without a leading "Built-in"; "" without
/// a comment.
fn description(source: &'static str) -> &'static str {
    let Some(body) = source
        .trim_start()
        .strip_prefix("{#")
        .and_then(|rest| rest.split_once("#}"))
        .map(|(body, _)| body.trim_start_matches('-').trim_end_matches('-').trim())
    else {
        return "";
    };
    let first = body.split_once(". ").map_or(body, |(s, _)| s);
    let first = first.lines().next().unwrap_or("");
    let first = first.split_once(": ").map_or(first, |(head, _)| head);
    let first = first.trim_end_matches('.');
    first
        .strip_prefix("Built-in ")
        .map_or(first, |rest| rest.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_describes_itself() {
        for b in builtins() {
            assert!(
                !b.description.is_empty(),
                "{} has no opening comment",
                b.name
            );
            assert!(!b.description.contains('\n'), "{}", b.name);
        }
    }

    #[test]
    fn the_description_is_the_comments_first_sentence() {
        assert_eq!(
            description("{#- Built-in text report. Variables: the result document. -#}\nx"),
            "text report"
        );
        assert_eq!(
            description("{# Built-in JUnit XML report: one testcase per threshold. More. #}"),
            "JUnit XML report"
        );
        assert_eq!(description("no comment"), "");
    }
}
