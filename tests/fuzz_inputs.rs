//! Fuzzing the input parsers inside `cargo test`: scenario loading (YAML and TOML), the unit
//! parsers, the threshold grammar and `--set` overrides.
//!
//! Each property runs a few hundred to a few thousand generated inputs (`PROPTEST_CASES`
//! overrides every count, for a long run: `PROPTEST_CASES=1000000 cargo test --release --test
//! fuzz_inputs`). Every input runs on its own thread under a time limit and an allocation limit
//! (jemalloc's per-thread counter), so a hang or a memory blow-up fails like a panic does, with
//! the input. Inputs that once crashed, hung or blew up are kept below as plain named tests.
//! See docs/fuzzing.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic: that is a failure

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use serde_json::Value;

use tierbench::scenario::diagnostic::Diagnostics;
use tierbench::scenario::overrides::{self, Overrides};
use tierbench::scenario::{format, load_source};
use tierbench::units;
use tierbench::verdict::thresholds::{self, Metric, Stat, ThresholdContext};
use tierbench::workload::op::Op;

// ---------------------------------------------------------------------------------------------
// The guard: time and memory limits around one input
// ---------------------------------------------------------------------------------------------

/// The longest one input may take (debug build, two busy cores: a shipped scenario takes ~10 ms).
const TIME_LIMIT: Duration = Duration::from_secs(2);
/// The time limit of the big-input regressions (each took from 9 s to minutes before its fix; a
/// generous limit keeps them steady on a busy machine).
const BIG_INPUT_TIME_LIMIT: Duration = Duration::from_secs(10);
/// The most bytes one input may allocate in all (an upper bound of its peak memory).
const ALLOCATION_LIMIT: u64 = 256 << 20;

/// Bytes allocated so far by the calling thread (jemalloc is the crate's global allocator).
fn allocated_by_this_thread() -> u64 {
    tikv_jemalloc_ctl::thread::allocatedp::read()
        .map(|p| p.get())
        .unwrap_or(0)
}

/// Runs `f(input)` on its own thread; fails (with the input) on a panic, after `TIME_LIMIT`, or
/// when it allocated more than `ALLOCATION_LIMIT`. Returns the result and the bytes allocated.
fn guarded<T: Send + 'static>(
    what: &str,
    input: String,
    f: impl FnOnce(String) -> T + Send + 'static,
) -> (T, u64) {
    guarded_for(TIME_LIMIT, what, input, f)
}

/// `guarded` with another time limit.
fn guarded_for<T: Send + 'static>(
    limit: Duration,
    what: &str,
    input: String,
    f: impl FnOnce(String) -> T + Send + 'static,
) -> (T, u64) {
    let shown = input.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("fuzz {what}"))
        .spawn(move || {
            let before = allocated_by_this_thread();
            let out = f(input);
            let bytes = allocated_by_this_thread().saturating_sub(before);
            let _ = tx.send((out, bytes));
        })
        .expect("spawn a fuzz thread");
    match rx.recv_timeout(limit) {
        Ok((out, bytes)) => {
            assert!(
                bytes <= ALLOCATION_LIMIT,
                "{what}: allocated {} MiB for input {shown:?}",
                bytes >> 20
            );
            (out, bytes)
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no answer after {limit:?} for input {shown:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("{what}: panicked on input {shown:?}")
        }
    }
}

/// `default` cases, or `PROPTEST_CASES` when set.
fn config(default: u32) -> Config {
    let mut config = Config {
        failure_persistence: None, // crashes are kept as named tests below, not in files
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = default;
    }
    config
}

// ---------------------------------------------------------------------------------------------
// Scenario loading
// ---------------------------------------------------------------------------------------------

/// What loading a scenario text ended in: `Ok`, or the rendered problems.
fn load_text(file: &str, text: String, overrides: Overrides) -> Result<(), String> {
    let path = Path::new("scenarios").join(file);
    match load_source(&path, text, &overrides, &|_| None) {
        Ok(_) => Ok(()),
        Err(d) => Err(rendered(&d)),
    }
}

/// The diagnostics as the user sees them; a clean error has at least one problem, each saying
/// something.
fn rendered(d: &Diagnostics) -> String {
    assert!(!d.problems.is_empty(), "an error without a problem");
    for p in &d.problems {
        assert!(!p.message.trim().is_empty(), "a problem without a message");
    }
    d.to_string()
}

