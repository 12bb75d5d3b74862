//! The house stays one-way: stages import only the stages below them, no two files import each
//! other (directly or around a loop), and no source file grows past 500 lines.
//!
//! The rules are docs/architecture.md's table. This test reads every `use` and inline path of
//! `src/` (resolving `crate::`, `super::`, `self::` and child-module paths to the file that
//! defines them), so a new import that breaks the direction fails `cargo test`, whoever adds it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each stage and the stages it may import (leaf modules import nothing of the crate).
const ALLOWED: &[(&str, &[&str])] = &[
    ("units", &[]),
    ("redact", &[]),
    ("suggest", &[]),
    ("exit", &[]),
    ("workload", &["units"]),
    ("metrics", &["workload", "units"]),
    ("tier", &["metrics", "workload", "units", "redact"]),
    ("verdict", &["metrics", "workload", "units", "suggest"]),
    (
        "scenario",
        &[
            "tier", "workload", "verdict", "metrics", "units", "redact", "suggest",
        ],
    ),
    (
        "engine",
        &["scenario", "tier", "workload", "metrics", "units"],
    ),
    (
        "simulate",
        &["scenario", "tier", "workload", "metrics", "units"],
    ),
    ("report", &["metrics", "units"]),
    ("live", &["metrics", "workload", "units", "redact"]),
    ("cli", &[]),
    (
        "app",
        &[
            "cli", "engine", "simulate", "scenario", "tier", "workload", "metrics", "verdict",
            "report", "live", "exit", "units", "redact",
        ],
    ),
];

const MAX_LINES: usize = 500;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `src/engine/worker.rs` → [engine, worker]; `mod.rs` is its folder.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The file that defines the longest prefix of `path` (a module path), if any.
fn file_of(path: &[String]) -> Option<PathBuf> {
    for len in (1..=path.len()).rev() {
        let base = path[..len].iter().fold(src(), |p, s| p.join(s));
        for candidate in [base.with_extension("rs"), base.join("mod.rs")] {
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Removes comments, string and char literals (multi-line and raw strings included), so paths
/// and words inside them are not read as imports.
fn strip(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                if chars[i] == '\n' {
                    out.push('\n'); // lines keep their numbers
                }
                i += 1;
            }
            i += 2;
        } else if c == 'r' && matches!(next, Some('"' | '#')) && !prev_is_ident(&chars, i) {
            // r"..." or r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                if chars[j] == '\n' {
                    out.push('\n');
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if chars.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && next == Some('\\') {
            // '\n', '\'', '\\' ...
            let close = chars[i + 2..]
                .iter()
                .position(|&x| x == '\'')
                .map_or(chars.len(), |p| i + 3 + p);
            i = close;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3; // 'x', including '"'
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Expands `a::{b, c::{d, e}}` into full paths.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = format!("{prefix}{}", &tree[..open]);
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..i], &head, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], &head, out);
    } else if !tree.is_empty() {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        out.push(format!("{prefix}{path}"));
    }
}

/// Module paths this file refers to: `use` trees and inline `crate::`/`super::` paths.
fn references(code: &str) -> Vec<String> {
    let code = strip(code);
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        rest = &rest[i + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(end) = rest.find(';') {
            expand(&rest[..end], "", &mut out);
        }
    }
    for anchor in ["crate::", "super::"] {
        let mut rest = code.as_str();
        while let Some(i) = rest.find(anchor) {
            let before = rest[..i].chars().last();
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            // `pub(in crate::tier)` names where an item is visible, not something it uses.
            let visibility = rest[..i].ends_with("(in ");
            if !visibility && !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                out.push(tail[..end].trim_end_matches(':').to_string());
            }
            rest = &tail[anchor.len()..];
        }
    }
    out
}

/// Resolves a path written in module `here` to a crate-absolute module path.
fn absolute(path: &str, here: &[String], children: &BTreeSet<String>) -> Option<Vec<String>> {
    let mut segs: Vec<String> = path.split("::").map(|s| s.trim().to_string()).collect();
    segs.retain(|s| !s.is_empty() && s != "*");
    let first = segs.first()?.clone();
    let mut base: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => here.to_vec(),
        _ if children.contains(&first) => here.to_vec(),
        _ => return None,
    };
    let mut rest = &segs[..];
    if first == "crate" || first == "self" {
        rest = &segs[1..];
    }
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

struct Graph {
    /// file → files it imports
    edges: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    /// file → its source text
    sources: BTreeMap<PathBuf, String>,
}

fn graph() -> Graph {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut edges = BTreeMap::new();
    let mut sources = BTreeMap::new();
    for file in &files {
        let code = std::fs::read_to_string(file).unwrap();
        // Unit tests at the end of a file sit in an inline module: their `super::*` is the file.
        let code_outside_tests = match code.find("#[cfg(test)]\nmod tests {") {
            Some(i) => &code[..i],
            None => &code,
        };
        let here = module_of(file);
        // Child modules declared here (`mod x;`), which `x::...` paths refer to.
        let children: BTreeSet<String> = strip(code_outside_tests)
            .lines()
            .filter_map(|l| {
                let l = l
                    .trim()
                    .trim_start_matches("pub(super) ")
                    .trim_start_matches("pub ");
                l.strip_prefix("mod ")?
                    .strip_suffix(';')
                    .map(|m| m.trim().to_string())
            })
            .collect();
        let mut to = BTreeSet::new();
        for reference in references(code_outside_tests) {
            let resolved = absolute(&reference, &here, &children);
            // A child module may use its parent's items (an `impl` of the parent's type kept
            // in a file of its own): the parent declaring and using the child is the
            // direction that counts.
            let parent = here.split_last().and_then(|(_, up)| file_of(up));
            if let Some(target) = resolved.as_deref().and_then(file_of)
                && &target != file
                && Some(&target) != parent.as_ref()
            {
                to.insert(target);
            }
        }
        edges.insert(file.clone(), to);
        sources.insert(file.clone(), code);
    }
    Graph { edges, sources }
}

