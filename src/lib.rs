//! tierbench: declarative cache-workload benchmarks for tiered caches.
//!
//! The pipeline, one module per stage: `scenario` (parse, validate, plan) → `tier` (the caches
//! under test) + `workload` (keys, values, operation mix) → `engine` (load generation) →
//! `metrics` (HDR recorders, the result document) → `verdict` (thresholds, statistics, baseline
//! comparison, score) → `report` (templates) → `exit` code. `app` wires them behind the `cli`.
//!
//! Imports point one way, lowest first: the leaves `units`, `redact` and `exit` (which import
//! nothing of the crate) → `workload` → `metrics` → `tier` → `verdict` → `scenario` → `engine` →
//! `report` → `cli` → `app`. A module imports only modules below it.

pub mod app;
pub mod cli;
pub mod engine;
pub mod exit;
pub mod live;
pub mod metrics;
pub mod redact;
pub mod report;
pub mod scenario;
pub mod simulate;
pub mod suggest;
pub mod tier;
pub mod units;
pub mod verdict;
pub mod workload;

/// jemalloc, for speed under concurrency and for its statistics: the memory tier's bytes per
/// entry come from `stats.allocated` (set here, in the library, so tests measure the same way).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