/// Loads `text` as `file` under the guard.
fn load_guarded(file: &'static str, text: String) -> Result<(), String> {
    guarded(file, text, move |t| {
        load_text(file, t, Overrides::default())
    })
    .0
}

/// The shipped scenarios, (file name, text).
fn shipped() -> &'static [(String, String)] {
    static FILES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut out = Vec::new();
        let mut dirs = vec![PathBuf::from("scenarios")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("scenarios/").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "toml")
                ) {
                    let name = path
                        .strip_prefix("scenarios")
                        .expect("under scenarios/")
                        .to_string_lossy()
                        .into_owned();
                    out.push((name, std::fs::read_to_string(&path).expect("readable")));
                }
            }
        }
        out.sort();
        assert!(out.len() >= 5, "the shipped scenarios are the fuzz seeds");
        out
    })
}

/// Tokens a mutation inserts: syntax of both formats, numbers at the edges, units, unicode.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ": ",
    ",",
    "- ",
    "-",
    "\n",
    "\n  ",
    "\t",
    " ",
    "#",
    "\"",
    "'",
    "=",
    "?",
    "|",
    ">",
    "&a ",
    "*a",
    "&b [*a, *a, *a]",
    "<<: *a",
    "!!binary ",
    "!tag ",
    "!!str ",
    "---\n",
    "...\n",
    "~",
    "null",
    "true",
    "yes",
    "false",
    "0",
    "-0",
    "-1",
    "1",
    "0.0",
    "-1.5",
    "1e400",
    ".nan",
    ".inf",
    "-.inf",
    "nan",
    "inf",
    "+inf",
    "0x7f",
    "0o17",
    "1_000",
    "99999999999999999999999999999",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "1.7976931348623157e308",
    "4.9e-324",
    "2ms",
    "0ns",
    "1.5s",
    "250us",
    "2µs",
    "3m",
    "1h",
    "584y",
    "1KiB",
    "0B",
    "17179869184GiB",
    "1.5MiB",
    "20k/s",
    "1.5M/s",
    "0/s",
    "-5/s",
    "95%",
    "150%",
    "-1%",
    "0.95",
    "1..2",
    "400..200",
    "..",
    "p99",
    "p(99.9)",
    "p(-1)",
    "p(NaN)",
    "p(1e9)",
    "get.p99 < 2ms",
    "l1.hit_rate >= 40%",
    "<=",
    "==",
    "${X}",
    "${X:-7}",
    "${",
    "${1}",
    "}",
    "é",
    "µ",
    "😀",
    "\u{0}",
    "\u{7f}",
    "\u{202e}",
    "\u{feff}",
    "\u{fffd}",
    "\r\n",
    "\r",
    "[[tiers]]\n",
    "[data.keys]\n",
    "[[workloads]]\n",
    "\"\"\"",
    "'''",
    "1979-05-27T07:32:00Z",
    "a.b.c = 1\n",
    "x = { y = [ {} ] }\n",
    "stack",
    "origin",
    "zipf",
    "memory",
    "redis",
    "sqlite::memory:",
    "redis://:pw@127.0.0.1:1/0",
];

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(TOKENS).prop_map(str::to_string),
        1 => "[0-9]{1,40}(\\.[0-9]{1,20})?",
        1 => any::<String>(),
    ]
}

/// One edit of a scenario text at a place chosen by `at`.
#[derive(Debug, Clone)]
enum Mutation {
    Insert(Index, String),
    /// Replace the word (run of non-space characters) at the place.
    ReplaceWord(Index, String),
    Delete(Index, usize),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    /// Wrap the word at the place in `depth` brackets or braces.
    Nest(Index, usize, bool),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), token()).prop_map(|(i, t)| Mutation::Insert(i, t)),
        6 => (any::<Index>(), token()).prop_map(|(i, t)| Mutation::ReplaceWord(i, t)),
        2 => (any::<Index>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => (any::<Index>(), 1usize..300, any::<bool>()).prop_map(|(i, d, b)| Mutation::Nest(i, d, b)),
    ]
}

/// A byte offset on a character boundary.
fn place(text: &str, at: &Index) -> usize {
    text.floor_char_boundary(at.index(text.len() + 1))
}