/// The stage a file belongs to: its top folder, or its own name for a file at the root.
fn stage(file: &Path) -> String {
    module_of(file)
        .first()
        .cloned()
        .unwrap_or_else(|| "lib".into())
}

#[test]
fn stages_import_only_the_stages_below_them() {
    let graph = graph();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (file, targets) in &graph.edges {
        let from = stage(file);
        if from == "lib" || from == "main" {
            continue;
        }
        let Some(may) = allowed.get(from.as_str()) else {
            wrong.push(format!(
                "{}: stage `{from}` is not in docs/architecture.md's table",
                file.display()
            ));
            continue;
        };
        for target in targets {
            let to = stage(target);
            if to != from && !may.contains(&to.as_str()) {
                wrong.push(format!(
                    "{} (stage `{from}`) imports {} (stage `{to}`); `{from}` may import: {may:?}",
                    file.strip_prefix(src()).unwrap().display(),
                    target.strip_prefix(src()).unwrap().display(),
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the direction:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other_around_a_loop() {
    let graph = graph();
    // Tarjan-free: a file is in a cycle when it can reach itself.
    let mut cycles = BTreeSet::new();
    for start in graph.edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(PathBuf, Vec<PathBuf>)> = vec![(start.clone(), vec![start.clone()])];
        while let Some((file, path)) = stack.pop() {
            for next in graph.edges.get(&file).into_iter().flatten() {
                if next == start {
                    let names: Vec<String> = path
                        .iter()
                        .chain([start])
                        .map(|p| p.strip_prefix(src()).unwrap().display().to_string())
                        .collect();
                    cycles.insert(names.join(" → "));
                } else if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles between files:\n{}",
        cycles.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn no_source_file_is_over_500_lines() {
    let graph = graph();
    let long: Vec<String> = graph
        .sources
        .iter()
        .filter(|(_, code)| code.lines().count() > MAX_LINES)
        .map(|(f, code)| format!("{}: {} lines", f.display(), code.lines().count()))
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (split by responsibility):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_reader_resolves_paths_as_rust_does() {
    let code = "pub(in crate::app) fn f() {}\nlet s = \"a\\\"\nuse crate::engine::x;\n\"; let c = '\"'; use crate::tier::Tier;\n// use crate::app::y;\nlet r = r#\"use crate::cli::z;\"#;";
    let found: BTreeSet<String> = references(code).into_iter().collect();
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["crate::tier::Tier"]);
    let mut out = Vec::new();
    expand("crate::tier::{stack::Stack, TierError as E}", "", &mut out);
    assert_eq!(out, ["crate::tier::stack::Stack", "crate::tier::TierError"]);
    let here = vec!["engine".to_string(), "worker".to_string()];
    assert_eq!(
        absolute("super::super::tier::Tier", &here, &BTreeSet::new()),
        Some(vec!["tier".to_string(), "Tier".to_string()])
    );
    assert_eq!(
        file_of(&["engine".into(), "worker".into(), "run_phase_worker".into()]),
        Some(src().join("engine/worker.rs"))
    );
}

/// Functions longer than this (from `fn` to the closing brace) are split by what each part does.
const MAX_FUNCTION_LINES: usize = 100;

#[test]
fn no_function_outside_tests_is_over_100_lines() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut long = Vec::new();
    for file in &files {
        let code = std::fs::read_to_string(file).unwrap();
        let code = match code.find("#[cfg(test)]\nmod tests") {
            Some(i) => &code[..i],
            None => &code,
        };
        for (name, line, lines) in functions(&strip(code)) {
            if lines > MAX_FUNCTION_LINES {
                let place = file.strip_prefix(src()).unwrap().display();
                long.push(format!("{place}:{line} `{name}`: {lines} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines (split them by what each part does):\n{}",
        long.join("\n")
    );
}

/// Every `fn` with a body in `code` (comments and literals stripped, lines kept): its name,
/// its first line and its length in lines.
fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    for i in 0..chars.len().saturating_sub(3) {
        if !chars[i..].starts_with(&['f', 'n', ' ']) || prev_is_ident(&chars, i) {
            continue;
        }
        let name: String = chars[i + 3..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || **c == '_')
            .collect();
        // The body opens at the first `{` outside parentheses; a `;` first: no body.
        let mut depth = 0i32;
        let Some(open) = (i..chars.len()).find(|&j| {
            match chars[j] {
                '(' => depth += 1,
                ')' => depth -= 1,
                '{' | ';' if depth == 0 => return true,
                _ => {}
            }
            false
        }) else {
            continue;
        };
        if chars[open] == ';' {
            continue;
        }
        let mut braces = 0i32;
        let close = (open..chars.len())
            .find(|&j| {
                match chars[j] {
                    '{' => braces += 1,
                    '}' => braces -= 1,
                    _ => {}
                }
                braces == 0
            })
            .unwrap_or(chars.len() - 1);
        let line = chars[..i].iter().filter(|&&c| c == '\n').count() + 1;
        let lines = chars[i..=close].iter().filter(|&&c| c == '\n').count() + 1;
        out.push((name, line, lines));
    }
    out
}

#[test]
fn functions_are_measured_from_fn_to_their_closing_brace() {
    let code = "fn a() {\n    let b = \"{\";\n}\ntrait T { fn c(); }\npub fn d<T>(x: fn(u8)) -> u8 {\n    1\n}\n";
    let found = functions(&strip(code));
    assert_eq!(found, [("a".into(), 1, 3), ("d".into(), 5, 3)]);
}
