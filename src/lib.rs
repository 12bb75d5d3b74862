//! tierbench: declarative cache-workload benchmarks for tiered caches.
//!
//! The pipeline, one module per stage: `scenario` (parse, validate, plan) → `tier` (the caches
//! under test) + `workload` (keys, values, operation mix) → `engine` (load generation) →
//! `metrics` (HDR recorders, the result document) → `thresholds` → `report` (templates) →
//! `exit` code. `app` wires them behind the `cli`.

pub mod app;
pub mod cli;
pub mod compare;
pub mod engine;
pub mod exit;
pub mod metrics;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod thresholds;
pub mod tier;
pub mod workload;

/// jemalloc, for speed under concurrency and for its statistics: the memory tier's bytes per
/// entry come from `stats.allocated` (set here, in the library, so tests measure the same way).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