fn word_around(text: &str, at: usize) -> (usize, usize) {
    let start = text[..at].rfind(char::is_whitespace).map_or(0, |i| {
        i + text[i..].chars().next().map_or(1, char::len_utf8)
    });
    let end = text[at..]
        .find(char::is_whitespace)
        .map_or(text.len(), |i| at + i);
    (start, end)
}

fn apply_mutation(text: &mut String, m: &Mutation) {
    match m {
        Mutation::Insert(at, token) => {
            let at = place(text, at);
            text.insert_str(at, token);
        }
        Mutation::ReplaceWord(at, token) => {
            let (start, end) = word_around(text, place(text, at));
            text.replace_range(start..end, token);
        }
        Mutation::Delete(at, n) => {
            let start = place(text, at);
            let end = text.floor_char_boundary((start + n).min(text.len()));
            text.replace_range(start..end, "");
        }
        Mutation::DuplicateLine(at) => {
            let lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let i = at.index(lines.len());
                let mut out: Vec<&str> = lines.clone();
                out.insert(i, lines[i]);
                *text = out.join("\n");
            }
        }
        Mutation::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(a, b);
                *text = lines.join("\n");
            }
        }
        Mutation::Nest(at, depth, braces) => {
            let (start, end) = word_around(text, place(text, at));
            let (open, close) = if *braces { ("{a: ", "}") } else { ("[", "]") };
            let word = text[start..end].to_string();
            let nested = format!("{}{word}{}", open.repeat(*depth), close.repeat(*depth));
            text.replace_range(start..end, &nested);
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn arbitrary_text_loads_or_fails_cleanly_as_yaml(text in any::<String>()) {
        let _ = load_guarded("fuzz.yaml", text);
    }

    #[test]
    fn arbitrary_text_loads_or_fails_cleanly_as_toml(text in any::<String>()) {
        let _ = load_guarded("fuzz.toml", text);
    }

    #[test]
    fn yaml_like_text_loads_or_fails_cleanly(
        text in "([a-z_]{1,8}|[-:,{}\\[\\]&*!|>?'\"#%@ \n\t]|[0-9.]{1,6}|[&*][ab]){0,80}"
    ) {
        let _ = load_guarded("fuzz.yaml", text);
    }

    #[test]
    fn toml_like_text_loads_or_fails_cleanly(
        text in "([a-z_]{1,8}|[-=.,{}\\[\\]'\"# \n\t]|[0-9.:T+-]{1,8}){0,80}"
    ) {
        let _ = load_guarded("fuzz.toml", text);
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn mutated_shipped_scenarios_load_or_fail_cleanly(
        file in any::<Index>(),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let files = shipped();
        let (name, text) = &files[file.index(files.len())];
        let mut text = text.clone();
        for m in &mutations {
            apply_mutation(&mut text, m);
        }
        // The file keeps its name, so traces resolve beside it; the syntax comes from it.
        let name: &'static str = Box::leak(name.clone().into_boxed_str());
        let _ = load_guarded(name, text);
    }
}

/// A YAML alias tree: `levels` anchors, each a list of `fan_out` aliases of the one before.
fn alias_tree(levels: usize, fan_out: usize, leaf: &str) -> String {
    let mut text = format!("l0: &l0 [{leaf}]\n");
    for level in 1..=levels {
        let aliases = vec![format!("*l{}", level - 1); fan_out].join(", ");
        text.push_str(&format!("l{level}: &l{level} [{aliases}]\n"));
    }
    text
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn alias_trees_are_bounded(levels in 0usize..12, fan_out in 1usize..40, leaf in "[a-z0-9, ]{0,30}") {
        let text = alias_tree(levels, fan_out, &leaf);
        let _ = load_guarded("bomb.yaml", text);
    }

    #[test]
    fn deep_nesting_is_refused_or_bounded(depth in 0usize..2000, kind in 0u8..4) {
        let text = match kind {
            0 => format!("name: {}{}", "[".repeat(depth), "]".repeat(depth)),
            1 => format!("name: {}1{}", "{a: ".repeat(depth), "}".repeat(depth)),
            2 => format!("name = {}{}", "[".repeat(depth), "]".repeat(depth)),
            _ => format!("name = {}1{}", "{a = ".repeat(depth), "}".repeat(depth)),
        };
        let file = if kind < 2 { "deep.yaml" } else { "deep.toml" };
        let _ = load_guarded(file, text);
    }
}

// ---------------------------------------------------------------------------------------------
// Units
// ---------------------------------------------------------------------------------------------

fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9_]{0,30}(\\.[0-9_]{0,30})?",
        "[0-9]{300,400}",
        proptest::sample::select(
            &[
                "nan", "NaN", "inf", "-inf", "1e3", "0x10", "", ".", "-", "..5", "1.2.3", "٣", "１"
            ][..]
        )
        .prop_map(str::to_string),
    ]
}

