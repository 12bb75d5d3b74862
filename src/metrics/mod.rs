//! Measurements: per-worker recorders, and the result document they are summarized into.
//!
//! The result document (`result`, with `comparison` and `statistics`) is plain data: it imports
//! nothing from the stages above it. `verdict` computes statistics and comparisons into it, and
//! `app::summarize` turns the engine's measurement into it.

pub mod batch;
pub mod batch_result;
pub mod coherence;
pub mod comparison;
pub mod error_log;
pub mod errors;
pub mod figures;
pub mod histogram;
pub mod host;
pub mod latency;
pub mod live;
pub mod nodes;
pub mod recorder;
pub mod result;
pub mod samples;
pub mod second;
pub mod spells;
pub mod statistics;
pub mod sweep;
pub mod threshold;
