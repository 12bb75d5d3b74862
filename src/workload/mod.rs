//! What a workload issues: key distributions, value shapes and the operation mix.

pub mod batch;
pub mod command;
pub mod fields;
pub mod key_buf;
pub mod keys;
pub mod op;
pub mod ops;
pub mod plan;
pub mod seed;
pub mod trace;
pub mod values;