fn unit_text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(
            &[
                "", "ns", "us", "µs", "μs", "ms", "s", "m", "min", "h", "B", "KiB", "MiB", "GiB",
                "KB", "kB", "MB", "GB", "k", "K", "M", "/s", "k/s", "M/s", "%", "%%", " s", "s ",
                "S", "é", "😀", "\u{0}",
            ][..]
        )
        .prop_map(str::to_string),
        any::<String>(),
    ]
}

/// Every unit parser on `text`, checking what an `Ok` promises.
fn check_units(text: &str) {
    if let Ok(d) = units::parse_duration(text) {
        let _ = units::format_duration(d);
    }
    let _ = units::parse_bytes(text);
    if let Ok(r) = units::parse_rate(text) {
        assert!(r.is_finite(), "rate {r} from {text:?}");
    }
    if let Ok(p) = units::parse_percent(text) {
        assert!(p.is_finite(), "percentage {p} from {text:?}");
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn unit_parsers_never_panic_on_arbitrary_text(text in any::<String>()) {
        guarded("units", text, |t| check_units(&t));
    }

    #[test]
    fn unit_parsers_never_panic_on_numbers_with_units(
        space in "[ \t]{0,2}", number in number_text(), gap in "[ ]{0,2}", unit in unit_text()
    ) {
        let text = format!("{space}{number}{gap}{unit}");
        guarded("units", text, |t| check_units(&t));
    }

    #[test]
    fn parsed_durations_and_sizes_match_their_number(n in 0u64..1_000_000_000_000, unit in 0usize..4) {
        let (suffix, nanos) = [("ns", 1u128), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000)][unit];
        let expected = u128::from(n) * nanos;
        let parsed = units::parse_duration(&format!("{n}{suffix}"));
        if expected < 1u128 << 64 {
            prop_assert_eq!(parsed.map(|d| d.as_nanos()), Ok(expected));
        } else {
            prop_assert!(parsed.is_err());
        }
        prop_assert_eq!(units::parse_bytes(&format!("{n}B")), Ok(n));
    }

    #[test]
    fn formatters_never_panic(x in any::<f64>(), n in any::<u64>()) {
        let _ = units::format_nanos(x);
        let _ = units::format_bytes(x);
        let _ = units::format_duration(Duration::from_nanos(n));
    }
}

// ---------------------------------------------------------------------------------------------
// Thresholds
// ---------------------------------------------------------------------------------------------

/// Parses a threshold for a workload on tiers l1, l2 issuing get and set; checks an `Ok`.
fn check_threshold(text: &str) {
    let tiers = ["l1".to_string(), "l2".to_string()];
    let ctx = ThresholdContext {
        tiers: &tiers,
        ops: &[Op::Get, Op::Set],
        commands: &[],
    };
    match thresholds::parse(text, &ctx) {
        Ok(t) => {
            assert!(t.limit.is_finite(), "limit {} from {text:?}", t.limit);
            let stat = match &t.metric {
                Metric::Latency { stat, .. } | Metric::ServedBy { stat, .. } => Some(*stat),
                _ => None,
            };
            if let Some(Stat::Percentile(p)) = stat {
                assert!((0.0..=100.0).contains(&p), "percentile {p} from {text:?}");
            }
            let _ = (t.metric.name(), t.metric.unit());
        }
        Err(e) => {
            assert!(!e.message.is_empty() && !e.hint.is_empty());
            let _ = e.to_string();
        }
    }
}

