//! The verdict stage: thresholds, statistics, the baseline comparison and the score.
//!
//! It reads the result document (`metrics::result`) and writes its judgement into it: threshold
//! results, repetition statistics, outliers, the comparison with a baseline, a score and grade.
//! The document imports nothing from here; `scenario` uses `thresholds` to parse them at
//! validation time, and `app` runs the rest after each workload.

pub mod compare;
pub mod compare_history;
pub mod compare_paired;
mod compare_warnings;
pub mod evaluate;
pub mod judge;
pub mod merge;
mod merge_parts;
pub mod repetitions;
pub mod rule;
pub mod score;
pub mod stats;
pub mod thresholds;
