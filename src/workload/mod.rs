//! What a workload issues: key distributions, value shapes and the operation mix.

pub mod keys;
pub mod ops;
pub mod trace;
pub mod values;