fn threshold_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        proptest::sample::select(
            &[
                "l1",
                "l2",
                "l3",
                "get",
                "set",
                "delete",
                "touch",
                "all",
                "served_by",
                "origin",
                "hit_rate",
                "memory_per_entry",
                "entries",
                "errors",
                "stale",
                "corrupt",
                "throughput",
                "error_rate",
                "p50",
                "p99",
                "p999",
                "p(99.9)",
                "p(0)",
                "p(100)",
                "p(100.0000001)",
                "p(-0)",
                "p(NaN)",
                "p(inf)",
                "p1e2",
                "p",
                "p(",
                "p()",
                "min",
                "max",
                "mean",
                "avg",
                "stddev",
                "",
                "(",
                ")",
                "((",
                "..",
                "é",
                "😀",
            ][..]
        )
        .prop_map(str::to_string),
        "[a-z0-9_()]{1,8}",
    ];
    let metric = proptest::collection::vec(piece, 1..5).prop_map(|p| p.join("."));
    let cmp =
        proptest::sample::select(&["<", "<=", ">", ">=", "==", "=", "=<", "<<", "", " < < "][..]);
    (
        metric,
        "[ ]{0,2}",
        cmp,
        "[ ]{0,2}",
        number_text(),
        unit_text(),
    )
        .prop_map(|(m, a, c, b, n, u)| format!("{m}{a}{c}{b}{n}{u}"))
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn thresholds_parse_or_fail_cleanly_on_arbitrary_text(text in any::<String>()) {
        guarded("threshold", text, |t| check_threshold(&t));
    }

    #[test]
    fn thresholds_parse_or_fail_cleanly_on_grammar_pieces(text in threshold_text()) {
        guarded("threshold", text, |t| check_threshold(&t));
    }
}

// ---------------------------------------------------------------------------------------------
// --set overrides
// ---------------------------------------------------------------------------------------------

fn set_text() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        proptest::sample::select(
            &[
                "workloads",
                "tiers",
                "defaults",
                "data",
                "keys",
                "values",
                "ops",
                "duration",
                "warmup",
                "concurrency",
                "name",
                "mix",
                "get",
                "thresholds",
                "phases",
                "rate",
                "url",
                "reads",
                "churn",
                "l1",
                "0",
                "1",
                "2",
                "-1",
                "00",
                "+1",
                "18446744073709551615",
                "18446744073709551616",
                "99999999999999999999999",
                "",
                " ",
                "~",
                "/",
                "~1",
                "[0]",
                "é",
                "😀",
                "=",
            ][..]
        )
        .prop_map(str::to_string),
        "[a-z0-9_]{1,6}",
    ];
    let path = proptest::collection::vec(segment, 0..7).prop_map(|s| s.join("."));
    let value = prop_oneof![token(), Just(String::new())];
    (
        path,
        proptest::sample::select(&["=", "==", "", " = "][..]),
        value,
    )
        .prop_map(|(p, eq, v)| format!("{p}{eq}{v}"))
}

