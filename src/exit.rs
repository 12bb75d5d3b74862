//! Exit codes: part of tierbench's interface, documented in the README. CI acts on them.

/// Every threshold held (and no regression).
pub const OK: u8 = 0;
/// A threshold failed (also when a regression was found as well).
pub const THRESHOLD_FAILED: u8 = 1;
/// The input was invalid: scenario, template, command line.
pub const INVALID_INPUT: u8 = 2;
/// A tier could not be reached, or the run failed at run time.
pub const RUNTIME_FAILURE: u8 = 3;
/// The run hit its timeout: the results cover what ran before it.
pub const TIMED_OUT: u8 = 4;
/// With a baseline (`--baseline`, `compare`): a metric regressed, or a change could not be
/// judged for lack of samples (inconclusive, unless `--allow-inconclusive`); thresholds held.
pub const REGRESSION: u8 = 5;
/// A SIGINT (Ctrl-C) stopped the run: results so far were written and the tiers cleaned up.
pub const INTERRUPTED: u8 = 130;
/// A SIGTERM stopped the run, as for `INTERRUPTED`.
pub const TERMINATED: u8 = 143;
