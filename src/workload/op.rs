//! The cache operation itself (`Op`): get, set, delete, touch.
//!
//! Its own file because the mix (`ops`), traces (`trace`), recorders and thresholds all name
//! operations: each of them imports this leaf, none needs the others for it.

use serde::Serialize;

/// One cache operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Read a key.
    Get,
    /// Write a key.
    Set,
    /// Remove a key.
    Delete,
    /// Refresh a key's time to live.
    Touch,
}

impl Op {
    /// How many operations there are (array sizes in recorders).
    pub const COUNT: usize = 4;
    /// Every operation, in index order.
    pub const ALL: [Op; Op::COUNT] = [Op::Get, Op::Set, Op::Delete, Op::Touch];

    /// Dense index for per-operation arrays.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The name used in scenarios, thresholds and results.
    pub const fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Set => "set",
            Op::Delete => "delete",
            Op::Touch => "touch",
        }
    }

    /// The operation named `name`.
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }
}