fn profile() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        proptest::sample::select(&["development", "testing", "ci", "production", "", "turbo"][..])
            .prop_map(str::to_string),
        any::<String>(),
    ])
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn set_overrides_apply_or_fail_cleanly(
        file in any::<Index>(),
        profile in profile(),
        sets in proptest::collection::vec(set_text(), 0..5),
        knob in proptest::option::of(token()),
    ) {
        let files = shipped();
        let (name, text) = files[file.index(files.len())].clone();
        let input = format!("{name} profile={profile:?} knob={knob:?} sets={sets:?}");
        guarded("--set", input, move |_| {
            let overrides = Overrides { profile, sets };
            let path = Path::new("scenarios").join(&name);
            let env = move |var: &str| (var == "TIERBENCH_OPS" || var == "TIERBENCH_TIMEOUT")
                .then(|| knob.clone()).flatten();
            // The document level (what `apply` does to the tree) ...
            let mut document = format::parse_document(&path, text.clone(), &|_| None)
                .expect("a shipped scenario parses");
            let mut problems = Vec::new();
            overrides::apply(&mut document.value, &overrides, &env, &mut problems);
            for p in &problems {
                assert!(!p.message.is_empty());
            }
            // ... and the whole load, validation included.
            match load_source(&path, text, &overrides, &env) {
                Ok(_) => {}
                Err(d) => { let _ = rendered(&d); }
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: every input that once crashed, hung or blew up, as found
// ---------------------------------------------------------------------------------------------

/// Loads under the guard; returns the error text (which must exist) and the bytes allocated.
fn load_error(file: &'static str, text: String) -> (String, u64) {
    let (result, bytes) = guarded_for(BIG_INPUT_TIME_LIMIT, file, text, move |t| {
        load_text(file, t, Overrides::default())
    });
    (result.expect_err("an error"), bytes)
}

/// The classic "billion laughs": nine levels of ten aliases, 10^9 nodes from 1 KiB.
#[test]
fn yaml_billion_laughs_is_refused() {
    let (error, bytes) = load_error("laughs.yaml", alias_tree(9, 10, "lol"));
    // The YAML library's own repetition limit catches this one; the hint is ours.
    assert!(error.contains("repetition limit exceeded"), "{error}");
    assert!(error.contains("alias"), "the hint names aliases: {error}");
    assert!(bytes < 64 << 20, "{} MiB", bytes >> 20);
}

/// Found: 15 KiB (an anchored list of 3,000 items, aliased 3,000 times) passed the YAML
/// library's repetition limit and expanded to 9 million nodes: 9 s and gigabytes.
#[test]
fn yaml_quadratic_alias_expansion_is_refused() {
    let text = format!(
        "a: &a [{}]\nb: [{}]\n",
        "1,".repeat(3000),
        "*a,".repeat(3000)
    );
    let (error, bytes) = load_error("quadratic.yaml", text);
    assert!(error.contains("too many nodes"), "{error}");
    assert!(bytes < 64 << 20, "{} MiB", bytes >> 20);
}

/// Aliases within the budget still work.
#[test]
fn yaml_aliases_within_the_budget_still_expand() {
    let text = shipped()
        .iter()
        .find(|(name, _)| name == "quickstart.yaml")
        .expect("quickstart.yaml")
        .1
        .replace("mix: { get: 95, set: 5 }", "mix: &m { get: 95, set: 5 }")
        .replace("mix: { set: 80, delete: 20 }", "mix: *m");
    assert_eq!(load_guarded("quickstart.yaml", text), Ok(()));
}

fn big_map(n: usize, toml: bool) -> String {
    let mut text = if toml {
        String::from("name = 'x'\n[extra]\n")
    } else {
        String::from("name: x\nextra:\n")
    };
    for i in 0..n {
        if toml {
            text.push_str(&format!("k{i} = {i}\n"));
        } else {
            text.push_str(&format!("  k{i}: {i}\n"));
        }
    }
    text
}

/// Found: locating the nodes rescanned the text for each node, so a 600 KiB YAML file of
/// 40,000 keys took 234 s (10,000 keys: 11.5 s) before saying "unknown field".
#[test]
fn big_yaml_file_is_located_in_linear_time() {
    let (error, _) = load_error("big.yaml", big_map(40_000, false));
    assert!(
        error.contains("extra"),
        "{}",
        &error[..error.len().min(500)]
    );
}

/// The same for TOML (10,000 keys: 3.9 s).
#[test]
fn big_toml_file_is_located_in_linear_time() {
    let (error, _) = load_error("big.toml", big_map(40_000, true));
    assert!(
        error.contains("extra"),
        "{}",
        &error[..error.len().min(500)]
    );
}

/// Found: a wrong path read without end (`tierbench validate /dev/zero` filled memory).
#[cfg(unix)]
#[test]
fn endless_input_is_refused_after_the_size_limit() {
    let (result, bytes) = guarded(
        "/dev/zero",
        String::new(),
        |_| match tierbench::scenario::load(Path::new("/dev/zero")) {
            Ok(_) => None,
            Err(d) => Some(d.to_string()),
        },
    );
    let error = result.expect("an error");
    assert!(error.contains("unknown file type"), "{error}");
    assert!(bytes < 64 << 20, "{} MiB", bytes >> 20);
}

/// Text past the size limit is refused before parsing, with the reason.
#[test]
fn oversized_text_is_refused() {
    let text = format!(
        "name: x\ndescription: \"{}\"\n",
        "a".repeat(format::MAX_FILE_BYTES)
    );
    let (error, _) = load_error("huge.yaml", text);
    assert!(error.contains("larger than 4 MiB"), "{error}");
}

/// Found: a number too big for the unit silently became 584 years (u64::MAX ns).
#[test]
fn duration_past_u64_nanoseconds_is_an_error() {
    let error = units::parse_duration("99999999999999999999999999999s").unwrap_err();
    assert!(error.contains("too long"), "{error}");
    assert!(units::parse_duration("18446744073709551616ns").is_err());
    assert_eq!(
        units::parse_duration("18446744073709551615ns").map(|d| d.as_nanos()),
        Ok(18_446_744_073_709_551_615)
    );
}

/// Found: whole numbers were scaled in floating point, so `712641503813ms` came out as
/// 712641503812999936 ns; whole numbers now scale exactly.
#[test]
fn whole_durations_and_sizes_scale_exactly() {
    assert_eq!(
        units::parse_duration("712641503813ms").map(|d| d.as_nanos()),
        Ok(712_641_503_813_000_000)
    );
    assert_eq!(
        units::parse_bytes("9007199254740993B"),
        Ok(9_007_199_254_740_993)
    );
}

/// Found: a rate too big for a float after its multiplier (`2` and 305 zeros, then `k`) came
/// out as infinity.
#[test]
fn rate_past_f64_is_an_error() {
    let text = format!("2{}k", "0".repeat(305));
    let error = units::parse_rate(&text).unwrap_err();
    assert!(error.contains("too large"), "{error}");
}

/// Found: a size too big for u64 silently became 16 EiB.
#[test]
fn size_past_u64_bytes_is_an_error() {
    let error = units::parse_bytes("17179869184GiB").unwrap_err();
    assert!(error.contains("too large"), "{error}");
    let error = units::parse_bytes(&"9".repeat(400)).unwrap_err();
    assert!(error.contains("not a size"), "{error}");
}

/// Found: `--set a..b=1` inserted a field named "" and `--set x=1` on a document that is a
/// list said "`` is not a mapping or a list".
#[test]
fn set_paths_with_empty_segments_or_a_scalar_root_are_clean_errors() {
    let mut problems = Vec::new();
    let sets = Overrides {
        profile: None,
        sets: vec![
            "defaults..ops=1".into(),
            ".=2".into(),
            "workloads.99999999999999999999.ops=1".into(),
            "workloads.7.ops=1".into(),
        ],
    };
    let mut doc = serde_json::json!({"workloads": [{"name": "reads"}]});
    overrides::apply(&mut doc, &sets, &|_| None, &mut problems);
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "--set defaults..ops=1: `defaults..ops` has an empty segment (a leading, trailing or doubled `.`)",
            "--set .=2: `.` has an empty segment (a leading, trailing or doubled `.`)",
            "--set workloads.99999999999999999999.ops=1: no entry named `99999999999999999999` in `workloads`",
            "--set workloads.7.ops=1: `workloads` has 1 entries: no index 7 and no entry named `7`",
        ]
    );
    let mut list = Value::Array(vec![Value::from(1)]);
    let mut problems = Vec::new();
    let sets = Overrides {
        profile: None,
        sets: vec!["0.x=1".into()],
    };
    overrides::apply(&mut list, &sets, &|_| None, &mut problems);
    assert_eq!(
        problems[0].message,
        "--set 0.x=1: `0` is not a mapping or a list"
    );
}

/// Found in review: `--set` values and `${VAR}` expansions were parsed as whole YAML
/// documents, aliases expanded, only to keep a number or a boolean: a value could carry the
/// quadratic alias expansion above. Now anything but one plain scalar stays a string.
#[test]
fn set_values_are_scalars_not_documents() {
    assert_eq!(format::typed_scalar("42"), Value::from(42));
    let bomb = format!(
        "a: &a [{}]\nb: [{}]\n",
        "1,".repeat(3000),
        "*a,".repeat(3000)
    );
    let (typed, bytes) = guarded("typed_scalar", bomb.clone(), |t| format::typed_scalar(&t));
    assert_eq!(typed, Value::String(bomb));
    assert!(bytes < 16 << 20, "{} MiB", bytes >> 20);
}

/// Found: problems were de-duplicated by comparing each with every earlier one, so a file with
/// 13,000 problems spent seconds there; 8,000 problems now take a set lookup each.
#[test]
fn many_problems_are_collected_in_linear_time() {
    let mut text = String::from(
        "name: x\ntiers: [{name: l1, kind: memory, max_entries: 10}]\n\
         data: {keys: {count: 1}, values: {size: 1}}\nworkloads:\n",
    );
    for i in 0..4000 {
        text.push_str(&format!(
            "  - {{name: w{i}, target: nope, mix: {{get: 1}}, ops: 1, thresholds: [bad]}}\n"
        ));
    }
    let (error, _) = load_error("many.yaml", text);
    assert!(
        error.ends_with("8000 problems found"),
        "{}",
        &error[error.len() - 100..]
    );
}
