//! The cache operation itself (`Op`): get, set, delete, touch, and their batch forms (mget,
//! mset, mdelete: one call for many keys).
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
    /// Read a batch of keys in one call per tier.
    MGet,
    /// Write a batch of keys in one call per tier.
    MSet,
    /// Remove a batch of keys in one call per tier.
    MDelete,
}

impl Op {
    /// How many operations there are (array sizes in recorders).
    pub const COUNT: usize = 7;
    /// Every operation, in index order.
    pub const ALL: [Op; Op::COUNT] = [
        Op::Get,
        Op::Set,
        Op::Delete,
        Op::Touch,
        Op::MGet,
        Op::MSet,
        Op::MDelete,
    ];

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
            Op::MGet => "mget",
            Op::MSet => "mset",
            Op::MDelete => "mdelete",
        }
    }

    /// True for the batch operations (mget, mset, mdelete).
    pub const fn is_batch(self) -> bool {
        matches!(self, Op::MGet | Op::MSet | Op::MDelete)
    }

    /// The single-key operation a batch operation does per key (itself for the others).
    pub const fn per_key(self) -> Op {
        match self {
            Op::MGet => Op::Get,
            Op::MSet => Op::Set,
            Op::MDelete => Op::Delete,
            other => other,
        }
    }

    /// The operation named `name`.
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }
}
